#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The man pages cannot drift from the code: every long option that --help prints is in its
# page's OPTIONS (and every one there is in --help), and every config key the parser knows
# (lib/config.c) is in the example config and in vgpu-hook.conf(5)'s KEYS, and no other.
# Usage: man-drift.sh SOURCE_DIR VGPU_HOOK [VGPU_XML [VGPU_INHIBIT]]
set -u
S=$1 HOOK=$2 XML=${3:-} INHIBIT=${4:-}
# shellcheck source=../../tests/lib/check.sh
. "$S/tests/lib/check.sh"
command -v mandoc >/dev/null || skip "mandoc not found (apt-get install mandoc)"

# render PAGE SECTION: the section's text, as man shows it, without formatting.
render() {
	mandoc -T utf8 "$S/docs/man/$1" | sed 's/.\x08//g' |
		awk -v s="$2" '/^[A-Z][A-Z ]*$/ { on = ($0 == s); next } on'
}
longopts() { grep -o -- '--[a-z][a-z-]*' | sort -u; }

# compare PROGRAM PAGE: --help's long options against the page's OPTIONS.
compare() {
	local prog=$1 page=$2 help doc o
	help=$("$prog" --help | longopts)
	doc=$(render "$page" OPTIONS | longopts)
	check "$page: --help prints options" test -n "$help"
	for o in $help; do
		check "$page: $o (from --help) is in OPTIONS" grep -qxF -- "$o" <<<"$doc"
	done
	for o in $doc; do
		check "$page: $o (in OPTIONS) is in --help" grep -qxF -- "$o" <<<"$help"
	done
}
compare "$HOOK" vgpu-hook.8
if [ -n "$XML" ]; then compare "$XML" vgpu-xml.1; fi
if [ -n "$INHIBIT" ]; then compare "$INHIBIT" vgpu-inhibit.8; fi

code=$(grep -o 'strcmp(name, "[a-z_]*")' "$S/lib/config.c" | cut -d'"' -f2 | sort -u)
example=$(sed -n 's/^#\{0,1\}\([a-z_]*\) = .*/\1/p' "$S/config/vgpu-hook.conf" | sort -u)
page=$(render vgpu-hook.conf.5 KEYS | sed -n 's/^ \{5\}\([a-z_]*\) = .*/\1/p' | sort -u)
check "lib/config.c knows keys" test -n "$code"
check_eq "the example config has every key of lib/config.c" "$(echo $example)" "$(echo $code)"
check_eq "vgpu-hook.conf(5) KEYS has every key of lib/config.c" "$(echo $page)" "$(echo $code)"
finish
