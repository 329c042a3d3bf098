// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fs-write.c: the writes to vgpu-sim's files: create, remove, the control file and the uevent
 * files, as their store() functions do, with the delays and faults the control file sets.
 *
 * A remove of an instance held through VFIO waits on a condition variable, without the
 * mutex, until a control write lets it go; so it needs a free FUSE thread (not -s).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fs-int.h"

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void log_write(const struct simfs *fs, const char *path, const char *buf, size_t size,
		      int ret)
{
	const char *name = sim_errno_name(-ret);
	int shown = (int)(size > 64 ? 64 : size);

	if (!fs->cfg.verbose)
		return;
	while (shown && (buf[shown - 1] == '\n' || buf[shown - 1] == '\0'))
		shown--;
	if (!ret)
		fprintf(stderr, "vgpu-sim: %s <- \"%.*s\": ok\n", path, shown, buf);
	else
		fprintf(stderr, "vgpu-sim: %s <- \"%.*s\": %s\n", path, shown, buf,
			name ? name : strerror(-ret));
}

/*
 * A write to a uevent file asks for a synthetic uevent (kobject_synth_uevent()): an action
 * word, then optional arguments, one trailing newline or NUL ignored. vgpu-sim sends no
 * uevents, so a valid one does nothing. Returns 0 or -EINVAL (kobject_action_type()).
 */
static int uevent_write(const char *buf, size_t size)
{
	static const char *const actions[] = {
		"add", "remove", "change", "move", "online", "offline", "bind", "unbind",
	};
	const char *sp;
	size_t i, n;

	if (size && (buf[size - 1] == '\n' || buf[size - 1] == '\0'))
		size--;
	sp = memchr(buf, ' ', size);
	n = sp ? (size_t)(sp - buf) : size;
	for (i = 0; size && i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strlen(actions[i]) == n && !memcmp(actions[i], buf, n))
			return 0;
	return -EINVAL;
}

/*
 * Waits, without the lock, until instance @m (serial @serial) is no longer held and its
 * remove has finished: kernel 6.x's vfio_unregister_group_dev(). A signal to the writer
 * cannot end it (the FUSE request is in user space: the writer is in state D, as on the
 * kernel); only a vfio-close, reset of the holds by remove-all, or the end of vgpu-sim
 * does. Returns 0, or -ENODEV when vgpu-sim is going away first. Called with the lock held.
 */
static int wait_for_holder(struct simfs *fs, unsigned int m, unsigned long serial)
{
	struct fuse_session *se = fuse_get_session(fuse_get_context()->fuse);

	while (sim_remove_waiting(fs->sim, m, serial)) {
		struct timespec until;

		/* Wake now and then to see whether the file system is being unmounted. */
		if (fuse_session_exited(se))
			return -ENODEV;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&fs->changed, &fs->lock, &until);
	}
	return 0;
}

int fs_write(const char *path, const char *buf, size_t size, off_t off,
	     struct fuse_file_info *fi)
{
	struct simfs *fs = fs_get();
	unsigned int delay = 0, m;
	unsigned long serial;
	struct node n;
	int ret;

	(void)off;
	(void)fi;
	pthread_mutex_lock(&fs->lock);
	ret = resolve(fs->sim, path, &n);
	if (!ret && n.kind == K_TYPE_CREATE)
		delay = fs->sim->faults[SIM_CREATE].delay_ms;
	else if (!ret && n.kind == K_REMOVE)
		delay = fs->sim->faults[SIM_REMOVE].delay_ms;
	pthread_mutex_unlock(&fs->lock);

	/* Outside the lock, so that readers and other writers go on meanwhile. */
	if (!ret && delay)
		sleep_ms(delay);

	pthread_mutex_lock(&fs->lock);
	if (!ret)
		ret = resolve(fs->sim, path, &n);
	/* The open file of a device that has gone is a deactivated kernfs node. */
	if (ret == -ENOENT)
		ret = -ENODEV;
	else if (!ret) {
		switch (n.kind) {
		case K_TYPE_CREATE:
			ret = sim_create_add(fs->sim, n.p, n.t, buf, size, &m);
			if (ret)
				break;
			serial = fs->sim->mdevs[m].serial;
			/* delay probe: the device is on the bus, unbound, for that long. */
			delay = fs->sim->probe_delay_ms;
			if (delay) {
				pthread_mutex_unlock(&fs->lock);
				sleep_ms(delay);
				pthread_mutex_lock(&fs->lock);
			}
			ret = sim_create_probe(fs->sim, m, serial);
			break;
		case K_REMOVE:
			m = n.m;
			ret = sim_remove(fs->sim, fs->sim->mdevs[m].uuid, buf, size);
			if (ret == SIM_REMOVE_BLOCKED)
				ret = wait_for_holder(fs, m, fs->sim->mdevs[m].serial);
			break;
		case K_CONTROL:
			ret = sim_control(fs->sim, buf, size, NULL);
			if (!ret)
				pthread_cond_broadcast(&fs->changed);
			break;
		case K_PARENT_UEVENT:
		case K_MDEV_UEVENT:
		case K_VFIO_UEVENT:
		case K_BUS_UEVENT:
			ret = uevent_write(buf, size);
			break;
		default:
			/* drivers_probe, drivers_autoprobe, power/: the kernel acts; we do not. */
			ret = writable(&n) ? -EOPNOTSUPP : -EACCES;
			break;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	log_write(fs, path, buf, size, ret);
	return ret ? ret : (int)size;
}

/* open(O_TRUNC), as in `echo UUID > create`: sysfs accepts and ignores it. */
int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct simfs *fs = fs_get();
	struct node n;
	int ret;

	(void)size;
	(void)fi;
	pthread_mutex_lock(&fs->lock);
	ret = resolve(fs->sim, path, &n);
	pthread_mutex_unlock(&fs->lock);
	if (!ret && !writable(&n))
		ret = S_ISDIR(node_mode(&n)) ? -EISDIR : -EACCES;
	return ret;
}
