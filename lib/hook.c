/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "domxml.h"
#include "hook.h"
#include "log.h"
#include "owner.h"
#include "plan.h"

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
};

void hook_env_init(struct hook_env *env, const char *path)
{
	memset(env, 0, sizeof(*env));
	env->config_path = path;
	env->config_owner = 0;
	env->lock_timeout_ms = HOOK_LOCK_TIMEOUT_MS;
	env->retry_delay_ms = HOOK_RETRY_DELAY_MS;
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
	if (run->plan)
		fprintf(run->plan, "%s\n", msg);
	else
		log_info("%s", msg);
}

/* What the kernel's create errno means here, and what to do (research/hook-anchors.md 4.2). */
static const char *create_hint(int err)
{
	switch (err) {
	case ENOSPC:
		return "no free instance: GVT-g aperture or fences exhausted, or all 7 vGPU slots "
		       "used; stop a guest using one or pick a smaller type: vgpu-hook --types";
	case EUSERS:
		return "no free instance left on this parent; stop a guest using one or pick "
		       "another type: vgpu-hook --types";
	case EEXIST:
		return "a device with this UUID exists on another parent; give the domain its "
		       "own UUID: vgpu-xml --add-vgpu";
	case ENOENT:
		return "the type does not exist: GVT-g not enabled or type hidden by a small "
		       "aperture; see vgpu-hook --types";
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

static int lock_store(struct run *run)
{
	int r = owner_lock(&run->store, run->env->lock_timeout_ms);

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

/*
 * Create one vGPU, recording ownership first so that a hook killed in between leaves a
 * record the next release (or prepare) of this domain completes. @made is filled once the
 * device exists, also when a later check fails (the caller then rolls it back).
 * Returns 0 or -errno (@run->err set).
 */
static int create_one(struct run *run, const char *uuid, const struct plan_spec *spec,
		      struct owner_record *made)
{
	struct owner_record rec;
	struct plan_choice c;
	struct mdev_device dev;
	char err[MSG_LINE_MAX];
	int r;

	r = plan_choose(&run->sysfs, spec, &c, err, sizeof(err));
	if (r < 0) {
		fail(run, "%s: cannot create vGPU %s: %s", run->name, uuid, err);
		return r;
	}
	if (run->plan) {
		say(run, "%s: would create vGPU %s: %s on %s (%lu free; from %s)", run->name, uuid,
		    c.type, c.parent, c.available, plan_source_name(spec->source));
		return 0;
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
		fail(run, "%s: cannot create vGPU %s: %s on %s: %s (%s)", run->name, uuid, c.type,
		     c.parent, create_hint(-r), strerror(-r));
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
	log_info("%s: created vGPU %s: %s on %s", run->name, uuid, c.type, c.parent);
	return 0;
}

/*
 * One mdev of the domain: keep it if this hook already made it for this domain, adopt it
 * if someone else made it with the right parent and type, refuse it if it belongs to
 * another domain or does not match @spec (its settings), else create it.
 * @made is filled when this call created the device. Returns 0 or -errno (@run->err set).
 */
static int prepare_one(struct run *run, const char *uuid, const struct plan_spec *spec,
		       struct owner_record *made)
{
	struct owner_record rec;
	struct mdev_device dev;
	bool ours = false;
	int r;

	/* A dry run on a host where the hook never ran has no state directory yet. */
	r = run->store.dirfd >= 0 ? owner_get(&run->store, uuid, &rec) : -ENOENT;
	if (r == -ENOENT) {
		rec.domain_uuid[0] = '\0';
		r = 0;
	} else if (r < 0) {
		fail(run, "%s: ownership record %s/%s: %s", run->name, run->cfg->state_dir, uuid,
		     r == -EINVAL ? "malformed; remove it if the vGPU is not in use" : strerror(-r));
		return r;
	}
	ours = rec.domain_uuid[0] && strcmp(rec.domain_uuid, run->dom->uuid) == 0;

	r = mdev_device_find(&run->sysfs, uuid, &dev);
	if (r == 0) {
		if (rec.domain_uuid[0] && !ours) {
			fail(run, "%s: vGPU %s is in use by domain %s (vgpu-hook created it for "
			     "that domain); give this domain its own UUID: vgpu-xml --add-vgpu",
			     run->name, uuid, rec.domain);
			r = -EBUSY;
		} else if (!plan_spec_matches(spec, dev.parent, dev.type)) {
			char *types = strv_join(&spec->types, " ");

			fail(run, "%s: vGPU %s exists as %s on %s, but the domain asks for %s on "
			     "%s (%s); remove that device or change the settings", run->name, uuid,
			     dev.type, dev.parent, types ? types : "?", spec->parent,
			     plan_source_name(spec->source));
			free(types);
			r = -EEXIST;
		} else if (ours) {
			say(run, "%s: vGPU %s (%s on %s) exists and was created by vgpu-hook for "
			    "this domain: kept", run->name, uuid, dev.type, dev.parent);
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
		log_warn("%s: dropping stale record of vGPU %s for domain %s: the device is gone",
			 run->name, uuid, rec.domain);
	r = create_one(run, uuid, spec, made);
	return r;
}

static int do_prepare(struct run *run, int in_fd)
{
	struct owner_record *made = NULL;
	struct plan_spec *specs = NULL;
	size_t n_made = 0, n_specs = 0;
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
	specs = calloc(run->dom->n_mdevs, sizeof(*specs));
	made = calloc(run->dom->n_mdevs, sizeof(*made));
	if (!specs || !made) {
		fail(run, "%s: out of memory", run->name);
		r = -ENOMEM;
		goto out;
	}
	for (; n_specs < run->dom->n_mdevs; n_specs++) {
		char err[MSG_LINE_MAX];

		r = plan_spec_get(run->cfg, run->dom, run->dom->mdevs[n_specs].uuid,
				  &specs[n_specs], err, sizeof(err));
		if (r < 0) {
			n_specs++;   /* initialised all the same */
			fail(run, "%s", err);
			goto out;
		}
	}
	r = open_store(run, !run->plan);
	if (r == -ENOENT && run->plan)
		run->store.dirfd = -1;
	else if (r < 0 || (!run->plan && (r = lock_store(run)) < 0))
		goto out;

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
	while (n_specs--)
		plan_spec_free(&specs[n_specs]);
	free(specs);
	free(made);
	return r < 0 ? 1 : 0;
}

/* Whether @rec was made for this domain: by its UUID, or by name when the XML was unusable. */
static bool record_is_mine(const struct run *run, const struct owner_record *rec)
{
	if (run->dom && run->dom->uuid[0])
		return strcmp(rec->domain_uuid, run->dom->uuid) == 0;
	return strcmp(rec->domain, run->name) == 0;
}

static int do_release(struct run *run, int in_fd)
{
	struct owner_record *recs = NULL;
	size_t n = 0;
	int r;

	/* A failure here must not hide the prepare error libvirt already holds: log only. */
	if (read_domain(run, in_fd) < 0) {
		log_warn("%s: release: matching ownership records by name", run->name);
	} else if (run->dom->n_mdevs == 0 && geteuid() != 0) {
		return 0;   /* only root can create vGPUs: nothing of ours to remove */
	}
	if (load_config(run) < 0)
		return 0;
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
	 * records meanwhile. The lock is taken only when there is something to remove: the
	 * release of every other guest neither waits for it nor holds it.
	 */
	r = owner_list(&run->store, &recs, &n);
	if (r < 0) {
		fail(run, "%s: cannot list %s: %s", run->name, run->cfg->state_dir, strerror(-r));
		return 0;
	}
	{
		size_t keep = 0;

		for (size_t i = 0; i < n; i++)
			if (record_is_mine(run, &recs[i]))
				recs[keep++] = recs[i];
		n = keep;
	}
	if (n && !run->plan && lock_store(run) < 0) {
		free(recs);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const struct owner_record *rec = &recs[i];
		struct owner_record now;

		/* Read again under the lock: another domain's prepare may have taken over a
		 * stale record of ours (device gone) and reused its UUID meanwhile. */
		if (!run->plan && (owner_get(&run->store, rec->mdev, &now) < 0 ||
				   !record_is_mine(run, &now)))
			continue;
		if (run->plan) {
			say(run, "%s: would remove vGPU %s (%s on %s), created for this domain",
			    run->name, rec->mdev, rec->type, rec->parent);
			continue;
		}
		r = remove_bounded(run, rec->mdev, config_remove_retries(run->cfg, run->name));
		if (r < 0) {
			fail(run, "%s: cannot remove vGPU %s (%s on %s): %s; it stays recorded, "
			     "remove it by hand: echo 1 > %s/bus/mdev/devices/%s/remove",
			     run->name, rec->mdev, rec->type, rec->parent, strerror(-r),
			     run->sysfs.root, rec->mdev);
			continue;
		}
		r = owner_del(&run->store, rec->mdev);
		if (r < 0)
			log_err("%s: vGPU %s removed, but its record stays: %s", run->name,
				rec->mdev, strerror(-r));
		log_info("%s: removed vGPU %s (%s on %s)", run->name, rec->mdev, rec->type,
			 rec->parent);
	}
	free(recs);
	return 0;
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
	owner_close(&run.store);
	config_free(run.cfg);
	domxml_free(run.dom);
	if (run.plan && status)
		fprintf(run.plan, "%s: would fail: %s\n", name, err);
	return status;
}
