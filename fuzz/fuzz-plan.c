/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-plan: where the hook makes each vGPU of a domain (placement.h). The input is a domain
 * XML; each of its first mdevs is placed (placement_spec_get, then placement_choose) under
 * three configs (the defaults, and two fixed ones below) against the read-only fixture sysfs tree
 * tests/fixtures/sysfs/host (FUZZ_SYSFS_ROOT), which offers one type on two parents, types
 * on one parent, a parent without a class/mdev_bus link and a PCI device that is no parent.
 *
 * Oracles:
 *  - placement_spec_get: the settings come from the metadata exactly when the domain has an
 *    entry for the mdev, and are then its values; -EINVAL only for a bad metadata value
 *    (the configs were validated), -ENOENT only without one; a spec holds "auto" or a valid
 *    parent and at least one valid type;
 *  - placement_choose: a choice is a valid parent and type name, one the spec allows
 *    (placement_spec_matches, the spec's parent unless "auto"), and a type directory that
 *    exists under the sysfs root once every link is resolved, with the available_instances that
 *    mdev_type_read() reads there; failures return a documented code;
 *  - every failure leaves one line in err.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "domxml.h"
#include "fuzz.h"
#include "mdev.h"
#include "placement.h"

#define MAX_MDEVS 8   /* placed per input: each placement reads sysfs */

static const char *const config_texts[] = {
	/* [defaults] for all, sections for names of the fixture domains. */
	"[defaults]\n"
	"parent = auto\n"
	"type = i915-GVTg_V5_8 i915-GVTg_V5_4 nvidia-63\n"
	"[domain win10]\n"
	"parent = 0000:00:02.0\n"
	"type = i915-GVTg_V5_1 i915-GVTg_V5_2\n"
	"[domain two]\n"
	"type = i915-GVTg_V5_4\n"
	"[domain one]\n"
	"parent = 0000:02:00.0\n"
	"[domain other]\n"
	"parent = 0000:00:1f.0\n"
	"type = i915-GVTg_V5_4\n",
	/* Only sections: the others have no settings. */
	"[domain cfg]\n"
	"parent = 0000:01:00.0\n"
	"type = nvidia-63 i915-GVTg_V5_4\n"
	"[domain mdev]\n"
	"parent = auto\n"
	"type = nvidia-99 i915-GVTg_V5_4\n",
};

static struct config *configs[1 + sizeof(config_texts) / sizeof(config_texts[0])];
static char root_real[PATH_MAX];

static void init(void)
{
	FUZZ_ASSERT(realpath(FUZZ_SYSFS_ROOT, root_real), "no fixture tree %s", FUZZ_SYSFS_ROOT);
	configs[0] = config_defaults();
	FUZZ_ASSERT(configs[0], "config_defaults failed");
	for (size_t i = 0; i < sizeof(config_texts) / sizeof(config_texts[0]); i++) {
		FILE *f = fmemopen((void *)config_texts[i], strlen(config_texts[i]), "r");

		FUZZ_ASSERT(f, "fmemopen failed");
		FUZZ_ASSERT(config_parse(f, "fixed", &configs[i + 1], NULL) == 0,
			    "config %zu does not parse", i);
		fclose(f);
	}
}

/* The choice exists under the fixture tree, once every link is resolved. */
static void check_choice(const struct mdev_sysfs *s, const struct placement_spec *spec,
			 const struct placement_choice *ch)
{
	struct mdev_type_info info;
	char dir[PATH_MAX], path[PATH_MAX], real[PATH_MAX];
	size_t n = strlen(root_real);
	struct stat st;

	FUZZ_ASSERT(mdev_parent_valid(ch->parent), "parent '%s'", ch->parent);
	FUZZ_ASSERT(mdev_type_valid(ch->type), "type '%s'", ch->type);
	FUZZ_ASSERT(placement_spec_matches(spec, ch->parent, ch->type),
		    "%s on %s is not what the spec (%s) allows", ch->type, ch->parent,
		    spec->parent);
	FUZZ_ASSERT(strcmp(spec->parent, "auto") == 0 || strcmp(spec->parent, ch->parent) == 0,
		    "parent %s chosen for %s", ch->parent, spec->parent);
	FUZZ_ASSERT(mdev_parent_dir(s, ch->parent, dir, sizeof(dir)) == 0, "no parent %s",
		    ch->parent);
	FUZZ_ASSERT(path_fmt(path, sizeof(path), "%s/mdev_supported_types/%s", dir,
			     ch->type) == 0, "path too long");
	FUZZ_ASSERT(realpath(path, real) && stat(real, &st) == 0 && S_ISDIR(st.st_mode),
		    "%s is not a directory", path);
	FUZZ_ASSERT(strncmp(real, root_real, n) == 0 && real[n] == '/',
		    "%s resolves to %s, outside %s", path, real, root_real);
	FUZZ_ASSERT(mdev_type_read(s, ch->parent, ch->type, &info) == 0 &&
		    info.available == ch->available, "available %lu", ch->available);
}

static void place_one(const struct mdev_sysfs *s, const struct config *cfg,
		     const struct domxml *dom, const char *uuid)
{
	const struct domxml_meta *meta = domxml_meta_find(dom, uuid);
	struct placement_spec spec;
	struct placement_choice ch;
	char err[1024] = "";
	int r;

	r = placement_spec_get(cfg, dom, uuid, &spec, err, sizeof(err));
	if (r < 0) {
		FUZZ_ASSERT(r == -ENOMEM || fuzz_message(err),
			    "placement_spec_get: error '%s'", err);
		FUZZ_ASSERT((r == -EINVAL && meta) || (r == -ENOENT && !meta) || r == -ENOMEM,
			    "placement_spec_get returned %d, metadata %s", r,
			    meta ? "set" : "unset");
		placement_spec_free(&spec);
		return;
	}
	FUZZ_ASSERT(r == 0, "placement_spec_get returned %d", r);
	FUZZ_ASSERT((spec.source == PLACEMENT_SOURCE_METADATA) == !!meta, "source %s",
		    placement_source_name(spec.source));
	FUZZ_ASSERT(strcmp(spec.parent, "auto") == 0 || mdev_parent_valid(spec.parent),
		    "spec parent '%s'", spec.parent);
	FUZZ_ASSERT(spec.types.n > 0, "no type");
	for (size_t i = 0; i < spec.types.n; i++)
		FUZZ_ASSERT(mdev_type_valid(spec.types.v[i]), "spec type '%s'", spec.types.v[i]);
	if (meta)
		FUZZ_ASSERT(strcmp(spec.parent, meta->parent) == 0 && spec.types.n == 1 &&
			    strcmp(spec.types.v[0], meta->type) == 0, "not the metadata's values");

	r = placement_choose(s, &spec, &ch, err, sizeof(err));
	if (r == 0) {
		check_choice(s, &spec, &ch);
	} else {
		FUZZ_ASSERT(r == -ENOENT || r == -ENOTUNIQ || r == -ENOMEM,
			    "placement_choose returned %d: %s", r, err);
		FUZZ_ASSERT(r == -ENOMEM || fuzz_message(err),
			    "placement_choose: error '%s'", err);
	}
	placement_spec_free(&spec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mdev_sysfs s = { .root = FUZZ_SYSFS_ROOT };
	struct domxml *dom;
	char err[512];

	if (!configs[0])
		init();
	if (domxml_parse((const char *)data, size, "fuzz", &dom, err, sizeof(err)) < 0)
		return 0;
	for (size_t i = 0; i < dom->n_mdevs && i < MAX_MDEVS; i++)
		for (size_t c = 0; c < sizeof(configs) / sizeof(configs[0]); c++)
			place_one(&s, configs[c], dom, dom->mdevs[i].uuid);
	domxml_free(dom);
	return 0;
}
