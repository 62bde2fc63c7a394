# pprof_raw.awk - turns `go tool pprof -raw PROFILE` into one line per
# distinct stack, "V1 V2<TAB>frame;frame;..." (innermost first, a frame as
# "function file:line"), samples of equal stacks summed, so two profiles can
# be compared with sort + diff whatever their IDs and sample order.  Also
# prints "total V1 V2" and, with leaf=1, one line per innermost function:
# "leaf V1 V2<TAB>function" (pprof -top's flat column).
/^Samples:/ { sec = "s"; getline; next }
/^Locations/ { sec = "l"; next }
/^Mappings/ { sec = "" ; next }
sec == "s" && /:/ {
    split($0, half, ":")
    n = split(half[1], v, " ")
    ids[++ns] = half[2]; c[ns] = v[1]; t[ns] = v[2]
    next
}
sec == "l" && /^ *[0-9]+: / {
    line = $0
    sub(/^ *[0-9]+: +[^ ]+ +M=[0-9]+ +/, "", line)
    # pprof shows a name it simplified (C++ template arguments dropped)
    # and, after "s=N", the name the profile holds in parentheses: that
    # one is compared, as it is what the trace and `ctrace stat` hold.
    sys = ""
    if (match(line, / s=[0-9]+\(.*\)$/)) {
        sys = substr(line, RSTART, RLENGTH)
        sub(/^ s=[0-9]+\(/, "", sys); sub(/\)$/, "", sys)
        line = substr(line, 1, RSTART - 1)
    } else sub(/ +s=[0-9]+$/, "", line)
    # "function file:line:col": the last word is the place.
    place = line; sub(/.* /, "", place); sub(/:[0-9]+$/, "", place)
    fn = line; sub(/ [^ ]*$/, "", fn)
    if (sys != "") fn = sys
    id = $1; sub(/:$/, "", id)
    frame[id] = fn " " place; func[id] = fn
    next
}
END {
    for (i = 1; i <= ns; i++) {
        m = split(ids[i], l, " ")
        key = ""
        for (j = 1; j <= m; j++) key = key (j > 1 ? ";" : "") frame[l[j]]
        sc[key] += c[i]; st[key] += t[i]
        tc += c[i]; tt += t[i]
        lf = func[l[1]]; lc[lf] += c[i]; lt[lf] += t[i]
    }
    for (k in sc) if (sc[k] || st[k]) printf "%.0f %.0f\t%s\n", sc[k], st[k], k
    printf "total %.0f %.0f\n", tc, tt
    if (leaf) for (k in lc) printf "leaf %.0f %.0f\t%s\n", lc[k], lt[k], k
}
