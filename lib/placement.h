/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * placement.h: where one mdev of a domain is made: on which parent, and of which type.
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
#ifndef VGPU_PLACEMENT_H
#define VGPU_PLACEMENT_H

#include <stddef.h>

#include "config.h"
#include "domxml.h"
#include "mdev.h"
#include "util.h"

/* Where an mdev's settings came from. */
enum placement_source {
	PLACEMENT_SOURCE_METADATA,
	PLACEMENT_SOURCE_DOMAIN,    /* config [domain NAME] */
	PLACEMENT_SOURCE_DEFAULTS,  /* config [defaults] */
	PLACEMENT_SOURCE_LAST
};

/* The unresolved settings of one mdev. */
struct placement_spec {
	enum placement_source source;
	char parent[MDEV_NAME_MAX + 1];    /* a parent name, or "auto" */
	struct strv types;                 /* at least one, each a valid type name */
};

/* The resolved choice. */
struct placement_choice {
	char parent[MDEV_NAME_MAX + 1];
	char type[MDEV_NAME_MAX + 1];
	unsigned long available;           /* available_instances when chosen */
};

/* placement_source_name: "metadata", "config [domain]", "config [defaults]". */
const char *placement_source_name(enum placement_source src);

/*
 * placement_spec_get: the settings of mdev @uuid of @dom. @spec is initialised (free with
 * placement_spec_free, also after a failure).
 * On failure @err holds one line naming the domain, the mdev and the bad value.
 * Returns 0; -ENOENT (no parent or no type set anywhere); -EINVAL (a value that is not a
 * valid parent or type name, e.g. one holding '/' or ".."); -ENOMEM.
 */
int placement_spec_get(const struct config *cfg, const struct domxml *dom, const char *uuid,
		  struct placement_spec *spec, char *err, size_t errlen);

/* placement_spec_free: free what @spec owns. */
void placement_spec_free(struct placement_spec *spec);

/*
 * placement_spec_matches: whether an existing device on @parent of @type satisfies @spec (its
 * parent is @spec's or @spec's is "auto", and @type is in the preference list).
 */
bool placement_spec_matches(const struct placement_spec *spec, const char *parent,
			    const char *type);

/*
 * placement_choose: resolve @spec against sysfs into @choice.
 * On failure @err holds one line with the reason and what to do.
 * Returns 0; -ENOENT (no preferred type is offered by the parent, or with "auto" by any
 * parent, or the parent does not exist); -ENOTUNIQ (with "auto", every
 * offered type is offered by more than one parent: the user must name one); -errno.
 */
int placement_choose(const struct mdev_sysfs *s, const struct placement_spec *spec,
		struct placement_choice *choice, char *err, size_t errlen);

/* Instances the plan's earlier vGPUs take, per parent and type (a growable array,
 * array.h). Zero-initialise before use. */
struct placement_taken {
	struct placement_choice *v;             /* .available holds the count taken; owned */
	size_t n;
	size_t cap;                             /* array.h */
};

/*
 * placement_choose_after: placement_choose(), with the instances in @taken (may be NULL)
 * subtracted from each type's available_instances first, as the kernel would have by then. So a dry
 * run of a domain with several vGPUs predicts what the real call makes one after the
 * other: with a preference list, the next type once the first runs out. Types that share a
 * resource pool (GVT-g's aperture, mbochs' memory) are not counted against each other:
 * the kernel does not say what they share.
 */
int placement_choose_after(const struct mdev_sysfs *s, const struct placement_spec *spec,
			   const struct placement_taken *taken,
			   struct placement_choice *choice, char *err, size_t errlen);

/* placement_take: count one instance of @c as taken in @taken. Returns 0 or -ENOMEM. */
int placement_take(struct placement_taken *taken, const struct placement_choice *c);

/* placement_taken_free: free what @taken owns; it may be reused. */
void placement_taken_free(struct placement_taken *taken);

#endif
