#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# vgpu-xml --domain against a private, real libvirtd (QEMU driver) in its own mount namespace:
# the one of the ctest fixture "libvirtd" (tests/lib/libvirtd-fixture.sh), whose URI is in
# $VGPU_LIBVIRTD/uri. Fetch, patch, redefine, a VNC password that survives, clear errors; and
# domains made by `virt-install --print-xml`, patched and accepted. It undefines what it
# defined, so the daemon is as it found it.
#   domain.sh VGPU_XML FIXTURES_DIR
set -u
X=$1 F=$2
# shellcheck source=../lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
[ -s "${VGPU_LIBVIRTD:-}/uri" ] || skip "no private libvirtd: $(cat "${VGPU_LIBVIRTD:-}/none" 2>/dev/null ||
	echo "run it with ctest, which starts one (fixture libvirtd)")"
URI=$(cat "$VGPU_LIBVIRTD/uri") LV=$(cat "$VGPU_LIBVIRTD/state")
S=$(mktemp -d) || exit 1
DOMS="minimal w10-uefi w10-bios linux-gl pci-first"
stop() {
	for d in $DOMS; do virsh -q -c "$URI" undefine --nvram "$d" >/dev/null 2>&1; done
	rm -rf "$S"
}
trap stop EXIT

U=4b20d080-1b54-4048-85b3-a6a62d165c99
ROM=/var/lib/libvirt/qemu/drivers/vbios_gvt_uefi.rom

# A domain with a VNC password: it must survive the redefinition.
T=$S/t; mkdir -p "$T"
sed -e "s#<graphics type='spice'>#<graphics type='vnc' port='-1' passwd='s3cret'/>\n    <graphics type='spice'>#" \
	"$F/minimal.in.xml" >"$T/dom.xml"
check "define the test domain" virsh -q -c "$URI" define "$T/dom.xml" >/dev/null
$X --domain minimal --connect "$URI" --add-vgpu=$U --parent=0000:00:02.0 \
	--type=i915-GVTg_V5_4 --opregion --ramfb --romfile=$ROM --resolution=1920x1080 2>"$T/err"
check "domain: exit 0" [ $? -eq 0 ]
check "domain: reports the redefinition" grep -q "domain minimal: definition updated" "$T/err"
virsh -q -c "$URI" dumpxml --inactive --security-info minimal >"$T/after.xml"
check "domain: VNC password kept" grep -q "passwd='s3cret'" "$T/after.xml"
check "domain: vGPU with user alias" grep -q "<alias name='ua-vgpu0'/>" "$T/after.xml"
check "domain: override kept" grep -q "name='x-igd-opregion' type='bool' value='true'" "$T/after.xml"
check "domain: metadata namespace kept" grep -q "<vgpu:vgpu xmlns:vgpu=\"urn:vgpu-hook:1\">" "$T/after.xml"
check "domain: metadata entry kept" grep -q "parent=\"0000:00:02.0\" type=\"i915-GVTg_V5_4\"" "$T/after.xml"
$X --domain minimal --connect "$URI" --add-vgpu=$U --parent=0000:00:02.0 \
	--type=i915-GVTg_V5_4 --opregion --ramfb --romfile=$ROM --resolution=1920x1080 2>"$T/err"
check "domain: second run changes nothing" grep -q "nothing to change" "$T/err"
check_not "domain: second run does not redefine" grep -q 'definition updated' "$T/err"
$X --domain minimal --connect "$URI" --check >"$T/out" 2>&1
check "domain: --check clean" [ $? -eq 0 ]
$X --domain minimal --connect "$URI" --dry-run --remove-vgpu >"$T/out" 2>/dev/null
check "domain: --dry-run prints" grep -q "<name>minimal</name>" "$T/out"
check "domain: --dry-run does not define" grep -q "ua-vgpu0" "$LV/etc/qemu/minimal.xml"
$X --domain nosuch --connect "$URI" --opregion 2>"$T/err"
check "unknown domain: exit 1" [ $? -eq 1 ]
check "unknown domain: one line" [ "$(wc -l <"$T/err")" = 1 ]
check "unknown domain: names it" grep -q "^vgpu-xml: domain nosuch: .*nosuch" "$T/err"
$X --domain minimal --connect "qemu+unix:///system?socket=$S/none" --opregion 2>"$T/err"
check "unreachable URI: one line" [ "$(wc -l <"$T/err")" = 1 ]
check "unreachable URI: says so" grep -q "^vgpu-xml: cannot connect to " "$T/err"

# Domains as virt-install makes them; each patched, accepted, and the properties in the argv.
gen() {
	name=$1; shift
	virt-install --connect "$URI" --print-xml --name "$name" --memory 2048 --disk none \
		--noautoconsole "$@" >"$T/$name.xml" 2>"$T/$name.err"
}
if command -v virt-install >/dev/null; then
	gen w10-uefi --osinfo win10 --machine q35 --boot uefi --graphics spice,gl.enable=yes,listen=none --video none
	gen w10-bios --osinfo win10 --machine pc --graphics vnc --graphics egl-headless
	gen linux-gl --osinfo debian11 --graphics spice,gl.enable=yes,listen=none
	gen pci-first --osinfo debian11 --graphics egl-headless --graphics vnc \
		--host-device 0x00:0x01.0,driver.name=vfio
	for d in w10-uefi w10-bios linux-gl pci-first; do
		[ -s "$T/$d.xml" ] || { fail "virt-install $d: $(head -1 "$T/$d.err")"; continue; }
		$X -q -i --add-vgpu=$U --opregion --ramfb --romfile=$ROM --resolution=1280x800 "$T/$d.xml" ||
			{ fail "$d: vgpu-xml failed"; continue; }
		$X -q --check "$T/$d.xml" >"$T/$d.check"
		check "$d: --check ran" [ $? -le 1 ]
		virsh -q -c "$URI" define --validate "$T/$d.xml" >/dev/null 2>"$T/$d.err" ||
			{ fail "$d: define: $(head -1 "$T/$d.err")"; continue; }
		sed -e "s#<gl enable=.yes./>##" -e "s#<graphics type=.egl-headless./>##" "$T/$d.xml" >"$T/n.xml"
		virsh -q -c "$URI" domxml-to-native qemu-argv "$T/n.xml" 2>"$T/$d.err" |
			grep -o -- "-device '[^']*'" >"$T/$d.dev"
		vgpu=$(grep "/sys/bus/mdev/devices/$U" "$T/$d.dev")
		for p in '"id":"ua-vgpu0"' '"driver":"vfio-pci-nohotplug"' '"ramfb":true' \
			'"display":"on"' '"x-igd-opregion":true' "\"romfile\":\"$ROM\"" '"xres":1280' \
			'"yres":800'; do
			case $vgpu in *"$p"*) ;; *) fail "$d: vGPU lacks $p ($(head -1 "$T/$d.err"))"; continue 2;; esac
		done
		if grep -v "/sys/bus/mdev/devices/$U" "$T/$d.dev" | grep -q -E '"(x-igd-opregion|ramfb|xres)":'; then
			fail "$d: another device got a vGPU property"; continue
		fi
		pass "virt-install $d: patched, defined, argv right"
	done
else
	note "virt-install missing (apt-get install virtinst): generated domains not checked"
fi

finish
