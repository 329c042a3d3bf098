#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# cmake --install puts each man page in its section under CMAKE_INSTALL_MANDIR, byte for
# byte, and man finds them there. Usage: install-man.sh SOURCE_DIR BUILD_DIR MANDIR
set -u
S=$1 B=$2 MANDIR=$3
# shellcheck source=../../tests/lib/check.sh
. "$S/tests/lib/check.sh"
command -v cmake >/dev/null || skip "cmake not found"
T=$(mktemp -d /tmp/vgpu-install-man.XXXXXX)
trap 'rm -rf "$T"' EXIT
DESTDIR=$T/root cmake --install "$B" >"$T/log" 2>&1
check_eq "install: exit" "$?" 0
pages="man8/vgpu-hook.8 man5/vgpu-hook.conf.5"
[ -e "$B/xml/vgpu-xml" ] && pages="$pages man1/vgpu-xml.1"
[ -e "$B/inhibit/vgpu-inhibit" ] && pages="$pages man8/vgpu-inhibit.8"
for p in $pages; do
	check "$p installed as it is in docs/man" cmp -s "$S/docs/man/${p#*/}" "$T/root$MANDIR/$p"
done
if command -v man >/dev/null; then
	check_has "man -M finds vgpu-hook.conf(5)" \
		"$(man -M "$T/root$MANDIR" -w 5 vgpu-hook.conf 2>&1)" "man5/vgpu-hook.conf.5"
fi
finish
