/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hook's doing step (hook-int.h): carry out a plan, and undo a prepare that fails; the
 * removes of a release, each bounded by its deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "hook-int.h"
#include "log.h"

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

void release_one(struct run *run, const struct owner_record *rec)
{
	const int retries = config_remove_retries(run->cfg, rec->domain);
	struct mdev_holder h;
	struct mdev_device dev;
	char who[384];
	int r, fd, pid = 0;
	bool held = false;

	if (owner_remover_active(&run->store, rec->mdev)) {
		note(run, LOG_INFO, "%s: vGPU %s: its remove is still running in the background; "
		     "it clears the record when done", run->name, rec->mdev);
		return;
	}
	/* One lookup of the device for what it is and, when it is the one recorded, who
	 * holds it. */
	r = fd = mdev_device_open(&run->sysfs, rec->mdev, &dev);
	if (fd >= 0) {
		if (!rec->ino || dev.ino == rec->ino)
			held = mdev_holder_find_at(&run->sysfs, fd, &h) == 1;
		close(fd);
		r = 0;
	}
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
	if (r == 0 && held) {
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
 * Carry out the ACTION_CREATE @a: record ownership first, so that a hook killed in between
 * leaves a record the next release (or prepare) of this domain completes, then create, then
 * check that the device is the one asked for and complete the record with its inode.
 * @made is filled once the device exists, also when a later check fails (the caller then
 * rolls it back). Without privilege nothing is created (a per-user daemon).
 * Returns 0 or -errno (@run->err set and logged).
 */
static int create_one(struct run *run, const struct action *a, struct owner_record *made)
{
	const struct placement_choice *c = &a->where;
	const char *uuid = a->uuid;
	struct owner_record rec;
	struct mdev_device dev;
	int r;

	if (!run->env->privileged) {
		fail(run, "%s: cannot create vGPU %s (%s on %s): only root can, and this hook "
		     "runs as uid %d (a per-user libvirt daemon); create it as root first: echo "
		     "%s > %s/class/mdev_bus/%s/mdev_supported_types/%s/create", run->name, uuid,
		     c->type, c->parent, (int)geteuid(), uuid, run->sysfs.root, c->parent,
		     c->type);
		return -EPERM;
	}
	if (a->replaces)
		log_warn("%s: dropping the record of vGPU %s for %s%s: the device is gone",
			 run->name, uuid, a->earlier ? "an earlier definition of this domain, "
			 : "", a->rec.domain);

	memset(&rec, 0, sizeof(rec));
	str_copy(rec.mdev, sizeof(rec.mdev), uuid);
	str_copy(rec.domain_uuid, sizeof(rec.domain_uuid), run->dom->uuid);
	snprintf(rec.domain, sizeof(rec.domain), "%s", run->dom->name);
	str_copy(rec.parent, sizeof(rec.parent), c->parent);
	str_copy(rec.type, sizeof(rec.type), c->type);
	r = owner_put(&run->store, &rec);
	if (r < 0) {
		/* It may have failed after the rename (fsync of the directory): drop it. */
		owner_del(&run->store, uuid);
		fail(run, "%s: cannot record vGPU %s in %s: %s", run->name, uuid,
		     run->cfg->state_dir, strerror(-r));
		return r;
	}
	r = mdev_create(&run->sysfs, c->parent, c->type, uuid);
	if (r < 0) {
		owner_del(&run->store, uuid);
		create_failed(run, uuid, c, r);
		return r;
	}
	*made = rec;
	r = mdev_device_find(&run->sysfs, uuid, &dev);
	if (r == 0 && (strcmp(dev.parent, c->parent) || strcmp(dev.type, c->type))) {
		fail(run, "%s: vGPU %s: created as %s on %s, but %s/bus/mdev/devices/%s is %s "
		     "on %s", run->name, uuid, c->type, c->parent, run->sysfs.root, uuid,
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
	log_info("%s: created vGPU %s: %s on %s", run->name, uuid, c->type, c->parent);
	return 0;
}

/*
 * Carry out the ACTION_KEEP @a: a record of an earlier definition of this domain, or one a
 * release left pending, is this domain's again. Returns 0 or -errno (@run->err set).
 */
static int keep_one(struct run *run, const struct action *a)
{
	char line[MSG_LINE_MAX];
	int r;

	if (a->earlier || a->rec.pending) {
		struct owner_record now = a->rec;

		str_copy(now.domain_uuid, sizeof(now.domain_uuid), run->dom->uuid);
		now.pending = false;
		r = owner_put(&run->store, &now);
		if (r < 0) {
			fail(run, "%s: cannot update the record of vGPU %s in %s: %s", run->name,
			     a->uuid, run->cfg->state_dir, strerror(-r));
			return r;
		}
	}
	action_line(run, a, true, line, sizeof(line));
	log_info("%s", line);
	return 0;
}

int apply_prepare(struct run *run)
{
	const struct plan *plan = &run->plan;
	struct owner_record *made = NULL;
	char line[MSG_LINE_MAX];
	size_t n_made = 0;
	int r = 0, retries;

	/* All or nothing: a refused domain touches nothing. */
	if (plan->n && plan->v[plan->n - 1].kind == ACTION_REFUSE) {
		log_quiet(LOG_ERR, "%s", run->err);   /* the caller prints run->err (fail()) */
		return plan->v[plan->n - 1].err;
	}
	made = calloc(plan->n ? plan->n : 1, sizeof(*made));
	if (!made) {
		fail(run, "%s: out of memory", run->name);
		return -ENOMEM;
	}
	for (size_t i = 0; i < plan->n && r == 0; i++) {
		const struct action *a = &plan->v[i];

		if (a->stale) {
			owner_del(&run->store, a->uuid);
			log_warn("%s: vGPU %s: the record for domain %s is stale (the device was "
				 "created again since, not by this hook for it): dropped",
				 run->name, a->uuid, a->rec.domain);
		}
		switch (a->kind) {
		case ACTION_KEEP:
			r = keep_one(run, a);
			break;
		case ACTION_ADOPT:
			action_line(run, a, true, line, sizeof(line));
			log_info("%s", line);
			break;
		case ACTION_CREATE:
			r = create_one(run, a, &made[n_made]);
			if (made[n_made].mdev[0])
				n_made++;
			break;
		case ACTION_REFUSE:
		case ACTION_REMOVE:
			r = -EINVAL;   /* not in a prepare's plan */
			break;
		}
	}
	if (r < 0)
		goto rollback;
	free(made);
	return 0;

rollback:
	/* What this call created goes again, newest first; what it kept or adopted stays. A
	 * vGPU that cannot be removed keeps its record, so that a release finishes it. */
	retries = config_remove_retries(run->cfg, run->dom->name);
	while (n_made--) {
		int e = remove_bounded(run, made[n_made].mdev, retries);

		if (e == 0) {
			owner_del(&run->store, made[n_made].mdev);
			log_info("%s: rolled back vGPU %s", run->name, made[n_made].mdev);
		} else {
			log_err("%s: rollback: cannot remove vGPU %s: %s; it stays recorded and "
				"the next release of this domain retries", run->name,
				made[n_made].mdev, strerror(-e));
		}
	}
	free(made);
	return r;
}

void apply_pending(struct run *run, const struct domxml *dom)
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

void apply_release(struct run *run)
{
	int r;

	if (run->plan.n && (r = owner_lock(&run->store, lock_wait_ms(run))) < 0) {
		log_warn("%s: nothing removed: cannot lock %s/lock within release_timeout (%d s): "
			 "%s; the next release, prepare or vgpu-hook --cleanup does it", run->name,
			 run->cfg->state_dir, run->cfg->release_timeout, strerror(-r));
		return;
	}
	for (size_t i = 0; i < run->plan.n; i++) {
		const struct owner_record *rec = &run->plan.v[i].rec;
		struct owner_record now;

		/* Read again under the lock: another domain's prepare may have taken over a
		 * stale record of ours (device gone) and reused its UUID meanwhile. */
		if (owner_get(&run->store, rec->mdev, &now) < 0 ||
		    !(record_is_mine(run, &now) || now.pending))
			continue;
		release_one(run, &now);
	}
}
