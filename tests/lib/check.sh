# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# The assertions of every shell test, one vocabulary. Source it before the first check:
#     . "$(dirname "$0")/../lib/check.sh"
# It works in POSIX sh (dash) and bash, reads no variable and no path: nothing here depends
# on where the source or the build tree is, so tests/realhost/ can source it as well.
#
# A check counts once, passed or failed, prints one line on stdout, and never exits (the
# checks after a failed one still run):
#     ok: DESCRIPTION                  passed
#     FAIL: DESCRIPTION: WHY           failed; WHY says what was got and what was wanted
#   check DESC CMD [ARG...]      CMD exits 0 (its own output goes where the caller sends it)
#   check_not DESC CMD [ARG...]  CMD exits non-zero
#   check_eq DESC GOT WANT       the strings GOT and WANT are equal
#   check_has DESC TEXT PART     the string TEXT contains the string PART
#   check_lacks DESC TEXT PART   the string TEXT does not contain PART
#   pass DESC                    a check the script decided itself, passed
#   fail DESC                    a check the script decided itself, failed
# Call them in the script's own shell, not in $(...) or a pipeline's subshell: a count made
# in a subshell is lost, and its line would go into the captured output.
#
# What is not a check:
#   note TEXT     prints "note: TEXT": a part that cannot run here and why, or a detail
#
# The end of the script, and its exit status (what ctest reads: 0 passed, 77 skipped,
# anything else failed):
#   finish        prints "N passed, N failed" and exits 0 when no check failed and at least
#                 one ran, 1 otherwise (a script that checked nothing proved nothing)
#   abort DESC    fail DESC, then finish: for when the rest of the script cannot run
#   skip REASON   prints "SKIP: REASON" and exits 77; when a check has failed already, it
#                 is a failure instead: it prints the reason and the sum, and exits 1
# These three exit the shell they run in, so the script's EXIT trap (cleanup) runs after.
# CHECK_PASSED and CHECK_FAILED are the counts so far: read them, do not set them.

CHECK_PASSED=0 CHECK_FAILED=0

pass() {
	CHECK_PASSED=$((CHECK_PASSED + 1))
	printf 'ok: %s\n' "$1"
}

fail() {
	CHECK_FAILED=$((CHECK_FAILED + 1))
	printf 'FAIL: %s\n' "$1"
}

check() {
	check_what_=$1
	shift
	if "$@"; then pass "$check_what_"; else fail "$check_what_: '$*' exited $?"; fi
}

check_not() {
	check_what_=$1
	shift
	if "$@"; then fail "$check_what_: '$*' exited 0"; else pass "$check_what_"; fi
}

check_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}

check_has() {
	case $2 in
	*"$3"*) pass "$1" ;;
	*) fail "$1: '$2' lacks '$3'" ;;
	esac
}

check_lacks() {
	case $2 in
	*"$3"*) fail "$1: '$2' has '$3'" ;;
	*) pass "$1" ;;
	esac
}

note() {
	printf 'note: %s\n' "$*"
}

finish() {
	printf '%d passed, %d failed\n' "$CHECK_PASSED" "$CHECK_FAILED"
	if [ "$CHECK_FAILED" -ne 0 ]; then exit 1; fi
	if [ "$CHECK_PASSED" -eq 0 ]; then
		printf 'FAIL: no check ran\n'
		exit 1
	fi
	exit 0
}

abort() {
	fail "$1"
	finish
}

skip() {
	if [ "$CHECK_FAILED" -ne 0 ]; then
		printf 'FAIL: skipped after a failure: %s\n' "$*"
		finish
	fi
	printf 'SKIP: %s\n' "$*"
	exit 77
}
