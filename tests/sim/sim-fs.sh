#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# sim-fs.sh VGPU_SIM SIM_WRITE: mount vgpu-sim in a temporary directory and use it as the hook
# and libvirt use sysfs: the layout, links, every errno of create and remove, fault
# injection, a bind mount of bus/mdev in another mount namespace, 16 concurrent creators,
# the other profiles, and a clean unmount; then what Linux 6.1 does and the simulator must
# too (research/real-kernel.md): the kernel's link texts and device entries, the sample
# drivers, a create seen between device_add and probe, and a remove that blocks while a
# process holds the device through VFIO. Exits 77 (skipped) without root or FUSE.
set -u

SIM=$1
W=$2
# shellcheck source=../lib/check.sh
. "$(dirname "$0")/../lib/check.sh"

[ "$(id -u)" = 0 ] || skip "needs root (allow_other, bind mounts, unshare)"
[ -c /dev/fuse ] || skip "no /dev/fuse in this machine or container"
command -v fusermount3 >/dev/null || skip "fusermount3 is missing (Debian: apt-get install fuse3)"
command -v unshare >/dev/null || skip "unshare is missing (util-linux)"

T=$(mktemp -d /tmp/vgpu-sim-test.XXXXXX) || exit 1
M=$T/mnt
PID=

# Always unmount and reap the simulator, whatever failed.
cleanup() {
	if mountpoint -q "$M" 2>/dev/null; then
		fusermount3 -u "$M" 2>/dev/null || umount -l "$M"
	fi
	[ -n "$PID" ] && kill "$PID" 2>/dev/null
	[ -n "$PID" ] && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Starts the simulator in the foreground (so that its exit status can be checked) and waits
# for the mount.
start() {
	"$SIM" -f "$@" "$M" &
	PID=$!
	i=0
	while ! [ -d "$M/.vgpu-sim" ]; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$PID" 2>/dev/null; then
			abort "vgpu-sim $* did not mount"
		fi
		sleep 0.05
	done
}

# Unmounts and checks that the simulator exited with 0.
stop() {
	fusermount3 -u "$M" || fail "fusermount3 -u"
	wait "$PID"
	check_eq "vgpu-sim exit status after unmount" "$?" 0
	PID=
	mountpoint -q "$M" && fail "still mounted after unmount"
}

ctl() { printf '%s\n' "$1" > "$M/.vgpu-sim/control"; }
avail() { cat "$M/class/mdev_bus/$1/mdev_supported_types/$2/available_instances"; }
uuid() { printf '00000000-0000-4000-8000-%012d' "$1"; }

mkdir "$M" "$T/bind" || exit 1

# --- command line
"$SIM" --help | grep -q "^Usage: vgpu-sim" || fail "--help"
"$SIM" --version | grep -q "^vgpu-sim " || fail "--version"
"$SIM" --profile nonsense "$M" 2>/dev/null
check_eq "unknown profile exit status" "$?" 2
"$SIM" 2>/dev/null
check_eq "no mount point exit status" "$?" 2
msg=$(unshare -m sh -c "mount -t tmpfs none /dev && '$SIM' '$M'" 2>&1)
check_eq "no /dev/fuse exit status" "$?" 1
case $msg in
"vgpu-sim: FUSE is unavailable: cannot open /dev/fuse: No such file or directory"*)
	pass "no /dev/fuse message" ;;
*)	fail "no /dev/fuse message: $msg" ;;
esac

# --- layout (desktop-1g)
start
P=0000:00:02.0
PD=$M/devices/pci0000:00/$P
TY=$PD/mdev_supported_types/i915-GVTg_V5_4
check_eq "types" "$(ls "$PD/mdev_supported_types" | tr '\n' ' ')" \
	"i915-GVTg_V5_1 i915-GVTg_V5_2 i915-GVTg_V5_4 i915-GVTg_V5_8 "
check_eq "type dir" "$(ls "$TY" | tr '\n' ' ')" \
	"available_instances create description device_api devices name "
check_eq "class link" "$(readlink "$M/class/mdev_bus/$P")" "$PD"
check_eq "bus/pci link" "$(readlink "$M/bus/pci/devices/$P")" "$PD"
check_eq "modes" "$(stat -c '%a %s' "$TY/create" "$TY/name" "$TY" | tr '\n' ' ')" \
	"200 4096 444 4096 755 0 "
check_eq "name" "$(cat "$TY/name")" "GVTg_V5_4"
check_eq "device_api" "$(cat "$TY/device_api")" "vfio-pci"
check_eq "description" "$(cat "$TY/description")" "$(printf 'low_gm_size: 128MB
high_gm_size: 512MB
fence: 4
resolution: 1920x1200
weight: 4')"
check_eq "available V5_8/4/2/1" \
	"$(for n in 8 4 2 1; do avail $P i915-GVTg_V5_$n; done | tr '\n' ' ')" "7 5 2 1 "
check_eq "read create" "$(cat "$TY/create" 2>&1 >/dev/null | sed 's/.*: //')" \
	"Permission denied"
check_eq "write name" "$("$W" "$TY/name" x)" "open:EACCES"
check_eq "missing type" "$("$W" "$PD/mdev_supported_types/i915-GVTg_V5_16/create" "$(uuid 1)")" \
	"open:ENOENT"

# --- create, and what it makes
U=$(uuid 1)
before=$(cat "$M/.vgpu-sim/state")
check_eq "create 36 bytes" "$("$W" "$TY/create" "$U")" OK
D=$M/bus/mdev/devices/$U
check_eq "bus/mdev link" "$(readlink "$D")" "$PD/$U"
real=$(realpath "$D")
check_eq "parent from realpath" "$(basename "$(dirname "$real")")" "$P"
check_eq "type from mdev_type" "$(basename "$(readlink "$D/mdev_type")")" "i915-GVTg_V5_4"
check_eq "mdev_type/device_api" "$(cat "$D/mdev_type/device_api")" "vfio-pci"
check_eq "iommu_group" "$(readlink "$D/iommu_group")" "$M/kernel/iommu_groups/0"
[ -d "$D/iommu_group" ] || fail "iommu_group does not resolve"
check_eq "group's devices" "$(readlink "$M/kernel/iommu_groups/0/devices/$U")" "$PD/$U"
check_eq "type's devices" "$(readlink "$TY/devices/$U")" "$PD/$U"
check_eq "instance dir" "$(ls "$D/" | tr '\n' ' ')" \
	"driver intel_vgpu iommu_group mdev_type power remove subsystem uevent vfio-dev "
check_eq "remove mode" "$(stat -c %a "$D/remove")" 200
check_eq "vgpu_id" "$(cat "$D/intel_vgpu/vgpu_id")" 1
check_eq "available after create" "$(avail $P i915-GVTg_V5_4) $(avail $P i915-GVTg_V5_8)" "4 5"
grep -qx "mdev $U parent=$P type=i915-GVTg_V5_4" "$M/.vgpu-sim/state" || fail "state line"

# --- errno of create and remove
check_eq "create 35 bytes" "$("$W" "$TY/create" "${U%?}")" EINVAL
check_eq "create 38 bytes" "$("$W" "$TY/create" "${U}xy")" EINVAL
check_eq "create bad UUID" "$("$W" "$TY/create" "${U%?}g")" EINVAL
check_eq "create existing" "$("$W" "$TY/create" "$U")" EEXIST
check_eq "create existing, other type" \
	"$("$W" "$PD/mdev_supported_types/i915-GVTg_V5_8/create" "$U")" EEXIST
check_eq "create with newline" "$("$W" -n "$TY/create" "$(uuid 2)")" OK
check_eq "shell echo create" "$(echo "$(uuid 3)" > "$TY/create" && echo OK)" OK
check_eq "remove 0" "$("$W" "$D/remove" 0)" OK
[ -d "$D" ] || fail "remove 0 removed"
check_eq "remove x" "$("$W" "$D/remove" x)" EINVAL
check_eq "remove 1 1" "$("$W" "$D/remove" "1 1")" EINVAL
check_eq "remove 1" "$("$W" "$D/remove" 1)" OK
[ -e "$D" ] && fail "still there after remove"
check_eq "remove again" "$("$W" "$D/remove" 1)" "open:ENOENT"
check_eq "echo 1 > remove" "$(echo 1 > "$M/bus/mdev/devices/$(uuid 2)/remove" && echo OK)" OK
check_eq "remove 0x1 (kstrtoul)" "$("$W" "$M/bus/mdev/devices/$(uuid 3)/remove" 0x1)" OK
check_eq "state after create and remove" "$(cat "$M/.vgpu-sim/state")" "$before"

# --- ENOSPC when exhausted
for i in 1 2 3 4 5; do
	r=$("$W" "$TY/create" "$(uuid $i)")
	[ "$r" = OK ] || fail "create $i of 5: $r"
done
check_eq "6th V5_4" "$("$W" "$TY/create" "$(uuid 6)")" ENOSPC
check_eq "V5_8 when high GM is gone" \
	"$("$W" "$PD/mdev_supported_types/i915-GVTg_V5_8/create" "$(uuid 6)")" ENOSPC
check_eq "available when exhausted" "$(avail $P i915-GVTg_V5_4)" 0
ctl remove-all
check_eq "remove-all" "$(cat "$M/.vgpu-sim/state")" "$before"

# --- fault injection
ctl "fail create 1 EIO"
check_eq "control read" "$(cat "$M/.vgpu-sim/control")" "fail create 1 EIO"
check_eq "injected EIO" "$("$W" "$TY/create" "$U")" EIO
check_eq "after the fault" "$("$W" "$TY/create" "$U")" OK
ctl "busy remove 2"
check_eq "busy 1" "$("$W" "$D/remove" 1)" EBUSY
check_eq "busy 2" "$("$W" "$D/remove" 1)" EBUSY
[ -d "$D" ] || fail "busy remove removed"
check_eq "busy over" "$("$W" "$D/remove" 1)" OK
ctl "fail remove 1 EAGAIN
delay create 300"
t0=$(date +%s%N)
"$W" "$TY/create" "$U" >/dev/null
t1=$(date +%s%N)
[ $(((t1 - t0) / 1000000)) -ge 300 ] || fail "delay create 300 took $(((t1 - t0) / 1000000)) ms"
check_eq "remove EAGAIN" "$("$W" "$D/remove" 1)" EAGAIN
# A look-up fault on the device's bus/mdev/devices link: what a check that it appeared meets.
ctl "fail lookup 1 EIO $U"
check_eq "lookup EIO" "$(realpath "$M/bus/mdev/devices/$U" 2>&1 >/dev/null | sed 's/.*: //')" \
	"Input/output error"
check_eq "lookup once" "$(realpath "$D")" "$(realpath "$PD/$U")"
check_eq "bad control" "$("$W" "$M/.vgpu-sim/control" "fail create")" EINVAL
ctl reset
check_eq "control after reset" "$(cat "$M/.vgpu-sim/control")" ""
check_eq "create after reset" "$("$W" "$TY/create" "$(uuid 7)")" OK

# --- the bind mount libvirt sees: only bus/mdev, over another directory
out=$(unshare -m sh -c "mount --bind '$M/bus/mdev' '$T/bind' &&
	cat '$T/bind/devices/$U/mdev_type/device_api' &&
	basename \"\$(readlink '$T/bind/devices/$U/iommu_group')\" &&
	test -d '$T/bind/devices/$U/iommu_group' && echo resolved" 2>&1)
check_eq "bind mount of bus/mdev" "$(echo $out)" "vfio-pci 0 resolved"

# --- 16 concurrent creators, 7 free instances
ctl remove-all
ctl "delay create 20"
check_eq "free V5_8" "$(avail $P i915-GVTg_V5_8)" 7
i=0
pids=
while [ $i -lt 16 ]; do
	"$W" "$PD/mdev_supported_types/i915-GVTg_V5_8/create" "$(uuid $((100 + i)))" \
		> "$T/race.$i" &
	pids="$pids $!"
	i=$((i + 1))
done
for j in $pids; do
	wait "$j"
done
check_eq "concurrent OK" "$(cat "$T"/race.* | grep -c '^OK$')" 7
check_eq "concurrent ENOSPC" "$(cat "$T"/race.* | grep -c '^ENOSPC$')" 9
check_eq "devices after race" "$(ls "$M/bus/mdev/devices" | wc -l)" 7
check_eq "groups after race" "$(ls "$M/kernel/iommu_groups" | sort -u | wc -l)" 7
grep -q "fences_free=0 instances=7" "$M/.vgpu-sim/state" || fail "state after race"
ctl "reset"
ctl "remove-all"
check_eq "state after race and remove-all" "$(cat "$M/.vgpu-sim/state")" "$before"
stop

# --- counted: a non-PCI parent, EUSERS
start --profile counted
check_eq "counted class link" "$(readlink "$M/class/mdev_bus/mdpy")" "$M/devices/virtual/mdpy/mdpy"
check_eq "counted not on PCI" "$(ls "$M/bus/pci/devices" | wc -l)" 0
CT=$M/class/mdev_bus/mdpy/mdev_supported_types
for i in 1 2 3 4; do
	r=$("$W" "$CT/mdpy-vga/create" "$(uuid $i)")
	[ "$r" = OK ] || fail "counted create $i: $r"
done
check_eq "counted 5th" "$("$W" "$CT/mdpy-hd/create" "$(uuid 5)")" EUSERS
check_eq "counted available" "$(cat "$CT/mdpy-xga/available_instances")" 0
check_eq "counted description" "$(cat "$CT/mdpy-hd/description")" \
	"virtual display, 1920x1080 framebuffer"
check_eq "counted parent" "$(basename "$(dirname "$(realpath "$M/bus/mdev/devices/$(uuid 1)")")")" \
	mdpy
stop

# --- two parents, one without its class link; relative links
start --profile two-parents --relative-links
check_eq "class/mdev_bus" "$(ls "$M/class/mdev_bus" | tr '\n' ' ')" "0000:00:02.0 "
check_eq "bus/pci/devices" "$(ls "$M/bus/pci/devices" | tr '\n' ' ')" "0000:00:02.0 0000:01:00.0 "
T2=$M/bus/pci/devices/0000:01:00.0/mdev_supported_types
check_eq "second parent types" "$(ls "$T2" | tr '\n' ' ')" \
	"i915-GVTg_V5_2 i915-GVTg_V5_4 i915-GVTg_V5_8 "
check_eq "create on second parent" "$("$W" "$T2/i915-GVTg_V5_2/create" "$U")" OK
check_eq "EEXIST across parents" \
	"$("$W" "$M/class/mdev_bus/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_8/create" "$U")" \
	EEXIST
check_eq "relative link" "$(readlink "$M/bus/mdev/devices/$U")" \
	"../../../devices/pci0000:00/0000:01:00.0/$U"
check_eq "relative link resolves" "$(realpath "$M/bus/mdev/devices/$U")" \
	"$M/devices/pci0000:00/0000:01:00.0/$U"
check_eq "relative mdev_type" "$(cat "$M/bus/mdev/devices/$U/mdev_type/name")" "GVTg_V5_2"
stop

# --- laptop: a 256 MB aperture hides V5_2 and V5_1; and it runs as a daemon
"$SIM" --profile laptop-256m --control "busy remove 1" "$M"
check_eq "daemon exit status" "$?" 0
check_eq "laptop types" "$(ls "$M/class/mdev_bus/$P/mdev_supported_types" | tr '\n' ' ')" \
	"i915-GVTg_V5_4 i915-GVTg_V5_8 "
check_eq "laptop V5_8" "$(avail $P i915-GVTg_V5_8)" 2
check_eq "--control at start" "$(cat "$M/.vgpu-sim/control")" "fail remove 1 EBUSY"
fusermount3 -u "$M" || fail "fusermount3 -u daemon"
mountpoint -q "$M" && fail "daemon still mounted"

# --- Linux 6.1's layout on the samples profile, with the kernel's relative links (section 2)
start --profile samples --relative-links
check_eq "samples: class/mdev_bus" "$(ls -l "$M/class/mdev_bus" | sed -n 's/.* \(mdpy -> .*\)/\1/p')" \
	"mdpy -> ../../devices/virtual/mdpy/mdpy"
PD=$M/devices/virtual/mdpy/mdpy
TY=$PD/mdev_supported_types/mdpy-vga
check_eq "samples: parent entries" "$(ls "$PD" | tr '\n' ' ')" \
	"mdev_supported_types power subsystem uevent "
check_eq "samples: parent subsystem" "$(readlink "$PD/subsystem")" "../../../../class/mdpy"
check_eq "samples: parent uevent" "$(stat -c %a "$PD/uevent") '$(cat "$PD/uevent")'" "644 ''"
check_eq "samples: bus/mdev" "$(ls "$M/bus/mdev" | tr '\n' ' ')" \
	"devices drivers drivers_autoprobe drivers_probe uevent "
check_eq "samples: drivers" "$(ls "$M/bus/mdev/drivers" | tr '\n' ' ')" "mbochs mdpy mtty "
check_eq "samples: mtty type" "$(ls "$M/class/mdev_bus/mtty/mdev_supported_types/mtty-1" | tr '\n' ' ') $(cat "$M/class/mdev_bus/mtty/mdev_supported_types/mtty-1/name")" \
	"available_instances create device_api devices name  Single port serial"
check_eq "samples: available" "$(cat "$M"/class/mdev_bus/*/mdev_supported_types/*/available_instances | tr '\n' ' ')" \
	"4 16 64 4 4 4 24 12 "
U=$(uuid 61)
check_eq "samples: create" "$("$W" "$TY/create" "$U")" OK
D=$M/bus/mdev/devices/$U
check_eq "samples: device entries" "$(ls "$D/" | tr '\n' ' ')" \
	"driver iommu_group mdev_type power remove subsystem uevent vendor vfio-dev "
check_eq "samples: link texts" "$(for l in "$D" "$D/mdev_type" "$D/iommu_group" "$D/driver" "$D/subsystem" "$TY/devices/$U" "$M/kernel/iommu_groups/0/devices/$U"; do readlink "$l"; done | tr '\n' ' ')" \
	"../../../devices/virtual/mdpy/mdpy/$U ../mdev_supported_types/mdpy-vga ../../../../../kernel/iommu_groups/0 ../../../../../bus/mdev/drivers/mdpy ../../../../../bus/mdev ../../../$U ../../../../devices/virtual/mdpy/mdpy/$U "
check_eq "samples: symlink size" "$(stat -c %s "$D" "$D/mdev_type" | tr '\n' ' ')" "0 0 "
check_eq "samples: uevent" "$(cat "$D/uevent")" "DRIVER=mdpy"
check_eq "samples: vendor" "$(ls "$D/vendor") $(cat "$D/vendor/resolution")" "resolution 640x480"
check_eq "samples: vfio-dev" "$(ls "$D/vfio-dev") $(ls "$D/vfio-dev/vfio0" | tr '\n' ' ')" \
	"vfio0 device power subsystem uevent "
check_eq "samples: vfio-dev links" "$(readlink "$D/vfio-dev/vfio0/device") $(readlink "$D/vfio-dev/vfio0/subsystem") $(readlink "$M/class/vfio-dev/vfio0")" \
	"../../../$U ../../../../../../../class/vfio-dev ../../devices/virtual/mdpy/mdpy/$U/vfio-dev/vfio0"
check_eq "samples: power" "$(ls "$D/power" | tr '\n' ' ')" \
	"async autosuspend_delay_ms control runtime_active_kids runtime_active_time runtime_enabled runtime_status runtime_suspended_time runtime_usage "
check_eq "samples: power values" "$(cat "$D/power/control" "$D/power/runtime_status" "$D/power/async" | tr '\n' ' ')" \
	"auto unsupported disabled "
check_eq "samples: autosuspend_delay_ms" "$(cat "$D/power/autosuspend_delay_ms" 2>&1 >/dev/null | sed 's/.*: //')" \
	"Input/output error"
check_eq "samples: uevent change" "$("$W" "$D/uevent" change)" OK
check_eq "samples: uevent bogus" "$("$W" "$D/uevent" bogus)" EINVAL
check_eq "samples: mbochs ENOSPC" "$(for i in 1 2 3 4 5; do "$W" "$M/class/mdev_bus/mbochs/mdev_supported_types/mbochs-large/create" "$(uuid $((70 + i)))"; done | tr '\n' ' ')" \
	"OK OK OK OK ENOSPC "
check_eq "samples: mbochs vendor" "$(cat "$M/bus/mdev/devices/$(uuid 71)/vendor/memory")" "64 MB"
ctl remove-all

# --- a remove while a process holds the device through VFIO (section 4)
check_eq "held: create" "$("$W" "$TY/create" "$U")" OK
ctl "vfio-open $U"
check_eq "held: control" "$(cat "$M/.vgpu-sim/control")" "vfio-open $U"
check_eq "held: second vfio-open" "$("$W" "$M/.vgpu-sim/control" "vfio-open $U")" EBUSY
exec 8>"$D/remove"              # a second remover, opened before
"$W" "$D/remove" 1 > "$T/held.out" &
wp=$!
sleep 1
kill -0 "$wp" 2>/dev/null && pass "held: remove blocks" || fail "held: remove returned '$(cat "$T/held.out")'"
check_eq "held: bus link gone" "$([ -e "$D" ] || [ -L "$D" ] && echo present || echo absent)" absent
check_eq "held: type link gone" "$([ -L "$TY/devices/$U" ] && echo present || echo absent)" absent
check_eq "held: parent dir left" "$(ls "$PD/$U" | tr '\n' ' ')" "iommu_group vfio-dev "
check_eq "held: group left" "$(ls "$M/kernel/iommu_groups")" 0
check_eq "held: create of the same UUID" "$("$W" "$TY/create" "$U")" EEXIST
check_eq "held: available not back" "$(cat "$TY/available_instances")" 3
check_eq "held: remove via the parent dir" "$("$W" "$PD/$U/remove" 1)" "open:ENOENT"
# Through a file opened before, the kernel answers ENODEV at once; FUSE holds the inode's
# lock for the blocked writer, so here the answer comes when the holder lets go.
( (/bin/echo 1 >&8) 2>&1 | sed 's/.*: //' > "$T/held.fd8" ) &
fp=$!
exec 8>&-
grep -qx "mdev $U parent=mdpy type=mdpy-vga removing vfio-open" "$M/.vgpu-sim/state" ||
	fail "held: state line: $(grep "$U" "$M/.vgpu-sim/state")"
# A fatal signal does not end the wait: the writer sleeps in state D, as on the kernel.
kill -KILL "$wp"
sleep 0.3
check_eq "held: SIGKILLed writer" "$(awk '{print $3}' "/proc/$wp/stat" 2>/dev/null)" D
ctl "vfio-close $U"
wait "$wp" 2>/dev/null
check_eq "held: writer gone after vfio-close" "$(kill -0 "$wp" 2>/dev/null && echo alive || echo gone)" gone
check_eq "held: removed after vfio-close" "$(find "$PD" -maxdepth 1 -name "$U" | wc -l) $(cat "$TY/available_instances")" "0 4"
wait "$fp"
check_eq "held: remove via an earlier fd" "$(cat "$T/held.fd8")" "No such device"
# The normal case: the writer returns OK once the holder lets go.
check_eq "held: create again" "$("$W" "$TY/create" "$U")" OK
ctl "vfio-open $U"
"$W" "$D/remove" 1 > "$T/held.out" &
wp=$!
sleep 0.5
ctl "vfio-close $U"
wait "$wp" 2>/dev/null
check_eq "held: remove returns after vfio-close" "$(cat "$T/held.out")" OK
check_eq "held: vfio-close of a gone device" "$("$W" "$M/.vgpu-sim/control" "vfio-close $U")" ENOENT

# --- a create seen between device_add and the driver's probe (delay probe)
ctl "delay probe 1500"
"$W" "$TY/create" "$U" > "$T/probe.out" &
cp=$!
sleep 0.5
check_eq "probing: on the bus" "$(ls "$D/" | tr '\n' ' ')" "power remove subsystem uevent "
check_eq "probing: unbound" "'$(cat "$D/uevent")' $([ -L "$TY/devices/$U" ] && echo linked || echo unlinked)" \
	"'' unlinked"
check_eq "probing: remove" "$("$W" "$D/remove" 1)" EAGAIN
wait "$cp"
check_eq "probing: create returns" "$(cat "$T/probe.out")" OK
check_eq "probing: remove attribute lost to EAGAIN" "$(ls "$D/" | tr '\n' ' ')" \
	"driver iommu_group mdev_type power subsystem uevent vendor vfio-dev "
ctl "reset
remove-all"
# A probe that fails shows the device for that long, then takes it away.
for i in 1 2 3 4; do "$W" "$M/class/mdev_bus/mtty/mdev_supported_types/mtty-2/create" "$(uuid $((80 + i)))" > /dev/null; done
for i in 1 2 3 4 5 6 7 8; do "$W" "$M/class/mdev_bus/mtty/mdev_supported_types/mtty-2/create" "$(uuid $((90 + i)))" > /dev/null; done
ctl "delay probe 1000"
"$W" "$M/class/mdev_bus/mtty/mdev_supported_types/mtty-1/create" "$U" > "$T/probe.out" &
cp=$!
sleep 0.4
check_eq "failing probe: briefly on the bus" "$([ -d "$D" ] && echo present || echo absent)" present
wait "$cp"
check_eq "failing probe: ENOSPC" "$(cat "$T/probe.out")" ENOSPC
check_eq "failing probe: gone" "$([ -e "$D" ] && echo present || echo absent)" absent
stop

# --- single-threaded: no thread could wait for a holder, so vfio-open is refused
start -s
check_eq "-s: create" "$("$W" "$M/class/mdev_bus/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_8/create" "$U")" OK
check_eq "-s: vfio-open" "$("$W" "$M/.vgpu-sim/control" "vfio-open $U")" EOPNOTSUPP
stop

finish
