#!/usr/bin/env bash
#   The whole test suite, as CI runs it: installs the dependencies, builds
#   with -Werror and AddressSanitizer + UBSan, and runs every ctest test.
#   Idempotent; the build directory is reused (HEARTH_TEST_BUILD to move it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/deps.sh

build="${HEARTH_TEST_BUILD:-build-test}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug \
      -DHEARTH_WERROR=ON -DHEARTH_SANITIZE=ON >/dev/null
cmake --build "$build" -j"$(nproc)"

#   Leak checks on; abort on the first ASan/UBSan report so a test fails.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$build"
ctest --output-on-failure -j2 --timeout 600
