/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "placement.h"

const char *placement_source_name(enum placement_source src)
{
	static const char *const names[PLACEMENT_SOURCE_LAST] = {
		[PLACEMENT_SOURCE_METADATA] = "metadata",
		[PLACEMENT_SOURCE_DOMAIN] = "config [domain]",
		[PLACEMENT_SOURCE_DEFAULTS] = "config [defaults]",
	};

	return src < PLACEMENT_SOURCE_LAST ? names[src] : "?";
}

void placement_spec_free(struct placement_spec *spec)
{
	strv_free(&spec->types);
}

int placement_spec_get(const struct config *cfg, const struct domxml *dom, const char *uuid,
		  struct placement_spec *spec, char *err, size_t errlen)
{
	const struct domxml_meta *meta = domxml_meta_find(dom, uuid);
	const struct config_section *sec = config_domain(cfg, dom->name);
	const struct config_section *def = &cfg->defaults;
	int r;

	memset(spec, 0, sizeof(*spec));
	if (meta) {
		/* Written into the domain by a person or vgpu-xml: as untrusted as the rest. */
		spec->source = PLACEMENT_SOURCE_METADATA;
		if (strcmp(meta->parent, "auto") != 0 && !mdev_parent_valid(meta->parent)) {
			snprintf(err, errlen, "%s: vGPU %s: metadata parent '%s' is neither auto "
				 "nor a device name such as 0000:00:02.0", dom->name, uuid,
				 meta->parent);
			return -EINVAL;
		}
		if (!mdev_type_valid(meta->type)) {
			snprintf(err, errlen, "%s: vGPU %s: metadata type '%s' is not an mdev type "
				 "name such as i915-GVTg_V5_4", dom->name, uuid, meta->type);
			return -EINVAL;
		}
		str_copy(spec->parent, sizeof(spec->parent), meta->parent);
		return strv_add(&spec->types, meta->type);
	}

	/* The config was validated when loaded; each key falls back on its own. */
	spec->source = sec && (sec->parent[0] || sec->types.n) ? PLACEMENT_SOURCE_DOMAIN
							       : PLACEMENT_SOURCE_DEFAULTS;
	str_copy(spec->parent, sizeof(spec->parent),
		 sec && sec->parent[0] ? sec->parent : def->parent);
	{
		const struct strv *types = sec && sec->types.n ? &sec->types : &def->types;

		for (size_t i = 0; i < types->n; i++) {
			r = strv_add(&spec->types, types->v[i]);
			if (r < 0)
				return r;
		}
	}
	if (!spec->parent[0] || !spec->types.n) {
		/* Suggest a section only where one can configure this name. */
		bool section = config_domain_name_ok(dom->name);

		snprintf(err, errlen, "%s: vGPU %s: no %s set: add it to the domain with "
			 "vgpu-xml --add-vgpu --parent --type, or to %s%s%s[defaults] of the "
			 "config", dom->name, uuid,
			 !spec->parent[0] && !spec->types.n ? "parent and type"
			 : !spec->parent[0] ? "parent" : "type", section ? "[domain " : "",
			 section ? dom->name : "", section ? "] or " : "");
		return -ENOENT;
	}
	return 0;
}

bool placement_spec_matches(const struct placement_spec *spec, const char *parent,
			    const char *type)
{
	return (strcmp(spec->parent, "auto") == 0 || strcmp(spec->parent, parent) == 0) &&
	       strv_contains(&spec->types, type);
}

/* The parents offering @type, into @out. */
static int parents_offering(const struct mdev_sysfs *s, const struct strv *parents,
			    const char *type, struct strv *out)
{
	for (size_t i = 0; i < parents->n; i++) {
		struct mdev_type_info info;
		int r = mdev_type_read(s, parents->v[i], type, &info);

		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		r = strv_add(out, parents->v[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static unsigned long taken_of(const struct placement_taken *taken, const char *parent,
			      const char *type)
{
	for (size_t i = 0; taken && i < taken->n; i++)
		if (strcmp(taken->v[i].parent, parent) == 0 && strcmp(taken->v[i].type, type) == 0)
			return taken->v[i].available;
	return 0;
}

int placement_take(struct placement_taken *taken, const struct placement_choice *c)
{
	struct placement_choice *v;

	for (size_t i = 0; i < taken->n; i++)
		if (strcmp(taken->v[i].parent, c->parent) == 0 &&
		    strcmp(taken->v[i].type, c->type) == 0) {
			taken->v[i].available++;
			return 0;
		}
	v = ARRAY_ADD(taken->v, taken->n, taken->cap);
	if (!v)
		return -ENOMEM;
	*v = *c;
	v->available = 1;
	return 0;
}

void placement_taken_free(struct placement_taken *taken)
{
	free(taken->v);
	taken->v = NULL;
	taken->n = taken->cap = 0;
}

int placement_choose(const struct mdev_sysfs *s, const struct placement_spec *spec,
		struct placement_choice *choice, char *err, size_t errlen)
{
	return placement_choose_after(s, spec, NULL, choice, err, errlen);
}

/* Whether GVT-g's causes apply to @spec: its parent, or one of its types, is i915's. */
static bool spec_is_gvt(const struct mdev_sysfs *s, const struct placement_spec *spec)
{
	for (size_t i = 0; i < spec->types.n; i++)
		if (strncmp(spec->types.v[i], "i915-", 5) == 0)
			return true;
	return strcmp(spec->parent, "auto") != 0 && mdev_parent_is_gvt(s, spec->parent, NULL);
}

int placement_choose_after(const struct mdev_sysfs *s, const struct placement_spec *spec,
			   const struct placement_taken *taken,
			   struct placement_choice *choice, char *err, size_t errlen)
{
	struct strv all = { 0 };
	struct placement_choice first = { 0 };
	bool any = false, ambiguous = false;
	char *types = NULL;
	int r = 0;

	memset(choice, 0, sizeof(*choice));
	if (strcmp(spec->parent, "auto") == 0) {
		r = mdev_list_parents(s, &all);
		if (r < 0) {
			snprintf(err, errlen, "cannot list mdev parents under %s: %s", s->root,
				 strerror(-r));
			goto out;
		}
	} else {
		char dir[PATH_MAX];

		r = mdev_parent_dir(s, spec->parent, dir, sizeof(dir));
		if (r < 0) {
			snprintf(err, errlen, "parent %s offers no mdev types under %s (%s): %s; "
				 "see vgpu-hook --types", spec->parent, s->root, strerror(-r),
				 spec_is_gvt(s, spec)
				 ? "GVT-g not enabled (i915.enable_gvt=1, kvmgt loaded) or wrong "
				   "address"
				 : "wrong name, or its mdev driver is not loaded");
			goto out;
		}
		r = strv_add(&all, spec->parent);
		if (r < 0)
			goto out;
	}

	for (size_t t = 0; t < spec->types.n; t++) {
		const char *type = spec->types.v[t];
		struct strv offer = { 0 };
		struct mdev_type_info info;

		r = parents_offering(s, &all, type, &offer);
		if (r < 0 || offer.n == 0) {
			strv_free(&offer);
			if (r < 0) {
				snprintf(err, errlen, "cannot read mdev type %s: %s", type,
					 strerror(-r));
				goto out;
			}
			continue;
		}
		if (offer.n > 1) {
			ambiguous = true;
			strv_free(&offer);
			continue;
		}
		r = mdev_type_read(s, offer.v[0], type, &info);
		if (r == 0) {
			unsigned long used = taken_of(taken, offer.v[0], type);
			struct placement_choice c = {
				.available = info.available > used ? info.available - used : 0,
			};

			str_copy(c.parent, sizeof(c.parent), offer.v[0]);
			str_copy(c.type, sizeof(c.type), type);
			if (!any) {
				first = c;
				any = true;
			}
			if (c.available > 0) {
				*choice = c;
				strv_free(&offer);
				goto out;
			}
		}
		strv_free(&offer);
		if (r < 0 && r != -ENOENT) {
			snprintf(err, errlen, "cannot read mdev type %s: %s", type, strerror(-r));
			goto out;
		}
		r = 0;
	}
	if (any) {
		/* None free: let the kernel say why at create (ENOSPC, EUSERS). */
		*choice = first;
		goto out;
	}
	types = strv_join(&spec->types, " ");
	if (ambiguous) {
		snprintf(err, errlen, "mdev type %s is offered by several parents: set parent "
			 "to one of them; see vgpu-hook --types", types ? types : "");
		r = -ENOTUNIQ;
	} else {
		snprintf(err, errlen, "no parent%s%s offers mdev type %s: %s; see vgpu-hook --types",
			 strcmp(spec->parent, "auto") ? " " : "",
			 strcmp(spec->parent, "auto") ? spec->parent : "", types ? types : "",
			 spec_is_gvt(s, spec) ? "GVT-g not enabled, or the type is hidden by a "
						"small aperture"
					      : "the driver does not offer it here (a wrong "
						"name, or a type of another device)");
		r = -ENOENT;
	}
out:
	free(types);
	strv_free(&all);
	return r;
}
