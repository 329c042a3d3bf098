/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hook's calls (hook.h): each reads its input, loads the config and opens the store,
 * then decides (decide.c) and, unless it is a dry run, carries the plan out (apply.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "hook-int.h"
#include "log.h"

void run_free(struct run *run)
{
	while (run->n_specs)
		placement_spec_free(&run->specs[--run->n_specs]);
	free(run->specs);
	free(run->recs);
	run->specs = NULL;
	run->recs = NULL;
	run->n_recs = 0;
	plan_free(&run->plan);
	owner_close(&run->store);
	config_free(run->cfg);
	domxml_free(run->dom);
	run->cfg = NULL;
	run->dom = NULL;
}

long long now_ms(void)
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

void fail(struct run *run, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(run->err, run->errlen, fmt, ap);
	va_end(ap);
	/* Syslog only: the caller prints run->err itself, once (hook.h). */
	log_quiet(LOG_ERR, "%s", run->err);
}

void note(struct run *run, int prio, const char *fmt, ...)
{
	char msg[MSG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A host tool's report says it on stdout: not on stderr again. */
	if (run->out) {
		log_quiet(prio, "%s", msg);
		log_line(run->out, "", msg);
	} else
		log_msg(prio, "%s", msg);
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


unsigned lock_wait_ms(const struct run *run)
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

/* What a dry run prints when the call does nothing: "NAME: @what". */
static void idle(struct run *run, const char *what)
{
	if (asprintf(&run->plan.idle, "%s: %s", run->name, what) < 0)
		run->plan.idle = NULL;
}

static int do_prepare(struct run *run, int in_fd)
{
	/* What a dry run leaves out: making the state directory, taking the lock, finishing
	 * what earlier releases left, and carrying out the plan. */
	const bool carry_out = !run->dry;
	int r;

	if (read_domain(run, in_fd) < 0)
		return 1;
	if (run->dom->n_mdevs == 0) {
		idle(run, "no mdev hostdev: nothing to do");
		goto decided;
	}
	if (!run->dom->uuid[0]) {
		fail(run, "%s: the domain XML has no <uuid>", run->name);
		return 1;
	}
	if (load_config(run) < 0 || decide_settings(run) < 0)
		return 1;
	if (!run->env->privileged) {
		/* A per-user daemon: only root keeps records and creates vGPUs, so existing
		 * ones are used and nothing is touched (create_one refuses what is missing). */
		run->store.dirfd = -1;
	} else {
		r = open_store(run, carry_out);
		if (r == -ENOENT && !carry_out)
			run->store.dirfd = -1;   /* the hook never ran here: no record yet */
		else if (r < 0 || (carry_out && lock_store(run) < 0))
			return 1;
	}
	if (run->store.lockfd >= 0) {
		/* What earlier releases left, once let go; bounded as a release is. */
		run->deadline_ms = now_ms() + 1000LL * run->cfg->release_timeout;
		apply_pending(run, run->dom);
		run->deadline_ms = 0;
	}
	if (decide_prepare(run) < 0) {
		fail(run, "%s: out of memory", run->name);
		return 1;
	}
decided:
	if (run->dry)
		return plan_print(run);
	return apply_prepare(run) < 0 ? 1 : 0;   /* hook_run frees what @run holds */
}

static int do_release(struct run *run, int in_fd)
{
	long long start = now_ms();
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
		idle(run, "no vGPU recorded: nothing to remove");
		goto decided;
	}
	/*
	 * Records are replaced by rename(2), so they can be read without the lock; and libvirt
	 * runs one operation of a domain at a time, so no other hook changes this domain's
	 * records meanwhile. The lock is taken only when there is something to do: the
	 * release of every other guest neither waits for it nor holds it.
	 */
	if (r < 0 || decide_release(run) < 0)
		return 0;
decided:
	if (run->dry)
		plan_print(run);
	else
		apply_release(run);
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
		.env = env, .name = name, .err = err, .errlen = errlen, .dry = env->plan_out,
		.store = { .dirfd = -1, .lockfd = -1 },
	};
	int status = 0;

	err[0] = '\0';
	if (strcmp(op, "prepare") == 0 && strcmp(subop, "begin") == 0) {
		status = do_prepare(&run, in_fd);
	} else if (strcmp(op, "release") == 0 && strcmp(subop, "end") == 0) {
		status = do_release(&run, in_fd);
		err[0] = '\0';   /* always 0: failures are logged */
	} else if (run.dry) {
		char *what = NULL;

		if (asprintf(&what, "%s %s %s: nothing to do", op, subop, extra) >= 0)
			idle(&run, what);
		free(what);
		plan_print(&run);
	}
	run_free(&run);
	if (run.dry && status) {
		fprintf(run.dry, "%s: would fail: ", name);
		log_line(run.dry, "", err);
	}
	return status;
}
