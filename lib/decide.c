/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hook's deciding step (hook-int.h): the plan of one call, from the domain, the config,
 * sysfs and the records. Nothing here writes sysfs or a record, or waits for the lock.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "hook-int.h"
#include "log.h"

int decide_settings(struct run *run)
{
	run->specs = calloc(run->dom->n_mdevs, sizeof(*run->specs));
	if (!run->specs) {
		fail(run, "%s: out of memory", run->name);
		return -ENOMEM;
	}
	for (; run->n_specs < run->dom->n_mdevs; run->n_specs++) {
		char err[MSG_LINE_MAX];
		int r = placement_spec_get(run->cfg, run->dom, run->dom->mdevs[run->n_specs].uuid,
					   &run->specs[run->n_specs], err, sizeof(err));

		if (r < 0) {
			run->n_specs++;   /* initialised all the same */
			fail(run, "%s", err);
			return r;
		}
	}
	return 0;
}

static int refuse(struct run *run, struct action *a, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Make @a the plan's refusal with -@err: the line goes to run->err, logged once the plan is
 * printed or carried out. Returns 0: the plan is complete. */
static int refuse(struct run *run, struct action *a, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(run->err, run->errlen, fmt, ap);
	va_end(ap);
	a->kind = ACTION_REFUSE;
	a->err = err;
	return 0;
}

/* Refuse @a because the device that exists cannot be used: another domain's (@other, by
 * its record), held by a process (@held, by @who), or not of the settings. Returns 0. */
static int refuse_existing(struct run *run, struct action *a, bool other, bool held,
			   const char *who)
{
	const struct owner_record *rec = &a->rec;
	const char *uuid = a->uuid;

	if (other) {
		if (held)
			return refuse(run, a, -EBUSY, "%s: vGPU %s is in use by domain %s "
				      "(vgpu-hook created it for that domain; %s holds it); give "
				      "this domain its own UUID: vgpu-xml --add-vgpu", run->name,
				      uuid, rec->domain, who);
		return refuse(run, a, -EBUSY, "%s: vGPU %s is in use by domain %s (vgpu-hook "
			      "created it for that domain, and no process holds it now: if %s "
			      "is not running, vgpu-hook --forget %s clears the record); give "
			      "this domain its own UUID: vgpu-xml --add-vgpu", run->name, uuid,
			      rec->domain, rec->domain, uuid);
	}
	if (held)
		return refuse(run, a, -EBUSY, "%s: vGPU %s is held by %s, so another guest uses "
			      "it; stop that guest, or give this domain its own UUID: vgpu-xml "
			      "--add-vgpu", run->name, uuid, who);
	{
		char *types = strv_join(&a->spec->types, " ");

		refuse(run, a, -EEXIST, "%s: vGPU %s exists as %s on %s, but the domain asks for "
		       "%s on %s (%s); remove that device or change the settings", run->name,
		       uuid, a->dev.type, a->dev.parent, types ? types : "?", a->spec->parent,
		       placement_source_name(a->spec->source));
		free(types);
	}
	return 0;
}

/*
 * The action for mdev @uuid with settings @spec, into @a: keep it if this hook already made
 * it for this domain (or for an earlier definition of it: same name, another <uuid>), adopt
 * it if someone else made it with the right parent and type, refuse it if it belongs to
 * another domain, is held by a process, or does not match @spec, else create it. A record
 * that does not describe the device that exists (created again since: another inode) is
 * stale and dropped. Returns 0 or -ENOMEM.
 */
static int decide_one(struct run *run, const char *uuid, const struct placement_spec *spec,
		      struct action *a)
{
	struct owner_record *rec = &a->rec;
	struct mdev_holder h;
	bool ours, other, held = false;
	char who[384] = "", err[MSG_LINE_MAX];
	int r, fd;

	str_copy(a->uuid, sizeof(a->uuid), uuid);
	a->spec = spec;
	/* A dry run on a host where the hook never ran has no state directory yet. */
	r = run->store.dirfd >= 0 ? owner_get(&run->store, uuid, rec) : -ENOENT;
	if (r == -ENOENT)
		memset(rec, 0, sizeof(*rec));
	else if (r < 0)
		return refuse(run, a, r, "%s: ownership record %s/%s: %s", run->name,
			      run->cfg->state_dir, uuid, r == -EINVAL ?
			      "malformed; remove it if the vGPU is not in use" : strerror(-r));
	if (rec->domain_uuid[0] && owner_remover_active(&run->store, uuid))
		return refuse(run, a, -EBUSY, "%s: vGPU %s is still being removed (the release "
			      "of domain %s could not finish it: a process holds it, see dmesg); "
			      "start the domain once it is gone", run->name, uuid, rec->domain);
	ours = rec->domain_uuid[0] && strcmp(rec->domain_uuid, run->dom->uuid) == 0;
	/* libvirt names are unique on a host: a record of this name with another UUID was
	 * made for an earlier definition of this domain, which cannot be running now. */
	a->earlier = rec->domain_uuid[0] && !ours && strcmp(rec->domain, run->dom->name) == 0;

	/* One lookup of the device for both questions, what it is and who holds it. */
	r = fd = mdev_device_open(&run->sysfs, uuid, &a->dev);
	if (fd >= 0) {
		held = mdev_holder_find_at(&run->sysfs, fd, &h) == 1;
		close(fd);
		r = 0;
	}
	if (r == 0 && rec->domain_uuid[0] && rec->ino && rec->ino != a->dev.ino) {
		a->stale = true;
		ours = a->earlier = false;
	}
	if (r == 0) {
		if (held)
			mdev_holder_describe(&h, who, sizeof(who));
		other = rec->domain_uuid[0] && !a->stale && !ours && !a->earlier;
		if (other || held || !placement_spec_matches(spec, a->dev.parent, a->dev.type))
			return refuse_existing(run, a, other, held, who);
		a->kind = ours || a->earlier ? ACTION_KEEP : ACTION_ADOPT;
		return 0;
	}
	if (r != -ENOENT)
		return refuse(run, a, r, "%s: cannot inspect %s/bus/mdev/devices/%s: %s",
			      run->name, run->sysfs.root, uuid, strerror(-r));
	a->replaces = rec->domain_uuid[0] && !ours;
	r = placement_choose_after(&run->sysfs, spec, &run->plan.taken, &a->where, err,
				   sizeof(err));
	if (r < 0)
		return refuse(run, a, r, "%s: cannot create vGPU %s: %s", run->name, uuid, err);
	/* Taken before the next vGPU is chosen, as the kernel will have by then. */
	if (placement_take(&run->plan.taken, &a->where) < 0)
		return -ENOMEM;
	a->kind = ACTION_CREATE;
	return 0;
}

int decide_prepare(struct run *run)
{
	for (size_t i = 0; i < run->dom->n_mdevs; i++) {
		struct action *a = ARRAY_ADD(run->plan.v, run->plan.n, run->plan.cap);

		if (!a || decide_one(run, run->dom->mdevs[i].uuid, &run->specs[i], a) < 0) {
			if (a)
				run->plan.n--;
			return -ENOMEM;
		}
		if (a->kind == ACTION_REFUSE)
			break;
	}
	return 0;
}

/*
 * Whether @rec was made for this domain: by its UUID; or by name, when the XML was unusable
 * or for an earlier definition of the domain (libvirt names are unique on a host, so that
 * one cannot be running). release_one() leaves it alone if anything still holds it.
 */
bool record_is_mine(const struct run *run, const struct owner_record *rec)
{
	if (run->dom && run->dom->uuid[0] && strcmp(rec->domain_uuid, run->dom->uuid) == 0)
		return true;
	return strcmp(rec->domain, run->name) == 0;
}

int decide_release(struct run *run)
{
	int r = owner_list(&run->store, &run->recs, &run->n_recs);

	if (r < 0) {
		fail(run, "%s: cannot list %s: %s", run->name, run->cfg->state_dir, strerror(-r));
		return r;
	}
	/* This domain's, and what earlier releases left (finished once let go). */
	for (size_t i = 0; i < run->n_recs; i++) {
		const struct owner_record *rec = &run->recs[i];
		struct action *a;

		if (!record_is_mine(run, rec) && !rec->pending)
			continue;
		a = ARRAY_ADD(run->plan.v, run->plan.n, run->plan.cap);
		if (!a) {
			fail(run, "%s: out of memory", run->name);
			return -ENOMEM;
		}
		a->kind = ACTION_REMOVE;
		str_copy(a->uuid, sizeof(a->uuid), rec->mdev);
		a->rec = *rec;
		a->mine = record_is_mine(run, rec);
	}
	free(run->recs);
	run->recs = NULL;
	run->n_recs = 0;
	return 0;
}

void action_line(const struct run *run, const struct action *a, bool done, char *buf,
		 size_t len)
{
	if (a->kind == ACTION_KEEP)
		snprintf(buf, len, "%s: vGPU %s (%s on %s) exists and was created by vgpu-hook "
			 "for this domain%s: kept", run->name, a->uuid, a->dev.type,
			 a->dev.parent, a->earlier ? " (an earlier definition of it, with another "
			 "<uuid>)" : "");
	else
		snprintf(buf, len, "%s: vGPU %s (%s on %s) exists and was not created by "
			 "vgpu-hook: %s, never removed at release", run->name, a->uuid,
			 a->dev.type, a->dev.parent, done ? "using it" : "would use it");
}

int plan_print(struct run *run)
{
	char line[MSG_LINE_MAX];

	if (run->plan.n == 0 && run->plan.idle)
		log_line(run->dry, "", run->plan.idle);
	for (size_t i = 0; i < run->plan.n; i++) {
		const struct action *a = &run->plan.v[i];

		if (a->stale)
			log_warn("%s: vGPU %s: the record for domain %s is stale (the device was "
				 "created again since, not by this hook for it): it would be "
				 "dropped", run->name, a->uuid, a->rec.domain);
		switch (a->kind) {
		case ACTION_KEEP:
		case ACTION_ADOPT:
			action_line(run, a, false, line, sizeof(line));
			break;
		case ACTION_CREATE:
			if (a->replaces)
				log_warn("%s: dropping the record of vGPU %s for %s%s: the device "
					 "is gone", run->name, a->uuid, a->earlier ?
					 "an earlier definition of this domain, " : "",
					 a->rec.domain);
			snprintf(line, sizeof(line), "%s: would create vGPU %s: %s on %s (%lu "
				 "free; from %s)", run->name, a->uuid, a->where.type,
				 a->where.parent, a->where.available,
				 placement_source_name(a->spec->source));
			if (a->where.available)
				break;
			/* The real call still writes `create` (available_instances is advisory:
			 * the kernel decides, and its errno is the clearest answer), but it
			 * would fail now: say so, so that --doctor and --status say "cannot". */
			log_line(run->dry, "", line);
			fail(run, "%s: vGPU %s: %s on %s has no free instance now "
			     "(available_instances 0): the kernel would refuse the create",
			     run->name, a->uuid, a->where.type, a->where.parent);
			return 1;
		case ACTION_REFUSE:
			/* Syslog only: hook_run() prints run->err, as for fail(). */
			log_quiet(LOG_ERR, "%s", run->err);
			return 1;
		case ACTION_REMOVE:
			snprintf(line, sizeof(line), "%s: would remove vGPU %s (%s on %s), "
				 "created for %s", run->name, a->uuid, a->rec.type,
				 a->rec.parent, a->mine ? "this domain" : a->rec.domain);
			break;
		}
		log_line(run->dry, "", line);
	}
	return 0;
}

void plan_free(struct plan *plan)
{
	free(plan->v);
	free(plan->idle);
	placement_taken_free(&plan->taken);
	memset(plan, 0, sizeof(*plan));
}
