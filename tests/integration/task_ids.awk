# task_ids.awk - reads Go 1.23's `go tool trace -d=1` text of one trace of
# tests/integration/task_ids.c; prints "NAME VALUE" lines: begins (TaskBegin
# events), dup (ids begun twice), maxid (largest id begun), id_NAME (the id
# of the task type NAME, from its begin or end), parent_NAME, and
# old_aliased (1 if old-a's id is the id of a task begun in this trace).
/ TaskBegin / || / TaskEnd / {
    id = $0; sub(/.* ID=/, "", id); sub(/ .*/, "", id)
    par = $0; sub(/.* Parent=/, "", par); sub(/ .*/, "", par)
    ty = $0; sub(/.* Type="/, "", ty); sub(/".*/, "", ty)
    if (/ TaskBegin /) {
        begins++
        if (seen[id]++) dup++
        if (id + 0 > maxid) maxid = id + 0
    }
    if (ty == "") ty = "unnamed"   # an end whose begin is in an earlier trace
    idof[ty] = id
    if (/ TaskBegin /) parentof[ty] = par
}
/ Region(Begin|End) / || / Log / {
    t = $0; sub(/.* Task=/, "", t); sub(/ .*/, "", t)
    if (/old-a-/) oldref[t] = 1
}
END {
    printf "begins %d\ndup %d\nmaxid %d\n", begins, dup, maxid
    for (k in idof) printf "id_%s %s\n", k, idof[k]
    for (k in parentof) printf "parent_%s %s\n", k, parentof[k]
    old = idof["unnamed"]
    printf "old_aliased %d\n", (old != "" && (old in seen)) ? 1 : 0
    n = 0; for (k in oldref) { n++; r = k }
    printf "oldrefs %d\noldref %s\n", n, r
}
