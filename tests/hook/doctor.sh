#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vgpu-hook --doctor, the binary: every line is "VERDICT AREA: ...", the last one a verdict
# of the whole host; exit 0 only when a vGPU guest could start now; with a domain, its dry
# run is added and decides. The checks themselves are tests/unit/test-doctor.c's.
# Usage: doctor.sh VGPU_HOOK FIXTURES_DIR
set -u
HOOK=$1 FIX=$2
# shellcheck source=../lib/check.sh
. "$(dirname "$0")/../lib/check.sh"

T=$(mktemp -d /tmp/vgpu-doctor.XXXXXX)
chmod 0755 "$T"
trap 'rm -rf "$T"' EXIT
cp -a "$FIX/sysfs/host" "$T/sys"
printf '[defaults]\nsysfs_root = %s\nstate_dir = %s/state\n' "$T/sys" "$T" >"$T/conf"
chmod 0600 "$T/conf"
doctor() { # doctor ARGS...: sets rc, out, err
	env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin "$HOOK" --config "$T/conf" --doctor "$@" \
		>"$T/out" 2>"$T/err"
	rc=$?
	out=$(cat "$T/out") err=$(cat "$T/err")
}
format_ok() { # every line but the last: a verdict word, an area, a colon
	head -n -1 "$T/out" | grep -vqE '^(ok|info|warn|FAIL) +(kernel|gpu|parent|libvirt|apparmor|state|config|domain): ' && return 1
	return 0
}

# The fixture tree has parents with free instances, but no vfio module: not startable.
doctor
check_eq "no vfio: exit 1" "$rc" 1
check "one line per check, in the format" format_ok
check_has "no vfio: says so, with the fix" "$out" "FAIL  kernel: vfio not loaded; fix: modprobe vfio"
check_has "the verdict" "$(tail -n1 "$T/out")" "no vGPU guest can start now"
check_eq "nothing on stderr" "$err" ""

mkdir -p "$T/sys/module/vfio"
doctor
check_has "vfio there: the parents counted" "$(tail -n1 "$T/out")" "free vGPU instances"
if ! grep -q '^FAIL' "$T/out"; then
	check_eq "nothing failed: exit 0" "$rc" 0
	check_has "nothing failed: can start" "$(tail -n1 "$T/out")" "a vGPU guest can start now"
else
	# This host's own hook directory or AppArmor decides the libvirt lines: exit 1 is right
	# exactly when one of them failed.
	check_eq "a check failed: exit 1" "$rc" 1
fi

# A domain: the dry run of its prepare follows the host's lines.
cat >"$T/dom.xml" <<XML
<domain type='kvm'>
  <name>one</name>
  <uuid>aaaaaaaa-0000-4000-8000-000000000001</uuid>
  <metadata>
    <vgpu:vgpu xmlns:vgpu='urn:vgpu-hook:1'>
      <vgpu:mdev uuid='11111111-2222-4333-8444-000000000001' parent='0000:00:02.0' type='i915-GVTg_V5_4'/>
    </vgpu:vgpu>
  </metadata>
  <devices>
    <hostdev mode='subsystem' type='mdev' model='vfio-pci'>
      <source><address uuid='11111111-2222-4333-8444-000000000001'/></source>
    </hostdev>
  </devices>
</domain>
XML
doctor one "$T/dom.xml"
check_has "domain: its dry run" "$out" "would create"
check "domain: the verdict names it" grep -qE '^one (can|cannot) start now: [0-9]+ failed' <(tail -n1 "$T/out")
want=0; grep -q '^FAIL' "$T/out" && want=1
check_eq "domain: exit 1 exactly when a check failed" "$rc" "$want"
doctor one - <"$T/dom.xml"
check_has "domain from stdin: its dry run" "$out" "would create"
sed 's/i915-GVTg_V5_4/i915-GVTg_V5_99/' "$T/dom.xml" >"$T/bad.xml"
doctor one "$T/bad.xml"
check_eq "domain whose type is missing: exit 1" "$rc" 1
check_has "domain whose type is missing: cannot" "$(tail -n1 "$T/out")" "one cannot start now"
doctor nosuchguest
check_eq "no such definition: exit 1" "$rc" 1
check_has "no such definition: says where it looked and what to do" "$out" "virsh dumpxml nosuchguest | vgpu-hook --doctor nosuchguest -"
doctor a b c
check_eq "too many arguments: usage error" "$rc" 2

# --status FILE...: whether each guest with a vGPU could start now, by the same dry run.
status() { env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin "$HOOK" --config "$T/conf" \
	--status "$@" >"$T/out" 2>"$T/err"; rc=$?; out=$(cat "$T/out"); }
status "$T/dom.xml" "$T/bad.xml" "$FIX/domains/none.xml" "$T/missing.xml"
check_eq "status: exit 0 (the vGPUs' table could be read)" "$rc" 0
check "status: a startable guest" grep -qE '^one +1 +yes$' "$T/out"
check "status: an unstartable guest, with the start's one line" \
	grep -qE '^one +1 +no: one: .*i915-GVTg_V5_99' "$T/out"
check "status: a guest without vGPU has no row" test "$(grep -c '^none ' "$T/out")" = 0
check_has "status: a file that cannot be opened says so" "$out" "no: cannot open $T/missing.xml"
check_eq "status: one header" "$(grep -c '^GUEST  *VGPUS  *CAN START NOW$' "$T/out")" 1
finish
