#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs shellcheck over every shell script of the source tree: a check per script, which fails on
# any error or warning (shellcheck -S warning; its info and style notes are not checked).
# A script is a tracked file (git ls-files, else every file) named *.sh or whose first
# line is a #! for sh, bash or dash. Sourced files are followed (-x), from the directory of
# the script that sources them (.shellcheckrc: source-path=SCRIPTDIR).
# Usage: tests/lint/shellcheck.sh SRC_DIR all|realhost
# all: every script but those of tests/realhost/; realhost: only those.
set -u
SRC=$1 PART=$2
# shellcheck source=../lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
command -v shellcheck >/dev/null || skip "shellcheck missing (apt-get install shellcheck)"
cd "$SRC" || abort "cannot enter $SRC"

files() {
	if [ -e .git ] && command -v git >/dev/null; then
		git ls-files
	else
		find . -path ./.git -prune -o -type f -print | sed 's#^\./##'
	fi
}
list=$(files | LC_ALL=C sort | while IFS= read -r f; do
	case $f in
	build*/*) continue ;;
	tests/realhost/*) [ "$PART" = realhost ] || continue ;;
	*) [ "$PART" = all ] || continue ;;
	esac
	[ -f "$f" ] || continue
	case $f in
	*.sh) ;;
	*) head -n 1 "$f" | grep -qE '^#! *(/usr)?/bin/(env +)?(sh|bash|dash)( |$)' || continue ;;
	esac
	printf '%s\n' "$f"
done)
[ -n "$list" ] || abort "no shell script found under $SRC"
# One run for all (each sourced file is read once), then a check per script.
# The names are from git ls-files: one a line, split on newlines only.
IFS='
'
# shellcheck disable=SC2086
shellcheck -x -S warning -f gcc $list >"${TMPDIR:-/tmp}/shellcheck.$$" 2>&1
unset IFS
n=0
for f in $list; do
	n=$((n + 1))
	if grep -q "^$f:" "${TMPDIR:-/tmp}/shellcheck.$$"; then
		fail "$f:"
		grep "^$f:" "${TMPDIR:-/tmp}/shellcheck.$$"
	else
		pass "$f"
	fi
done
# What names no script of the list (a file it sources, shellcheck's own errors).
if grep -v -F "$list" "${TMPDIR:-/tmp}/shellcheck.$$" | grep -q .; then
	fail "shellcheck said more:"
	grep -v -F "$list" "${TMPDIR:-/tmp}/shellcheck.$$"
fi
rm -f "${TMPDIR:-/tmp}/shellcheck.$$"
note "$n shell scripts checked ($(shellcheck --version | sed -n 's/^version: //p'))"
finish
