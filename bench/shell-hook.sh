#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The baseline of the benchmarks: a libvirt QEMU hook for mdev vGPUs written the common way,
# as the wikis and forum posts show it, generalised from one hard-coded UUID to the domain
# XML: bash, `xmllint --xpath` on the XML libvirt passes on stdin, and sysfs writes. It does
# the same job as vgpu-hook on a good day: on `prepare begin` it creates each mdev hostdev's
# vGPU that does not exist yet (parent and type from vgpu-hook's <metadata> entry), on
# `release end` it removes each one, and every other operation exits at once.
# What the common way leaves out and vgpu-hook does not: a lock, ownership (it removes a
# vGPU it did not make), rollback, a check that the device appeared, input validation.
# Usage: shell-hook.sh NAME OP SUBOP EXTRA < domain.xml   (VGPU_SYSFS: sysfs, default /sys)
set -u
sysfs=${VGPU_SYSFS:-/sys}

case ${2-}/${3-} in
prepare/begin | release/end) ;;
*) exit 0 ;;
esac

xml=$(cat)
uuids=$(xmllint --xpath "/domain/devices/hostdev[@mode='subsystem'][@type='mdev']/source/address/@uuid" - \
	<<<"$xml" 2>/dev/null | grep -o '[0-9a-fA-F-]\{36\}')

for uuid in $uuids; do
	dev=$sysfs/bus/mdev/devices/$uuid
	if [ "$2" = release ]; then
		[ -e "$dev/remove" ] && echo 1 >"$dev/remove"
		continue
	fi
	[ -e "$dev" ] && continue
	mdev="/domain/metadata/*[local-name()='vgpu']/*[local-name()='mdev'][@uuid='$uuid']"
	read -r parent type < <(xmllint --xpath "concat($mdev/@parent, ' ', $mdev/@type)" - <<<"$xml")
	if ! echo "$uuid" >"$sysfs/bus/pci/devices/$parent/mdev_supported_types/$type/create"; then
		echo "vGPU $uuid: cannot create $type on $parent" >&2
		exit 1
	fi
done
exit 0
