// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * inject.c: an LD_PRELOAD library that fails or kills the hook at one chosen system call,
 * and captures what it logs, so the fault matrix can reach the steps vgpu-sim cannot: the
 * ownership record (the hook's own files) and a SIGKILL between any two steps.
 *
 *   VGPU_INJECT="CALL N ACTION [MATCH]"
 *     CALL    write | fsync (matched on the descriptor's path), openat | renameat | unlinkat
 *             (matched on the path argument; for renameat the new name)
 *     N       the Nth call of CALL whose path contains MATCH (all calls of CALL without MATCH)
 *     ACTION  an errno name (the call is not made and fails with it), "kill" (SIGKILL
 *             before the call) or "kill-after" (the call is made, then SIGKILL)
 *   VGPU_INJECT_LOG=FILE
 *     every syslog(3) message is appended to FILE as "PRIORITY MESSAGE\n" instead of being
 *     sent to the system log (the hook reports release failures only there).
 *
 * Only calls made through the PLT are seen: the hook's own, not glibc's internal ones.
 * A malformed VGPU_INJECT aborts the process, so a typo cannot pass as "no fault".
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

enum action { ACT_NONE, ACT_ERRNO, ACT_KILL, ACT_KILL_AFTER };

static struct {
	int parsed;
	char call[16];
	unsigned long nth;
	char match[256];
	enum action action;
	int err;
	unsigned long seen;
} rule;

static const struct {
	const char *name;
	int err;
} errnos[] = {
#define E(x) { #x, x }
	E(EPERM), E(ENOENT), E(EIO), E(EAGAIN), E(ENOMEM), E(EACCES), E(EBUSY), E(EEXIST),
	E(ENODEV), E(EINVAL), E(ENOSPC), E(EROFS), E(EUSERS), E(EDQUOT), E(ENAMETOOLONG),
	E(EMFILE), E(ELOOP),
#undef E
};

static void parse_rule(void)
{
	const char *spec = getenv("VGPU_INJECT");
	char action[32] = "";
	int n;

	rule.parsed = 1;
	if (!spec || !*spec)
		return;
	n = sscanf(spec, "%15s %lu %31s %255s", rule.call, &rule.nth, action, rule.match);
	if (n < 3 || rule.nth == 0)
		goto bad;
	if (!strcmp(action, "kill")) {
		rule.action = ACT_KILL;
		return;
	}
	if (!strcmp(action, "kill-after")) {
		rule.action = ACT_KILL_AFTER;
		return;
	}
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++) {
		if (!strcmp(action, errnos[i].name)) {
			rule.action = ACT_ERRNO;
			rule.err = errnos[i].err;
			return;
		}
	}
bad:
	fprintf(stderr, "inject: bad VGPU_INJECT '%s'\n", spec);
	abort();
}

static void fd_path(int fd, char *buf, size_t len)
{
	char proc[64];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, buf, len - 1);
	buf[n < 0 ? 0 : n] = '\0';
}

/* Whether this call is the one to hit: ACT_NONE, or the action to take. */
static enum action hit(const char *call, const char *path)
{
	if (!rule.parsed)
		parse_rule();
	if (rule.action == ACT_NONE || strcmp(call, rule.call) ||
	    (rule.match[0] && (!path || !strstr(path, rule.match))))
		return ACT_NONE;
	return ++rule.seen == rule.nth ? rule.action : ACT_NONE;
}

/* Before the call: 1 when it must fail (errno set), 0 to make it. */
static int before(enum action a)
{
	if (a == ACT_KILL)
		raise(SIGKILL);
	if (a == ACT_ERRNO) {
		errno = rule.err;
		return 1;
	}
	return 0;
}

static void after(enum action a)
{
	if (a == ACT_KILL_AFTER)
		raise(SIGKILL);
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t write(int fd, const void *buf, size_t count)
{
	char path[4096];
	enum action a;
	ssize_t r;

	fd_path(fd, path, sizeof(path));
	a = hit("write", path);
	if (before(a))
		return -1;
	r = REAL(write)(fd, buf, count);
	after(a);
	return r;
}

int fsync(int fd)
{
	char path[4096];
	enum action a;
	int r;

	fd_path(fd, path, sizeof(path));
	a = hit("fsync", path);
	if (before(a))
		return -1;
	r = REAL(fsync)(fd);
	after(a);
	return r;
}

int openat(int dirfd, const char *path, int flags, ...)
{
	enum action a = hit("openat", path);
	mode_t mode = 0;
	int r;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (before(a))
		return -1;
	r = REAL(openat)(dirfd, path, flags, mode);
	after(a);
	return r;
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	enum action a = hit("renameat", newpath);
	int r;

	if (before(a))
		return -1;
	r = REAL(renameat)(olddirfd, oldpath, newdirfd, newpath);
	after(a);
	return r;
}

int unlinkat(int dirfd, const char *path, int flags)
{
	enum action a = hit("unlinkat", path);
	int r;

	if (before(a))
		return -1;
	r = REAL(unlinkat)(dirfd, path, flags);
	after(a);
	return r;
}

static void log_line(int priority, const char *fmt, va_list ap)
{
	const char *file = getenv("VGPU_INJECT_LOG");
	char msg[2048];
	int fd;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!file)
		return;
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	dprintf(fd, "%d %s\n", LOG_PRI(priority), msg);
	close(fd);
}

/* _FORTIFY_SOURCE turns syslog() into __syslog_chk(): both are caught. */
void __syslog_chk(int priority, int flag, const char *fmt, ...);
void __vsyslog_chk(int priority, int flag, const char *fmt, va_list ap);

void __syslog_chk(int priority, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	log_line(priority, fmt, ap);
	va_end(ap);
}

void __vsyslog_chk(int priority, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	log_line(priority, fmt, ap);
}

void syslog(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(priority, fmt, ap);
	va_end(ap);
}

void vsyslog(int priority, const char *fmt, va_list ap)
{
	log_line(priority, fmt, ap);
}
