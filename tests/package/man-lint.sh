#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The man pages pass mandoc's linter at level warning (mandoc(1), -T lint -W warning):
# every page in docs/man, one check each. Usage: man-lint.sh MAN_DIR
set -u
# shellcheck source=../lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
command -v mandoc >/dev/null || skip "mandoc not found (apt-get install mandoc)"
pages=("$1"/*.[1-8])
check_eq "the four pages are there" "${#pages[@]}" 4
for p in "${pages[@]}"; do
	out=$(mandoc -T lint -W warning "$p" 2>&1)
	check_eq "mandoc -T lint -W warning $(basename "$p")" "$out" ""
done
finish
