# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=dash
# No process and no vgpu-sim mount may outlive the test suite; sourced by scripts/test.
#   leftovers_begin     from here on, every process this shell starts is counted: it and
#                       its descendants go into a cgroup of their own, which a process
#                       cannot leave by forking or daemonizing (cgroup v2; as root)
#   leftovers_end RC    names every process still in that cgroup and every vgpu-sim mount
#                       made since leftovers_begin, kills and unmounts them, and exits RC,
#                       or 1 if anything was left
# Without cgroup v2 or root, only the mounts are checked, and it says so.

LEFT_CG='' LEFT_MOUNTS=''

left_mounts() { # the mount points of vgpu-sim's file systems (fsname vgpu-sim), one a line
	awk '$1 == "vgpu-sim" { print $2 }' /proc/mounts
}

leftovers_begin() {
	local root cur
	LEFT_MOUNTS=$(left_mounts)
	root=$(grep ' - cgroup2 ' /proc/self/mountinfo | head -1 | cut -d' ' -f5)
	cur=$(sed -n 's/^0:://p' /proc/self/cgroup)
	if [ "$(id -u)" -eq 0 ] && [ -n "$root" ] && [ -n "$cur" ] &&
		mkdir "$root${cur%/}/vgpu-test.$$" 2>/dev/null; then
		LEFT_CG=$root${cur%/}/vgpu-test.$$
		if ! echo $$ >"$LEFT_CG/cgroup.procs"; then
			rmdir "$LEFT_CG"
			LEFT_CG=
		fi
	fi
	[ -n "$LEFT_CG" ] || echo "note: no cgroup v2 to put the suite in (or not root):" \
		"the check at the end looks only for vgpu-sim mounts"
}

leftovers_end() {
	local rc=$1 found='' left p m i=0
	in_cg() { [ -n "$(cat "$LEFT_CG/cgroup.procs")" ]; } # (its size is always 0)
	echo "== leftovers: processes and mounts the suite left"
	if [ -n "$LEFT_CG" ]; then
		echo $$ >"${LEFT_CG%/*}/cgroup.procs"
		# A daemon's guard may still be on its way out (tests/lib/libvirtd.sh): 10 s.
		while in_cg && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		left=$(cat "$LEFT_CG/cgroup.procs")
		if [ -n "$left" ]; then
			for p in $left; do
				echo "FAIL: left running: $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
			done
			if [ -e "$LEFT_CG/cgroup.kill" ]; then echo 1 >"$LEFT_CG/cgroup.kill"
			else kill -KILL $left 2>/dev/null || :; fi
			i=0
			while in_cg && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
			found=1
		fi
		rmdir "$LEFT_CG" 2>/dev/null || echo "note: cannot remove $LEFT_CG"
	fi
	for m in $(left_mounts); do
		case "
$LEFT_MOUNTS
" in *"
$m
"*) continue ;; esac
		echo "FAIL: left mounted: vgpu-sim on $m"
		umount -l "$m" 2>/dev/null || :
		found=1
	done
	if [ -n "$found" ]; then exit 1; fi
	echo "none"
	exit "$rc"
}
