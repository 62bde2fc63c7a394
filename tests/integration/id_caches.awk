# id_caches.awk - reads Go 1.23's `go tool trace -d=1` text of
# id-caches.trace (tests/integration/id_caches.c) and prints one line per
# check: "ok DESCRIPTION" or "FAIL DESCRIPTION".
function flush() {
    if (kind == "") return
    key = kind "\t" name
    n[key]++
    if (kind == "log") msgs[name, msg]++
    # the innermost frames each event must show
    want1 = ""; want2 = ""
    if (name == "from-a") { want1 = "log_here"; want2 = "caller_a" }
    if (name == "from-b") { want1 = "log_here"; want2 = "caller_b" }
    if (name == "alt-a") want1 = "site_alt_a"
    if (name == "alt-b") want1 = "site_alt_b"
    if (name == "gens") { want1 = "gens_site"; want2 = "main"; gens[gen] = 1 }
    if (name == "reuse" || name == "fmt") want1 = "main"
    if (want1 != "" && (f[1] != want1 || (want2 != "" && f[2] != want2))) {
        bad[name]++
        if (!shown[name]++) printf "info wrong stack on a %s event: %s %s\n", name, f[1], f[2]
    }
    kind = ""
}
/^M=/ {
    flush()
    nf = 0; delete f
    if ($0 ~ / Sync /) gen++
    if ($0 ~ / Log /) {
        kind = "log"
        name = $0; sub(/.*Category="/, "", name); sub(/".*/, "", name)
        msg = $0; sub(/.*Message="/, "", msg); sub(/"$/, "", msg)
    } else if ($0 ~ / Region(Begin|End) /) {
        kind = $0 ~ / RegionBegin / ? "begin" : "end"
        name = $0; sub(/.*Type="/, "", name); sub(/".*/, "", name)
    }
    next
}
/^\t[^\t]/ { nf++; split($0, a, " "); sub(/^\t/, "", a[1]); f[nf] = a[1] }
END {
    flush()

    split("from-a from-b alt-a alt-b gens reuse fmt", names, " ")
    for (i = 1; i <= 7; i++)
        printf "%s every %s event has the stack of its call site (%d wrong)\n",
            bad[names[i]] ? "FAIL" : "ok", names[i], bad[names[i]] + 0
    printf "%s 200 logs from-a and 200 from-b (got %d, %d)\n",
        (n["log\tfrom-a"] == 200 && n["log\tfrom-b"] == 200) ? "ok" : "FAIL", n["log\tfrom-a"], n["log\tfrom-b"]
    printf "%s 200 region begins and ends alt-a and alt-b (got %d %d %d %d)\n",
        (n["begin\talt-a"] == 200 && n["end\talt-a"] == 200 && n["begin\talt-b"] == 200 && n["end\talt-b"] == 200) ? "ok" : "FAIL",
        n["begin\talt-a"], n["end\talt-a"], n["begin\talt-b"], n["end\talt-b"]
    # every message of the reused buffers exactly once
    miss = 0
    for (i = 0; i < 200; i++) {
        if (msgs["reuse", sprintf("msg-%03d", i)] != 1) miss++
        if (msgs["fmt", sprintf("val-%03d", i)] != 1) miss++
    }
    printf "%s reuse/fmt logs: msg-000..msg-199 and val-000..val-199 each exactly once (%d wrong), %d + %d logs\n",
        (miss || n["log\treuse"] != 200 || n["log\tfmt"] != 200) ? "FAIL" : "ok", miss, n["log\treuse"], n["log\tfmt"]
    t0 = msgs["gens", "tick 0"]; t1 = msgs["gens", "tick 1"]
    printf "%s gens logs alternate tick 0 / tick 1 (%d, %d of %d)\n",
        (t0 + t1 == n["log\tgens"] && t0 - t1 >= 0 && t0 - t1 <= 1 && t1 > 0) ? "ok" : "FAIL", t0, t1, n["log\tgens"]
    ng = 0
    for (g in gens) ng++
    printf "%s gens logs in at least 3 generations (%d)\n", (ng >= 3) ? "ok" : "FAIL", ng
}
