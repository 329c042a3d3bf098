/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "domxml.h"
#include "hook.h"
#include "log.h"
#include "owner.h"
#include "placement.h"

/* Everything one prepare or release works with. */
struct run {
	const struct hook_env *env;
	const char *name;            /* argv[1] */
	struct domxml *dom;
	struct config *cfg;
	struct mdev_sysfs sysfs;
	struct owner_store store;
	char *err;
	size_t errlen;
	FILE *plan;                  /* dry run: the plan goes here and nothing is changed */
	FILE *out;                   /* --cleanup: what is done goes here too */
	struct placement_taken taken;     /* dry run: the instances the plan has taken so far */
	long long deadline_ms;       /* release: when it must return (monotonic clock) */
	/* Everything the call allocates is reachable from here, so that the remover child
	 * (remove_within) frees it all before it exits (run_free). */
	struct owner_record *recs;   /* the records being gone through */
	size_t n_recs;
	struct placement_spec *specs;     /* prepare: the settings of each mdev */
	size_t n_specs;              /* initialised entries of @specs */
	struct owner_record *made;   /* prepare: what this call created */
};

/* Free what @run owns, and close its store. */
static void run_free(struct run *run)
{
	while (run->n_specs)
		placement_spec_free(&run->specs[--run->n_specs]);
	free(run->specs);
	free(run->made);
	free(run->recs);
	run->specs = NULL;
	run->made = run->recs = NULL;
	run->n_recs = 0;
	placement_taken_free(&run->taken);
	owner_close(&run->store);
	config_free(run->cfg);
	domxml_free(run->dom);
	run->cfg = NULL;
	run->dom = NULL;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hook_env_init(struct hook_env *env, const char *path)
{
	memset(env, 0, sizeof(*env));
	env->config_path = path;
	env->config_owner = 0;
	env->lock_timeout_ms = HOOK_LOCK_TIMEOUT_MS;
	env->retry_delay_ms = HOOK_RETRY_DELAY_MS;
	env->privileged = geteuid() == 0;
}

/* Set the one line for stderr, and log it. */
static void fail(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct run *run, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(run->err, run->errlen, fmt, ap);
	va_end(ap);
	log_err("%s", run->err);
}

static void say(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A dry run prints what it would do; a real one logs what it does. */
static void say(struct run *run, const char *fmt, ...)
{
	char msg[MSG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (run->plan) {
		log_line(run->plan, "", msg);
	} else {
		log_info("%s", msg);
		if (run->out)
			log_line(run->out, "", msg);
	}
}

static void note(struct run *run, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Log at @prio, and tell the person running --cleanup. */
static void note(struct run *run, int prio, const char *fmt, ...)
{
	char msg[MSG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (prio <= LOG_ERR)
		log_err("%s", msg);
	else if (prio == LOG_WARNING)
		log_warn("%s", msg);
	else
		log_info("%s", msg);
	if (run->out)
		log_line(run->out, "", msg);
}

/*
 * What the kernel's create errno means here, and what to do (research/hook-anchors.md 4.2).
 * @gvt: the parent is Intel GVT-g's (mdev_parent_is_gvt), whose causes are known; for the
 * others (NVIDIA, s390, the samples) the advice is what holds for every mdev driver.
 */
static const char *create_hint(int err, bool gvt)
{
	switch (err) {
	case ENOSPC:
		return gvt ? "no free instance: GVT-g aperture or fences exhausted, or all 7 vGPU "
			     "slots used; stop a guest using one or pick a smaller type: "
			     "vgpu-hook --types"
			   : "no free instance: the parent's resources are taken by its other "
			     "vGPUs; stop a guest using one or pick a smaller type: vgpu-hook --types";
	case EUSERS:
		return "no free instance left on this parent; stop a guest using one or pick "
		       "another type: vgpu-hook --types";
	case EEXIST:
		return "a device with this UUID exists on another parent; give the domain its "
		       "own UUID: vgpu-xml --add-vgpu";
	case ENOENT:
		return gvt ? "the type does not exist: GVT-g not enabled or type hidden by a "
			     "small aperture; see vgpu-hook --types"
			   : "the parent does not offer this type now (its driver was unloaded "
			     "or reconfigured); see vgpu-hook --types";
	case EINVAL:
		return "the kernel refused the UUID";
	case ENODEV:
		return "the parent device is being removed";
	default:
		return "see the kernel log (dmesg)";
	}
}

/*
 * Remove @uuid, retrying what the kernel says is transient. 0 also when already gone: a
 * missing remove file (ENOENT) or a deactivated one (ENODEV), but only once a look-up
 * confirms the device is gone, so that such an errno never drops the record of a device
 * that is still there.
 */
static int remove_bounded(struct run *run, const char *uuid, int retries)
{
	struct mdev_device dev;
	int r;

	for (int i = 0;; i++) {
		r = mdev_remove(&run->sysfs, uuid);
		if (r == -ENOENT || r == -ENODEV)
			return mdev_device_find(&run->sysfs, uuid, &dev) == -ENOENT ? 0 : r;
		if (r == 0)
			return 0;
		if ((r != -EBUSY && r != -EAGAIN) || i >= retries)
			return r;
		log_warn("%s: vGPU %s: remove: %s; retrying (%d of %d)", run->name, uuid,
			 strerror(-r), i + 1, retries);
		sleep_ms(run->env->retry_delay_ms);
	}
}

/* Whether @now still describes the device @was was written for. */
static bool same_record(const struct owner_record *now, const struct owner_record *was)
{
	return strcmp(now->mdev, was->mdev) == 0 &&
	       strcmp(now->domain_uuid, was->domain_uuid) == 0 && now->ino == was->ino;
}

/*
 * The background half of remove_within(): the remove runs here, in a child that holds
 * neither the lock nor any descriptor libvirt waits on (stdin, stdout, stderr), in its own
 * session. It reports to the hook on @sock; when the hook has gone (the socket is closed
 * without the hook's acknowledgement), it takes the lock itself and clears the record, if
 * the record still describes the device it removed. Never returns: it exits, with stdio
 * already flushed by the hook before fork(2).
 */
static void remover_child(struct run *run, const struct owner_record *rec, int retries,
			  int sock, int marker)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC), r;
	struct owner_record now, was = *rec;   /* @rec may be in @run->recs, freed below */
	char ack;

	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	owner_unlock(&run->store);   /* our copy of the lock's descriptor would keep it held */
	setsid();
	signal(SIGPIPE, SIG_IGN);
	r = remove_bounded(run, was.mdev, retries);
	if (write(sock, &r, sizeof(r)) == (ssize_t)sizeof(r) && read(sock, &ack, 1) == 1) {
		close(marker);   /* the hook got the result and does the rest */
		run_free(run);
		exit(0);
	}
	if (owner_lock(&run->store, HOOK_LOCK_TIMEOUT_MS) == 0 &&
	    owner_get(&run->store, was.mdev, &now) == 0 && same_record(&now, &was)) {
		if (r == 0 && owner_del(&run->store, was.mdev) == 0)
			log_info("%s: vGPU %s: the remove finished in the background: removed, "
				 "record cleared", run->name, was.mdev);
		else
			log_err("%s: vGPU %s: the remove in the background failed: %s; it stays "
				"recorded, and the next release, prepare or vgpu-hook --cleanup "
				"retries", run->name, was.mdev, strerror(r ? -r : errno));
	}
	owner_remover_end(&run->store, was.mdev, marker);
	run_free(run);
	exit(0);   /* not _exit(): libxml2's destructor frees its globals (stdio is flushed) */
}

/*
 * Remove the device of @rec, waiting at most until @run->deadline_ms. The remove itself runs
 * in a child (remover_child), because a write to `remove` on Linux 6.x can block without
 * bound and a signal then leaves the writer in state D (research/real-kernel.md 4).
 * Returns 0 (removed, or already gone); -EINPROGRESS (not finished in time: the child goes
 * on and clears the record when done; *@pid is its pid); -EALREADY (another remover runs);
 * or the remove's -errno.
 */
static int remove_within(struct run *run, const struct owner_record *rec, int retries, int *pid)
{
	struct pollfd pfd;
	int sv[2], marker, r = -EIO;
	long long left;
	pid_t child;
	ssize_t n;

	marker = owner_remover_begin(&run->store, rec->mdev);
	if (marker < 0)
		return marker == -EBUSY ? -EALREADY : marker;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		owner_remover_end(&run->store, rec->mdev, marker);
		return r;
	}
	fflush(NULL);
	child = fork();
	if (child < 0) {
		r = -errno;
		close(sv[0]);
		close(sv[1]);
		owner_remover_end(&run->store, rec->mdev, marker);
		return r;
	}
	if (child == 0) {
		close(sv[0]);
		remover_child(run, rec, retries, sv[1], marker);
	}
	close(sv[1]);
	close(marker);   /* the child's copy keeps the marker's flock */
	*pid = (int)child;
	pfd.fd = sv[0];
	pfd.events = POLLIN;
	for (;;) {
		left = run->deadline_ms - now_ms();
		n = left <= 0 ? 0 : poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		/* Out of time, or poll(2) itself failed: never wait for a child that may
		 * never finish. It sees the closed socket and finishes on its own. */
		if (n < 0 || (n == 0 && run->deadline_ms - now_ms() <= 0)) {
			close(sv[0]);
			return -EINPROGRESS;
		}
		if (n == 0)
			continue;
		n = read(sv[0], &r, sizeof(r));
		if (n == (ssize_t)sizeof(r)) {
			/* MSG_NOSIGNAL: a remover that just died must not take the hook along. */
			if (send(sv[0], "k", 1, MSG_NOSIGNAL) != 1)
				log_warn("%s: vGPU %s: cannot tell the remover: %s", run->name,
					 rec->mdev, strerror(errno));
			break;
		}
		if (n < 0 && errno == EINTR)
			continue;
		r = -EIO;   /* the child died without a word */
		break;
	}
	close(sv[0]);
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
	owner_remover_end(&run->store, rec->mdev, -1);
	return r;
}

/* Rewrite @rec with pending set: the release ran and the device stays for now. */
static void mark_pending(struct run *run, const struct owner_record *rec)
{
	struct owner_record now = *rec;
	int r;

	if (rec->pending)
		return;
	now.pending = true;
	r = owner_put(&run->store, &now);
	if (r < 0)
		log_err("%s: vGPU %s: cannot mark its record: %s", run->name, rec->mdev,
			strerror(-r));
}

/*
 * Finish the record @rec of a domain whose guest is gone (its release, a later one, or
 * --cleanup), with the lock held: remove the device unless something else holds it, within
 * the deadline, and drop the record once the device is gone. Logs what it does.
 */
static void release_one(struct run *run, const struct owner_record *rec)
{
	const int retries = config_remove_retries(run->cfg, rec->domain);
	struct mdev_holder h;
	struct mdev_device dev;
	char who[384];
	int r, pid = 0;

	if (owner_remover_active(&run->store, rec->mdev)) {
		note(run, LOG_INFO, "%s: vGPU %s: its remove is still running in the background; "
		     "it clears the record when done", run->name, rec->mdev);
		return;
	}
	r = mdev_device_find(&run->sysfs, rec->mdev, &dev);
	if (r == -ENOENT) {
		if (mdev_being_removed(&run->sysfs, rec->parent, rec->mdev)) {
			/* Another writer's remove waits in the kernel for the holder. */
			r = mdev_holder_find(&run->sysfs, rec->mdev, rec->parent, &h);
			note(run, LOG_WARNING, "%s: vGPU %s: a remove of it is waiting in the kernel "
			     "for %s; it stays recorded until it is gone", run->name, rec->mdev,
			     r == 1 ? mdev_holder_describe(&h, who, sizeof(who))
				    : "the process holding it");
			mark_pending(run, rec);
			return;
		}
		owner_del(&run->store, rec->mdev);
		note(run, LOG_INFO, "%s: vGPU %s (%s on %s) is gone: record dropped", run->name,
		     rec->mdev, rec->type, rec->parent);
		return;
	}
	if (r == 0 && rec->ino && dev.ino != rec->ino) {
		owner_del(&run->store, rec->mdev);
		note(run, LOG_WARNING, "%s: vGPU %s exists, but is not the device vgpu-hook "
		     "created for domain %s (it was created again since): left alone, and the "
		     "stale record dropped", run->name, rec->mdev, rec->domain);
		return;
	}
	if (r == 0 && mdev_holder_find(&run->sysfs, rec->mdev, NULL, &h) == 1) {
		mdev_holder_describe(&h, who, sizeof(who));
		if (h.domain_uuid[0] && strcmp(h.domain_uuid, rec->domain_uuid) != 0) {
			/* Moved to a running guest (detach-device, attach-device: no hook runs):
			 * that guest owns it now, and its release removes it. */
			struct owner_record now = *rec;

			str_copy(now.domain_uuid, sizeof(now.domain_uuid), h.domain_uuid);
			snprintf(now.domain, sizeof(now.domain), "%s",
				 h.domain[0] ? h.domain : h.domain_uuid);
			now.pending = false;
			r = owner_put(&run->store, &now);
			note(run, LOG_WARNING, "%s: vGPU %s, created for domain %s, is in use by %s: "
			     "left in place%s", run->name, rec->mdev, rec->domain, who,
			     r == 0 ? "; it belongs to that domain now and is removed when it stops"
				    : "; cannot hand its record over");
			return;
		}
		mark_pending(run, rec);
		note(run, LOG_WARNING, "%s: vGPU %s (%s on %s) is held by %s: left in place and "
		     "recorded; the next release, prepare or vgpu-hook --cleanup removes it once "
		     "it is let go", run->name, rec->mdev, rec->type, rec->parent, who);
		return;
	}
	if (run->deadline_ms - now_ms() <= 0) {
		mark_pending(run, rec);
		note(run, LOG_WARNING, "%s: vGPU %s: release_timeout reached before its remove: "
		     "left in place and recorded; the next release, prepare or vgpu-hook "
		     "--cleanup removes it", run->name, rec->mdev);
		return;
	}
	/* Marked first: if the remove does not finish in time, the record already says so. */
	mark_pending(run, rec);
	r = remove_within(run, rec, retries, &pid);
	if (r == -EINPROGRESS) {
		note(run, LOG_WARNING, "%s: vGPU %s: the remove did not finish within "
		     "release_timeout (%d s): it goes on in the background (pid %d) and clears "
		     "the record when done (if it waits for a process holding the vGPU: dmesg "
		     "says 'Device is currently in use')", run->name, rec->mdev,
		     run->cfg->release_timeout, pid);
		return;
	}
	if (r == -EALREADY) {
		note(run, LOG_INFO, "%s: vGPU %s: its remove is still running in the background",
		     run->name, rec->mdev);
		return;
	}
	if (r < 0) {
		note(run, LOG_ERR, "%s: cannot remove vGPU %s (%s on %s): %s; it stays recorded, "
		     "remove it by hand: echo 1 > %s/bus/mdev/devices/%s/remove", run->name,
		     rec->mdev, rec->type, rec->parent, strerror(-r), run->sysfs.root, rec->mdev);
		return;
	}
	r = owner_del(&run->store, rec->mdev);
	if (r < 0)
		log_err("%s: vGPU %s removed, but its record stays: %s", run->name, rec->mdev,
			strerror(-r));
	note(run, LOG_INFO, "%s: removed vGPU %s (%s on %s)", run->name, rec->mdev, rec->type,
	     rec->parent);
}

static int load_config(struct run *run)
{
	struct strv errors = { 0 };
	int r;

	r = config_load(run->env->config_path, run->env->config_owner, &run->cfg, &errors);
	if (r < 0) {
		if (errors.n)
			fail(run, "%s: %s%s", run->name, errors.v[0],
			     errors.n > 1 ? " (and more: vgpu-hook --check-config)" : "");
		else
			fail(run, "%s: %s: %s", run->name, run->env->config_path, strerror(-r));
	}
	strv_free(&errors);
	if (r == 0) {
		run->sysfs.root = run->cfg->sysfs_root;
		run->sysfs.write = run->env->write;
		run->sysfs.opaque = run->env->write_opaque;
		run->sysfs.proc_root = run->env->proc_root;
		run->sysfs.dev_root = run->env->dev_root;
	}
	return r;
}

static int open_store(struct run *run, bool create)
{
	int r = owner_open(run->cfg->state_dir, create, &run->store);

	if (r < 0 && !(r == -ENOENT && !create))
		fail(run, "%s: state directory %s: %s%s", run->name, run->cfg->state_dir,
		     strerror(-r),
		     r == -ELOOP ? ": it is a symlink; refusing it" :
		     r == -EPERM ? ": it must be a directory owned by root, mode 0700" : "");
	return r;
}

/* How long to wait for the lock: in a release, no longer than its deadline. */
static unsigned lock_wait_ms(const struct run *run)
{
	unsigned timeout = run->env->lock_timeout_ms;
	long long left;

	if (!run->deadline_ms)
		return timeout;
	left = run->deadline_ms - now_ms();
	return left <= 0 ? 0 : left < (long long)timeout ? (unsigned)left : timeout;
}

static int lock_store(struct run *run)
{
	int r = owner_lock(&run->store, lock_wait_ms(run));

	if (r < 0)
		fail(run, "%s: cannot lock %s/lock: %s%s", run->name, run->cfg->state_dir,
		     strerror(-r), r == -ETIMEDOUT ? ": another vgpu-hook is stuck" : "");
	return r;
}

static int read_domain(struct run *run, int in_fd)
{
	char *buf = NULL, err[MSG_LINE_MAX];
	size_t len = 0;
	int r;

	r = domxml_read_fd(in_fd, DOMXML_MAX_SIZE, &buf, &len);
	if (r < 0) {
		fail(run, "%s: cannot read the domain XML on stdin: %s", run->name,
		     r == -EFBIG ? "larger than 16 MiB" : strerror(-r));
		return r;
	}
	r = domxml_parse(buf, len, "stdin", &run->dom, err, sizeof(err));
	free(buf);
	if (r == -ENODATA)
		fail(run, "%s: no domain XML on stdin (a dispatcher hook must pass it on)",
		     run->name);
	else if (r < 0)
		fail(run, "%s: domain XML: %s", run->name, err);
	return r;
}

/* Undo what this call created, newest first. */
static void rollback(struct run *run, const struct owner_record *made, size_t n)
{
	int retries = config_remove_retries(run->cfg, run->dom->name);

	while (n--) {
		int r = remove_bounded(run, made[n].mdev, retries);

		if (r == 0) {
			owner_del(&run->store, made[n].mdev);
			log_info("%s: rolled back vGPU %s", run->name, made[n].mdev);
		} else {
			log_err("%s: rollback: cannot remove vGPU %s: %s; it stays recorded and "
				"the next release of this domain retries", run->name, made[n].mdev,
				strerror(-r));
		}
	}
}

/* The one line for a create the kernel refused with -@r. */
static void create_failed(struct run *run, const char *uuid, const struct placement_choice *c,
			  int r)
{
	bool gvt = mdev_parent_is_gvt(&run->sysfs, c->parent, c->type);
	struct mdev_holder h;
	char who[384];

	if (r == -EEXIST && mdev_being_removed(&run->sysfs, c->parent, uuid)) {
		/* Linux 6.x: the UUID's remove waits for its holder (research/real-kernel.md 4). */
		int found = mdev_holder_find(&run->sysfs, uuid, c->parent, &h);

		fail(run, "%s: cannot create vGPU %s: %s on %s: a remove of this vGPU is still "
		     "waiting for %s to let it go; start the domain once it has (dmesg: 'Device "
		     "is currently in use') (%s)", run->name, uuid, c->type, c->parent,
		     found == 1 ? mdev_holder_describe(&h, who, sizeof(who))
				: "the process holding it", strerror(-r));
		return;
	}
	fail(run, "%s: cannot create vGPU %s: %s on %s: %s (%s)", run->name, uuid, c->type,
	     c->parent, create_hint(-r, gvt), strerror(-r));
}

/*
 * Create one vGPU, recording ownership first so that a hook killed in between leaves a
 * record the next release (or prepare) of this domain completes. @made is filled once the
 * device exists, also when a later check fails (the caller then rolls it back).
 * Returns 0 or -errno (@run->err set).
 */
static int create_one(struct run *run, const char *uuid, const struct placement_spec *spec,
		      struct owner_record *made)
{
	struct owner_record rec;
	struct placement_choice c;
	struct mdev_device dev;
	char err[MSG_LINE_MAX];
	int r;

	r = placement_choose_after(&run->sysfs, spec, &run->taken, &c, err, sizeof(err));
	if (r < 0) {
		fail(run, "%s: cannot create vGPU %s: %s", run->name, uuid, err);
		return r;
	}
	if (run->plan) {
		say(run, "%s: would create vGPU %s: %s on %s (%lu free; from %s)", run->name, uuid,
		    c.type, c.parent, c.available, placement_source_name(spec->source));
		/* The real call takes it before the next vGPU is chosen: so does the plan. */
		return placement_take(&run->taken, &c);
	}
	if (!run->env->privileged) {
		fail(run, "%s: cannot create vGPU %s (%s on %s): only root can, and this hook "
		     "runs as uid %d (a per-user libvirt daemon); create it as root first: echo "
		     "%s > %s/class/mdev_bus/%s/mdev_supported_types/%s/create", run->name, uuid,
		     c.type, c.parent, (int)geteuid(), uuid, run->sysfs.root, c.parent, c.type);
		return -EPERM;
	}

	memset(&rec, 0, sizeof(rec));
	str_copy(rec.mdev, sizeof(rec.mdev), uuid);
	str_copy(rec.domain_uuid, sizeof(rec.domain_uuid), run->dom->uuid);
	snprintf(rec.domain, sizeof(rec.domain), "%s", run->dom->name);
	str_copy(rec.parent, sizeof(rec.parent), c.parent);
	str_copy(rec.type, sizeof(rec.type), c.type);
	r = owner_put(&run->store, &rec);
	if (r < 0) {
		/* It may have failed after the rename (fsync of the directory): drop it. */
		owner_del(&run->store, uuid);
		fail(run, "%s: cannot record vGPU %s in %s: %s", run->name, uuid,
		     run->cfg->state_dir, strerror(-r));
		return r;
	}
	r = mdev_create(&run->sysfs, c.parent, c.type, uuid);
	if (r < 0) {
		owner_del(&run->store, uuid);
		create_failed(run, uuid, &c, r);
		return r;
	}
	*made = rec;
	r = mdev_device_find(&run->sysfs, uuid, &dev);
	if (r == 0 && (strcmp(dev.parent, c.parent) || strcmp(dev.type, c.type))) {
		fail(run, "%s: vGPU %s: created as %s on %s, but %s/bus/mdev/devices/%s is %s "
		     "on %s", run->name, uuid, c.type, c.parent, run->sysfs.root, uuid,
		     dev.type, dev.parent);
		return -EIO;
	}
	if (r < 0) {
		fail(run, "%s: vGPU %s: created, but %s/bus/mdev/devices/%s %s%s; see the "
		     "kernel log (dmesg)", run->name, uuid, run->sysfs.root, uuid,
		     r == -ENOENT ? "did not appear" : "cannot be read: ",
		     r == -ENOENT ? "" : strerror(-r));
		return r;
	}
	/* The proof that this device is the one made here (mdev_device_find, mdev.h). */
	rec.ino = dev.ino;
	r = owner_put(&run->store, &rec);
	if (r < 0) {
		fail(run, "%s: vGPU %s: created, but cannot complete its record in %s: %s",
		     run->name, uuid, run->cfg->state_dir, strerror(-r));
		return r;
	}
	*made = rec;
	log_info("%s: created vGPU %s: %s on %s", run->name, uuid, c.type, c.parent);
	return 0;
}

/*
 * One mdev of the domain: keep it if this hook already made it for this domain (or for an
 * earlier definition of it: same name, another <uuid>), adopt it if someone else made it
 * with the right parent and type, refuse it if it belongs to another domain, is held by a
 * process, or does not match @spec (its settings), else create it. A record that does not
 * describe the device that exists (created again since: another inode) is stale, dropped.
 * Without privilege nothing is recorded or created: only an existing vGPU can be used.
 * @made is filled when this call created the device. Returns 0 or -errno (@run->err set).
 */
static int prepare_one(struct run *run, const char *uuid, const struct placement_spec *spec,
		       struct owner_record *made)
{
	struct owner_record rec;
	struct mdev_device dev;
	struct mdev_holder h;
	bool ours = false, earlier = false, held;
	char who[384];
	int r;

	/* A dry run on a host where the hook never ran has no state directory yet. */
	r = run->store.dirfd >= 0 ? owner_get(&run->store, uuid, &rec) : -ENOENT;
	if (r == -ENOENT) {
		memset(&rec, 0, sizeof(rec));
		r = 0;
	} else if (r < 0) {
		fail(run, "%s: ownership record %s/%s: %s", run->name, run->cfg->state_dir, uuid,
		     r == -EINVAL ? "malformed; remove it if the vGPU is not in use" : strerror(-r));
		return r;
	}
	if (rec.domain_uuid[0] && owner_remover_active(&run->store, uuid)) {
		fail(run, "%s: vGPU %s is still being removed (the release of domain %s could not "
		     "finish it: a process holds it, see dmesg); start the domain once it is gone",
		     run->name, uuid, rec.domain);
		return -EBUSY;
	}
	ours = rec.domain_uuid[0] && strcmp(rec.domain_uuid, run->dom->uuid) == 0;
	/* libvirt names are unique on a host: a record of this name with another UUID was
	 * made for an earlier definition of this domain, which cannot be running now. */
	earlier = rec.domain_uuid[0] && !ours && strcmp(rec.domain, run->dom->name) == 0;

	r = mdev_device_find(&run->sysfs, uuid, &dev);
	if (r == 0 && rec.domain_uuid[0] && rec.ino && rec.ino != dev.ino) {
		if (!run->plan)
			owner_del(&run->store, uuid);
		log_warn("%s: vGPU %s: the record for domain %s is stale (the device was created "
			 "again since, not by this hook for it): %s", run->name, uuid, rec.domain,
			 run->plan ? "it would be dropped" : "dropped");
		memset(&rec, 0, sizeof(rec));
		ours = earlier = false;
	}
	if (r == 0) {
		held = mdev_holder_find(&run->sysfs, uuid, NULL, &h) == 1;
		if (held)
			mdev_holder_describe(&h, who, sizeof(who));
		if (rec.domain_uuid[0] && !ours && !earlier) {
			if (held)
				fail(run, "%s: vGPU %s is in use by domain %s (vgpu-hook created it "
				     "for that domain; %s holds it); give this domain its own UUID: "
				     "vgpu-xml --add-vgpu", run->name, uuid, rec.domain, who);
			else
				fail(run, "%s: vGPU %s is in use by domain %s (vgpu-hook created it "
				     "for that domain, and no process holds it now: if %s is not "
				     "running, vgpu-hook --forget %s clears the record); give this "
				     "domain its own UUID: vgpu-xml --add-vgpu", run->name, uuid,
				     rec.domain, rec.domain, uuid);
			r = -EBUSY;
		} else if (held) {
			fail(run, "%s: vGPU %s is held by %s, so another guest uses it; stop that "
			     "guest, or give this domain its own UUID: vgpu-xml --add-vgpu",
			     run->name, uuid, who);
			r = -EBUSY;
		} else if (!placement_spec_matches(spec, dev.parent, dev.type)) {
			char *types = strv_join(&spec->types, " ");

			fail(run, "%s: vGPU %s exists as %s on %s, but the domain asks for %s on "
			     "%s (%s); remove that device or change the settings", run->name, uuid,
			     dev.type, dev.parent, types ? types : "?", spec->parent,
			     placement_source_name(spec->source));
			free(types);
			r = -EEXIST;
		} else if (ours || earlier) {
			if ((earlier || rec.pending) && !run->plan) {
				struct owner_record now = rec;

				str_copy(now.domain_uuid, sizeof(now.domain_uuid), run->dom->uuid);
				now.pending = false;
				r = owner_put(&run->store, &now);
				if (r < 0) {
					fail(run, "%s: cannot update the record of vGPU %s in %s: %s",
					     run->name, uuid, run->cfg->state_dir, strerror(-r));
					return r;
				}
			}
			say(run, "%s: vGPU %s (%s on %s) exists and was created by vgpu-hook for "
			    "this domain%s: kept", run->name, uuid, dev.type, dev.parent,
			    earlier ? " (an earlier definition of it, with another <uuid>)" : "");
		} else {
			say(run, "%s: vGPU %s (%s on %s) exists and was not created by vgpu-hook: "
			    "%s, never removed at release", run->name, uuid, dev.type, dev.parent,
			    run->plan ? "would use it" : "using it");
		}
		return r;
	}
	if (r != -ENOENT) {
		fail(run, "%s: cannot inspect %s/bus/mdev/devices/%s: %s", run->name,
		     run->sysfs.root, uuid, strerror(-r));
		return r;
	}
	if (rec.domain_uuid[0] && !ours)
		log_warn("%s: dropping the record of vGPU %s for %s%s: the device is gone",
			 run->name, uuid, earlier ? "an earlier definition of this domain, " : "",
			 rec.domain);
	return create_one(run, uuid, spec, made);
}

/*
 * With the lock held: finish every record a release left pending (its domain is gone),
 * except those of vGPUs @dom asks for (prepare_one keeps or refuses them). Bounded by
 * @run->deadline_ms.
 */
static void finish_pending(struct run *run, const struct domxml *dom)
{
	if (owner_list(&run->store, &run->recs, &run->n_recs) < 0)
		return;
	for (size_t i = 0; i < run->n_recs; i++) {
		bool wanted = false;

		for (size_t k = 0; dom && k < dom->n_mdevs; k++)
			wanted = wanted || strcmp(dom->mdevs[k].uuid, run->recs[i].mdev) == 0;
		if (run->recs[i].pending && !wanted)
			release_one(run, &run->recs[i]);
	}
	free(run->recs);
	run->recs = NULL;
	run->n_recs = 0;
}

static int do_prepare(struct run *run, int in_fd)
{
	struct owner_record *made;
	struct placement_spec *specs;
	size_t n_made = 0;
	int r = 0;

	if (read_domain(run, in_fd) < 0)
		return 1;
	if (run->dom->n_mdevs == 0) {
		if (run->plan)
			say(run, "%s: no mdev hostdev: nothing to do", run->name);
		return 0;
	}
	if (!run->dom->uuid[0]) {
		fail(run, "%s: the domain XML has no <uuid>", run->name);
		return 1;
	}
	if (load_config(run) < 0)
		return 1;
	/* Every setting is checked before the state directory is made or locked: a refused
	 * domain touches nothing, also on a host where the hook never ran. */
	specs = run->specs = calloc(run->dom->n_mdevs, sizeof(*specs));
	made = run->made = calloc(run->dom->n_mdevs, sizeof(*made));
	if (!specs || !made) {
		fail(run, "%s: out of memory", run->name);
		r = -ENOMEM;
		goto out;
	}
	for (; run->n_specs < run->dom->n_mdevs; run->n_specs++) {
		char err[MSG_LINE_MAX];

		r = placement_spec_get(run->cfg, run->dom, run->dom->mdevs[run->n_specs].uuid,
				  &specs[run->n_specs], err, sizeof(err));
		if (r < 0) {
			run->n_specs++;   /* initialised all the same */
			fail(run, "%s", err);
			goto out;
		}
	}
	if (!run->env->privileged) {
		/* A per-user daemon: only root keeps records and creates vGPUs, so existing
		 * ones are used and nothing is touched (create_one refuses what is missing). */
		run->store.dirfd = -1;
	} else {
		r = open_store(run, !run->plan);
		if (r == -ENOENT && run->plan)
			run->store.dirfd = -1;
		else if (r < 0 || (!run->plan && (r = lock_store(run)) < 0))
			goto out;
	}
	if (run->store.lockfd >= 0) {
		/* What earlier releases left, once let go; bounded as a release is. */
		run->deadline_ms = now_ms() + 1000LL * run->cfg->release_timeout;
		finish_pending(run, run->dom);
		run->deadline_ms = 0;
	}

	for (size_t i = 0; i < run->dom->n_mdevs; i++) {
		r = prepare_one(run, run->dom->mdevs[i].uuid, &specs[i], &made[n_made]);
		if (made[n_made].mdev[0])
			n_made++;
		if (r < 0)
			break;
	}
	if (r < 0 && !run->plan)
		rollback(run, made, n_made);
out:
	return r < 0 ? 1 : 0;   /* hook_run frees what @run holds */
}

/*
 * Whether @rec was made for this domain: by its UUID; or by name, when the XML was unusable
 * or for an earlier definition of the domain (libvirt names are unique on a host, so that
 * one cannot be running). release_one() leaves it alone if anything still holds it.
 */
static bool record_is_mine(const struct run *run, const struct owner_record *rec)
{
	if (run->dom && run->dom->uuid[0] && strcmp(rec->domain_uuid, run->dom->uuid) == 0)
		return true;
	return strcmp(rec->domain, run->name) == 0;
}

static int do_release(struct run *run, int in_fd)
{
	struct owner_record *recs;
	long long start = now_ms();
	size_t n = 0;
	int r;

	/* Only root creates vGPUs and keeps records: a per-user daemon has nothing to remove. */
	if (!run->env->privileged)
		return 0;
	/* A failure here must not hide the prepare error libvirt already holds: log only. */
	if (read_domain(run, in_fd) < 0)
		log_warn("%s: release: matching ownership records by name", run->name);
	if (load_config(run) < 0)
		return 0;
	/* The whole call, the lock wait included, takes at most this long. */
	run->deadline_ms = start + 1000LL * run->cfg->release_timeout;
	r = open_store(run, false);
	if (r == -ENOENT) {
		if (run->plan)
			say(run, "%s: no vGPU recorded: nothing to remove", run->name);
		return 0;
	}
	if (r < 0)
		return 0;
	/*
	 * Records are replaced by rename(2), so they can be read without the lock; and libvirt
	 * runs one operation of a domain at a time, so no other hook changes this domain's
	 * records meanwhile. The lock is taken only when there is something to do: the
	 * release of every other guest neither waits for it nor holds it.
	 */
	r = owner_list(&run->store, &run->recs, &run->n_recs);
	recs = run->recs;
	n = run->n_recs;
	if (r < 0) {
		fail(run, "%s: cannot list %s: %s", run->name, run->cfg->state_dir, strerror(-r));
		return 0;
	}
	{
		size_t keep = 0;

		/* This domain's, and what earlier releases left (finished once let go). */
		for (size_t i = 0; i < n; i++)
			if (record_is_mine(run, &recs[i]) || recs[i].pending)
				recs[keep++] = recs[i];
		n = keep;
	}
	if (n && !run->plan && (r = owner_lock(&run->store, lock_wait_ms(run))) < 0) {
		log_warn("%s: nothing removed: cannot lock %s/lock within release_timeout (%d s): "
			 "%s; the next release, prepare or vgpu-hook --cleanup does it", run->name,
			 run->cfg->state_dir, run->cfg->release_timeout, strerror(-r));
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const struct owner_record *rec = &recs[i];
		struct owner_record now;

		if (run->plan) {
			say(run, "%s: would remove vGPU %s (%s on %s), created for %s", run->name,
			    rec->mdev, rec->type, rec->parent,
			    record_is_mine(run, rec) ? "this domain" : rec->domain);
			continue;
		}
		/* Read again under the lock: another domain's prepare may have taken over a
		 * stale record of ours (device gone) and reused its UUID meanwhile. */
		if (owner_get(&run->store, rec->mdev, &now) < 0 ||
		    !(record_is_mine(run, &now) || now.pending))
			continue;
		release_one(run, &now);
	}
	return 0;
}

int hook_cleanup(const struct hook_env *env, FILE *out, char *err, size_t errlen)
{
	struct run run = {
		.env = env, .name = "cleanup", .err = err, .errlen = errlen, .out = out,
		.store = { .dirfd = -1, .lockfd = -1 },
	};
	int status = 1, r;

	err[0] = '\0';
	if (load_config(&run) < 0)
		goto out;
	r = open_store(&run, false);
	if (r == -ENOENT) {
		fprintf(out, "no vGPU recorded in %s: nothing to do\n", run.cfg->state_dir);
		status = 0;
		goto out;
	}
	if (r < 0 || lock_store(&run) < 0)
		goto out;
	run.deadline_ms = now_ms() + 1000LL * run.cfg->release_timeout;
	r = owner_list(&run.store, &run.recs, &run.n_recs);
	if (r < 0) {
		fail(&run, "cannot list %s: %s", run.cfg->state_dir, strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < run.n_recs; i++) {
		const struct owner_record *rec = &run.recs[i];
		struct mdev_device dev;

		time_t written;

		r = mdev_device_find(&run.sysfs, rec->mdev, &dev);
		if (rec->pending || r == -ENOENT || (r == 0 && rec->ino && rec->ino != dev.ino)) {
			release_one(&run, rec);
		} else if (r == 0 && env->reclaim_idle_s &&
			   owner_mtime(&run.store, rec->mdev, &written) == 0 &&
			   time(NULL) - written >= (time_t)env->reclaim_idle_s) {
			note(&run, LOG_NOTICE, "vGPU %s of domain %s: its record is %lld s old: "
			     "reclaiming it unless a process holds it", rec->mdev, rec->domain,
			     (long long)(time(NULL) - written));
			release_one(&run, rec);
		} else
			fprintf(out, "vGPU %s (%s on %s): kept, domain %s's (it runs or starts; "
				"its release removes it)\n", rec->mdev, rec->type, rec->parent,
				rec->domain);
	}
	status = 0;
out:
	run_free(&run);
	return status;
}

int hook_run(const struct hook_env *env, const char *name, const char *op, const char *subop,
	     const char *extra, int in_fd, char *err, size_t errlen)
{
	struct run run = {
		.env = env, .name = name, .err = err, .errlen = errlen, .plan = env->plan_out,
		.store = { .dirfd = -1, .lockfd = -1 },
	};
	int status = 0;

	err[0] = '\0';
	if (strcmp(op, "prepare") == 0 && strcmp(subop, "begin") == 0) {
		status = do_prepare(&run, in_fd);
	} else if (strcmp(op, "release") == 0 && strcmp(subop, "end") == 0) {
		status = do_release(&run, in_fd);
		err[0] = '\0';   /* always 0: failures are logged */
	} else if (run.plan) {
		say(&run, "%s: %s %s %s: nothing to do", name, op, subop, extra);
	}
	run_free(&run);
	if (run.plan && status) {
		fprintf(run.plan, "%s: would fail: ", name);
		log_line(run.plan, "", err);
	}
	return status;
}
