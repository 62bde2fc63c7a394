#!/usr/bin/env bash
# check_cpp.sh: include/ctrace.hpp with every C++ compiler and standard.
# Builds tests/integration/cpp_api.cpp and examples/cpp_workers.cpp with
# g++ and clang++, -std=c++17 and -std=c++20 (-Wall -Wextra -Wformat=2
# -Werror), against the build's libctrace.so, runs each and checks its
# trace (Go 1.22 and 1.23 accept it; counts from Go 1.23's dump).
# In a sanitizer build (CTRACE_SANITIZE) only the build's own C++ compiler
# ($CTRACE_CXX) is used, with the same sanitizer: two sanitizer runtimes
# do not mix.  A compiler that is missing is reported and the test exits
# 77 (skipped) after checking the others.
. "$(dirname "$0")/lib.sh"

san=
case ${CTRACE_SANITIZE:-} in
address) san="-fsanitize=address,undefined" ;;
thread) san="-fsanitize=thread" ;;
esac
if [ -n "$san" ]; then
    compilers=${CTRACE_CXX:-g++}
else
    compilers="g++ clang++"
fi
lib=$CTRACE_BUILD/src/runtime
missing=0

# trace_counts TRACE: validate, dump; the summary is TRACE.sum.
trace_counts() { validate "$1" && dump "$1"; }

for cxx in $compilers; do
    if ! command -v "$cxx" > /dev/null 2>&1; then
        echo "skip: no $cxx"
        missing=1
        continue
    fi
    for std in c++17 c++20; do
        tag=$(basename "$cxx")-$std
        mkdir -p "$tag" && cd "$tag" || die "cd $tag"
        flags="-std=$std -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Wformat=2 -Werror $san -I$CTRACE_SRC/include"
        ok=1
        for prog in cpp_api:$CTRACE_SRC/tests/integration/cpp_api.cpp \
                    cpp_workers:$CTRACE_SRC/examples/cpp_workers.cpp; do
            out=${prog%%:*} src=${prog#*:}
            if "$cxx" $flags "$src" -o "$out" -L"$lib" -lctrace -pthread \
                    -Wl,-rpath,"$lib" > "$out.build.log" 2>&1; then
                ok "$tag: $out builds"
            else
                head -n 30 "$out.build.log"; fail "$tag: $out does not build"; ok=0
            fi
        done
        if [ $ok = 1 ]; then
            if ./cpp_api > api.out 2>&1; then
                ok "$tag: cpp_api runs ($(grep -c '^ok:' api.out) checks; $(grep '^format:' api.out))"
            else
                cat api.out; fail "$tag: cpp_api failed"
            fi
            t=cpp-api.trace s=cpp-api.trace.sum
            if trace_counts $t; then
                expect_key $s eq 1 task outer
                expect_key $s eq 1 taskend outer
                expect_key $s eq 1 logtask k1 outer
                expect_key $s eq 1 logtask k2 outer
                check "$tag: k2=v2 kept" grep -q 'Category="k2" Message="v2"' $t.d1
                expect_key $s eq 1 regiontask cur-region outer
                expect_key $s eq 1 logtask cur-log outer
                expect_key $s eq 1 logtask cur-logf outer
                expect_key $s eq 1 logtask cur-fmt outer
                check "$tag: formatted messages" grep -q 'Category="cur-fmt" Message="n=42 s=str"' $t.d1
                expect_key $s eq 1 regiontask scope_func outer
                expect_key $s eq 1 taskchild inner outer
                expect_key $s eq 1 regiontask in-inner inner
                expect_key $s eq 1 taskchild explicit outer
                expect_key $s eq 1 taskend explicit
                expect_key $s eq 1 logtask ex-log explicit
                expect_key $s eq 1 logtask ex-logf explicit
                expect_key $s eq 1 logtask ex-fmt explicit
                expect_key $s eq 1 regiontask ex-region explicit
                expect_key $s eq 1 regionend ex-region
                check "$tag: string_view log cut at its length" grep -q 'Category="sv" Message="message"' $t.d1
                expect_key $s eq 0 task off
                expect_key $s eq 0 region off-region
                expect_key $s eq 1 block "sync: lock"
                check "$tag: thread name cut at 63 bytes (label NAME (tid N))" grep -qE "\"$(printf 'n%.0s' $(seq 63)) \\(tid [0-9]+\\)\"" $t.d1
                no_tracer_frames $s
            fi
            if ./cpp_workers workers.trace > workers.out 2>&1; then
                ok "$tag: cpp_workers runs"
            else
                cat workers.out; fail "$tag: cpp_workers failed"
            fi
            s=workers.trace.sum
            if trace_counts workers.trace; then
                expect_key $s eq 8 task request
                expect_key $s eq 32 regiontask job request
                expect_key $s eq 4 regiongs job
                expect_key $s eq 32 logtask job request
                expect_key $s eq 8 logtask request-id request
            fi
        fi
        cd "$CTRACE_WORK" || die "cd back"
    done
done
finish || exit 1
if [ $missing = 1 ]; then
    [ -n "${CI:-}" ] && { echo "FAIL: a C++ compiler is missing (CI)"; exit 1; }
    echo "skipped: a C++ compiler is missing"; exit 77
fi
exit 0
