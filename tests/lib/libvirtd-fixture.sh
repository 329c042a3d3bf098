#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The ctest fixture "libvirtd": one private libvirtd (tests/lib/libvirtd.sh) for the tests
# of one ctest run that need a plain QEMU driver (the vgpu-xml tests), so QEMU's
# capabilities are probed once, here, and not again on every virsh call (qemu:///embed).
# Usage: libvirtd-fixture.sh up|down DIR
#   up    starts the daemon, probes QEMU (`virsh capabilities`) and writes its URI to
#         DIR/uri and its state directory to DIR/state. The daemon belongs to ctest, this
#         script's parent: it is stopped when ctest exits, whatever ends it. Exits 77 with
#         the reason in DIR/none when it cannot run here (no root, no libvirtd), 1 when the
#         daemon does not come up.
#   down  stops the daemon and everything in its namespace (QEMU, probes), checks that none
#         of it is left, and removes the state; the capabilities cache is kept. If libvirtd
#         died during the run (the holder starts it again), it says when, and keeps its log.
# The cache is $VGPU_LIBVIRT_CACHE (scripts/test: one for all its builds), or DIR/cache.
# A test reads DIR/uri; without it, DIR/none says why there is no daemon.
set -u
op=$1 F=$2
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$F"
# shellcheck source=libvirtd.sh
. "$HERE/libvirtd.sh"

none() { echo "$*" >"$F/none"; echo "SKIP: no private libvirtd: $*"; exit 77; }

up() {
	rm -f "$F/uri" "$F/state" "$F/none"
	[ "$(id -u)" -eq 0 ] || none "needs root (a private libvirtd in a mount namespace)"
	for c in unshare nsenter setpriv setsid /usr/sbin/libvirtd virsh qemu-system-x86_64; do
		command -v $c >/dev/null || none "$c missing (scripts/install-deps --with-libvirtd)"
	done
	unshare --mount --propagation private true 2>/dev/null || none "cannot create a mount namespace"
	S=$(mktemp -d /tmp/vgpu-lv.XXXXXX) CACHE=${VGPU_LIBVIRT_CACHE:-$F/cache}
	URI="qemu+unix:///system?socket=$S/run/libvirt/libvirt-sock"
	lv_configure
	mkdir -p "$S/mdev"
	ns_up "$S/mdev" "$PPID" || exit 1
	t0=$(date +%s)
	lv_start --detach || { ns_down; exit 1; }
	echo "$LV_PID" >"$S/ns/supervise"
	echo "libvirtd up in $(($(date +%s) - t0)) s (pid $LV_PID, state $S, owner: ctest $PPID)"
	t0=$(date +%s)
	if ! timeout 500 virsh -q -c "$URI" capabilities >"$S/capabilities.xml" 2>"$S/virsh.err"; then
		echo "virsh capabilities failed: $(cat "$S/virsh.err")" >&2
		ns_down
		exit 1
	fi
	echo "QEMU capabilities in $(($(date +%s) - t0)) s (cache $CACHE)"
	grep -q "<domain type='qemu'" "$S/capabilities.xml" ||
		{ echo "libvirtd found no QEMU (see $S/log/libvirtd.log)" >&2; ns_down; exit 1; }
	echo "$S" >"$F/state"
	echo "$URI" >"$F/uri"
}

down() {
	rm -f "$F/uri" "$F/none"
	[ -s "$F/state" ] || { echo "no daemon to stop"; exit 0; }
	S=$(cat "$F/state")
	rm -f "$F/state"
	NS_PID=$(cat "$S/ns/pid" 2>/dev/null)
	if [ -n "$NS_PID" ] && ! gone "$NS_PID"; then
		ns=$(readlink "/proc/$NS_PID/ns/mnt")
		ns_down || exit 1
		left=
		for f in /proc/[0-9]*/ns/mnt; do
			p=${f#/proc/}
			[ "$(readlink "$f" 2>/dev/null)" != "$ns" ] || left="$left ${p%%/*}"
		done
		[ -z "$left" ] || { echo "FAIL: left in the daemon's namespace:$left" >&2; exit 1; }
	fi
	cat "$S/ns/log"
	if [ -s "$S/ns/restarts" ]; then # not a failure here: the test that met it says so
		echo "WARNING: libvirtd died during the run and was started again:"
		cat "$S/ns/restarts"
		cp "$S/log/libvirtd.log" "$F/libvirtd.log" && echo "its log: $F/libvirtd.log"
	fi
	! grep -q " $S" /proc/mounts || { echo "FAIL: mounts left under $S" >&2; exit 1; }
	rm -rf --one-file-system "$S"
	echo "libvirtd stopped; nothing left"
}

case $op in
up) up ;;
down) down ;;
*) echo "usage: libvirtd-fixture.sh up|down DIR" >&2; exit 2 ;;
esac
