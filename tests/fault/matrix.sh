#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The fault matrix: one guest with two vGPUs is started and released while each step fails
# with each errno the kernel (or, for the ownership record, the file system) can return
# there, and while the hook is killed between steps. vgpu-sim injects the kernel's faults;
# inject.so (LD_PRELOAD) the file system's and the kills, and captures the hook's syslog.
# After every call: no vGPU exists without an ownership record (none leaked), every record
# names an existing vGPU, the bystanders (another domain's vGPU, one the hook never created)
# are untouched, and the exit status and the message are right. After every case the
# simulator and the state directory are back to where they started.
# Usage: matrix.sh VGPU_HOOK VGPU_SIM INJECT_SO
set -u
HOOK=$1 SIM=$2 INJECT=$3
# shellcheck source=../lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
# shellcheck source=../e2e/sim-lib.sh
. "$(dirname "$0")/../e2e/sim-lib.sh"

# strerror(3) of the errno values used here, as the hook prints them.
declare -A STRERROR=(
	[ENOSPC]="No space left on device" [EEXIST]="File exists" [EUSERS]="Too many users"
	[EINVAL]="Invalid argument" [ENOENT]="No such file or directory"
	[ENODEV]="No such device" [EBUSY]="Device or resource busy"
	[EAGAIN]="Resource temporarily unavailable" [EIO]="Input/output error"
	[EROFS]="Read-only file system" [EDQUOT]="Disk quota exceeded"
	[EPERM]="Operation not permitted" [EACCES]="Permission denied"
)
# What the kernel can answer to a create, a remove, or a read of the new device's link.
KERNEL_ERRNOS="ENOSPC EEXIST EUSERS EINVAL ENOENT ENODEV EBUSY EAGAIN EIO"
# What writing, syncing and renaming a file can fail with.
FS_ERRNOS="ENOSPC EIO EROFS EDQUOT EPERM EACCES"

mount_sim desktop-1g
P=0000:00:02.0 TY=i915-GVTg_V5_8
U1=$(uuid 1) U2=$(uuid 2) U3=$(uuid 3) F=$(uuid 9)
dom guest "$(duuid 1)" $TY "$U1" "$U2" >"$T/guest.xml"
dom other "$(duuid 2)" $TY "$U3" >"$T/other.xml"
hook "$T/other.xml" other prepare begin -
check_eq "setup: another domain's vGPU" "$rc" 0
echo "$F" >"$M/bus/pci/devices/$P/mdev_supported_types/i915-GVTg_V5_4/create"
check "setup: a vGPU the hook did not create" test -e "$M/bus/mdev/devices/$F"
BASE=$(state) BASE_RECORDS=$(records)

LOG=$T/log cases=0 calls=0
run() { # run INJECT_RULE OP SUBOP EXTRA: the guest's hook call; sets rc, err, log
	: >"$LOG"
	hook_env=(LD_PRELOAD="$INJECT" VGPU_INJECT_LOG="$LOG" ASAN_OPTIONS=verify_asan_link_order=0)
	[ -n "$1" ] && hook_env+=(VGPU_INJECT="$1")
	shift
	hook "$T/guest.xml" guest "$@"
	log=$(cat "$LOG")
	calls=$((calls + 1))
}
one_line() { # one_line CASE: stderr is exactly one line
	check_eq "$1: one line on stderr" "$(printf '%s\n' "$err" | wc -l)" 1
}
# The invariants, after every call. With "killed", a record may precede its device.
invariants() { # invariants CASE [killed]
	local c=$1 d r
	check "$c: the vGPU the hook did not create is there" test -e "$M/bus/mdev/devices/$F"
	check "$c: the other domain's vGPU is there" test -e "$M/bus/mdev/devices/$U3"
	check "$c: the other domain's record is there" grep -qx "domain=other" "$T/state/$U3"
	for d in "$M"/bus/mdev/devices/*; do
		[ -e "$d" ] || [ -L "$d" ] || continue
		d=${d##*/}
		[ "$d" = "$F" ] && continue
		check "$c: vGPU $d has an ownership record (not leaked)" test -f "$T/state/$d"
	done
	[ "${2:-}" = killed ] && return
	for r in $(records); do
		check "$c: record $r names an existing vGPU" test -e "$M/bus/mdev/devices/$r"
	done
	check_eq "$c: no temporary file left" "$(find "$T/state" -maxdepth 1 -name '*.tmp' | wc -l)" 0
}
back_to_base() { # back_to_base CASE
	check_eq "$1: simulator as at the start" "$(state)" "$BASE"
	check_eq "$1: records as at the start" "$(records)" "$BASE_RECORDS"
	cases=$((cases + 1))
}
release() { # release CASE: libvirt's release after the start, faults cleared
	ctl reset
	run "" release end -
	check_eq "$1: release exit" "$rc" 0
	check_eq "$1: release prints nothing" "$err" ""
	invariants "$1: after release"
	back_to_base "$1"
}
hint() { # the hook's advice for a create errno
	case $1 in
	ENOSPC) echo "no free instance: GVT-g aperture or fences exhausted" ;;
	EUSERS) echo "no free instance left on this parent" ;;
	EEXIST) echo "a device with this UUID exists on another parent" ;;
	ENOENT) echo "the type does not exist" ;;
	EINVAL) echo "the kernel refused the UUID" ;;
	ENODEV) echo "the parent device is being removed" ;;
	*) echo "see the kernel log (dmesg)" ;;
	esac
}

# 1, 2. create of the first, of the second vGPU fails: nothing is left (all or nothing).
for e in $KERNEL_ERRNOS; do
	for n in 1 2; do
		c="create vGPU $n: $e" u=$(uuid $n)
		ctl "fail create 1 $e $u"
		run "" prepare begin -
		check_eq "$c: exit" "$rc" 1
		one_line "$c"
		check_has "$c: line" "$err" "vgpu-hook: guest: cannot create vGPU $u: $TY on $P: $(hint $e)"
		check_has "$c: the kernel's reason" "$err" "(${STRERROR[$e]})"
		[ $n = 2 ] && check_has "$c: first rolled back" "$log" "guest: rolled back vGPU $U1"
		invariants "$c"
		back_to_base "$c: after prepare"
		release "$c"
	done
done

# 3. The check that the new vGPU appeared fails: it is removed again. (Not EINVAL: readlink(2)
# returns it only for what is not a link, and realpath(3) then takes the path as it is.)
for e in ${KERNEL_ERRNOS/EINVAL /}; do
	for n in 1 2; do
		c="verify vGPU $n: $e" u=$(uuid $n)
		ctl "fail lookup 1 $e $u"
		run "" prepare begin -
		check_eq "$c: exit" "$rc" 1
		one_line "$c"
		if [ $e = ENOENT ]; then what="did not appear"; else what="cannot be read: ${STRERROR[$e]}"; fi
		check_eq "$c: line" "$err" "vgpu-hook: guest: vGPU $u: created, but $M/bus/mdev/devices/$u $what; see the kernel log (dmesg)"
		check_has "$c: rolled back" "$log" "guest: rolled back vGPU $u"
		invariants "$c"
		back_to_base "$c: after prepare"
		release "$c"
	done
done

# 4. Writing the ownership record fails: nothing is created, no record is left.
record_case() { # record_case CASE RULE UUID ERRNO
	local c=$1 u=$3 e=$4
	run "$2" prepare begin -
	check_eq "$c: exit" "$rc" 1
	one_line "$c"
	check_eq "$c: line" "$err" "vgpu-hook: guest: cannot record vGPU $u in $T/state: ${STRERROR[$e]}"
	[ "$u" = "$U2" ] && check_has "$c: first rolled back" "$log" "guest: rolled back vGPU $U1"
	invariants "$c"
	back_to_base "$c: after prepare"
	release "$c"
}
for e in $FS_ERRNOS; do
	for n in 1 2; do
		u=$(uuid $n)
		record_case "record vGPU $n: write: $e" "write 1 $e $u.tmp" "$u" $e
		record_case "record vGPU $n: rename: $e" "renameat 1 $e $u" "$u" $e
	done
	# fsync of the file, then of the directory: the latter after the record is in place.
	record_case "record vGPU 1: fsync file: $e" "fsync 1 $e $T/state" "$U1" $e
	record_case "record vGPU 1: fsync directory: $e" "fsync 2 $e $T/state" "$U1" $e
done

# 5. remove at release: a transient EBUSY/EAGAIN is retried; anything else, or one that
# lasts, leaves the vGPU and its record for the next release, and says so in the log.
start_guest() { # start_guest CASE
	ctl reset
	run "" prepare begin -
	check_eq "$1: prepare" "$rc" 0
	invariants "$1: after prepare"
}
for e in EBUSY EAGAIN; do
	c="remove: transient $e"
	start_guest "$c"
	ctl "fail remove 2 $e $U1"
	run "" release end -
	check_eq "$c: exit" "$rc" 0
	check_has "$c: retried" "$log" "guest: vGPU $U1: remove: ${STRERROR[$e]}; retrying (2 of 3)"
	check_has "$c: removed" "$log" "guest: removed vGPU $U1"
	invariants "$c"
	back_to_base "$c"
done
for e in $KERNEL_ERRNOS; do
	c="remove: $e"
	start_guest "$c"
	ctl "fail remove 100 $e $U1"
	run "" release end -
	check_eq "$c: exit (always 0)" "$rc" 0
	check_eq "$c: stderr (libvirt ignores it at release)" "$err" ""
	check_has "$c: logged" "$log" "guest: cannot remove vGPU $U1 ($TY on $P): ${STRERROR[$e]}; it stays recorded, remove it by hand: echo 1 > $M/bus/mdev/devices/$U1/remove"
	check "$c: the vGPU stays" test -e "$M/bus/mdev/devices/$U1"
	check "$c: the other one is removed" test ! -e "$M/bus/mdev/devices/$U2"
	invariants "$c"
	release "$c: the next release"
done

# 6. The rollback's remove fails too: the vGPU stays recorded for the next release.
for e in $KERNEL_ERRNOS; do
	c="rollback remove: $e"
	ctl "fail create 1 EIO $U2
fail remove 100 $e $U1"
	run "" prepare begin -
	check_eq "$c: exit" "$rc" 1
	one_line "$c"
	check_has "$c: line names the failed create" "$err" "cannot create vGPU $U2"
	check_has "$c: logged" "$log" "guest: rollback: cannot remove vGPU $U1: ${STRERROR[$e]}; it stays recorded and the next release of this domain retries"
	check "$c: the vGPU stays" test -e "$M/bus/mdev/devices/$U1"
	invariants "$c"
	run "" release end -
	check "$c: a release while the fault lasts keeps it" test -e "$M/bus/mdev/devices/$U1"
	invariants "$c: failed release"
	release "$c"
done

# 7. The hook killed (SIGKILL) between steps: the record always precedes the device, and
# the next release, or the next prepare, of the domain repairs what is left.
KILLS=(
	"renameat 1 kill $U1"          # the first record not yet in place
	"renameat 1 kill-after $U1"    # the first record in place, its vGPU not created
	"write 1 kill /create"         # about to create the first vGPU
	"write 1 kill-after /create"   # the first vGPU created, not yet checked
	"write 2 kill /create"         # the first done, the second recorded, not created
	"write 2 kill-after /create"   # both created, the second not yet checked
)
for k in "${KILLS[@]}"; do
	for repair in release prepare; do
		c="killed at '$k', repaired by $repair"
		# Not under valgrind: a killed process is no memory check (valgrind reports the
		# blocks it still held).
		HOOK_WRAPPER='' run "$k" prepare begin -
		check_eq "$c: killed" "$rc" 137
		invariants "$c" killed
		if [ $repair = prepare ]; then
			run "" prepare begin -
			check_eq "$c: the next prepare" "$rc" 0
			check "$c: both vGPUs exist" test -e "$M/bus/mdev/devices/$U1" -a -e "$M/bus/mdev/devices/$U2"
			invariants "$c: after prepare"
		fi
		run "" release end -
		check_eq "$c: release" "$rc" 0
		# A record's temporary file, when the kill came before its rename, goes with the
		# next hook that takes the lock: any domain's prepare.
		hook "$T/other.xml" other prepare begin -
		check_eq "$c: another domain's prepare" "$rc" 0
		invariants "$c: after release"
		back_to_base "$c"
	done
done

# 8. A forced interleaving: the guest's release lists its records without the lock; before
# it gets the lock, another domain's prepare takes over a stale record of the guest's
# (its vGPU gone) and creates that UUID for itself. The release must read the record
# again under the lock and leave the other domain's vGPU alone.
c="release re-reads its records under the lock"
ctl reset
run "" prepare begin -
echo 1 >"$M/bus/mdev/devices/$U1/remove"          # the guest's first vGPU vanished
dom thief "$(duuid 3)" $TY "$U1" >"$T/thief.xml"
exec 9>"$T/state/lock"
flock 9                                             # hold the lock, as a running prepare does
: >"$LOG"
env -i LC_ALL=C PATH=/usr/bin:/bin LD_PRELOAD="$INJECT" VGPU_INJECT_LOG="$LOG" \
	ASAN_OPTIONS=verify_asan_link_order=0 "$HOOK" --config "$T/conf" guest release end - \
	<"$T/guest.xml" >/dev/null 2>&1 9>&- &
pid=$!
waiting=0
for _ in $(seq 1 1000); do                          # until it waits for the lock
	if find "/proc/$pid/fd" -lname "$T/state/lock" 2>/dev/null | grep -q .; then
		waiting=1
		break
	fi
	sleep 0.01
done
check_eq "$c: the release waits for the lock" "$waiting" 1
# What the thief's prepare does under the lock: replace the stale record, create the vGPU.
printf 'mdev=%s\ndomain_uuid=%s\ndomain=thief\nparent=%s\ntype=%s\n' "$U1" "$(duuid 3)" $P $TY \
	>"$T/state/.$U1.new" && mv "$T/state/.$U1.new" "$T/state/$U1"
echo "$U1" >"$M/bus/pci/devices/$P/mdev_supported_types/$TY/create"
exec 9>&-                                           # let the release go on
wait $pid
check_eq "$c: release exit" "$?" 0
check "$c: the thief's vGPU survives" test -e "$M/bus/mdev/devices/$U1"
check "$c: the thief's record survives" grep -qx "domain=thief" "$T/state/$U1"
check "$c: the guest's other vGPU is removed" test ! -e "$M/bus/mdev/devices/$U2"
check_has "$c: logged" "$(cat "$LOG")" "guest: removed vGPU $U2"
hook "$T/thief.xml" thief release end -
check_eq "$c: the thief's release" "$rc" 0
invariants "$c"
back_to_base "$c"

echo "fault matrix: $cases cases, $calls hook calls"
finish
