/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plan.h: decide, for one mdev of a domain, on which parent and of which type it is made.
 *
 * Settings come from, first to last: the domain's <metadata> entry for that UUID (written
 * by vgpu-xml, so it travels with the domain), the config's [domain NAME] section, its
 * [defaults]. A setting is a parent (an address or "auto") and a type preference list.
 * Against sysfs, candidates are taken in preference order; with parent "auto" a type is
 * used only when exactly one parent offers it. The first candidate with a free instance
 * wins; when none has one, the first existing candidate is chosen anyway so that the
 * kernel's own errno (ENOSPC on GVT-g, EUSERS elsewhere) reaches the user:
 * available_instances is advisory, the kernel decides at `create` under its lock
 * (research/hook-anchors.md 4.2 "Race safety").
 */
#ifndef VGPU_PLAN_H
#define VGPU_PLAN_H

#include <stddef.h>

#include "config.h"
#include "domxml.h"
#include "mdev.h"
#include "util.h"

/* Where an mdev's settings came from. */
enum plan_source {
	PLAN_SOURCE_METADATA,
	PLAN_SOURCE_DOMAIN,    /* config [domain NAME] */
	PLAN_SOURCE_DEFAULTS,  /* config [defaults] */
	PLAN_SOURCE_LAST
};

/* The unresolved settings of one mdev. */
struct plan_spec {
	enum plan_source source;
	char parent[MDEV_NAME_MAX + 1];    /* a parent name, or "auto" */
	struct strv types;                 /* at least one, each a valid type name */
};

/* The resolved choice. */
struct plan_choice {
	char parent[MDEV_NAME_MAX + 1];
	char type[MDEV_NAME_MAX + 1];
	unsigned long available;           /* available_instances when chosen */
};

/* plan_source_name: "metadata", "config [domain]", "config [defaults]". */
const char *plan_source_name(enum plan_source src);

/*
 * plan_spec_get: the settings of mdev @uuid of @dom. @spec is initialised (free with
 * plan_spec_free, also after a failure).
 * On failure @err holds one line naming the domain, the mdev and the bad value.
 * Returns 0; -ENOENT (no parent or no type set anywhere); -EINVAL (a value that is not a
 * valid parent or type name, e.g. one holding '/' or ".."); -ENOMEM.
 */
int plan_spec_get(const struct config *cfg, const struct domxml *dom, const char *uuid,
		  struct plan_spec *spec, char *err, size_t errlen);

/* plan_spec_free: free what @spec owns. */
void plan_spec_free(struct plan_spec *spec);

/*
 * plan_spec_matches: whether an existing device on @parent of @type satisfies @spec (its
 * parent is @spec's or @spec's is "auto", and @type is in the preference list).
 */
bool plan_spec_matches(const struct plan_spec *spec, const char *parent, const char *type);

/*
 * plan_choose: resolve @spec against sysfs into @choice.
 * On failure @err holds one line with the reason and what to do.
 * Returns 0; -ENOENT (no preferred type is offered by the parent, or with "auto" by any
 * parent, or the parent does not exist); -ENOTUNIQ (with "auto", every
 * offered type is offered by more than one parent: the user must name one); -errno.
 */
int plan_choose(const struct mdev_sysfs *s, const struct plan_spec *spec,
		struct plan_choice *choice, char *err, size_t errlen);

/* Instances a dry run has already counted as taken, per parent and type. */
struct plan_taken {
	struct plan_choice *v;             /* .available holds the count taken; owned */
	size_t n;
};

/*
 * plan_choose_after: plan_choose(), with the instances in @taken (may be NULL) subtracted
 * from each type's available_instances first, as the kernel would have by then. So a dry
 * run of a domain with several vGPUs predicts what the real call makes one after the
 * other: with a preference list, the next type once the first runs out. Types that share a
 * resource pool (GVT-g's aperture, mbochs' memory) are not counted against each other:
 * the kernel does not say what they share.
 */
int plan_choose_after(const struct mdev_sysfs *s, const struct plan_spec *spec,
		      const struct plan_taken *taken, struct plan_choice *choice, char *err,
		      size_t errlen);

/* plan_take: count one instance of @c as taken in @taken. Returns 0 or -ENOMEM. */
int plan_take(struct plan_taken *taken, const struct plan_choice *c);

/* plan_taken_free: free what @taken owns; it may be reused. */
void plan_taken_free(struct plan_taken *taken);

#endif
