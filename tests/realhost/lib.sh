# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2010,SC2012
# Shared by the real-host tier's scripts that run in the VM (scenarios, scenarios-inhibit):
# virsh, the mdev bus, the ownership records and a guest's XML. Needs S (the state
# directory) and T (a scratch directory) set.
V() { timeout 240 virsh -q -c qemu:///system "$@"; }
devices() { ls /sys/bus/mdev/devices | sort | tr '\n' ' ' | sed 's/ $//'; }
records() { ls "$S" 2>/dev/null | grep -v '^lock$' | sort | tr '\n' ' ' | sed 's/ $//'; }
avail() { cat "/sys/class/mdev_bus/$1/mdev_supported_types/$2/available_instances"; }
qpid() { cat "/run/libvirt/qemu/$1.pid" 2>/dev/null; }
uu() { printf '4b20d080-1b54-4048-85b3-%012d' "$1"; }
base() { # base NAME [GRAPHICS]: T/NAME.xml, a TCG guest with no disk (SeaBIOS idles), 64 MiB
	cat > "$T/$1.xml" <<X
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    ${2:-<graphics type='vnc' autoport='yes'><listen type='address' address='127.0.0.1'/></graphics>}
    <video><model type='none'/></video>
  </devices>
</domain>
X
}
