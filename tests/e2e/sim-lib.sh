# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Shared by the tests that run the built vgpu-hook against vgpu-sim (e2e, fault matrix,
# stress). Source after tests/lib/check.sh with HOOK and SIM set; it skips (77) without
# root or FUSE, makes $T (removed at exit) with the mount point $M and a config $T/conf
# (sysfs_root $M, state_dir $T/state, release_timeout $VGPU_TEST_RELEASE_TIMEOUT when
# set: valgrind.sh), and defines:
#   mount_sim PROFILE     (re)mount vgpu-sim on $M, with an empty state directory
#   hook XML NAME OP SUBOP EXTRA   run the hook as libvirt does; sets rc and err (stderr);
#                         the array hook_env adds environment variables (VGPU_INJECT=...)
#   state, ctl LINE, avail TYPE, records (the ownership records, names on one line)
#   dom NAME DOMAIN_UUID TYPE MDEV_UUID...   a domain XML with these vGPUs
#   uuid N, duuid N       mdev and domain UUIDs numbered N
[ "$(id -u)" -eq 0 ] || skip "needs root to mount FUSE"
[ -c /dev/fuse ] || skip "no /dev/fuse"
command -v fusermount3 >/dev/null || skip "fusermount3 missing (apt-get install fuse3)"

T=$(mktemp -d /tmp/vgpu-e2e.XXXXXX)
M=$T/sys
mkdir "$M"
cleanup() { umount "$M" 2>/dev/null || fusermount3 -u "$M" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
mount_sim() { # mount_sim PROFILE
	umount "$M" 2>/dev/null
	rm -rf "$T/state"
	"$SIM" --profile "$1" "$M" || { echo "cannot mount vgpu-sim" >&2; exit 1; }
}
printf '[defaults]\nsysfs_root = %s\nstate_dir = %s/state\nremove_retries = 3\n' "$M" "$T" >"$T/conf"
[ -n "${VGPU_TEST_RELEASE_TIMEOUT:-}" ] && printf 'release_timeout = %s\n' "$VGPU_TEST_RELEASE_TIMEOUT" >>"$T/conf"
chmod 0600 "$T/conf"

hook_env=()
# rc and err are for the test that sources this file.
# shellcheck disable=SC2034
hook() { # hook XML NAME OP SUBOP EXTRA: as libvirt runs it; sets rc, err
	local xml=$1; shift
	# In a subshell whose own stderr is dropped: bash's "Killed" notice for a hook that
	# a test kills is not the hook's output.
	rc=$( (env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin "${hook_env[@]}" \
		${HOOK_WRAPPER:-} "$HOOK" --config "$T/conf" "$@" <"$xml" >"$T/out" 2>"$T/err"
		echo $?) 2>/dev/null)
	err=$(cat "$T/err")
	[ -s "$T/out" ] && fail "$* wrote to stdout"
}
state() { cat "$M/.vgpu-sim/state"; }
ctl() { echo "$1" >"$M/.vgpu-sim/control"; }
avail() { cat "$M/bus/pci/devices/0000:00:02.0/mdev_supported_types/$1/available_instances"; }
records() { find "$T/state" -mindepth 1 -maxdepth 1 ! -name lock -printf '%f\n' 2>/dev/null | sort | tr '\n' ' '; }
dom() { # dom NAME DOMAIN_UUID TYPE MDEV_UUID...: a domain XML with these vGPUs
	local name=$1 duuid=$2 type=$3; shift 3
	printf "<domain type='kvm' id='1'>\n  <name>%s</name>\n  <uuid>%s</uuid>\n  <metadata>\n    <vgpu:vgpu xmlns:vgpu='urn:vgpu-hook:1'>\n" "$name" "$duuid"
	for u; do printf "      <vgpu:mdev uuid='%s' parent='0000:00:02.0' type='%s'/>\n" "$u" "$type"; done
	printf "    </vgpu:vgpu>\n  </metadata>\n  <devices>\n"
	for u; do printf "    <hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address uuid='%s'/></source></hostdev>\n" "$u"; done
	printf "  </devices>\n</domain>\n"
}
uuid() { printf '11111111-2222-4333-8444-%012d' "$1"; }
duuid() { printf 'aaaaaaaa-0000-4000-8000-%012d' "$1"; }
