# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=dash
# A private libvirtd for the tests; sourced by tests/integration/libvirtd.sh and by
# tests/lib/libvirtd-fixture.sh (the ctest fixture the vgpu-xml tests share).
#
# Nothing of the host's /etc, /run, /var or /dev is changed. One directory S holds all the
# daemon writes. A holder process keeps a private mount namespace alive, in which:
#   S/etc   -> /etc/libvirt        (our own libvirtd.conf, qemu.conf and hooks/qemu)
#   S/lib   -> /var/lib/libvirt    S/log -> /var/log/libvirt
#   CACHE   -> /var/cache/libvirt  (QEMU capabilities: probed once, kept across daemons and
#                                   runs; libvirt re-probes when QEMU, libvirt or the kernel
#                                   changed)
#   S/run   -> /run                (the socket: S/run/libvirt/libvirt-sock)
#   /dev    an overlay on the host's /dev that adds /dev/vfio/vfio, so libvirt accepts an
#           mdev hostdev (it checks only that the file exists)
#   /sys/bus  a tmpfs holding bind mounts of every real bus, plus MDEV as /sys/bus/mdev
# libvirtd is started (and restarted) inside that namespace with nsenter; QEMU, which
# libvirtd starts, lives there too.
#
# The holder is the namespace's guard: it is not a child of its caller (setsid -f), so a
# test killed on its timeout cannot take it along, and it watches an owner process (the
# test, or ctest for the fixture). When the owner is gone or S/ns/stop appears, it kills
# every process in the namespace (libvirtd, QEMU and its capabilities probes, hooks),
# waits for them, and exits; the namespace's mounts go with it. Until then, it starts a
# supervised libvirtd again if it dies (libvirt 9.0 has crashed on the vgpu-xml tests'
# domains), and says so in S/ns/restarts.
#
# Uses: S, URI, CACHE (default S/cache); sets NS_PID and LV_PID.

NS_PID='' LV_PID=''
LV_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

lv_configure() { # lv_configure: the directories and the daemon's configuration
	: "${CACHE:=$S/cache}"
	mkdir -p "$S/etc/hooks" "$S/lib" "$S/log" "$CACHE" "$S/run/lock" \
		"$S/ns/upper" "$S/ns/work" "$S/ns/lower" "$S/ns/sysbus"
	chmod 1777 "$S/run/lock"
	ln -sf /dev/shm "$S/run/shm"
	cat >"$S/etc/libvirtd.conf" <<-EOF
	unix_sock_rw_perms = "0700"
	unix_sock_ro_perms = "0700"
	auth_unix_rw = "none"
	auth_unix_ro = "none"
	log_filters = "1:util.hook 1:qemu.qemu_process 1:util.mdev 1:hypervisor.virhostdev 3:*"
	log_outputs = "1:file:/var/log/libvirt/libvirtd.log"
	EOF
	# No udev (/dev/kvm may be root-only): QEMU runs as root. No virtlogd, no cgroups on the
	# host, no security driver. No per-VM /dev: it cannot move /dev/pts out of the overlay.
	cat >"$S/etc/qemu.conf" <<-EOF
	user = "root"
	group = "root"
	dynamic_ownership = 0
	remember_owner = 0
	security_driver = "none"
	stdio_handler = "file"
	cgroup_controllers = [ ]
	namespaces = [ ]
	EOF
	chmod 0600 "$S/etc/qemu.conf"
	echo "$S" >"$S/etc/vgpu-test-private"
}

starttime() { # starttime PID: the process's start time (field 22 of /proc/PID/stat)
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

ns_up() { # ns_up MDEV [OWNER_PID]: start the holder (owner: this shell), MDEV as /sys/bus/mdev
	local owner=${2:-$$} i=0
	rm -f "$S/ns/ready" "$S/ns/stop" "$S/ns/pid" "$S/ns/supervise" "$S/ns/restarts"
	setsid -f unshare --mount --propagation private -- /bin/sh -ec '
		S=$1 M=$2 C=$3 owner=$4 since=$5 D=$1/ns
		mount --bind "$S/etc" /etc/libvirt
		mount --bind "$S/lib" /var/lib/libvirt
		mount --bind "$S/log" /var/log/libvirt
		mount --bind "$C" /var/cache/libvirt
		mount --bind "$S/run" /run
		mount --rbind /dev "$D/lower"
		mount -t overlay overlay -o "lowerdir=$D/lower,upperdir=$D/upper,workdir=$D/work" /dev
		for m in $(awk "\$5 ~ \"^/dev/\" {print \$5}" /proc/self/mountinfo | sort -u); do
			if [ -d "$D/lower${m#/dev}" ]; then mkdir -p "$m"; mount --rbind "$D/lower${m#/dev}" "$m"; fi
		done
		mkdir -p /dev/vfio
		[ -e /dev/vfio/vfio ] || mknod -m 0666 /dev/vfio/vfio c 10 196
		mount --bind /sys/bus "$D/sysbus"
		mount -t tmpfs -o mode=0755 vgpu-int-sysbus /sys/bus
		for b in "$D"/sysbus/*; do
			n=${b##*/}; mkdir "/sys/bus/$n"; mount --bind "$b" "/sys/bus/$n"
		done
		mkdir /sys/bus/mdev
		mount --bind "$M" /sys/bus/mdev
		echo $$ >"$D/pid"
		: >"$D/ready"
		exec </dev/null
		alive() { [ "$(sed "s/.*) //" "/proc/$owner/stat" 2>/dev/null | cut -d" " -f20)" = "$since" ]; }
		live() { [ -n "$1" ] && [ -n "$(sed -n "s/.*) \([^Z]\).*/\1/p" "/proc/$1/stat" 2>/dev/null)" ]; }
		while alive && [ ! -e "$D/stop" ]; do
			# Supervised (S/ns/supervise holds its pid): a libvirtd that died is started again.
			p=$(cat "$D/supervise" 2>/dev/null) || p=
			if [ -n "$p" ] && ! live "$p"; then
				echo "$(date +%T) libvirtd $p died; started again" >>"$D/restarts"
				setsid -f env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
					LANG=C.UTF-8 /usr/sbin/libvirtd </dev/null >>"$S/libvirtd.out" 2>&1
				i=0
				until live "$(cat /run/libvirtd.pid 2>/dev/null)" || [ $i -ge 300 ]; do
					sleep 0.1; i=$((i + 1))
				done
				cat /run/libvirtd.pid >"$D/supervise" 2>/dev/null || rm -f "$D/supervise"
			fi
			sleep 0.5
		done
		ns=$(readlink /proc/$$/ns/mnt)
		ppid() { sed "s/.*) //" "/proc/$1/stat" 2>/dev/null | cut -d" " -f2; }
		others() { # in the namespace, but not this shell, its subshells and their commands
			for f in /proc/[0-9]*/ns/mnt; do
				p=${f#/proc/}; p=${p%%/*}
				[ "$p" != $$ ] && [ "$(readlink "$f" 2>/dev/null)" = "$ns" ] || continue
				q=$p
				while [ -n "$q" ] && [ "$q" -gt 1 ] && [ "$q" != $$ ]; do q=$(ppid "$q"); done
				[ "$q" = $$ ] || echo "$p"
			done
		}
		for sig in TERM KILL; do
			p=$(others)
			[ -z "$p" ] || kill -$sig $p 2>/dev/null || :
			i=0
			while [ -n "$(others)" ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
		done
		left=$(others)
		[ -z "$left" ] || echo "holder: still in the namespace after SIGKILL: $left"
		rm -f "$D/ready"
	' vgpu-lv-ns "$S" "$1" "$CACHE" "$owner" "$(starttime "$owner")" </dev/null >"$S/ns/log" 2>&1
	while [ ! -e "$S/ns/ready" ]; do
		if [ $i -ge 100 ]; then
			echo "cannot set up the namespace:" >&2
			cat "$S/ns/log" >&2
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	NS_PID=$(cat "$S/ns/pid")
}

ns_exec() { # ns_exec COMMAND...: run it in the namespace, under the holder's root directory
	# Entering a mount namespace resets the root to the namespace's: in a chroot, that is the
	# root outside it, where none of these mounts are (-r, -w: the holder's root and cwd).
	nsenter -t "$NS_PID" -m -r -w -- "$@"
}

lv_start() { # lv_start [--detach]: start libvirtd in the namespace; wait until it answers
	# Without --detach, libvirtd is this shell's child and gets SIGTERM when the shell dies;
	# with it, libvirtd outlives the shell, and the holder stops it. At most 60 s.
	local i=0 detach=${1:-} guard="setpriv --pdeathsig TERM"
	[ "$detach" = --detach ] && guard="setsid -f"
	# Never a daemon on the host's /etc/libvirt and /run: the namespace must show ours.
	if [ "$(ns_exec cat /etc/libvirt/vgpu-test-private 2>/dev/null)" != "$S" ]; then
		echo "the namespace does not show $S/etc as /etc/libvirt: libvirtd not started" >&2
		return 1
	fi
	ns_exec $guard \
		env -i PATH="$LV_PATH" LANG=C.UTF-8 /usr/sbin/libvirtd \
		</dev/null >>"$S/libvirtd.out" 2>&1 &
	LV_PID=$!
	until [ -S "$S/run/libvirt/libvirt-sock" ] &&
		timeout 10 virsh -q -c "$URI" uri >/dev/null 2>&1; do
		if [ $i -ge 600 ] || { [ -z "$detach" ] && ! kill -0 "$LV_PID" 2>/dev/null; }; then
			echo "libvirtd did not come up (see $S/log/libvirtd.log):" >&2
			tail -n 20 "$S/libvirtd.out" "$S/log/libvirtd.log" >&2
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	[ -z "$detach" ] || LV_PID=$(cat "$S/run/libvirtd.pid")
}

gone() { # gone PID: the process has exited (or is a zombie)
	[ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

stop_pid() { # stop_pid PID: SIGTERM, then SIGKILL after 10 s; reap it if it is our child
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null
	local i=0
	while ! gone "$1" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	gone "$1" || kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

lv_stop() { # lv_stop: stop libvirtd only; its guests keep running
	stop_pid "$LV_PID"
	LV_PID=
}

qemu_pids() { # the QEMU processes of this daemon, from its pid files
	local f p
	for f in "$S"/run/libvirt/qemu/*.pid; do
		[ -s "$f" ] || continue
		p=$(cat "$f")
		case $(readlink "/proc/$p/exe" 2>/dev/null) in */qemu-system-*) echo "$p" ;; esac
	done
}

ns_down() { # ns_down: have the holder kill what is left in the namespace; wait (30 s at most)
	local i=0
	[ -n "$NS_PID" ] || return 0
	: >"$S/ns/stop"
	while ! gone "$NS_PID" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	gone "$NS_PID" || { echo "the namespace holder $NS_PID did not exit" >&2; return 1; }
	NS_PID=
}

lv_down() { # lv_down: destroy the guests (so their hooks run), stop libvirtd, QEMU, namespace
	local d p i
	if [ -n "$LV_PID" ] && ! gone "$LV_PID"; then
		for d in $(timeout 20 virsh -q -c "$URI" list --name 2>/dev/null); do
			timeout 30 virsh -q -c "$URI" destroy "$d" >/dev/null 2>&1
		done
	fi
	lv_stop
	for p in $(qemu_pids); do
		kill -KILL "$p"
		i=0
		while ! gone "$p" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	done
	ns_down
}
