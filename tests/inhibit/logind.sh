#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vgpu-inhibit against the real systemd-logind, on a private system bus in a mount
# namespace of its own: the sleep inhibitor appears when the hook makes a guest's vGPU (on
# vgpu-sim), names every guest with one, and is gone when the last vGPU is released.
# Without systemd as PID 1 logind refuses Suspend before it looks at inhibitors ("Sleep
# verb not supported"), so what is checked is the lock logind keeps and shows, in block
# mode, which is what makes `systemctl suspend` refuse on a booted host.
# Usage: logind.sh VGPU_HOOK VGPU_SIM VGPU_INHIBIT FIXTURES_DIR
set -u
HOOK=$1 SIM=$2 INHIBIT=$3 FIX=$4
# shellcheck source=../lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root"
LOGIND=/lib/systemd/systemd-logind
[ -x "$LOGIND" ] || skip "no $LOGIND (apt-get install systemd)"
command -v dbus-daemon >/dev/null || skip "no dbus-daemon (apt-get install dbus-daemon)"
command -v unshare >/dev/null || skip "no unshare"
if [ "${VGPU_IN_NS:-}" != 1 ]; then
	# /run of our own: the bus socket and logind's state, nothing of the host's.
	exec unshare -m --propagation private env VGPU_IN_NS=1 bash -c \
		'mount -t tmpfs tmpfs /run && exec "$0" "$@"' "$0" "$@"
fi
# shellcheck source=../e2e/sim-lib.sh
. "$(dirname "$0")/../e2e/sim-lib.sh"

mkdir -p /run/dbus /run/systemd
dbus-daemon --system --fork --print-pid >"$T/dbus.pid" || fail "cannot start dbus-daemon"
"$LOGIND" >"$T/logind.log" 2>&1 &
logind=$!
daemon=
stop_all() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null
	kill "$logind" "$(cat "$T/dbus.pid")" 2>/dev/null
	wait 2>/dev/null
	cleanup
}
trap stop_all EXIT
for _ in $(seq 50); do
	busctl --system status org.freedesktop.login1 >/dev/null 2>&1 && break
	sleep 0.1
done

locks() { systemd-inhibit --list --no-pager --no-legend 2>/dev/null | grep -w vgpu-hook; }
# wait_for COND...: up to 5 s for a condition the daemon reaches asynchronously.
wait_for() { for _ in $(seq 50); do "$@" && return 0; sleep 0.1; done; return 1; }
no_lock() { [ -z "$(locks)" ]; }
lock_names() { locks | grep -q "$1"; }

mount_sim desktop-1g
"$INHIBIT" --state-dir "$T/state" 2>"$T/inhibit.err" &
daemon=$!
wait_for test -d "$T/state"
check "no vGPU: no lock" no_lock
check "the daemon runs" kill -0 "$daemon"

W=$FIX/domains/win10.xml
hook "$W" win10 prepare begin -
check_eq "win10: prepare" "$rc" 0
check "win10's vGPU: a lock naming win10" wait_for lock_names win10
check "the lock is on sleep, in block mode" wait_for lock_names 'sleep.*block'

dom lin "$(duuid 2)" i915-GVTg_V5_8 "$(uuid 1)" >"$T/lin.xml"
hook "$T/lin.xml" lin prepare begin -
check_eq "lin: prepare" "$rc" 0
check "two guests: the lock names win10" wait_for lock_names win10
check "two guests: the lock names lin" wait_for lock_names 'for lin, win10:'
check_eq "two guests: one lock, not two" "$(locks | wc -l)" 1

hook "$W" win10 release end -
check "win10 released: lin still named" wait_for lock_names 'for lin:'
check "win10 released: win10 no longer named" wait_for sh -c "! systemd-inhibit --list --no-pager | grep -q win10"
hook "$T/lin.xml" lin release end -
check "last vGPU released: no lock" wait_for no_lock

# A vGPU whose release never ran (the simulator, like a host that lost the device, has it no
# more) keeps its record, and the record keeps the lock: a vGPU may still exist. Clearing
# the record ends it.
hook "$T/lin.xml" lin prepare begin -
check "lin again: locked" wait_for lock_names lin
umount "$M"
check "device gone, record left: still blocked" wait_for lock_names lin
rm "$T/state/$(uuid 1)"
check "record cleared: no lock" wait_for no_lock

kill -TERM "$daemon"
wait "$daemon"
check_eq "SIGTERM: exit 0" "$?" 0
daemon=
check "the daemon logged the block" grep -q 'sleep blocked: vGPUs exist for win10' "$T/inhibit.err"
check "the daemon logged the release" grep -q 'no vGPU left: sleep is allowed again' "$T/inhibit.err"

# The state directory removed under it: exit 1, for systemd to restart it.
"$INHIBIT" --state-dir "$T/state" 2>"$T/inhibit.err" &
daemon=$!
wait_for grep -q inotify <(ls -l "/proc/$daemon/fd" 2>/dev/null)
rm -rf "$T/state"
timeout 5 tail --pid="$daemon" -f /dev/null
check "state directory removed: the daemon noticed" test ! -e "/proc/$daemon"
wait "$daemon"
check_eq "state directory removed: exit 1" "$?" 1
daemon=
check "state directory removed: says so" grep -q 'was removed or renamed' "$T/inhibit.err"
finish
