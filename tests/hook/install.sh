#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# cmake --install into a DESTDIR: the hook lands in sbin (where AppArmor lets libvirtd run it) and is registered in qemu.d;
# the example config is installed once and never overwritten; as the main hook it never
# replaces a foreign one. Usage: install.sh BUILD_DIR
set -u
B=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
command -v cmake >/dev/null || skip "cmake not found"
T=$(mktemp -d /tmp/vgpu-install.XXXXXX)
trap 'rm -rf "$T"' EXIT

DESTDIR=$T/root cmake --install "$B" >"$T/log" 2>&1
check_eq "install: exit" "$?" 0
R=$T/root
check "binary in sbin" test -x "$R/usr/sbin/vgpu-hook"
check "the hook is not in libexec" test ! -e "$R/usr/libexec/vgpu-hook/vgpu-hook"
check "the reclaim unit, running the hook" grep -q '^ExecStart=/usr/sbin/vgpu-hook --reclaim$' \
	"$R"/lib/systemd/system/vgpu-hook-reclaim.service
check "its timer" grep -q '^OnUnitActiveSec=15min$' "$R"/lib/systemd/system/vgpu-hook-reclaim.timer
if [ -n "${VGPU_INHIBIT:-}" ]; then
	check "vgpu-inhibit in libexec" test -x "$R/usr/libexec/vgpu-hook/vgpu-inhibit"
	check "its unit, naming it" grep -q '^ExecStart=/usr/libexec/vgpu-hook/vgpu-inhibit$' \
		"$R"/lib/systemd/system/vgpu-inhibit.service
fi
check_eq "registered in qemu.d" "$(readlink "$R/etc/libvirt/hooks/qemu.d/vgpu-hook")" /usr/sbin/vgpu-hook
check "example config installed" grep -q '^\[defaults\]' "$R/etc/vgpu-hook/vgpu-hook.conf"
echo "# mine" >"$R/etc/vgpu-hook/vgpu-hook.conf"
DESTDIR=$R cmake --install "$B" >"$T/log" 2>&1
check_eq "reinstall: exit" "$?" 0
check_eq "existing config kept" "$(cat "$R/etc/vgpu-hook/vgpu-hook.conf")" "# mine"

# As the main hook (VGPU_INSTALL_AS_QEMU_HOOK): a foreign hooks/qemu is never replaced.
reg() { DESTDIR=$R cmake -DVGPU_HOOK_LINK=/etc/libvirt/hooks/qemu \
	-DVGPU_HOOK_BIN=/usr/sbin/vgpu-hook -DVGPU_HOOK_OLD_BINS=/usr/libexec/vgpu-hook/vgpu-hook -P "$SRC/cmake/register-hook.cmake" >"$T/log" 2>&1; }
printf '#!/bin/sh\nexit 0\n' >"$R/etc/libvirt/hooks/qemu"
reg
check_eq "foreign hooks/qemu: refused" "$?" 1
check "foreign hooks/qemu: says why" grep -q "is not vgpu-hook's; not replacing it" <(tr -s ' \n' ' ' <"$T/log")
check_eq "foreign hooks/qemu: kept" "$(cat "$R/etc/libvirt/hooks/qemu")" "$(printf '#!/bin/sh\nexit 0')"
rm "$R/etc/libvirt/hooks/qemu"
reg
check_eq "hooks/qemu: registered" "$(readlink "$R/etc/libvirt/hooks/qemu")" /usr/sbin/vgpu-hook
reg
check_eq "hooks/qemu: ours is replaced by ours" "$?" 0
# An earlier version's link into libexec is ours: an upgrade moves it to sbin.
rm "$R/etc/libvirt/hooks/qemu"
ln -s /usr/libexec/vgpu-hook/vgpu-hook "$R/etc/libvirt/hooks/qemu"
reg
check_eq "old link into libexec: exit" "$?" 0
check_eq "old link into libexec: now sbin" "$(readlink "$R/etc/libvirt/hooks/qemu")" /usr/sbin/vgpu-hook
finish
