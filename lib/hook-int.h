/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hook-int.h: inside the hook (hook.h): what one call works with, and its two steps.
 *
 *  - deciding (decide.c) turns the domain, the config, sysfs and the ownership records into
 *    a plan: one action per mdev (keep, adopt, create on PARENT/TYPE, refuse with the
 *    reason) or per record to release (remove). It changes nothing. A dry run prints the
 *    plan (plan_print) and stops there; the real call carries it out.
 *  - doing (apply.c) carries a plan out and owns its rollback: a prepare that fails undoes
 *    what it created. It also holds the release of one record (release_one), which
 *    --cleanup and a prepare (for what earlier releases left) use too.
 *  - hook.c runs the two: reads the domain, loads the config, opens and locks the store.
 * Everything here is internal to lib/hook*.c, decide.c and apply.c.
 */
#ifndef VGPU_HOOK_INT_H
#define VGPU_HOOK_INT_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "domxml.h"
#include "hook.h"
#include "mdev.h"
#include "owner.h"
#include "placement.h"

enum action_kind {
	ACTION_KEEP,     /* exists, created by vgpu-hook for this domain or an earlier definition */
	ACTION_ADOPT,    /* exists, created by someone else as the settings allow: never removed */
	ACTION_CREATE,   /* does not exist: create it on @where */
	ACTION_REFUSE,   /* the domain cannot start: run->err says why; always the last action */
	ACTION_REMOVE,   /* release: remove the device of @rec unless it is held (release_one) */
};

/* One thing a plan does, for one mdev of the domain or one ownership record. */
struct action {
	enum action_kind kind;
	char uuid[MDEV_UUID_LEN + 1];        /* the mdev */
	const struct placement_spec *spec;   /* prepare: its settings (in run->specs) */
	struct owner_record rec;             /* its record as read; domain_uuid "": none */
	struct mdev_device dev;              /* KEEP, ADOPT: the device that exists */
	struct placement_choice where;       /* CREATE: the parent and type */
	bool earlier;     /* @rec was made for an earlier definition of this domain (same name) */
	bool stale;       /* @rec describes a device created again since: it is dropped */
	bool replaces;    /* CREATE: @rec is another domain's, of a device that is gone */
	bool mine;        /* REMOVE: @rec is this domain's, not one an earlier release left */
	int err;          /* REFUSE: the -errno hook_run() fails with */
};

/* What one call does, in order. */
struct plan {
	struct action *v;                    /* owned */
	size_t n;
	size_t cap;
	struct placement_taken taken;        /* the instances the CREATE actions take */
	char *idle;                          /* owned: a dry run's line when nothing is done */
};

/* Everything one prepare, release or --cleanup works with. */
struct run {
	const struct hook_env *env;
	const char *name;            /* argv[1] */
	struct domxml *dom;
	struct config *cfg;
	struct mdev_sysfs sysfs;
	struct owner_store store;
	char *err;                   /* the one line for stderr (@errlen bytes) */
	size_t errlen;
	FILE *dry;                   /* dry run: the plan is printed here and not carried out */
	FILE *out;                   /* --cleanup: what is done goes here too */
	long long deadline_ms;       /* release: when it must return (monotonic clock) */
	/* Everything the call allocates is reachable from here, so that the remover child
	 * (apply.c) frees it all before it exits (run_free). */
	struct owner_record *recs;   /* the records being gone through */
	size_t n_recs;
	struct placement_spec *specs;   /* prepare: the settings of each mdev */
	size_t n_specs;              /* initialised entries of @specs */
	struct plan plan;
};

/* hook.c */

/* run_free: free what @run owns, and close its store. */
void run_free(struct run *run);

/* now_ms: the monotonic clock, in milliseconds. */
long long now_ms(void);

/* fail: set run->err to the formatted line, and log it (LOG_ERR) to syslog only: the caller
 * of hook_run() or hook_cleanup() prints the line, so it is not echoed to stderr too. */
void fail(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* lock_wait_ms: how long to wait for the lock: in a release, no longer than its deadline. */
unsigned lock_wait_ms(const struct run *run);

/* note: log the formatted line at @prio, and write it to run->out when set (--cleanup):
 * then to syslog only, not to stderr as well. */
void note(struct run *run, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* decide.c: never changes sysfs or a record, never waits for the lock. */

/*
 * decide_settings: run->specs, the settings of every mdev of run->dom (placement.h), each
 * checked before the store is opened: a refused domain touches nothing.
 * Returns 0, or -errno with run->err set and logged.
 */
int decide_settings(struct run *run);

/*
 * decide_prepare: the plan of a prepare into run->plan: an action per mdev, in document
 * order, up to the first refusal (ACTION_REFUSE, run->err set, not logged yet: plan_print
 * or apply_prepare logs it). CREATE actions choose their parent and type one after the
 * other, counting what the ones before take (placement_choose_after), as the kernel will
 * have by then. Reads the records when run->store is open. Returns 0 or -ENOMEM.
 */
int decide_prepare(struct run *run);

/*
 * decide_release: the plan of a release into run->plan: ACTION_REMOVE for each record of
 * this domain (record_is_mine) and each one an earlier release left pending. Reads the
 * records without the lock (they are replaced by rename(2)). Returns 0, or -errno with
 * run->err set and logged.
 */
int decide_release(struct run *run);

/* plan_print: the dry run: print run->plan to run->dry, one line per action (a refusal is
 * logged, as the real call logs it). Returns 1 when the plan ends in a refusal, or when a
 * create would find its type with no free instance (the real call would get the kernel's
 * ENOSPC or EUSERS; run->err says which type), else 0. */
int plan_print(struct run *run);

/* plan_free: free what @plan owns; it is zeroed. */
void plan_free(struct plan *plan);

/* record_is_mine: whether @rec was made for run's domain (by UUID, or by name: see
 * decide.c). */
bool record_is_mine(const struct run *run, const struct owner_record *rec);

/* action_line: the line that says what @a does (@done: it was done; else: it would be),
 * for ACTION_KEEP and ACTION_ADOPT, into @buf (@len bytes). */
void action_line(const struct run *run, const struct action *a, bool done, char *buf,
		 size_t len);

/* apply.c: with the lock held, except where said. */

/*
 * apply_prepare: carry out run->plan of a prepare, all or nothing: a plan that ends in a
 * refusal does nothing; when an action fails, what this call created is removed again,
 * newest first (the rollback). Returns 0 or -errno (run->err set and logged).
 */
int apply_prepare(struct run *run);

/*
 * apply_release: carry out run->plan of a release: take the lock (within the deadline;
 * without it nothing is removed, logged), read each record again under it and release
 * those still this domain's or pending (release_one). Failures are logged.
 */
void apply_release(struct run *run);

/*
 * apply_pending: finish every record a release left pending, except those of the mdevs of
 * @dom (a prepare keeps or refuses them); bounded by run->deadline_ms.
 */
void apply_pending(struct run *run, const struct domxml *dom);

/*
 * release_one: finish @rec, of a domain whose guest is gone: remove its device unless
 * something else holds it, within run->deadline_ms, and drop the record once the device
 * is gone. Logs what it does (note()).
 */
void release_one(struct run *run, const struct owner_record *rec);

#endif
