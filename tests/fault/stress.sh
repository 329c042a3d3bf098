#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Concurrency stress: 64 domains with one or two vGPUs each are started and stopped by
# parallel hook processes, as libvirt runs them (one operation at a time per domain, any
# number of domains at once), against one GVT-g parent with far fewer free instances than
# asked, while faults are injected. The schedule (which domain does what in which round,
# which fault is armed) comes from a seed, so a failing run can be replayed.
# Checked after every round: each failed start has one clear line naming one of its vGPUs
# and the kernel's reason, and left none of its vGPUs behind unless a logged rollback
# failure kept it recorded; each vGPU that exists has an ownership record of its domain
# (none leaked) and each record names an existing vGPU. At the end, with the faults
# cleared and every domain released, the simulator is back to its starting state.
# Usage: stress.sh VGPU_HOOK VGPU_SIM INJECT_SO [SEED [ROUNDS]]
set -u
HOOK=$1 SIM=$2 INJECT=$3 SEED=${4:-${VGPU_STRESS_SEED:-1}} ROUNDS=${5:-48}
# shellcheck source=../lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
# shellcheck source=../e2e/sim-lib.sh
. "$(dirname "$0")/../e2e/sim-lib.sh"

DOMAINS=64 WORKERS=8
RANDOM=$SEED
echo "stress: seed $SEED, $DOMAINS domains, $WORKERS parallel hooks, $ROUNDS rounds"
mount_sim desktop-1g
START=$(state)

declare -a NAME MDEVS RUNNING
for d in $(seq 0 $((DOMAINS - 1))); do
	types=(i915-GVTg_V5_8 i915-GVTg_V5_4)
	n=$((1 + RANDOM % 2)) ty=${types[RANDOM % 2]}
	NAME[d]=g$d
	MDEVS[d]="$(uuid $((1000 + 2 * d)))"
	[ $n = 2 ] && MDEVS[d]+=" $(uuid $((1001 + 2 * d)))"
	RUNNING[d]=0
	# shellcheck disable=SC2086
	dom g$d "$(duuid $((1000 + d)))" $ty ${MDEVS[d]} >"$T/g$d.xml"
done

# One hook call in the background: NAME OP SUBOP; results in $T/w<worker>.{rc,err,log}.
call() { # call WORKER DOMAIN OP SUBOP
	local w=$1 d=$2
	: >"$T/w$w.log"
	(env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin LD_PRELOAD="$INJECT" \
		VGPU_INJECT_LOG="$T/w$w.log" ASAN_OPTIONS=verify_asan_link_order=0 \
		${HOOK_WRAPPER:-} "$HOOK" --config "$T/conf" "${NAME[d]}" "$3" "$4" - \
		<"$T/g$d.xml" >"$T/w$w.out" 2>"$T/w$w.err"
	 echo $? >"$T/w$w.rc") &
}

FAULTS=(
	""                        # none, most rounds
	""
	""
	"fail create 1 EIO"
	"fail create 2 ENOSPC"
	"busy remove 2"           # transient: retried
	"fail remove 1 EIO"       # lasting: the vGPU stays recorded until the next release
	"fail lookup 1 EIO"       # the check of a new vGPU, or a remove's path walk
	"delay create 30"
)
calls=0 starts=0 started=0 failed_starts=0 clear=0 faults=0 kept=0
for round in $(seq 1 "$ROUNDS"); do
	f=${FAULTS[RANDOM % ${#FAULTS[@]}]}
	ctl reset
	if [ -n "$f" ]; then ctl "$f"; faults=$((faults + 1)); fi
	# Each worker owns the domains d with d % WORKERS == w, so no two of its calls meet.
	declare -a PICK OP PRE
	for w in $(seq 0 $((WORKERS - 1))); do
		d=$((w + WORKERS * (RANDOM % (DOMAINS / WORKERS))))
		# Every other pick stops a running guest when the worker has one, so that guests
		# come and go instead of the parent staying full.
		if [ $((RANDOM % 2)) = 0 ]; then
			for e in $(seq $w $WORKERS $((DOMAINS - 1))); do
				[ "${RUNNING[e]}" = 1 ] && { d=$e; break; }
			done
		fi
		PICK[w]=$d
		if [ "${RUNNING[d]}" = 1 ]; then OP[w]=release; else OP[w]=prepare; fi
		# A vGPU kept by a failed remove is still there: the start keeps it, not creates it.
		PRE[w]=
		for u in ${MDEVS[d]}; do [ -e "$M/bus/mdev/devices/$u" ] && PRE[w]+=" $u"; done
		if [ "${OP[w]}" = prepare ]; then call $w $d prepare begin; else call $w $d release end; fi
	done
	wait
	ctl reset   # the checks below read the devices' links: they must not meet the fault
	for w in $(seq 0 $((WORKERS - 1))); do
		d=${PICK[w]} name=${NAME[d]} rc=$(cat "$T/w$w.rc") err=$(cat "$T/w$w.err")
		calls=$((calls + 1))
		{ echo "round $round: $name ${OP[w]}: exit $rc $err"
		  sed "s/^/round $round: $name: log: /" "$T/w$w.log"; } >>"$T/history"
		check_eq "round $round: $name wrote nothing to stdout" "$(cat "$T/w$w.out")" ""
		if [ "${OP[w]}" = release ]; then
			check_eq "round $round: $name release exit" "$rc" 0
			RUNNING[d]=0
			for u in ${MDEVS[d]}; do
				[ -e "$M/bus/mdev/devices/$u" ] || continue
				kept=$((kept + 1))
				check_has "round $round: $name: a vGPU left at release is logged" \
					"$(cat "$T/w$w.log")" "cannot remove vGPU $u"
			done
			continue
		fi
		starts=$((starts + 1))
		if [ "$rc" = 0 ]; then
			started=$((started + 1))
			RUNNING[d]=1
			for u in ${MDEVS[d]}; do
				check "round $round: $name: vGPU $u exists" test -e "$M/bus/mdev/devices/$u"
			done
			continue
		fi
		failed_starts=$((failed_starts + 1))
		check_eq "round $round: $name failed start exit" "$rc" 1
		check_eq "round $round: $name: one line" "$(printf '%s\n' "$err" | wc -l)" 1
		named=0
		for u in ${MDEVS[d]}; do
			case $err in *"$u"*) named=1 ;; esac
		done
		case $err in
		"vgpu-hook: $name: cannot create vGPU "*": no free instance"*"(No space left on device)" | \
		"vgpu-hook: $name: cannot create vGPU "*"(Input/output error)" | \
		"vgpu-hook: $name: vGPU "*": created, but "*" cannot be read: Input/output error; see the kernel log (dmesg)")
			[ $named = 1 ] && clear=$((clear + 1)) ;;
		esac
		check_eq "round $round: $name: the line names one of its vGPUs ($err)" "$named" 1
		for u in ${MDEVS[d]}; do
			[ -e "$M/bus/mdev/devices/$u" ] || continue
			case "${PRE[w]} " in *" $u "*) continue ;; esac
			check_has "round $round: $name: a vGPU left by a failed start is logged" \
				"$(cat "$T/w$w.log")" "rollback: cannot remove vGPU $u"
		done
		# libvirt releases after a failed start.
		call $w "$d" release end
		wait
		calls=$((calls + 1))
		sed "s/^/round $round: $name: release log: /" "$T/w$w.log" >>"$T/history"
		check_eq "round $round: $name release after the failed start" "$(cat "$T/w$w.rc")" 0
	done
	for u in "$M"/bus/mdev/devices/*; do
		[ -e "$u" ] || [ -L "$u" ] || continue
		u=${u##*/}
		check "round $round: vGPU $u has a record (not leaked)" test -f "$T/state/$u"
	done
	for r in $(records); do
		if test -e "$M/bus/mdev/devices/$r"; then
			pass "round $round: record $r names an existing vGPU"
			continue
		fi
		fail "round $round: record $r names no existing vGPU; its history:"
		grep -h "$r" "$T/history"
	done
done
check_eq "every failed start had a clear line" "$clear" "$failed_starts"

ctl reset
for d in $(seq 0 $((DOMAINS - 1))); do
	call 0 "$d" release end
	wait
	calls=$((calls + 1))
done
check_eq "the simulator is back to its start" "$(state)" "$START"
check_eq "no record is left" "$(records)" ""
echo "stress: $calls hook calls in $ROUNDS rounds of $WORKERS; $starts starts: $started ran," \
	"$failed_starts refused with a clear line; $faults faults armed; $kept vGPUs kept" \
	"by a failed remove and removed later"
finish
