#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vgpu-hook against vgpu-sim: the kernel's behaviour (devices appear on create, resources
# run out, errno values) without a GPU. Each case checks the hook's exit status and line,
# and that the simulator's state is back where it started once the guests are released.
# Usage: sim.sh VGPU_HOOK VGPU_SIM FIXTURES_DIR
set -u
HOOK=$1 SIM=$2 FIX=$3
# shellcheck source=../lib/check.sh
. "$(dirname "$0")/../lib/check.sh"

# shellcheck source=sim-lib.sh
. "$(dirname "$0")/sim-lib.sh"

# 1. The full lifecycle, as libvirt calls it for virsh start and virsh destroy.
mount_sim desktop-1g
start=$(state)
W=$FIX/domains/win10.xml U=4b20d080-1b54-4048-85b3-a6a62d165c01
before=$(avail i915-GVTg_V5_4)
hook "$W" win10 prepare begin -
check_eq "lifecycle: prepare exit" "$rc" 0
check_eq "lifecycle: type of the new vGPU" "$(basename "$(readlink "$M/bus/mdev/devices/$U/mdev_type")")" i915-GVTg_V5_4
check_eq "lifecycle: device_api as libvirt reads it" "$(cat "$M/bus/mdev/devices/$U/mdev_type/device_api")" vfio-pci
check "lifecycle: iommu_group link as libvirt needs it" test -e "$M/bus/mdev/devices/$U/iommu_group"
check_eq "lifecycle: one instance fewer" "$(avail i915-GVTg_V5_4)" $((before - 1))
for op in "start begin -" "started begin -" "stopped end -"; do
	set -- $op
	hook "$W" win10 "$1" "$2" "$3"
	check_eq "lifecycle: $1 $2" "$rc" 0
done
check "lifecycle: still there after stopped" test -e "$M/bus/mdev/devices/$U"
hook "$W" win10 release end destroyed
check_eq "lifecycle: release exit" "$rc" 0
check "lifecycle: gone after release" test ! -e "$M/bus/mdev/devices/$U"
check_eq "lifecycle: simulator back to its start" "$(state)" "$start"

# 2. Two vGPUs in one domain; 3. the second one fails with ENOSPC: all rolled back.
dom two "$(duuid 2)" i915-GVTg_V5_8 "$(uuid 1)" "$(uuid 2)" >"$T/two.xml"
hook "$T/two.xml" two prepare begin -
check_eq "two vGPUs: prepare" "$rc" 0
check "two vGPUs: both exist" test -e "$M/bus/mdev/devices/$(uuid 1)" -a -e "$M/bus/mdev/devices/$(uuid 2)"
hook "$T/two.xml" two release end -
check_eq "two vGPUs: back to start" "$(state)" "$start"

dom big "$(duuid 3)" i915-GVTg_V5_1 "$(uuid 3)" "$(uuid 4)" >"$T/big.xml"
check_eq "ENOSPC: room for one i915-GVTg_V5_1" "$(avail i915-GVTg_V5_1)" 1
hook "$T/big.xml" big prepare begin -
check_eq "ENOSPC on the second: exit" "$rc" 1
check_has "ENOSPC on the second: line" "$err" "vgpu-hook: big: cannot create vGPU $(uuid 4): i915-GVTg_V5_1 on 0000:00:02.0: no free instance"
check_has "ENOSPC on the second: kernel reason" "$err" "(No space left on device)"
check_eq "ENOSPC: first rolled back, state as before" "$(state)" "$start"
hook "$T/big.xml" big stopped end -
hook "$T/big.xml" big release end failed
check_eq "ENOSPC: failed start's release" "$rc" 0
check_eq "ENOSPC: still as before" "$(state)" "$start"
check_eq "ENOSPC: no record left" "$(records)" ""

# 4. A vGPU created for another domain: refused, and the failed start touches nothing.
dom a "$(duuid 5)" i915-GVTg_V5_4 "$(uuid 5)" >"$T/a.xml"
dom b "$(duuid 6)" i915-GVTg_V5_4 "$(uuid 5)" >"$T/b.xml"
hook "$T/a.xml" a prepare begin -
check_eq "owned by another: a starts" "$rc" 0
hook "$T/b.xml" b prepare begin -
check_eq "owned by another: b refused" "$rc" 1
check_has "owned by another: line" "$err" "vgpu-hook: b: vGPU $(uuid 5) is in use by domain a"
hook "$T/b.xml" b stopped end -
hook "$T/b.xml" b release end failed
check "owned by another: a's vGPU survives b's failed start" test -e "$M/bus/mdev/devices/$(uuid 5)"
# EEXIST from the kernel itself: the UUID appeared under another type behind our back.
ctl "fail create 1 EEXIST"
dom c "$(duuid 7)" i915-GVTg_V5_4 "$(uuid 7)" >"$T/c.xml"
hook "$T/c.xml" c prepare begin -
check_eq "kernel EEXIST: exit" "$rc" 1
check_has "kernel EEXIST: line" "$err" "a device with this UUID exists on another parent; give the domain its own UUID: vgpu-xml --add-vgpu (File exists)"
ctl reset
hook "$T/a.xml" a release end -
check_eq "owned by another: back to start" "$(state)" "$start"

# 5. remove retried through EBUSY.
hook "$T/a.xml" a prepare begin -
ctl "busy remove 2"
hook "$T/a.xml" a release end shutdown
check_eq "EBUSY: release exit" "$rc" 0
check "EBUSY: removed after retries" test ! -e "$M/bus/mdev/devices/$(uuid 5)"
check_eq "EBUSY: back to start" "$(state)" "$start"
ctl reset

# 6. Concurrency: 16 domains start at once against 7 free i915-GVTg_V5_8 instances.
check_eq "concurrency: 7 free" "$(avail i915-GVTg_V5_8)" 7
pids=()
for i in $(seq 1 16); do
	dom "g$i" "$(duuid $((100 + i)))" i915-GVTg_V5_8 "$(uuid $((100 + i)))" >"$T/g$i.xml"
	( env -i LC_ALL=C PATH=/usr/bin:/bin ${HOOK_WRAPPER:-} "$HOOK" --config "$T/conf" "g$i" prepare begin - \
		<"$T/g$i.xml" >"$T/g$i.out" 2>"$T/g$i.err"; echo $? >"$T/g$i.rc" ) &
	pids+=($!)
done
wait "${pids[@]}"
ok_n=0 fail_n=0 msg_n=0
for i in $(seq 1 16); do
	if [ "$(cat "$T/g$i.rc")" = 0 ]; then ok_n=$((ok_n + 1)); else
		fail_n=$((fail_n + 1))
		grep -q "vgpu-hook: g$i: cannot create vGPU $(uuid $((100 + i))): i915-GVTg_V5_8 on 0000:00:02.0: no free instance" "$T/g$i.err" && msg_n=$((msg_n + 1))
	fi
done
check_eq "concurrency: exactly the free number succeed" "$ok_n" 7
check_eq "concurrency: the others fail" "$fail_n" 9
check_eq "concurrency: each failure has the clear line" "$msg_n" 9
check_eq "concurrency: 7 vGPUs exist" "$(ls "$M/bus/mdev/devices" | wc -l)" 7
check_eq "concurrency: 7 records" "$(records | wc -w)" 7
for i in $(seq 1 16); do
	( env -i LC_ALL=C PATH=/usr/bin:/bin ${HOOK_WRAPPER:-} "$HOOK" --config "$T/conf" "g$i" release end destroyed \
		<"$T/g$i.xml" >/dev/null 2>&1 ) &
done
wait
check_eq "concurrency: all released, back to start" "$(state)" "$start"
check_eq "concurrency: no record left" "$(records | wc -w)" 0

finish
