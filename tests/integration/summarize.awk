# summarize.awk - counts what a trace holds, from the text that
# `go tool trace -d=1 FILE` (Go 1.23) prints: one line per event
# ("M=.. P=.. G=.. Kind Time=.. fields"), each optionally followed by
# "Stack=" / "TransitionStack=" blocks of "\tfunc @ 0xpc" / "\t\tfile:line".
#
# Prints "key<TAB>count" lines (keys may hold a second and third field,
# also tab-separated):
#   events, kind<TAB>K, threads, goroutines, gocreate, goexit, syscall,
#   transition<TAB>FROM->TO, block<TAB>REASON, unblock, samples,
#   samplefn<TAB>FUNC (samples whose stack holds FUNC),
#   blockfn<TAB>REASON<TAB>FUNC (blocks whose stack holds FUNC),
#   task<TAB>TYPE, taskend<TAB>TYPE, taskchild<TAB>TYPE<TAB>PARENTTYPE,
#   region<TAB>TYPE, regionend<TAB>TYPE, regiontask<TAB>TYPE<TAB>TASKTYPE,
#   regiongs<TAB>TYPE (number of distinct goroutines with that region),
#   log<TAB>CATEGORY, logmaxlen<TAB>CATEGORY (longest message, in bytes
#   of its quoted form less the quotes), logtask<TAB>CATEGORY<TAB>TASKTYPE
#   (logs in a task begun in the trace),
#   stackfn<TAB>KIND<TAB>FUNC (events of KIND whose stack holds FUNC),
#   stacktop<TAB>KIND<TAB>FUNC (events of KIND whose "Stack=" starts with FUNC).
# Portable awk (mawk).

function field(line, name,    re, s) {
    # value of name=VALUE (VALUE up to the next blank), "" if absent
    re = " " name "=[^ ]*"
    if (match(line, re)) {
        s = substr(line, RSTART + length(name) + 2, RLENGTH - length(name) - 2)
        return s
    }
    return ""
}
function quoted(line, name,    re) {
    # value of name="..." without the quotes (no escaped quotes inside)
    re = " " name "=\"[^\"]*\""
    if (match(line, re))
        return substr(line, RSTART + length(name) + 3, RLENGTH - length(name) - 4)
    return ""
}
function flush_stack(    f) {
    for (f in fns) {
        if (cur == "sample")
            cnt["samplefn\t" f]++
        else if (cur != "")
            cnt["blockfn\t" cur "\t" f]++
        cnt["stackfn\t" curkind "\t" f]++
    }
    cur = ""
    wanttop = 0
    for (f in fns)
        delete fns[f]
}

/^M=/ {
    flush_stack()
    cnt["events"]++
    m = $1; sub(/^M=/, "", m)
    g = $3; sub(/^G=/, "", g)
    kind = $4
    curkind = kind
    cnt["kind\t" kind]++
    if (m + 0 >= 0) threads[m] = 1
    if (g + 0 >= 0) { gs[g] = 1 }

    if (kind == "StateTransition" && index($0, "Resource=Goroutine(") > 0) {
        reason = quoted($0, "Reason")
        tr = $NF
        goid = field($0, "GoID")
        if (goid != "") gs[goid] = 1
        cnt["transition\t" tr]++
        if (tr ~ /->Waiting$/ && tr !~ /^Undetermined/ && tr !~ /^Waiting/) {
            cnt["block\t" reason]++
            cur = reason
        }
        if (tr == "Waiting->Runnable") cnt["unblock"]++
        if (tr == "NotExist->Runnable" || tr == "NotExist->Running") cnt["gocreate"]++
        if (tr ~ /->NotExist$/ && tr !~ /^Undetermined/) cnt["goexit"]++
        if (tr ~ /->Syscall$/ && tr !~ /^Undetermined/) cnt["syscall"]++
    } else if (kind == "StackSample") {
        cnt["samples"]++
        cur = "sample"
    } else if (kind == "TaskBegin") {
        id = field($0, "ID"); t = quoted($0, "Type")
        tasktype[id] = t; taskparent[id] = field($0, "Parent")
        cnt["task\t" t]++
    } else if (kind == "TaskEnd") {
        cnt["taskend\t" quoted($0, "Type")]++
    } else if (kind == "RegionBegin") {
        t = quoted($0, "Type")
        cnt["region\t" t]++
        regtask[++nreg] = field($0, "Task"); regtype[nreg] = t
        if (!((t SUBSEP g) in rgs)) { rgs[t, g] = 1; cnt["regiongs\t" t]++ }
    } else if (kind == "RegionEnd") {
        cnt["regionend\t" quoted($0, "Type")]++
    } else if (kind == "Log") {
        c = quoted($0, "Category")
        cnt["log\t" c]++
        logtask[++nlog] = field($0, "Task"); logcat[nlog] = c
        msg = $0; sub(/.* Message="/, "", msg); sub(/"$/, "", msg)
        if (length(msg) > maxlen[c] + 0) maxlen[c] = length(msg)
    }
    next
}
/^Stack=$/ { wanttop = 1; next }
/^\t[^\t].* @ 0x[0-9a-f]+$/ {
    fn = $0; sub(/^\t/, "", fn); sub(/ @ 0x[0-9a-f]+$/, "", fn)
    fns[fn] = 1
    if (wanttop) { cnt["stacktop\t" curkind "\t" fn]++; wanttop = 0 }
    next
}
END {
    flush_stack()
    n = 0; for (k in threads) n++; cnt["threads"] = n
    n = 0; for (k in gs) n++; cnt["goroutines"] = n
    for (id in taskparent) {
        p = taskparent[id]
        if (p in tasktype) cnt["taskchild\t" tasktype[id] "\t" tasktype[p]]++
    }
    for (i = 1; i <= nreg; i++)
        if (regtask[i] in tasktype) cnt["regiontask\t" regtype[i] "\t" tasktype[regtask[i]]]++
    for (i = 1; i <= nlog; i++)
        if (logtask[i] in tasktype) cnt["logtask\t" logcat[i] "\t" tasktype[logtask[i]]]++
    for (c in maxlen) cnt["logmaxlen\t" c] = maxlen[c]
    for (k in cnt) print k "\t" cnt[k]
}
