#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# vgpu-xml output accepted by real libvirt: virt-xml-validate, `virsh define --validate` and
# `virsh domxml-to-native qemu-argv` on a real QEMU driver (the test driver drops overrides,
# so it is no use here). The vGPU's -device JSON must carry each property asked for, and no
# other device any of them.
#   libvirt.sh VGPU_XML FIXTURES_DIR [UPSTREAM_FIXTURES_DIR]
# The driver is the private libvirtd of the ctest fixture "libvirtd" ($VGPU_LIBVIRTD/uri),
# which probed QEMU once; without it (not root), the embedded driver (qemu:///embed), which
# probes QEMU again on every virsh call: minutes on a loaded machine.
set -u
X=$1 F=$2 UP=${3:-}
# shellcheck source=../lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
for tool in virsh virt-xml-validate qemu-system-x86_64; do
	command -v $tool >/dev/null ||
		skip "$tool missing (apt-get install libvirt-clients libvirt-daemon-system qemu-system-x86)"
done
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
if [ -s "${VGPU_LIBVIRTD:-}/uri" ]; then
	URI=$(cat "$VGPU_LIBVIRTD/uri")
else
	URI="qemu:///embed?root=$T/root"
	note "no private libvirtd ($(cat "${VGPU_LIBVIRTD:-}/none" 2>/dev/null)): $URI"
fi
U1=4b20d080-1b54-4048-85b3-a6a62d165c01
U9=4b20d080-1b54-4048-85b3-a6a62d165c99
ROM='"romfile":"/var/lib/libvirt/qemu/drivers/vbios_gvt_uefi.rom"'
NOHP='"driver":"vfio-pci-nohotplug"'
OPR='"x-igd-opregion":true'

# The QEMU argv of FILE. OpenGL needs /dev/dri for the argv, which this host may lack: the
# definition keeps it (define checks it), the argv is made without it.
argv() {
	sed -e "s#<gl enable=.yes./>##" -e "s#<graphics type=.egl-headless./>##" "$1" >"$T/native.xml"
	virsh -q -c "$URI" domxml-to-native qemu-argv "$T/native.xml" 2>"$T/virsh.err" |
		grep -o -- "-device '[^']*'"
}

# Upstream domains share names with different UUIDs: undefine each after its define.
undefine() {
	virsh -q -c "$URI" undefine --nvram "$(sed -n 's:.*<name>\(.*\)</name>.*:\1:p' "$1" | head -1)" \
		>/dev/null 2>&1
}

# accept NAME FILE UUID PROPERTY...: validate, define, and check the vGPU's -device line.
accept() {
	name=$1 file=$2 uuid=$3; shift 3
	if ! virt-xml-validate "$file" >/dev/null 2>"$T/val.err"; then
		fail "$name: virt-xml-validate: $(head -1 "$T/val.err")"; return
	fi
	if ! virsh -q -c "$URI" define --validate "$file" >/dev/null 2>"$T/def.err"; then
		fail "$name: define: $(tr '\n' ' ' <"$T/def.err")"; return
	fi
	undefine "$file"
	argv "$file" >"$T/devices"
	vgpu=$(grep "\"sysfsdev\":\"/sys/bus/mdev/devices/$uuid\"" "$T/devices")
	[ -n "$vgpu" ] || { fail "$name: no -device for $uuid: $(head -1 "$T/virsh.err")"; return; }
	for p in "$@"; do
		case $vgpu in *"$p"*) ;; *) fail "$name: vGPU lacks $p: $vgpu"; return;; esac
	done
	others=$(grep -v "/sys/bus/mdev/devices/$uuid" "$T/devices" |
		grep -E '"(x-igd-opregion|ramfb|xres|yres)":|vbios_gvt' || true)
	[ -z "$others" ] || { fail "$name: another device got a vGPU property: $others"; return; }
	pass "$name"
}

# The golden outputs (tests/fixtures/xml), each with what its -device must carry.
accept minimal-all "$F/minimal-all.out.xml" $U9 '"id":"ua-vgpu0"' "$NOHP" '"ramfb":true' \
	'"display":"on"' "$OPR" "$ROM" '"xres":1920' '"yres":1080'
accept minimal-native "$F/minimal-native.out.xml" $U9 "$NOHP" '"ramfb":true' \
	'"display":"on"' "$OPR" '"xres":1024' '"yres":768'
accept minimal-add "$F/minimal-add.out.xml" $U9 '"driver":"vfio-pci"' '"id":"ua-vgpu0"'
accept mdev-opregion "$F/mdev-opregion.out.xml" $U1 "$OPR" '"id":"ua-vgpu0"'
accept mdev-ramfb "$F/mdev-ramfb.out.xml" $U1 "$NOHP" '"ramfb":true' '"display":"on"'
accept mdev-romfile "$F/mdev-romfile.out.xml" $U1 "$ROM"
accept mdev-resolution "$F/mdev-resolution.out.xml" $U1 '"display":"on"' '"xres":1920' \
	'"yres":1080'
accept mdev-display-off "$F/mdev-display-off.out.xml" $U1 '"display":"off"'
accept mdev-native-display "$F/mdev-native-display.out.xml" $U1 '"display":"on"'
accept mdev-metadata "$F/mdev-metadata.out.xml" $U1 '"driver":"vfio-pci"'
accept archwiki-opregion "$F/archwiki-opregion.out.xml" $U1 '"id":"ua-vgpu0"' "$OPR" \
	"$NOHP" '"ramfb":true' '"xres":1280' '"yres":720'
accept archwiki-native-ramfb "$F/archwiki-native-ramfb.out.xml" $U1 "$NOHP" '"ramfb":true' \
	"$OPR"
accept pci-before-mdev-ramfb "$F/pci-before-mdev-ramfb.out.xml" $U1 '"id":"ua-vgpu0"' \
	"$NOHP" '"ramfb":true' "$OPR"
check "pci-before-mdev: rombar kept on 04:00.0 (the renumbered override kept its device)" \
	grep -q '"host":"0000:04:00.0".*"rombar":0' "$T/devices"
accept ns-prefix-opregion "$F/ns-prefix-opregion.out.xml" $U1 '"id":"ua-gvtg"' "$OPR" "$ROM"
accept no-qemu-prefix-opregion "$F/no-qemu-prefix-opregion.out.xml" $U1 "$OPR"
accept legacy-set-migrate "$F/legacy-set-migrate.out.xml" $U1 "$OPR" "$NOHP" '"ramfb":true' \
	'"xres":1920'
accept virtxml-add "$F/virtxml-add.out.xml" $U9 "$OPR"
check "virtxml-add: disk override kept" grep -q '"id":"ua-disk".*"serial":"f39-root"' "$T/devices"
accept compact-add "$F/compact-add.out.xml" $U9 "$OPR"

# The upstream domains (optional): whatever libvirt accepted before, it accepts after
# --add-vgpu --opregion --romfile, and the vGPU carries the properties.
n=0
for in in "$UP"/libvirt-*/qemuxmlconfdata/*.xml "$UP"/virt-manager/*/*.xml; do
	[ -f "$in" ] || continue
	case $in in *.x86_64-latest.xml) continue;; esac
	base=${in##*/}
	virt-xml-validate "$in" >/dev/null 2>&1 || continue
	virsh -q -c "$URI" define --validate "$in" >/dev/null 2>&1 || continue
	undefine "$in"
	argv "$in" >/dev/null || continue   # PCI without <driver name='vfio'/>, secrets...
	if ! $X -q --add-vgpu --opregion --romfile=/var/lib/libvirt/qemu/drivers/vbios_gvt_uefi.rom \
		"$in" >"$T/up.xml" 2>"$T/up.err"; then
		grep -q "pick one with" "$T/up.err" && continue   # several mdevs: refused, rightly
		fail "upstream $base: $(cat "$T/up.err")"; continue
	fi
	uuid=$(sed -n "/type=.mdev./,/<\/hostdev>/p" "$T/up.xml" | grep -o "[0-9a-f-]\{36\}" | head -1)
	accept "upstream $base" "$T/up.xml" "$uuid" "$OPR" "$ROM"
	n=$((n + 1))
done
[ $n -gt 0 ] || note "upstream fixtures absent ($UP): not checked"

finish
