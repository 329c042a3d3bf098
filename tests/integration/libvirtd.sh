#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vgpu-hook under a real libvirtd: Debian's libvirtd (QEMU driver) runs in a private mount
# namespace (tests/lib/libvirtd.sh) with vgpu-hook as its QEMU hook, and vgpu-sim's bus/mdev as
# /sys/bus/mdev. Domains are defined and started with virsh; each check looks at what libvirt
# reported, which hook calls it made, and the simulator's state.
# Usage: libvirtd.sh VGPU_HOOK VGPU_SIM      (as root; exit 77 when it cannot run here)
# KEEP=1 keeps the state directory for a look after the run.
# This daemon is its own, not the fixture's the vgpu-xml tests share: it must find the hook
# when it starts, restart, and see vgpu-sim as /sys/bus/mdev. It reads the QEMU capabilities
# that fixture probed ($VGPU_LIBVIRT_CACHE, or $VGPU_LIBVIRTD/cache), so it probes nothing.
set -u
HOOK=$(readlink -f "$1") SIM=$(readlink -f "$2")
HERE=$(cd "$(dirname "$0")" && pwd)

# shellcheck source=../lib/check.sh
. "$HERE/../lib/check.sh"
check_started() { # check_started DESCRIPTION: the last start succeeded
	if [ "$rc" = 0 ]; then pass "$1"; else fail "$1: virsh start exited $rc: $err"; fi
}

[ "$(id -u)" -eq 0 ] || skip "needs root (a private libvirtd, mounts)"
[ -c /dev/fuse ] || skip "no /dev/fuse (vgpu-sim needs FUSE)"
for c in unshare nsenter setpriv fusermount3; do
	command -v $c >/dev/null || skip "$c missing"
done
unshare --mount --propagation private true 2>/dev/null || skip "cannot create a mount namespace"
for c in /usr/sbin/libvirtd virsh qemu-system-x86_64; do
	command -v $c >/dev/null || skip "$c missing: apt-get install -y --no-install-recommends" \
		"libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils"
done

T=$(mktemp -d /tmp/vgpu-int.XXXXXX)
S=$T/lv M=$T/sys
if [ -n "${VGPU_LIBVIRT_CACHE:-}" ]; then CACHE=$VGPU_LIBVIRT_CACHE
elif [ -n "${VGPU_LIBVIRTD:-}" ]; then CACHE=$VGPU_LIBVIRTD/cache
fi
URI="qemu+unix:///system?socket=$S/run/libvirt/libvirt-sock"
export LIBVIRT_DEFAULT_URI=$URI
# shellcheck source=../lib/libvirtd.sh
. "$HERE/../lib/libvirtd.sh"
mkdir -p "$S" "$M"

teardown() { # the holder ends vgpu-sim with the rest of the namespace
	lv_down
}
on_exit() {
	teardown
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf --one-file-system "$T"; fi
}
trap on_exit EXIT
trap 'abort interrupted' INT TERM

# --- the daemon's namespace, the simulator, the hook, the daemon -------------------------
# vgpu-sim is mounted in the daemon's mount namespace, so it ends with the namespace whatever
# ends this test (tests/lib/libvirtd.sh); this shell reaches it as V, through /proc.
lv_configure
mkdir -p "$T/no-mdev"
ns_up "$T/no-mdev" || abort "cannot set up the daemon's namespace"
NS=$(readlink "/proc/$NS_PID/ns/mnt")
ns_exec "$SIM" --profile desktop-1g "$M" || abort "cannot mount vgpu-sim on $M"
ns_exec mount --bind "$M/bus/mdev" /sys/bus/mdev || abort "cannot bind vgpu-sim's bus/mdev"
V=/proc/$NS_PID/root$M # its absolute symlinks lead out of V: write() follows them in the namespace
write() { ns_exec sh -c 'echo "$1" >"$2"' write "$1" "$M/$2"; } # write TEXT PATH: PATH under M
SIM_PID=$(pgrep -nf "^$SIM .*$M\$")
state() { cat "$V/.vgpu-sim/state"; }
ctl() { echo "$1" >"$V/.vgpu-sim/control"; }
records() { find "$T/state" -mindepth 1 -maxdepth 1 ! -name lock 2>/dev/null | wc -l; }
START=$(state)

printf '[defaults]\nsysfs_root = %s\nstate_dir = %s/state\nremove_retries = 2\n' "$M" "$T" >"$T/vgpu-hook.conf"
chmod 0600 "$T/vgpu-hook.conf"

# The QEMU hook: vgpu-hook, as libvirt would run it, plus a log line per call with its exit
# status and the bytes it wrote on stdout (which libvirt would otherwise swallow). A file
# T/pause.NAME.OP holds that call until the file is removed (at most 30 s).
cat >"$T/hook" <<EOF
#!/bin/sh
if [ -e "$T/pause.\$1.\$2" ]; then
	echo "\$1 \$2" >>"$T/hook.paused"
	i=0
	while [ -e "$T/pause.\$1.\$2" ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
fi
out=\$(mktemp "$T/hook.out.XXXXXX")
"$HOOK" --config "$T/vgpu-hook.conf" "\$@" >"\$out"
rc=\$?
echo "\$1 \$2 \$3 \$4 rc=\$rc stdout=\$(wc -c <"\$out")" >>"$T/hook.seq"
cat "\$out"
rm -f "\$out"
exit \$rc
EOF
chmod 0755 "$T/hook"
hook_on() { cp "$T/hook" "$S/etc/hooks/qemu"; }
hook_off() { rm -f "$S/etc/hooks/qemu"; }
: >"$T/hook.seq"
mark() { MARK=$(wc -l <"$T/hook.seq"); }
calls() { # the hook calls since the last mark, one per line: NAME OP SUBOP EXTRA rc= stdout=
	tail -n +$((MARK + 1)) "$T/hook.seq"
}
ops() { # the calls since the mark for domain $1, as "op subop, op subop, ..."
	calls | awk -v d="$1" '$1 == d { printf "%s%s %s", (n++ ? ", " : ""), $2, $3 }'
}

hook_on
t0=$SECONDS
lv_start || abort "libvirtd did not start"
echo "libvirtd up in $((SECONDS - t0)) s (pid $LV_PID, state $S)"
check "libvirtd found the hook" grep -q 'Found hook script /etc/libvirt/hooks/qemu' "$S/log/libvirtd.log"

# --- domains ------------------------------------------------------------------------------
KVM=kvm
[ -c /dev/kvm ] || KVM=qemu
dom() { # dom NAME NUMBER [MDEV_UUID TYPE]: a 64 MiB guest without disk; SeaBIOS idles
	printf "<domain type='%s'>\n  <name>%s</name>\n  <uuid>6a1c9f0e-3b1d-4c2e-9a55-%012d</uuid>\n" "$KVM" "$1" "$2"
	[ $# -ge 4 ] && printf "  <metadata>\n    <vgpu:vgpu xmlns:vgpu=\"urn:vgpu-hook:1\">\n      <vgpu:mdev uuid=\"%s\" parent=\"0000:00:02.0\" type=\"%s\"/>\n    </vgpu:vgpu>\n  </metadata>\n" "$3" "$4"
	printf "  <memory unit='MiB'>64</memory>\n  <vcpu>1</vcpu>\n  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n  <devices>\n"
	printf "    <controller type='usb' model='none'/>\n    <memballoon model='none'/>\n    <console type='null'/>\n"
	[ $# -ge 4 ] && printf "    <hostdev mode='subsystem' type='mdev' model='vfio-pci'>\n      <source><address uuid='%s'/></source>\n    </hostdev>\n" "$3"
	printf "  </devices>\n</domain>\n"
}
define() { # define NAME NUMBER [MDEV_UUID TYPE]
	dom "$@" >"$T/$1.xml"
	timeout 30 virsh -q define "$T/$1.xml" >/dev/null || fail "virsh define $1"
}
start() { # start NAME: virsh start; sets rc and err (virsh's stderr, on one line)
	err=$(timeout 60 virsh -q start "$1" 2>&1 >/dev/null)
	rc=$?
	err=$(printf '%s' "$err" | tr '\n' ' ')
}
domstate() { timeout 30 virsh -q domstate "$1" 2>&1; }
U1=4b20d080-1b54-4048-85b3-a6a62d165c01
UF=4b20d080-1b54-4048-85b3-a6a62d165c0f
UA=4b20d080-1b54-4048-85b3-a6a62d165c0a
UB=4b20d080-1b54-4048-85b3-a6a62d165c0b
define plain 1
define vgpu 2 $U1 i915-GVTg_V5_4
define big 3 $U1 i915-GVTg_V5_1
define conc-a 4 $UA i915-GVTg_V5_4
define conc-b 5 $UB i915-GVTg_V5_4
NOTFOUND="mediated device '$U1' not found"

# mdev_passed NAME LABEL: libvirt accepted the vGPU of NAME: its start either succeeded or
# failed after libvirt's mdev checks (it then calls the start hook and runs QEMU).
mdev_passed() {
	if [ "$rc" = 0 ]; then
		pass "$2: the guest runs"
		return
	fi
	check_lacks "$2: past libvirt's mdev check" "$err" "not found"
	check_has "$2: libvirt called the start hook, after its mdev checks" "$(ops "$1")" "start begin"
	echo "   (then, on this machine: ${err##*error: })"
}

# --- 1. a domain without vGPU -----------------------------------------------------------
mark
start plain
check_started "1 plain: virsh start"
check_eq "1 plain: running" "$(domstate plain)" running
check_eq "1 plain: virsh destroy" "$(timeout 30 virsh -q destroy plain 2>&1 >/dev/null)" ""
check_eq "1 plain: the hook was called for each operation" "$(ops plain)" \
	"prepare begin, start begin, started begin, stopped end, release end"
check_eq "1 plain: every call exited 0 and wrote nothing on stdout" \
	"$(calls | grep -vc ' rc=0 stdout=0$')" 0
check_eq "1 plain: the simulator was not touched" "$(state)" "$START"

# --- 2. a domain with a vGPU ------------------------------------------------------------
# The oracle: without the hook, libvirt refuses the guest because the vGPU does not exist.
hook_off
mark
start vgpu
check_has "2 oracle: without the hook, libvirt finds no vGPU" "$err" "$NOTFOUND"
check_eq "2 oracle: no hook ran" "$(calls)" ""
hook_on

mark
start vgpu
mdev_passed vgpu "2 vGPU"
check "2 vGPU: QEMU was given the vGPU" \
	grep -q "\"sysfsdev\":\"/sys/bus/mdev/devices/$U1\"" "$S/log/qemu/vgpu.log"
want="prepare begin, start begin, stopped end, release end"
if [ "$rc" = 0 ]; then
	check_has "2 vGPU: it exists while the guest runs" "$(state)" "mdev $U1 "
	timeout 30 virsh -q destroy vgpu >/dev/null
	want="prepare begin, start begin, started begin, stopped end, release end"
fi
check_eq "2 vGPU: prepare created it, release removed it" "$(ops vgpu)" "$want"
check_eq "2 vGPU: every call exited 0 and wrote nothing on stdout" \
	"$(calls | grep -vc ' rc=0 stdout=0$')" 0
check_eq "2 vGPU: the simulator is back to its start" "$(state)" "$START"
check_eq "2 vGPU: no ownership record left" "$(records)" 0

# --- 3. a vGPU that cannot be created ---------------------------------------------------
# Out of instances: someone else holds the one i915-GVTg_V5_1 this GPU has.
write "$UF" bus/pci/devices/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_1/create
before=$(state)
mark
start big
check_eq "3 full: virsh start fails" "$rc" 1
check_has "3 full: libvirt reports the hook's failure" "$err" \
	"Hook script execution failed: internal error: Child process"
check_has "3 full: with the hook's line and reason" "$err" \
	"unexpected exit status 1: vgpu-hook: big: cannot create vGPU $U1: i915-GVTg_V5_1 on 0000:00:02.0: no free instance"
check_eq "3 full: the hook wrote one line" "$(printf '%s' "$err" | grep -o 'vgpu-hook:' | wc -l)" 1
check_eq "3 full: prepare failed, release ran" "$(ops big)" "prepare begin, stopped end, release end"
check_eq "3 full: nothing leaked, the other vGPU left alone" "$(state)" "$before"
check_eq "3 full: no ownership record" "$(records)" 0
write 1 "bus/mdev/devices/$UF/remove"
check_eq "3 full: the simulator is back to its start" "$(state)" "$START"

# The kernel refuses the create (injected ENOSPC).
ctl "fail create 1 ENOSPC"
mark
start vgpu
check_eq "3 ENOSPC: virsh start fails" "$rc" 1
check_has "3 ENOSPC: with the hook's line and the kernel's reason" "$err" \
	"unexpected exit status 1: vgpu-hook: vgpu: cannot create vGPU $U1: i915-GVTg_V5_4 on 0000:00:02.0:"
check_has "3 ENOSPC: the errno" "$err" "(No space left on device)"
check_lacks "3 ENOSPC: libvirt never got to its own check" "$err" "not found"
check_eq "3 ENOSPC: prepare failed, release ran" "$(ops vgpu)" "prepare begin, stopped end, release end"
check_eq "3 ENOSPC: the simulator is back to its start" "$(state)" "$START"
check_eq "3 ENOSPC: no ownership record" "$(records)" 0
ctl reset

# --- 4. libvirtd restarted while a guest runs -------------------------------------------
start plain
check_started "4 reconnect: plain starts"
qpid=$(cat "$S/run/libvirt/qemu/plain.pid" 2>/dev/null)
lv_stop
check "4 reconnect: QEMU survives libvirtd" test -n "$qpid" -a -d "/proc/$qpid"
mark
t0=$SECONDS
lv_start || abort "libvirtd did not start again"
i=0 # the reconnect runs in a thread, after the socket already answers
while ! calls | grep -q '^plain reconnect begin' && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
echo "   (libvirtd restarted and reconnected in $((SECONDS - t0)) s)"
check_eq "4 reconnect: the hook got reconnect begin, and nothing else" "$(calls)" \
	"plain reconnect begin - rc=0 stdout=0"
check_eq "4 reconnect: the guest still runs" "$(domstate plain)" running
check_eq "4 reconnect: the same QEMU" "$(cat "$S/run/libvirt/qemu/plain.pid" 2>/dev/null)" "$qpid"
check_eq "4 reconnect: the simulator was not touched" "$(state)" "$START"
check_eq "4 reconnect: no ownership record" "$(records)" 0
mark
check_eq "4 reconnect: destroy after it" "$(timeout 30 virsh -q destroy plain 2>&1 >/dev/null)" ""
check_eq "4 reconnect: then stopped and release" "$(ops plain)" "stopped end, release end"

# --- 5. two domains started at once -------------------------------------------------------
# Each start is held in its start hook (after prepare created its vGPU and libvirt accepted
# it) until both are there: then both vGPUs must exist side by side.
touch "$T/pause.conc-a.start" "$T/pause.conc-b.start"
: >"$T/hook.paused"
mark
(start conc-a; printf '%s\n%s\n' "$rc" "$err" >"$T/conc-a.res") &
pa=$!
(start conc-b; printf '%s\n%s\n' "$rc" "$err" >"$T/conc-b.res") &
pb=$!
i=0
while [ "$(wc -l <"$T/hook.paused")" -lt 2 ] && [ $i -lt 300 ] &&
	{ ! gone $pa || ! gone $pb; }; do
	sleep 0.1
	i=$((i + 1))
done
during=$(state)
check_eq "5 concurrent: both starts reached the start hook together" "$(sort "$T/hook.paused" | tr '\n' ' ')" \
	"conc-a start conc-b start "
check_has "5 concurrent: conc-a has its vGPU" "$during" "mdev $UA parent=0000:00:02.0 type=i915-GVTg_V5_4"
check_has "5 concurrent: conc-b has its vGPU" "$during" "mdev $UB parent=0000:00:02.0 type=i915-GVTg_V5_4"
check_eq "5 concurrent: two instances" "$(printf '%s\n' "$during" | grep -c '^mdev ')" 2
check_eq "5 concurrent: two ownership records" "$(records)" 2
rm -f "$T/pause.conc-a.start" "$T/pause.conc-b.start"
wait $pa $pb
for d in conc-a conc-b; do
	rc=$(sed -n 1p "$T/$d.res") err=$(sed -n 2p "$T/$d.res")
	mdev_passed $d "5 concurrent $d"
	[ "$rc" = 0 ] && timeout 30 virsh -q destroy $d >/dev/null
	check_eq "5 concurrent $d: release ran" "$(ops $d | sed 's/.*, //')" "release end"
done
check_eq "5 concurrent: every call exited 0 and wrote nothing on stdout" \
	"$(calls | grep -vc ' rc=0 stdout=0$')" 0
check_eq "5 concurrent: none after" "$(state)" "$START"
check_eq "5 concurrent: no ownership record left" "$(records)" 0

# --- clean up, and check it -----------------------------------------------------------------
lpid=$LV_PID
teardown
left_in_ns() { # the processes still in the daemon's mount namespace
	local f
	for f in /proc/[0-9]*/ns/mnt; do
		[ "$(readlink "$f" 2>/dev/null)" = "$NS" ] && echo "${f#/proc/}" | cut -d/ -f1
	done
}
check "cleanup: libvirtd stopped" gone "$lpid"
check_eq "cleanup: no process (libvirtd, QEMU, hook) left in the namespace" "$(left_in_ns)" ""
check_eq "cleanup: no mount left" "$(grep -c " $T" /proc/mounts)" 0
i=0
while [ -n "$SIM_PID" ] && ! gone "$SIM_PID" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "cleanup: vgpu-sim exited" gone "${SIM_PID:-0}"

finish
