#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# One version everywhere, CMake's project(VERSION) the source: both programs' --version,
# the Debian package's (debian/changelog, a native package: no revision), and NEWS, whose
# first entry is that version. Usage: version.sh SOURCE_DIR VERSION VGPU_HOOK [VGPU_XML]
set -u
S=$1 V=$2 HOOK=$3 XML=${4:-}
# shellcheck source=../../tests/lib/check.sh
. "$S/tests/lib/check.sh"
check "the version is X.Y.Z" grep -qxE '[0-9]+\.[0-9]+\.[0-9]+' <<<"$V"
check_eq "vgpu-hook --version" "$("$HOOK" --version)" "vgpu-hook $V"
if [ -n "$XML" ]; then check_eq "vgpu-xml --version" "$("$XML" --version)" "vgpu-xml $V"; fi
check_eq "debian/changelog" "$(sed -n '1s/^vgpu-hook (\([^)]*\)).*/\1/p' "$S/debian/changelog")" "$V"
check_eq "NEWS: the newest entry" "$(grep -m1 -oE '^vgpu-hook [0-9.]+' "$S/NEWS")" "vgpu-hook $V"
finish
