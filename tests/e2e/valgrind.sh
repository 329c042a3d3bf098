#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run a test script that runs the built vgpu-hook (through sim-lib.sh's HOOK_WRAPPER) with
# every hook process under valgrind's memcheck: any memory error or any leak, reachable
# blocks included, fails the hook call (--error-exitcode) and is collected afterwards from
# the per-process logs, so that an error in a call expected to fail is not missed either.
# Usage: valgrind.sh TEST_SCRIPT ARGS...
set -u
# shellcheck source=../lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
command -v valgrind >/dev/null || skip "valgrind missing (apt-get install valgrind)"
VG=$(mktemp -d /tmp/vgpu-valgrind.XXXXXX)
trap 'rm -rf "$VG"' EXIT
# Every hook process is 20 to 50 times slower under valgrind, and hooks wait for each other's
# lock: the release bound is a promise in wall-clock time for a native run (sim-lib.sh).
export VGPU_TEST_RELEASE_TIMEOUT=300
export HOOK_WRAPPER="valgrind -q --error-exitcode=1 --leak-check=full --show-leak-kinds=all
	--errors-for-leak-kinds=all --log-file=$VG/%p.log"
bash "$@"
rc=$?
[ "$rc" = 77 ] && skip "the test under valgrind skipped"
n=$(find "$VG" -name '*.log' | wc -l)
bad=$(find "$VG" -name '*.log' -size +0 | sort)
check_eq "valgrind: the test itself passed" "$rc" 0
check "valgrind: hook processes ran under it ($n)" [ "$n" -gt 0 ]
for f in $bad; do
	fail "valgrind: a hook process had errors or leaks: $f"
	cat "$f"
done
[ -z "$bad" ] && pass "valgrind: no error, no leak in $n hook processes"
finish
