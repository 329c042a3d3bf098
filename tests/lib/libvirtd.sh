# A private libvirtd for the integration tests; sourced by libvirtd.sh.
#
# Nothing of the host's /etc, /run, /var or /dev is changed. One directory S holds all the
# daemon writes. A holder process keeps a private mount namespace alive, in which:
#   S/etc   -> /etc/libvirt        (our own libvirtd.conf, qemu.conf and hooks/qemu)
#   S/lib   -> /var/lib/libvirt    S/log -> /var/log/libvirt
#   S/cache -> /var/cache/libvirt  (QEMU capabilities: probed once, kept across restarts)
#   S/run   -> /run                (the socket: S/run/libvirt/libvirt-sock)
#   /dev    an overlay on the host's /dev that adds /dev/vfio/vfio, so libvirt accepts an
#           mdev hostdev (it checks only that the file exists)
#   /sys/bus  a tmpfs holding bind mounts of every real bus, plus MDEV as /sys/bus/mdev
# libvirtd is started (and restarted) inside that namespace with nsenter; QEMU, which
# libvirtd starts, lives there too. Everything mounted in it goes away with its last process.
#
# Uses: S, URI, and sets NS_PID and LV_PID.

NS_PID= LV_PID=
LV_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

lv_configure() { # lv_configure: the directories and the daemon's configuration
	mkdir -p "$S/etc/hooks" "$S/lib" "$S/log" "$S/cache" "$S/run/lock" \
		"$S/ns/upper" "$S/ns/work" "$S/ns/lower" "$S/ns/sysbus"
	chmod 1777 "$S/run/lock"
	ln -s /dev/shm "$S/run/shm"
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
}

ns_up() { # ns_up MDEV: start the namespace holder, with MDEV as /sys/bus/mdev
	rm -f "$S/ns/ready"
	# setpriv: the holder dies with this script, even when the script is killed.
	unshare --mount --propagation private -- /bin/sh -ec '
		S=$1 M=$2 D=$1/ns
		mount --bind "$S/etc" /etc/libvirt
		mount --bind "$S/lib" /var/lib/libvirt
		mount --bind "$S/log" /var/log/libvirt
		mount --bind "$S/cache" /var/cache/libvirt
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
		: >"$D/ready"
		exec setpriv --pdeathsig KILL sleep 100000
	' vgpu-int-ns "$S" "$1" </dev/null >"$S/ns/log" 2>&1 &
	NS_PID=$!
	local i=0
	while [ ! -e "$S/ns/ready" ]; do
		if ! kill -0 "$NS_PID" 2>/dev/null || [ $i -ge 100 ]; then
			echo "cannot set up the namespace:" >&2
			cat "$S/ns/log" >&2
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

lv_start() { # lv_start: start libvirtd in the namespace; wait until it answers (at most 60 s)
	nsenter -t "$NS_PID" -m -- setpriv --pdeathsig TERM \
		env -i PATH="$LV_PATH" LANG=C.UTF-8 /usr/sbin/libvirtd \
		</dev/null >>"$S/libvirtd.out" 2>&1 &
	LV_PID=$!
	local i=0
	until [ -S "$S/run/libvirt/libvirt-sock" ] &&
		timeout 10 virsh -q -c "$URI" uri >/dev/null 2>&1; do
		if ! kill -0 "$LV_PID" 2>/dev/null || [ $i -ge 600 ]; then
			echo "libvirtd did not come up (see $S/log/libvirtd.log):" >&2
			tail -20 "$S/libvirtd.out" "$S/log/libvirtd.log" >&2
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

gone() { # gone PID: the process has exited (or is a zombie)
	[ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

stop_pid() { # stop_pid PID: SIGTERM, then SIGKILL after 10 s; reap it
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
	stop_pid "$NS_PID"
	NS_PID=
}
