#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every source file and script says its license in an SPDX line near its top, every one
# names the license COPYING holds (LGPL-2.1-or-later), and COPYING is that license's text
# (as Debian ships it in /usr/share/common-licenses/LGPL-2.1). Usage: license.sh SOURCE_DIR
set -u
S=$1
# shellcheck source=../../tests/lib/check.sh
. "$S/tests/lib/check.sh"
cd "$S" || exit 1
if git rev-parse --git-dir >/dev/null 2>&1; then
	files=$(git ls-files)
else
	files=$(find . -path './build*' -prune -o -path ./.git -prune -o -type f -print | sed 's|^\./||')
fi
n=0
for f in $files; do
	case $f in
	tests/fixtures/*|*.md|*.dict|*.sets|*.png|*.dat|*.gitignore|COPYING|NEWS) continue ;;
	debian/changelog|debian/control|debian/copyright|debian/source/*|debian/*.docs) continue ;;
	debian/*.lintian-overrides|config/vgpu-hook.conf) continue ;;
	*.c|*.h|*.sh|*.cmake|CMakeLists.txt|*/CMakeLists.txt|*.gp|docs/man/*|debian/*) ;;
	*) head -c 2 "$f" | grep -q '^#!' || continue ;;   # any other script
	esac
	n=$((n + 1))
	id=$(head -n 3 "$f" | sed -n 's/.*SPDX-License-Identifier: *\([^ *]*\).*/\1/p')
	check_eq "$f: SPDX line" "$id" LGPL-2.1-or-later
done
check "files checked" test "$n" -gt 50
check "COPYING is the LGPL 2.1" grep -q 'GNU LESSER GENERAL PUBLIC LICENSE' COPYING
check "COPYING: version 2.1" grep -q 'Version 2.1, February 1999' COPYING
if [ -f /usr/share/common-licenses/LGPL-2.1 ]; then
	check "COPYING is Debian's LGPL-2.1, word for word" cmp -s COPYING /usr/share/common-licenses/LGPL-2.1
fi
check "debian/copyright names the same license" grep -q '^License: LGPL-2.1+$' debian/copyright
finish
