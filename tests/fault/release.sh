#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# release end when the kernel does not let go, against vgpu-sim: a remove that blocks
# (`delay remove`, as Linux 6.x blocks a remove while a process holds the vGPU through VFIO:
# research/real-kernel.md 4), a process that holds the vGPU's VFIO group, a vGPU moved to
# another running guest, and a per-user daemon. Each case checks the time the release took
# (with stdout and stderr on a pipe, as libvirt reads them to EOF), the exit status, the
# log line, the records, and that the simulator is back at its start in the end.
# The hook runs in a private mount namespace whose /dev is $T/dev, so that the test can
# make /dev/vfio/<group> and hold it; the host's /dev is never touched.
# Usage: release.sh VGPU_HOOK VGPU_SIM INJECT_SO
set -u
HOOK=$1 SIM=$2 INJECT=$3
# shellcheck source=../lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
# shellcheck source=../e2e/sim-lib.sh
. "$(dirname "$0")/../e2e/sim-lib.sh"
command -v unshare >/dev/null || skip "unshare missing (apt-get install util-linux)"
command -v setpriv >/dev/null || skip "setpriv missing (apt-get install util-linux)"
PY=/usr/bin/python3   # not a shim that execs through other commands: its comm is stable
[ -x "$PY" ] || skip "$PY missing (apt-get install python3): it stands in for QEMU as the holder"

mkdir -p "$T/dev/vfio"
mknod -m 666 "$T/dev/null" c 1 3
cat >"$T/in-ns" <<EOF
#!/bin/sh
exec unshare -m --propagation private sh -c 'mount --bind "\$0" /dev && exec "\$@"' "$T/dev" "\$@"
EOF
chmod +x "$T/in-ns"
export HOOK_WRAPPER="$T/in-ns ${HOOK_WRAPPER:-}"
printf 'release_timeout = 1\n' >>"$T/conf"
LOG=$T/log
hook_env=(LD_PRELOAD="$INJECT" VGPU_INJECT_LOG="$LOG" ASAN_OPTIONS=verify_asan_link_order=0)
P=0000:00:02.0 TY=i915-GVTg_V5_8

ms() { date +%s%3N; }
timed_release() { # timed_release XML NAME: as libvirt, reading stdout and stderr to EOF
	local t0
	t0=$(ms)
	env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin "${hook_env[@]}" $HOOK_WRAPPER \
		"$HOOK" --config "$T/conf" "$2" release end destroyed <"$1" 2>&1 | cat >"$T/pipe"
	took=$(($(ms) - t0))
}
pending() { grep -qx 'pending=1' "$T/state/$1"; }
gone_within() { # gone_within SECONDS UUID: the device and its record
	for _ in $(seq 1 $(($1 * 10))); do
		[ -e "$M/bus/mdev/devices/$2" ] || [ -e "$T/state/$2" ] || return 0
		sleep 0.1
	done
	return 1
}
holder() { # holder GROUP DOMAIN DOMAIN_UUID: a process holding /dev/vfio/GROUP, its
	# cmdline as libvirt starts QEMU (-name guest=NAME,... -uuid UUID); sets hp
	: >"$T/dev/vfio/$1"
	( exec 3<"$T/dev/vfio/$1"; exec "$PY" -c 'import time; time.sleep(600)' \
		-name "guest=$2,debug-threads=on" -uuid "$3" ) &
	hp=$!
	for _ in $(seq 1 50); do   # until it runs with the descriptor and its cmdline
		[ "$(cat "/proc/$hp/comm" 2>/dev/null)" = python3 ] && [ -e "/proc/$hp/fd/3" ] && break
		sleep 0.1
	done
}
group() { basename "$(readlink "$M/bus/mdev/devices/$1/iommu_group")"; }

mount_sim desktop-1g
start=$(state)

# 1. A remove that blocks: the release returns within release_timeout and holds no
#    descriptor libvirt reads; the remove finishes in the background and clears the record.
dom a "$(duuid 1)" $TY "$(uuid 1)" >"$T/a.xml"
hook "$T/a.xml" a prepare begin -
check_eq "blocking remove: prepare" "$rc" 0
ctl "delay remove 4000"
: >"$LOG"
timed_release "$T/a.xml" a
check "blocking remove: the release returned within 2.5 s (took $took ms)" test "$took" -lt 2500
check "blocking remove: nothing on stdout or stderr" test ! -s "$T/pipe"
check_has "blocking remove: the log says it goes on" "$(cat "$LOG")" \
	"a: vGPU $(uuid 1): the remove did not finish within release_timeout (1 s): it goes on in the background"
check "blocking remove: the record says the release left it" pending "$(uuid 1)"
hook "$T/a.xml" a prepare begin -
check_eq "blocking remove: a quick restart is refused" "$rc" 1
check_has "blocking remove: and says why" "$err" "a: vGPU $(uuid 1) is still being removed"
check "blocking remove: the background remove finishes and clears the record" gone_within 8 "$(uuid 1)"
check_has "blocking remove: and logs it" "$(cat "$LOG")" \
	"a: vGPU $(uuid 1): the remove finished in the background: removed, record cleared"
ctl reset
check_eq "blocking remove: back to start" "$(state)" "$start"
hook "$T/a.xml" a prepare begin -
check_eq "blocking remove: the domain starts again" "$rc" 0
hook "$T/a.xml" a release end -
check_eq "blocking remove: and stops" "$(state)" "$start"

# 2. A process holds the vGPU's group: the release leaves it, recorded, naming the holder;
#    once it is let go, the next release of any domain removes it.
dom b "$(duuid 2)" $TY "$(uuid 2)" >"$T/b.xml"
hook "$T/b.xml" b prepare begin -
holder "$(group "$(uuid 2)")" b "$(duuid 2)"
: >"$LOG"
timed_release "$T/b.xml" b
check "held: the release returned at once (took $took ms)" test "$took" -lt 1000
check "held: the vGPU is left in place" test -e "$M/bus/mdev/devices/$(uuid 2)"
check "held: and recorded as left by its release" pending "$(uuid 2)"
check_has "held: one line names the holder and its domain" "$(cat "$LOG")" \
	"b: vGPU $(uuid 2) ($TY on $P) is held by pid $hp (python3), domain b: left in place and recorded"
kill "$hp"; wait "$hp" 2>/dev/null
dom c "$(duuid 3)" $TY >"$T/c.xml"
hook "$T/c.xml" c release end -
check "held: once let go, another release removes it" test ! -e "$M/bus/mdev/devices/$(uuid 2)"
check "held: and its record" test ! -e "$T/state/$(uuid 2)"
check_eq "held: back to start" "$(state)" "$start"

# 3. Moved to another running guest (virsh detach-device A, attach-device B: no hook runs):
#    A's release leaves it to B, and B's release removes it.
dom a2 "$(duuid 4)" $TY "$(uuid 4)" >"$T/a2.xml"
dom a2 "$(duuid 4)" $TY >"$T/a2-unplugged.xml"
hook "$T/a2.xml" a2 prepare begin -
holder "$(group "$(uuid 4)")" b2 "$(duuid 5)"
: >"$LOG"
timed_release "$T/a2-unplugged.xml" a2
check "moved: A's release leaves B's vGPU" test -e "$M/bus/mdev/devices/$(uuid 4)"
check "moved: its record names B now" grep -qx "domain=b2" "$T/state/$(uuid 4)"
check_has "moved: and the log says so" "$(cat "$LOG")" \
	"a2: vGPU $(uuid 4), created for domain a2, is in use by pid $hp (python3), domain b2: left in place; it belongs to that domain now"
kill "$hp"; wait "$hp" 2>/dev/null
dom b2 "$(duuid 5)" $TY "$(uuid 4)" >"$T/b2.xml"
hook "$T/b2.xml" b2 release end -
check "moved: B's release removes it" test ! -e "$M/bus/mdev/devices/$(uuid 4)"
check_eq "moved: back to start" "$(state)" "$start"

# 4. A per-user daemon (qemu:///session): a vGPU the admin made is used, with no state
#    directory; only a vGPU that must be created is refused.
echo "$(uuid 6)" >"$M/bus/pci/devices/$P/mdev_supported_types/$TY/create"
dom u "$(duuid 6)" $TY "$(uuid 6)" >"$T/u.xml"
dom u2 "$(duuid 7)" $TY "$(uuid 7)" >"$T/u2.xml"
chmod 0755 "$T"
chmod 0644 "$T/conf" "$T"/*.xml
rm -rf "$T/state"
HOOK_WRAPPER_ROOT=$HOOK_WRAPPER
HOOK_WRAPPER="$HOOK_WRAPPER setpriv --reuid=65534 --regid=65534 --clear-groups"
hook "$T/u.xml" u prepare begin -
check_eq "per-user: a vGPU that exists is used" "$rc" 0
check_eq "per-user: without a word" "$err" ""
hook "$T/u.xml" u release end -
check_eq "per-user: release" "$rc" 0
check "per-user: no state directory" test ! -e "$T/state"
check "per-user: the admin's vGPU stays" test -e "$M/bus/mdev/devices/$(uuid 6)"
hook "$T/u2.xml" u2 prepare begin -
check_eq "per-user: one to create is refused" "$rc" 1
check_has "per-user: saying why" "$err" "u2: cannot create vGPU $(uuid 7) ($TY on $P): only root can"
HOOK_WRAPPER=$HOOK_WRAPPER_ROOT
chmod 0600 "$T/conf"
echo 1 >"$M/bus/mdev/devices/$(uuid 6)/remove"
check_eq "per-user: back to start" "$(state)" "$start"

# 5. The host tool: --status marks what a release left, --cleanup finishes it once let go,
#    --forget deletes one record and leaves the device.
tool() { # tool ARGS...: vgpu-hook as a person runs it, in the namespace; sets rc, out, err
	out=$($HOOK_WRAPPER "$HOOK" --config "$T/conf" "$@" 2>"$T/err"); rc=$?
	err=$(cat "$T/err")
}
dom h "$(duuid 8)" $TY "$(uuid 8)" >"$T/h.xml"
dom f "$(duuid 9)" $TY "$(uuid 9)" >"$T/f.xml"
hook "$T/h.xml" h prepare begin -
hook "$T/f.xml" f prepare begin -
holder "$(group "$(uuid 8)")" h "$(duuid 8)"
hook "$T/h.xml" h release end -
tool --status
check_has "tool: --status marks what the release left" "$out" \
	"$(printf '%-36s  %-14s  %-20s  %s' "$(uuid 8)" $P $TY h) (left by its release: in use then; vgpu-hook --cleanup removes it once let go)"
tool --cleanup
check_eq "tool: --cleanup while held" "$rc" 0
check_has "tool: --cleanup names the holder" "$out" "is held by pid $hp (python3), domain h"
check_has "tool: --cleanup keeps a running guest's" "$out" "vGPU $(uuid 9) ($TY on $P): kept, domain f's"
kill "$hp"; wait "$hp" 2>/dev/null
tool --cleanup
check_has "tool: --cleanup once let go" "$out" "removed vGPU $(uuid 8)"
check_eq "tool: --cleanup says it once, on stdout, not on stderr too" "$err" ""
printf '[defaults]\nbogus = 1\n' >"$T/bad.conf"
chmod 0600 "$T/bad.conf"
out=$($HOOK_WRAPPER "$HOOK" --config "$T/bad.conf" --cleanup 2>&1); rc=$?
check_eq "tool: --cleanup with a bad config" "$rc" 1
check_has "tool: --cleanup says why" "$out" "bad.conf:2: unknown key 'bogus'"
check_eq "tool: --cleanup says it once" "$(printf '%s\n' "$out" | wc -l)" 1
check "tool: the vGPU is gone" test ! -e "$M/bus/mdev/devices/$(uuid 8)"
tool --forget "$(uuid 9)"
check_eq "tool: --forget" "$rc" 0
check_has "tool: --forget says what it did" "$out" "vGPU $(uuid 9): forgot its record ($TY on $P, made for domain f); the device, if any, is left alone"
check "tool: the record is gone" test ! -e "$T/state/$(uuid 9)"
check "tool: the device stays" test -e "$M/bus/mdev/devices/$(uuid 9)"
tool --forget "$(uuid 9)"
check_eq "tool: --forget of nothing" "$rc" 1
check_has "tool: says so" "$err" "vGPU $(uuid 9): no record: nothing to forget"
hook "$T/f.xml" f release end -
check "tool: a forgotten vGPU is never removed" test -e "$M/bus/mdev/devices/$(uuid 9)"
echo 1 >"$M/bus/mdev/devices/$(uuid 9)/remove"
check_eq "tool: back to start" "$(state)" "$start"

finish
