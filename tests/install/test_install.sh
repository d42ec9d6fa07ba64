#!/usr/bin/env bash
#   test_install.sh - libhearth as a program outside the tree sees it.
#
#   Installs the build tree with `cmake --install BUILD --prefix TMP` (a
#   prefix chosen after configure, unlike the configured one), then builds
#   and runs hello/hello_hearth.c, as README.md ("Building against
#   libhearth") says to:
#     1. pkg-config, shared: run with LD_LIBRARY_PATH, and with an rpath;
#     2. pkg-config, static: libhearth.a plus hearth.pc's Requires.private;
#     3. CMake, find_package (Hearth) with CMAKE_PREFIX_PATH: Hearth::hearth
#        and Hearth::hearth_static;
#     4. both again after the installed tree is moved elsewhere;
#     5. the build tree without installing: hearth-uninstalled.pc, and
#        find_package with Hearth_DIR=BUILD.
#   It also checks that hearth.pc points into the prefix and brings no
#   libyaml. Each run must print the version and the documented error for an
#   absent broker (HEARTH_EUNREACHABLE).
#
#   Environment (tests/install/CMakeLists.txt sets it): HEARTH_BUILD_DIR,
#   HEARTH_SOURCE_DIR, HEARTH_VERSION, HEARTH_LIBDIR (CMAKE_INSTALL_LIBDIR),
#   CMAKE_COMMAND, CC, and HEARTH_CLIENT_FLAGS: in a HEARTH_SANITIZE build
#   the sanitizer flags, because a program linked to a sanitized libhearth
#   must load the sanitizer runtime first; empty otherwise.
set -euo pipefail
for var in HEARTH_BUILD_DIR HEARTH_SOURCE_DIR HEARTH_VERSION HEARTH_LIBDIR \
           CMAKE_COMMAND CC; do
    [ -n "${!var:-}" ] || { echo "test_install: $var is not set" >&2; exit 2; }
done
if [[ "$HEARTH_LIBDIR" = /* ]]; then
    echo "test_install: CMAKE_INSTALL_LIBDIR is absolute; no other prefix to test" >&2
    exit 77
fi
read -r -a client_flags <<< "${HEARTH_CLIENT_FLAGS:-}"
hello=$HEARTH_SOURCE_DIR/tests/install/hello
unset PKG_CONFIG_DISABLE_UNINSTALLED PKG_CONFIG_LIBDIR

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hearth-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail () {
    echo "test_install: FAIL: $*" >&2
    exit 1
}
step () {
    echo "-- $*"
}

#   check_run PROGRAM [ENV=VALUE...]: runs PROGRAM, which must exit 0 and
#   print the version and the unreachable-broker error.
check_run () {
    local program=$1 out
    shift
    out=$(env "$@" "$program" 2>&1) || fail "$program exited $?: $out"
    local expected="hearth $HEARTH_VERSION"
    [ "$(sed -n 1p <<< "$out")" = "$expected" ] ||
        fail "$program: first line is not '$expected': $out"
    grep -q '^HEARTH_EUNREACHABLE: ' <<< "$out" ||
        fail "$program: no HEARTH_EUNREACHABLE line: $out"
}

#   same_dir A B: A and B are the same directory once resolved.
same_dir () {
    [ "$(realpath -m "$1")" = "$(realpath -m "$2")" ]
}

#   build_with_pkgconfig OUTPUT PKG_CONFIG_PATH: hello_hearth, shared.
build_with_pkgconfig () {
    local output=$1
    # shellcheck disable=SC2046   # the flags are words
    "$CC" "${client_flags[@]}" "$hello/hello_hearth.c" \
        $(PKG_CONFIG_PATH=$2 pkg-config --cflags --libs hearth) -o "$output" ||
        fail "cc with pkg-config ($2) failed"
}

#   build_with_cmake BINARY_DIR CMAKE_ARGS...: the hello/ CMake project.
build_with_cmake () {
    local binary=$1
    shift
    "$CMAKE_COMMAND" -S "$hello" -B "$binary" -DCMAKE_C_COMPILER="$CC" \
        -DCMAKE_C_FLAGS="${HEARTH_CLIENT_FLAGS:-}" \
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
        -DHELLO_HEARTH_VERSION="$HEARTH_VERSION" "$@" > "$binary.log" 2>&1 ||
        fail "configuring hello/ failed: $(cat "$binary.log")"
    "$CMAKE_COMMAND" --build "$binary" > "$binary.build.log" 2>&1 ||
        fail "building hello/ failed: $(cat "$binary.build.log")"
}

#   cached BINARY_DIR NAME: a value from a CMake cache.
cached () {
    sed -n "s/^$2:[A-Z]*=//p" "$1/CMakeCache.txt"
}

# ------------------------------------------------------------ installation
prefix=$tmp/prefix
step "cmake --install $HEARTH_BUILD_DIR --prefix $prefix"
"$CMAKE_COMMAND" --install "$HEARTH_BUILD_DIR" --prefix "$prefix" \
    > "$tmp/install.log" 2>&1 || fail "install failed: $(cat "$tmp/install.log")"
libdir=$prefix/$HEARTH_LIBDIR
pcdir=$libdir/pkgconfig
[ -f "$pcdir/hearth.pc" ] || fail "no $pcdir/hearth.pc"

step "hearth.pc points into the prefix and needs no libyaml"
export PKG_CONFIG_PATH=$pcdir
[ "$(pkg-config --modversion hearth)" = "$HEARTH_VERSION" ] ||
    fail "pkg-config --modversion hearth is not $HEARTH_VERSION"
same_dir "$(pkg-config --variable=includedir hearth)" "$prefix/include" ||
    fail "includedir $(pkg-config --variable=includedir hearth) is not in $prefix"
same_dir "$(pkg-config --variable=libdir hearth)" "$libdir" ||
    fail "libdir $(pkg-config --variable=libdir hearth) is not $libdir"
for query in "--print-requires-private" "--static --libs" "--cflags --libs"; do
    # shellcheck disable=SC2086
    if pkg-config $query hearth | grep -q yaml; then
        fail "pkg-config $query hearth names libyaml"
    fi
done
if readelf -d "$libdir/libhearth.so" | grep -q 'NEEDED.*yaml'; then
    fail "libhearth.so needs libyaml"
fi
unset PKG_CONFIG_PATH

step "pkg-config, shared: LD_LIBRARY_PATH, then an rpath"
build_with_pkgconfig "$tmp/hello_pc" "$pcdir"
check_run "$tmp/hello_pc" \
    "LD_LIBRARY_PATH=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=libdir hearth)"
rpath=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=libdir hearth)
# shellcheck disable=SC2046
"$CC" "${client_flags[@]}" "$hello/hello_hearth.c" \
    $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs hearth) \
    -Wl,-rpath,"$rpath" -o "$tmp/hello_rpath" || fail "cc with an rpath failed"
check_run "$tmp/hello_rpath"

step "pkg-config, static: libhearth.a and what hearth.pc requires privately"
#   Requires.private must name everything a static libhearth needs. Linked
#   as shared libraries: Debian's `pkg-config --static --libs libzmq` names a
#   file that does not exist (libprotokit.a, via libnorm), so only the
#   expansion of hearth's own line is checked.
static_libs=$(PKG_CONFIG_PATH=$pcdir pkg-config --static --libs hearth)
for lib in -lhearth -lzmq -lmsgpackc; do
    grep -qw -- "$lib" <<< "$static_libs" ||
        fail "pkg-config --static --libs hearth lacks $lib: $static_libs"
done
#   README.md spells the requirements out: they must be these.
requires=$(PKG_CONFIG_PATH=$pcdir pkg-config --print-requires-private hearth | sort | xargs)
[ "$requires" = "libzmq msgpack" ] ||
    fail "hearth.pc requires privately '$requires', README.md says 'libzmq msgpack'"
# shellcheck disable=SC2046
"$CC" "${client_flags[@]}" "$hello/hello_hearth.c" \
    $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags hearth) "$libdir/libhearth.a" \
    $(pkg-config --libs libzmq msgpack) -lpthread -o "$tmp/hello_pc_static" ||
    fail "static link with libzmq and msgpack failed"
if readelf -d "$tmp/hello_pc_static" | grep -q 'NEEDED.*libhearth'; then
    fail "hello_pc_static needs libhearth.so"
fi
check_run "$tmp/hello_pc_static"

step "CMake: find_package (Hearth) with CMAKE_PREFIX_PATH=$prefix"
build_with_cmake "$tmp/cmake-installed" -DCMAKE_PREFIX_PATH="$prefix"
same_dir "$(cached "$tmp/cmake-installed" Hearth_DIR)" "$libdir/cmake/Hearth" ||
    fail "find_package found $(cached "$tmp/cmake-installed" Hearth_DIR), not the installation"
#   No LD_LIBRARY_PATH: CMake gives a program in its build tree an rpath.
check_run "$tmp/cmake-installed/hello_hearth"
check_run "$tmp/cmake-installed/hello_hearth_static"

step "pkg-config and find_package after the installed tree is moved"
mv "$prefix" "$tmp/moved"
moved_pc=$tmp/moved/$HEARTH_LIBDIR/pkgconfig
same_dir "$(PKG_CONFIG_PATH=$moved_pc pkg-config --variable=includedir hearth)" \
         "$tmp/moved/include" || fail "hearth.pc does not follow the tree it is in"
build_with_pkgconfig "$tmp/hello_moved" "$moved_pc"
check_run "$tmp/hello_moved" "LD_LIBRARY_PATH=$tmp/moved/$HEARTH_LIBDIR"
build_with_cmake "$tmp/cmake-moved" -DCMAKE_PREFIX_PATH="$tmp/moved"
check_run "$tmp/cmake-moved/hello_hearth"
check_run "$tmp/cmake-moved/hello_hearth_static"

# -------------------------------------------------------------- build tree
step "build tree: hearth-uninstalled.pc"
same_dir "$(PKG_CONFIG_PATH=$HEARTH_BUILD_DIR pkg-config --variable=includedir hearth)" \
         "$HEARTH_SOURCE_DIR/include" ||
    fail "PKG_CONFIG_PATH=$HEARTH_BUILD_DIR does not give the build tree's hearth"
build_with_pkgconfig "$tmp/hello_tree" "$HEARTH_BUILD_DIR"
check_run "$tmp/hello_tree" "LD_LIBRARY_PATH=$HEARTH_BUILD_DIR"

step "build tree: find_package (Hearth) with Hearth_DIR=$HEARTH_BUILD_DIR"
build_with_cmake "$tmp/cmake-tree" -DHearth_DIR="$HEARTH_BUILD_DIR"
check_run "$tmp/cmake-tree/hello_hearth"
check_run "$tmp/cmake-tree/hello_hearth_static"

if [ ${#client_flags[@]} -gt 0 ]; then
    #   README.md: a program linked to a sanitized libhearth without the
    #   flags does not start. (Else the flags above would be superstition.)
    step "build tree, sanitized: a program compiled without the flags"
    # shellcheck disable=SC2046
    "$CC" "$hello/hello_hearth.c" \
        $(PKG_CONFIG_PATH=$HEARTH_BUILD_DIR pkg-config --cflags --libs hearth) \
        -o "$tmp/hello_plain" 2> "$tmp/plain.log" || fail "cc without the flags: $(cat "$tmp/plain.log")"
    if LD_LIBRARY_PATH=$HEARTH_BUILD_DIR "$tmp/hello_plain" > "$tmp/plain.out" 2>&1; then
        fail "a program without the sanitizer flags ran against a sanitized libhearth"
    fi
    grep -q 'runtime does not come first' "$tmp/plain.out" ||
        fail "hello_plain failed otherwise than expected: $(cat "$tmp/plain.out")"
fi

echo "test_install: all passed"
