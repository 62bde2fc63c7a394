#!/usr/bin/env bash
# check_install.sh: installs the build into a scratch prefix, then builds a
# program against the installed library three ways -- pkg-config (shared),
# CMake find_package (ctrace::ctrace) and CMake find_package
# (ctrace::ctrace_static) -- runs each and checks its trace.
. "$(dirname "$0")/lib.sh"

prefix=$CTRACE_WORK/prefix
san=
case ${CTRACE_SANITIZE:-} in
address) san="-fsanitize=address,undefined" ;;
thread) san="-fsanitize=thread" ;;
esac

if cmake --install "$CTRACE_BUILD" --prefix "$prefix" > install.log 2>&1; then
    ok "cmake --install into $prefix"
else
    tail -n 20 install.log; die "cmake --install failed"
fi
check "ctrace.h installed" test -f "$prefix/include/ctrace.h"
check "ctrace.hpp installed" test -f "$prefix/include/ctrace.hpp"
check "libctrace.so installed" test -e "$prefix/lib/libctrace.so"
check "libctrace.a installed" test -f "$prefix/lib/libctrace.a"
check "ctrace.pc installed" test -f "$prefix/lib/pkgconfig/ctrace.pc"
check "ctrace_reader.h installed" test -f "$prefix/include/ctrace_reader.h"
check "ctrace_reader.pc installed" test -f "$prefix/lib/pkgconfig/ctrace_reader.pc"

# 1. pkg-config, shared library.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
flags=$(pkg-config --define-variable=prefix="$prefix" --cflags --libs ctrace 2>pc.err)
if [ -n "$flags" ]; then ok "pkg-config --cflags --libs ctrace: $flags"; else fail "pkg-config: $(cat pc.err)"; fi
if gcc -std=c11 -O1 $san "$CTRACE_SRC/examples/annotations.c" -o pc-annotations $flags -pthread \
        -Wl,-rpath,"$prefix/lib" > pc.log 2>&1; then
    ok "annotations.c builds with pkg-config's flags"
    if ./pc-annotations pc.trace > /dev/null; then
        ok "the pkg-config build runs"
        validate pc.trace && dump pc.trace && expect_key pc.trace.sum eq 3 task request
        check "it uses the installed library" bash -c "ldd ./pc-annotations | grep -q '$prefix/lib/libctrace.so'"
    else
        fail "the pkg-config build failed to run"
    fi
else
    cat pc.log; fail "annotations.c does not build with pkg-config's flags"
fi

# 1b. The C++ layer, through pkg-config (when a C++ compiler is there; the
# C++ tests proper are integration.cpp_compilers).
cxx=${CTRACE_CXX:-}
[ -n "$cxx" ] || cxx=$(command -v g++ || command -v clang++ || true)
if [ -n "$cxx" ] && [ -n "$flags" ]; then
    if "$cxx" -std=c++17 -O1 $san "$CTRACE_SRC/examples/cpp_workers.cpp" -o pc-cpp_workers $flags \
            -pthread -Wl,-rpath,"$prefix/lib" > pc-cpp.log 2>&1; then
        ok "cpp_workers.cpp builds with pkg-config's flags and the installed ctrace.hpp"
        if ./pc-cpp_workers pc-cpp.trace > /dev/null; then
            validate pc-cpp.trace && dump pc-cpp.trace && expect_key pc-cpp.trace.sum eq 8 task request
        else
            fail "the pkg-config C++ build failed to run"
        fi
    else
        cat pc-cpp.log; fail "cpp_workers.cpp does not build with pkg-config's flags"
    fi
else
    echo "info: no C++ compiler: the installed ctrace.hpp is not compiled here"
fi

# 2 and 3. CMake package config, shared and static.
mkdir -p consumer
cat > consumer/CMakeLists.txt <<CMAKE
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(ctrace 0.1 REQUIRED)
add_executable(shared_app $CTRACE_SRC/examples/annotations.c)
target_link_libraries(shared_app PRIVATE ctrace::ctrace)
add_executable(static_app $CTRACE_SRC/examples/annotations.c)
target_link_libraries(static_app PRIVATE ctrace::ctrace_static)
CMAKE
if cmake -S consumer -B consumer/build -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_C_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san" > consumer.log 2>&1 &&
   cmake --build consumer/build >> consumer.log 2>&1; then
    ok "a CMake project builds with find_package(ctrace)"
    for app in shared_app static_app; do
        if consumer/build/$app $app.trace > /dev/null; then
            ok "$app runs"
            validate $app.trace && dump $app.trace && expect_key $app.trace.sum eq 3 regionend query
        else
            fail "$app failed to run"
        fi
    done
    check "static_app does not need libctrace.so" bash -c "! ldd consumer/build/static_app | grep -q libctrace"
else
    tail -n 30 consumer.log; fail "a CMake project does not build with find_package(ctrace)"
fi

# 4. The reader, through pkg-config: examples/count_events.c on a trace
# written above (its 3 "request" tasks begin and end).
rflags=$(pkg-config --define-variable=prefix="$prefix" --cflags --libs ctrace_reader 2>rpc.err)
if [ -n "$rflags" ] && gcc -std=c11 -O1 $san "$CTRACE_SRC/examples/count_events.c" -o count_events \
        $rflags -Wl,-rpath,"$prefix/lib" > rpc.log 2>&1; then
    ok "count_events.c builds with pkg-config's ctrace_reader flags: $rflags"
    if [ -f pc.trace ] && ./count_events pc.trace > count.out 2>&1; then
        got=$(awk '$1 == "TaskBegin" { print $2 }' count.out)
        expect ge 3 "TaskBegin events counted by count_events (installed reader)" "${got:-0}"
    else
        cat count.out 2>/dev/null; fail "count_events pc.trace failed"
    fi
else
    cat rpc.err rpc.log 2>/dev/null; fail "count_events.c does not build with pkg-config's ctrace_reader flags"
fi
finish
