#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vgpu-hook as libvirt runs it, against fixture sysfs trees (plain files: no device ever
# appears on `create`, so the full lifecycle is tests/sim's; this covers what needs no
# kernel). Usage: binary.sh VGPU_HOOK FIXTURES_DIR
set -u
HOOK=$1 FIX=$2
# shellcheck source=../lib/check.sh
. "$(dirname "$0")/../lib/check.sh"

T=$(mktemp -d /tmp/vgpu-hook-bin.XXXXXX)
chmod 0755 "$T"
trap 'rm -rf "$T"' EXIT
cp -a "$FIX/sysfs/host" "$T/sys"
D=$FIX/domains
U1=11111111-2222-4333-8444-000000000001
GVT=0000:00:02.0
TYPEDIR=$T/sys/devices/pci0000:00/$GVT/mdev_supported_types/i915-GVTg_V5_4

conf() { # conf EXTRA-LINES: a valid config for this tree
	printf '[defaults]\nsysfs_root = %s\nstate_dir = %s/state\n%s' "$T/sys" "$T" "$1" > "$T/conf"
	chmod 0600 "$T/conf"
}
# Run as libvirt does: XML on stdin, an emptied environment. Exactly NAME OP SUBOP EXTRA
# for domains without vGPU (no config is read); with a vGPU, --config points the hook at
# this tree (libvirt itself always uses the compiled-in path).
hook() { # hook XMLFILE ARGS...: sets rc, out, err
	local xml=$1; shift
	env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin "$HOOK" "$@" <"$xml" >"$T/out" 2>"$T/err"
	rc=$?
	out=$(cat "$T/out") err=$(cat "$T/err")
}
snapshot() { (cd "$T/sys" && find . -printf '%p %y %s %l\n' | sort && find . -type f -print0 | sort -z | xargs -0 cat) | md5sum; }

conf 'parent = 0000:00:02.0
type = i915-GVTg_V5_4
'
before=$(snapshot)

# 1. A domain without vGPU: every operation exits 0, prints nothing, touches nothing,
#    without reading the config (libvirt runs the same hook for every domain).
for op in "prepare begin -" "start begin -" "started begin -" "stopped end -" \
	"release end -" "release end destroyed" "release end from snapshot" \
	"reconnect begin -" "migrate begin -" "restore begin -"; do
	set -- $op
	extra=${3}; [ $# -gt 3 ] && extra="$3 $4"
	hook "$D/none.xml" plain "$1" "$2" "$extra"
	check_eq "no-vGPU $op: exit" "$rc" 0
	check_eq "no-vGPU $op: stdout" "$out" ""
	check_eq "no-vGPU $op: stderr" "$err" ""
done
check_eq "no-vGPU: sysfs untouched" "$(snapshot)" "$before"
check "no-vGPU: no state dir made" test ! -e "$T/state"

# ... whatever the domain is called: libvirt accepts names beginning with '-', and four
#     arguments whose OP is a libvirt operation are a hook call, never options: no usage,
#     nothing on stdout (for restore and migrate it would become the domain definition).
for name in --help --version -h --gpu --check-config --dry-run --config --types; do
	for op in "prepare begin -" "release end -" "restore begin -" "migrate begin -" \
		"reconnect begin -"; do
		set -- $op
		hook "$D/none.xml" "$name" "$1" "$2" "$3"
		check_eq "domain $name, $op: exit" "$rc" 0
		check_eq "domain $name, $op: stdout" "$out" ""
		check_eq "domain $name, $op: stderr" "$err" ""
	done
done
# A sub-operation names a hook call too: an operation a later libvirt adds does nothing.
hook "$D/none.xml" --help frobnicate begin -
check_eq "domain --help, unknown op: exit" "$rc" 0
check_eq "domain --help, unknown op: output" "$out$err" ""
# A vGPU guest named --gpu: its release is the hook's (exit 0, silent), not a usage error.
hook "$D/one.xml" --gpu release end destroyed
check_eq "vGPU domain --gpu release: exit" "$rc" 0
check_eq "vGPU domain --gpu release: output" "$out$err" ""
# Four arguments that are no hook call are options: a mistyped dry run gets its usage error.
hook /dev/null --dry-run one prepare begin
check_eq "--dry-run without EXTRA: exit 2" "$rc" 2
check_eq "--dry-run without EXTRA: message" "$err" "vgpu-hook: --dry-run needs NAME OP SUBOP EXTRA"
check_eq "--dry-run without EXTRA: no stdout" "$out" ""
check_eq "no-vGPU, odd names: sysfs untouched" "$(snapshot)" "$before"
check "no-vGPU, odd names: no state dir made" test ! -e "$T/state"

# ... also as an unprivileged user (per-user libvirt daemons run the same hook).
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	for op in "prepare begin -" "release end -" "started begin -"; do
		set -- $op
		env -i LC_ALL=C PATH=/usr/bin:/bin setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$HOOK" plain "$1" "$2" "$3" <"$D/none.xml" >"$T/out" 2>"$T/err"
		check_eq "unprivileged $op: exit" "$?" 0
		check_eq "unprivileged $op: output" "$(cat "$T/out" "$T/err")" ""
	done
fi

# 2. Adoption: a vGPU made beforehand (mdevctl, by hand) with the right parent and type is
#    used and never removed, and nothing is written to create or remove.
dev=$T/sys/devices/pci0000:00/$GVT/$U1
mkdir "$dev" && ln -s ../mdev_supported_types/i915-GVTg_V5_4 "$dev/mdev_type" && : >"$dev/remove"
ln -s "$dev" "$T/sys/bus/mdev/devices/$U1"
hook "$D/one.xml" --config "$T/conf" one prepare begin -
check_eq "adopt: exit" "$rc" 0
check_eq "adopt: stderr" "$err" ""
check_eq "adopt: create not written" "$(cat "$TYPEDIR/create")" ""
check "adopt: no ownership record" test ! -e "$T/state/$U1"
hook "$D/one.xml" --config "$T/conf" one release end destroyed
check_eq "adopt: release exit" "$rc" 0
check_eq "adopt: remove not written" "$(cat "$dev/remove")" ""
check "adopt: device still there" test -e "$T/sys/bus/mdev/devices/$U1"
hook "$D/one.xml" --config "$T/conf" --status
check_has "status lists the adopted vGPU" "$out" "$U1  0000:00:02.0    i915-GVTg_V5_4        - (not created by vgpu-hook)"
rm -rf "$dev" "$T/sys/bus/mdev/devices/$U1"
before=$(snapshot)

# 3. Refusals at prepare: exit 1, one line on stderr naming what is wrong, nothing changed.
refuse() { # refuse DESCRIPTION XMLFILE WORDS
	hook "$2" --config "$T/conf" one prepare begin -
	check_eq "$1: exit" "$rc" 1
	check_has "$1: message" "$err" "$3"
	check_eq "$1: one line" "$(printf '%s\n' "$err" | wc -l)" 1
	check_eq "$1: no stdout" "$out" ""
	check_eq "$1: sysfs untouched" "$(snapshot)" "$before"
}
x() { printf '%s' "$1" >"$T/in.xml"; echo "$T/in.xml"; }
HD="<hostdev mode='subsystem' type='mdev'><source><address uuid='$U1'/></source></hostdev>"
DOM="<name>one</name><uuid>aaaaaaaa-0000-4000-8000-000000000001</uuid>"
meta() { echo "<metadata><v:vgpu xmlns:v='urn:vgpu-hook:1'><v:mdev uuid='$U1' parent='$1' type='$2'/></v:vgpu></metadata>"; }

refuse "malformed XML" "$(x "<domain>$DOM<devices>$HD</domain>")" "vgpu-hook: one: domain XML: stdin:1: "
refuse "external entity" "$(x "<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><domain><name>&x;</name></domain>")" "a DOCTYPE is not allowed"
refuse "empty stdin" /dev/null "no domain XML on stdin"
refuse "non-UUID" "$(x "<domain>$DOM<devices><hostdev mode='subsystem' type='mdev'><source><address uuid='../../x'/></source></hostdev></devices></domain>")" "'../../x' is not a UUID"
# A value quoted as it is: the sink (log_line) makes the line one line, '?' for the newline.
refuse "UUID with a newline" "$(x "<domain>$DOM<devices><hostdev mode='subsystem' type='mdev'><source><address uuid='a&#10;b'/></source></hostdev></devices></domain>")" "mdev hostdev 1: 'a?b' is not a UUID"
hook "$(x "<domain>$DOM$(meta 'a&#10;b' i915-GVTg_V5_4)<devices>$HD</devices></domain>")" --config "$T/conf" --dry-run one prepare begin -
check_eq "dry run, parent with a newline: would fail, one line" "$out" "one: would fail: one: vGPU $U1: metadata parent 'a?b' is neither auto nor a device name such as 0000:00:02.0"
check_eq "dry run: the failure once, on stdout, not on stderr too" "$err" ""
hook "$(x "<domain>$DOM$(meta $GVT i915-GVTg_V5_16)<devices>$HD</devices></domain>")" --config "$T/conf" --dry-run one prepare begin -
check_has "dry run, a refused vGPU: would fail" "$out" "one: would fail: one: cannot create vGPU $U1: no parent $GVT offers mdev type i915-GVTg_V5_16"
check_eq "dry run, a refused vGPU: once, not on stderr too" "$err" ""
refuse "parent with /" "$(x "<domain>$DOM$(meta 0000:00:02.0/../.. i915-GVTg_V5_4)<devices>$HD</devices></domain>")" "metadata parent '0000:00:02.0/../..'"
refuse "type with .." "$(x "<domain>$DOM$(meta $GVT ..)<devices>$HD</devices></domain>")" "metadata type '..'"
refuse "missing type directory" "$(x "<domain>$DOM$(meta $GVT i915-GVTg_V5_16)<devices>$HD</devices></domain>")" "no parent 0000:00:02.0 offers mdev type i915-GVTg_V5_16: GVT-g not enabled"
head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$T/big.xml"
refuse "oversized XML" "$T/big.xml" "larger than 16 MiB"
chmod 0620 "$T/conf"
refuse "group-writable config" "$D/one.xml" "refusing a config that is writable by group or other"
chmod 0600 "$T/conf"
if [ "$(id -u)" -eq 0 ]; then
	chown 65534 "$T/conf"
	refuse "config owned by another user" "$D/one.xml" "owned by another user"
	chown 0 "$T/conf"
fi
rm -rf "$T/state"; mkdir "$T/elsewhere" && ln -s "$T/elsewhere" "$T/state"
refuse "state dir is a symlink" "$D/one.xml" "is a symlink; refusing it"
check "symlinked state dir: nothing written through it" test -z "$(ls -A "$T/elsewhere")"
rm "$T/state"

# 3b. The one line stays whole for any name libvirt allows (up to 251 bytes: NAME.xml): it
#     is the line with a short name, the name replaced.
printf '[defaults]\nsysfs_root = %s\nstate_dir = %s/state\n' "$T/sys" "$T" >"$T/bare.conf"
chmod 0600 "$T/bare.conf"
long=$(head -c 251 /dev/zero | tr '\0' n)
hook "$(x "<domain><name>short</name><uuid>aaaaaaaa-0000-4000-8000-000000000001</uuid><devices>$HD</devices></domain>")" --config "$T/bare.conf" -- short prepare begin -
short_err=$err
check_has "short name: its name twice" "$short_err" "vgpu-hook: short: vGPU $U1: "
hook "$(x "<domain><name>$long</name><uuid>aaaaaaaa-0000-4000-8000-000000000001</uuid><devices>$HD</devices></domain>")" --config "$T/bare.conf" -- "$long" prepare begin -
check_eq "251-byte name: exit" "$rc" 1
check_eq "251-byte name: the whole line" "$err" "${short_err//short/$long}"
check_eq "251-byte name: one line" "$(printf '%s\n' "$err" | wc -l)" 1
check_eq "251-byte name: sysfs untouched" "$(snapshot)" "$before"

# 4. Plain files cannot make a device appear: the hook notices, rolls back, says so.
hook "$D/one.xml" --config "$T/conf" one prepare begin -
check_eq "no device appears: exit" "$rc" 1
check_has "no device appears: message" "$err" "created, but $T/sys/bus/mdev/devices/$U1 did not appear"
check_eq "no device appears: UUID was written to create" "$(cat "$TYPEDIR/create")" "$U1"
check "no device appears: record dropped" test ! -e "$T/state/$U1"
: >"$TYPEDIR/create"

# 5. The host tool.
hook /dev/null --config "$T/conf" --types
check_eq "--types: exit" "$rc" 0
check_has "--types: GVT-g row" "$out" "0000:00:02.0  i915-GVTg_V5_4     3  vfio-pci  GVTg_V5_4   low_gm_size 128MB, high_gm_size 512MB, fence 4, resolution 1920x1200, weight 4"
check_has "--types: parent without class link" "$out" "0000:02:00.0  i915-GVTg_V5_4     2"
hook "$D/two.xml" --config "$T/conf" --dry-run two prepare begin -
check_eq "--dry-run: exit" "$rc" 0
check_has "--dry-run: plan" "$out" "two: would create vGPU 11111111-2222-4333-8444-000000000002: i915-GVTg_V5_8 on 0000:00:02.0 (7 free; from metadata)"
hook "$D/two.xml" --config "$T/conf" --dry-run -- --gpu prepare begin -
check_eq "--dry-run -- --gpu: exit" "$rc" 0
check_has "--dry-run -- --gpu: plan" "$out" "--gpu: would create vGPU 11111111-2222-4333-8444-000000000002"
check_eq "--dry-run: sysfs untouched" "$(snapshot)" "$before"
hook /dev/null --config "$T/conf" --check-config
check_eq "--check-config: exit" "$rc" 0
# A [domain NAME] section is read as written: inih alone would configure "vm[1" here, and
# "vm" for the second, and --check-config would say OK.
{ cat "$T/conf"; printf '[domain vm[1]]\ntype = i915-GVTg_V5_8\n'; } >"$T/sec.conf"
chmod 0600 "$T/sec.conf"
hook /dev/null --config "$T/sec.conf" --check-config
check_eq "[domain vm[1]]: --check-config exit" "$rc" 0
check_has "[domain vm[1]]: --check-config" "$out" "OK: sysfs_root $T/sys, state_dir $T/state, 1 [domain] section"
hook "$(x "<domain><name>vm[1]</name><uuid>aaaaaaaa-0000-4000-8000-000000000001</uuid><devices>$HD</devices></domain>")" --config "$T/sec.conf" --dry-run 'vm[1]' prepare begin -
check_eq "[domain vm[1]]: dry run exit" "$rc" 0
check_has "[domain vm[1]]: its section applies" "$out" "vm[1]: would create vGPU $U1: i915-GVTg_V5_8 on 0000:00:02.0"
printf '[domain  vm]\ntype = i915-GVTg_V5_8\n' >>"$T/sec.conf"
hook /dev/null --config "$T/sec.conf" --check-config
check_eq "[domain  vm]: --check-config exit" "$rc" 1
check_eq "[domain  vm]: FILE:LINE: message" "$err" "$T/sec.conf:8: [domain  vm]: a domain name that begins or ends with a blank cannot be a section; put parent and type in the domain's <metadata> (vgpu-xml --parent --type)"
printf '[defaults]\nparent = ../x\ntype = a/b\n' >"$T/bad.conf"; chmod 0600 "$T/bad.conf"
hook /dev/null --config "$T/bad.conf" --check-config
check_eq "--check-config bad: exit" "$rc" 1
check_has "--check-config bad: line 2" "$err" "$T/bad.conf:2: parent '../x'"
check_has "--check-config bad: line 3" "$err" "$T/bad.conf:3: type 'a/b'"
hook /dev/null --help
check_has "--help" "$out" "Usage: vgpu-hook NAME OP SUBOP EXTRA"
hook /dev/null --version
check_has "--version" "$out" "vgpu-hook "
hook /dev/null one prepare begin
check_eq "three arguments: usage, exit 2" "$rc" 2
check_has "three arguments: message" "$err" "expected NAME OP SUBOP EXTRA, got 3 arguments"
hook /dev/null a b c d e
check_eq "five arguments: exit 2" "$rc" 2

finish
