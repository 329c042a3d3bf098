/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* inhibit.c: hold logind's sleep inhibitor while vgpu-hook's records exist (inhibit.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "inhibit.h"
#include "log.h"

static bool named_before(const struct owner_record *recs, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(recs[j].domain_uuid, recs[i].domain_uuid) == 0)
			return true;
	return false;
}

size_t inhibit_why(const struct owner_record *recs, size_t n, char *buf, size_t len)
{
	static const char tail[] = ": GVT-g hosts hang or break in suspend; stop these guests first";
	/* Room kept for ", and 99999 more" and the tail. */
	size_t keep = sizeof(tail) + 24, used, domains = 0, left_out = 0;
	int w;

	w = snprintf(buf, len, "vGPUs exist for ");
	used = (size_t)w;
	for (size_t i = 0; i < n; i++) {
		if (named_before(recs, i))
			continue;
		domains++;
		const char *sep = domains > 1 ? ", " : "";
		size_t need = strlen(sep) + strlen(recs[i].domain);
		if (left_out || used + need + keep >= len) {
			left_out++;
			continue;
		}
		w = snprintf(buf + used, len - used, "%s%s", sep, recs[i].domain);
		used += (size_t)w;
	}
	if (left_out)
		used += (size_t)snprintf(buf + used, len - used, "%sand %zu more",
					 domains > left_out ? ", " : "", left_out);
	snprintf(buf + used, len - used, "%s", tail);
	return domains;
}

int inhibit_take(const char *why)
{
	sd_bus *bus = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int fd = -1, r;

	/* A connection per lock: changes are rare, and a restarted D-Bus broker then costs
	 * nothing but one failed attempt. */
	r = sd_bus_open_system(&bus);
	if (r < 0) {
		log_err("cannot connect to the system bus: %s", strerror(-r));
		return r;
	}
	r = sd_bus_call_method(bus, "org.freedesktop.login1", "/org/freedesktop/login1",
			       "org.freedesktop.login1.Manager", "Inhibit", &error, &reply,
			       "ssss", "sleep", "vgpu-hook", why, "block");
	if (r < 0) {
		log_err("logind refused a sleep inhibitor: %s",
			error.message ? error.message : strerror(-r));
		goto out;
	}
	r = sd_bus_message_read(reply, "h", &fd);
	if (r < 0) {
		log_err("logind's answer to Inhibit has no descriptor: %s", strerror(-r));
		goto out;
	}
	/* The descriptor belongs to the message: keep a copy of our own. */
	r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (r < 0) {
		r = -errno;
		log_err("cannot keep the inhibitor's descriptor: %s", strerror(-r));
	}
out:
	sd_bus_message_unref(reply);
	sd_bus_error_free(&error);
	sd_bus_flush_close_unref(bus);
	return r;
}

struct watch {
	int fd;          /* inotify */
	int parent_wd;   /* the state directory's parent: its removal or renaming */
	const char *base;
};

/*
 * The watch is set before each count, so no change between a count and the wait is lost.
 * The directory's own IN_DELETE_SELF comes only once its last reference is gone, and the
 * store holds one: the parent is watched for the directory's name instead.
 */
static int watch_dir(const struct owner_store *st, const char *state_dir, struct watch *w)
{
	char path[64], parent[PATH_MAX];
	const char *slash = strrchr(state_dir, '/');
	int r;

	w->base = slash ? slash + 1 : state_dir;
	if (!slash)
		snprintf(parent, sizeof(parent), ".");
	else if (slash == state_dir)
		snprintf(parent, sizeof(parent), "/");
	else
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - state_dir), state_dir);
	w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (w->fd < 0)
		return -errno;
	/* Through the descriptor owner_open() checked, not the path again. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", st->dirfd);
	if (inotify_add_watch(w->fd, path, IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
				     IN_ONLYDIR) < 0 ||
	    (w->parent_wd = inotify_add_watch(w->fd, parent, IN_DELETE | IN_MOVED_FROM |
								 IN_ONLYDIR)) < 0) {
		r = -errno;
		close(w->fd);
		w->fd = -1;
		return r;
	}
	return 0;
}

/* Read every pending event. Returns 0, or -ENOENT when the directory itself went away. */
static int drain(const struct watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t len;

	while ((len = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->wd == w->parent_wd ? ev->len && strcmp(ev->name, w->base) == 0
						   : (ev->mask & IN_IGNORED) != 0)
				return -ENOENT;
			p += sizeof(*ev) + ev->len;
		}
	}
	return 0;
}

static int signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	int fd = signalfd(-1, &set, SFD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int inhibit_run(const char *state_dir, unsigned retry_ms)
{
	struct owner_store st;
	char held[INHIBIT_WHY_MAX] = "", why[INHIBIT_WHY_MAX];
	struct watch w = { .fd = -1 };
	int lock = -1, sfd, r;

	sfd = signals();
	if (sfd < 0)
		return sfd;
	r = owner_open(state_dir, true, &st);
	if (r < 0) {
		log_err("state directory %s: %s", state_dir, strerror(-r));
		close(sfd);
		return r;
	}
	r = watch_dir(&st, state_dir, &w);
	if (r < 0) {
		log_err("cannot watch %s: %s", state_dir, strerror(-r));
		goto out;
	}
	for (;;) {
		struct owner_record *recs = NULL;
		size_t n = 0;
		bool retry = false;

		r = owner_list(&st, &recs, &n);
		if (r < 0) {
			log_err("cannot read the records in %s: %s", state_dir, strerror(-r));
			goto out;
		}
		if (n == 0 && lock >= 0) {
			close(lock);
			lock = -1;
			held[0] = '\0';
			log_info("no vGPU left: sleep is allowed again");
		} else if (n > 0) {
			inhibit_why(recs, n, why, sizeof(why));
			if (lock < 0 || strcmp(why, held) != 0) {
				int fd = inhibit_take(why);

				if (fd >= 0) {
					if (lock >= 0)
						close(lock);
					lock = fd;
					memcpy(held, why, sizeof(held));
					log_info("sleep blocked: %s", why);
				} else {
					retry = true;
				}
			}
		}
		free(recs);

		struct pollfd p[2] = { { .fd = w.fd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };

		if (poll(p, 2, retry ? (int)retry_ms : -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (p[1].revents) {
			r = 0;
			goto out;
		}
		if (p[0].revents && (r = drain(&w)) < 0) {
			log_err("%s was removed or renamed", state_dir);
			goto out;
		}
	}
out:
	if (lock >= 0)
		close(lock);
	if (w.fd >= 0)
		close(w.fd);
	close(sfd);
	owner_close(&st);
	return r;
}
