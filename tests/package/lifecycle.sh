#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The package's life in a fresh Debian 12 root, never on this host (a VM used by other tests
# boots on the host's root): install, a hook call through the link libvirt runs, remove
# while a guest "runs", purge, reinstall, the guest's release, purge again.
# vgpu-sim (run on the host, mounted inside the root) stands for the GPU; a fake
# policy-rc.d records what postinst asks of systemd, and forbids it.
# Usage: lifecycle.sh BASE_TGZ DEB VGPU_SIM
#   BASE_TGZ  a debootstrap'd Debian 12 root as a tarball (e.g. debootstrap --variant=minbase
#             bookworm DIR, then tar -C DIR -czf BASE_TGZ .)
#   DEB       the package (scripts/build-deb prints its path)
#   VGPU_SIM  the built vgpu-sim
# As root; apt in the root installs the package's dependencies (from the host's
# /var/cache/apt/archives when there, bound in, else from the network).
set -u
BASE=${1:?usage: lifecycle.sh BASE_TGZ DEB VGPU_SIM} DEB=${2:?} SIM=${3:?}
# shellcheck source=../lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root (chroot, mount)"
[ -f "$BASE" ] || skip "no base root tarball $BASE"
[ -c /dev/fuse ] || skip "no /dev/fuse for vgpu-sim"
FIX=$(cd "$(dirname "$0")/../fixtures" && pwd)

W=$(mktemp -d /var/tmp/vgpu-lifecycle.XXXXXX)
R=$W/root
mounts=()
S=
cleanup() {
	if [ -n "$S" ]; then
		umount "$R$S" 2>/dev/null
		umount "$S" 2>/dev/null
		rmdir "$S"
	fi
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null; done
	rm -rf --one-file-system "$W"
}
trap cleanup EXIT
mkdir "$R"
tar -xzf "$BASE" -C "$R" || abort "unpack $BASE"
for m in proc dev sys; do
	case $m in
	proc) mount -t proc proc "$R/proc" ;;
	dev) mount --rbind /dev "$R/dev" && mount --make-rslave "$R/dev" ;;
	sys) mount -t sysfs sys "$R/sys" ;;
	esac && mounts+=("$R/$m")
done
if [ -d /var/cache/apt/archives ]; then
	mount --bind /var/cache/apt/archives "$R/var/cache/apt/archives" &&
		mounts+=("$R/var/cache/apt/archives")
fi
cp /etc/resolv.conf "$R/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"   # start no service in the root
chmod 0755 "$R/usr/sbin/policy-rc.d"
cp "$DEB" "$R/tmp/"
deb=/tmp/$(basename "$DEB")
in_root() { chroot "$R" env -i LC_ALL=C DEBIAN_FRONTEND=noninteractive \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
apt_root() { # the host's apt may hold the lock of the shared archive cache: wait for it
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		in_root apt-get -o DPkg::Lock::Timeout=900 "$@" >>"$W/apt.log" 2>&1 && return 0
		grep -q 'Could not get lock' "$W/apt.log" || return 1
		sleep 15
	done
	return 1
}

apt_root install -y --no-install-recommends man-db
check_eq "man-db: apt exit" "$?" 0

# A systemd host in the root's eyes, with a libvirtd unit. deb-systemd-invoke asks
# policy-rc.d first: it records what postinst asks for, and forbids it (101).
mkdir -p "$R/run/systemd/system"
printf '[Service]\nExecStart=/usr/sbin/libvirtd\nExecReload=/bin/kill -HUP $MAINPID\n' \
	>"$R/lib/systemd/system/libvirtd.service"
printf '#!/bin/sh\necho "$*" >>/tmp/policy.log\nexit 101\n' >"$R/usr/sbin/policy-rc.d"

# Depends' libc6 floor covers every glibc version the binaries need, GLIBC_ABI_DT_RELR (glibc
# 2.36, a version that no symbol carries, which dpkg-shlibdeps misses) among them.
mkdir "$W/deb" && dpkg-deb -x "$DEB" "$W/deb"
need=$(find "$W/deb" -type f -perm -u+x -exec readelf -V {} + 2>/dev/null |
	grep -oE 'GLIBC_(2\.[0-9.]+|ABI_DT_RELR)' | sed 's/GLIBC_ABI_DT_RELR/2.36/; s/GLIBC_//' |
	sort -V | tail -n 1)
floor=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed -n 's/^ *libc6 (>= \([0-9.]*\)).*/\1/p')
check "Depends: libc6 (>= ${floor:-none}) covers the glibc ${need:-?} the binaries need" \
	dpkg --compare-versions "${floor:-0}" ge "${need:-99}"

apt_root install -y --no-install-recommends "$deb"
check_eq "install: apt exit" "$?" 0
check "binary in /usr/sbin" test -x "$R/usr/sbin/vgpu-hook"
check_eq "qemu.d link" "$(readlink "$R/etc/libvirt/hooks/qemu.d/vgpu-hook")" /usr/sbin/vgpu-hook
check "vgpu-xml in /usr/bin" test -x "$R/usr/bin/vgpu-xml"
check_has "config is a conffile" "$(in_root dpkg-query -W -f='${Conffiles}' vgpu-hook)" \
	/etc/vgpu-hook/vgpu-hook.conf
# deb-systemd-invoke asks policy-rc.d unit by unit and stops at the first refusal, so of
# the units postinst starts only the first is logged: the reclaim timer, not the --reclaim
# service it runs (debian/rules).
check_eq "postinst starts the reclaim timer, reloads libvirtd if it runs; no virtqemud unit here" \
	"$(cat "$R/tmp/policy.log" 2>/dev/null)" "vgpu-hook-reclaim.timer start
libvirtd.service try-reload-or-restart"
v=$(dpkg-deb -f "$DEB" Version)
check_eq "vgpu-hook --version" "$(in_root vgpu-hook --version)" "vgpu-hook $v"
check_eq "vgpu-xml --version" "$(in_root vgpu-xml --version)" "vgpu-xml $v"
for page in "vgpu-hook" "5 vgpu-hook.conf" "vgpu-xml"; do
	# shellcheck disable=SC2086
	check_has "man $page" "$(in_root man -P cat $page 2>/dev/null | head -n 5)" "NAME"
done
check_eq "static hook: no interpreter" \
	"$(LC_ALL=C readelf -l "$R/usr/sbin/vgpu-hook" | grep -c 'program interpreter')" 0

# A guest starts: vgpu-sim is the GPU, the config (a conffile) points the hook at it.
# vgpu-sim's links name its mount point, so it is bound into the root at the same path.
S=$(mktemp -d /tmp/vgpu-lifecycle-sim.XXXXXX)
"$SIM" "$S" || abort "cannot mount vgpu-sim"
mkdir -p "$R$S" && mount --bind "$S" "$R$S" || abort "cannot bind vgpu-sim"
printf '[defaults]\nsysfs_root = %s\n' "$S" >"$R/etc/vgpu-hook/vgpu-hook.conf"
U=11111111-2222-4333-8444-000000000001
cp "$FIX/domains/one.xml" "$R/tmp/one.xml"
hook() { in_root sh -c "/etc/libvirt/hooks/qemu.d/vgpu-hook one $1 $2 - </tmp/one.xml"; }
hook prepare begin
check_eq "prepare through the link: exit" "$?" 0
check "the vGPU exists" test -e "$S/bus/mdev/devices/$U"
check "its record exists" test -e "$R/run/vgpu-hook/$U"

# Removal while the guest runs: the hook goes, the vGPU stays and is named.
apt_root remove -y vgpu-hook
check_eq "remove: apt exit" "$?" 0
check_has "remove: prerm names the vGPU it keeps" "$(cat "$W/apt.log")" "$U"
check "remove: no hook left in qemu.d" test ! -e "$R/etc/libvirt/hooks/qemu.d/vgpu-hook" -a \
	! -L "$R/etc/libvirt/hooks/qemu.d/vgpu-hook"
check "remove: binary gone" test ! -e "$R/usr/sbin/vgpu-hook"
check "remove: the guest's vGPU is kept" test -e "$S/bus/mdev/devices/$U"
check "remove: the changed conffile is kept" grep -qx "sysfs_root = $S" \
	"$R/etc/vgpu-hook/vgpu-hook.conf"

apt_root purge -y vgpu-hook
check_eq "purge: apt exit" "$?" 0
check "purge: conffile gone" test ! -e "$R/etc/vgpu-hook/vgpu-hook.conf"
check "purge: the record of a live vGPU is kept" test -e "$R/run/vgpu-hook/$U"
check_has "purge: says why" "$(cat "$W/apt.log")" "keeping /run/vgpu-hook"
check "purge: the vGPU is kept" test -e "$S/bus/mdev/devices/$U"

# Reinstalled, the hook still knows the vGPU is its own: the guest's release removes it.
apt_root install -y --no-install-recommends "$deb"
check_eq "reinstall: apt exit" "$?" 0
printf '[defaults]\nsysfs_root = %s\n' "$S" >"$R/etc/vgpu-hook/vgpu-hook.conf"
hook release end
check_eq "release: exit" "$?" 0
check "release: the vGPU is removed" test ! -e "$S/bus/mdev/devices/$U"
check "release: its record is gone" test ! -e "$R/run/vgpu-hook/$U"
apt_root purge -y vgpu-hook
check_eq "purge again: apt exit" "$?" 0
check "purge again: no state directory left" test ! -e "$R/run/vgpu-hook"
check "purge again: no /etc/vgpu-hook left" test ! -e "$R/etc/vgpu-hook"
check "purge again: dpkg lists no file of it" sh -c "! chroot '$R' dpkg-query -L vgpu-hook >/dev/null 2>&1"
finish
