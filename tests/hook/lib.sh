# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the shell tests: assertions that count, and a closing "N passed, N failed".
passed=0 failed=0
ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); printf 'FAIL: %s\n' "$*" >&2; }
check() { # check DESCRIPTION COMMAND...: the command must succeed
	local what=$1; shift
	if "$@"; then ok; else ko "$what"; fi
}
check_eq() { # check_eq DESCRIPTION GOT WANT
	if [ "$2" = "$3" ]; then ok; else ko "$1: got '$2', want '$3'"; fi
}
check_has() { # check_has DESCRIPTION HAYSTACK NEEDLE
	case $2 in *"$3"*) ok ;; *) ko "$1: '$2' lacks '$3'" ;; esac
}
finish() {
	printf '%d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ]
}
skip() { printf 'SKIP: %s\n' "$*"; exit 77; }
