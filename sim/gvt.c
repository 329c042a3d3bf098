// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gvt.c: the simulated hosts (profiles) and what each driver allows: the GVT-g type table and
 * resource arithmetic of i915 (gvt/vgpu.c, kvmgt.c, aperture_gm.c), mdev core counting
 * (mdpy), and the pools of the kernel's other sample drivers (mbochs, mtty), as in
 * Linux 6.1's samples/vfio-mdev/.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The kernel's fixed vGPU types, in the order it generates them (vgpu.c vgpu_types[]). */
static const struct {
	const char *suffix;            /* "8": about 8 of them fit a big GPU */
	unsigned int low_mb, high_mb, fence;
	unsigned int weight;           /* VGPU_WEIGHT(n) = 16 / n */
	const char *resolution;        /* vgpu_edid_str() of its EDID */
} gvt_types[] = {
	{ "8",  64,  384, 4, 2,  "1024x768" },
	{ "4", 128,  512, 4, 4,  "1920x1200" },
	{ "2", 256, 1024, 4, 8,  "1920x1200" },
	{ "1", 512, 2048, 4, 16, "1920x1200" },
};

/* samples/vfio-mdev/mdpy.c: its types differ only in the framebuffer. */
static const struct {
	const char *name;
	const char *resolution;
} mdpy_types[] = {
	{ "vga", "640x480" },
	{ "xga", "1024x768" },
	{ "hd",  "1920x1080" },
};

/* samples/vfio-mdev/mbochs.c: MB of the pool each type takes (mbochs_types[]). */
static const struct {
	const char *name;
	unsigned int mbytes;
} mbochs_types[] = {
	{ "small", 4 },
	{ "medium", 16 },
	{ "large", 64 },
};

/* samples/vfio-mdev/mtty.c: ports each type takes, and its pretty name (mtty_types[]). */
static const struct {
	const char *name;
	unsigned int ports;
	const char *pretty;
} mtty_types[] = {
	{ "1", 1, "Single port serial" },
	{ "2", 2, "Dual port serial" },
};

const char *const sim_profiles[] = {
	"desktop-1g", "laptop-256m", "two-parents", "counted", "broadwell", "samples", NULL,
};

static struct sim_parent *parent_new(struct sim *s, const char *name)
{
	struct sim_parent *par;

	if (s->nparents == SIM_MAX_PARENTS)
		return NULL;
	if (!*name || strlen(name) >= sizeof(par->name) || strchr(name, '/'))
		return NULL;
	par = &s->parents[s->nparents];
	memset(par, 0, sizeof(*par));
	strcpy(par->name, name);
	return par;
}

/* The type's directory is "<driver>-<sysfs name>" (mdev_sysfs.c), its name the sysfs name. */
static int type_names(struct sim_type *t, const char *drv, const char *name)
{
	if ((size_t)snprintf(t->dir, sizeof(t->dir), "%s-%s", drv, name) >= sizeof(t->dir) ||
	    (size_t)snprintf(t->name, sizeof(t->name), "%s", name) >= sizeof(t->name))
		return -EINVAL;
	return 0;
}

int sim_add_gvt(struct sim *s, const char *name, unsigned int ver, unsigned int aperture_mb,
		unsigned int ggtt_mb, unsigned int fences, bool class_link)
{
	struct sim_parent *par;
	unsigned int i, low_avail;
	char sysfs_name[SIM_NAME_MAX];

	if (aperture_mb <= GVT_HOST_LOW_MB || ggtt_mb < aperture_mb + GVT_HOST_HIGH_MB ||
	    fences < GVT_HOST_FENCES)
		return -EINVAL;
	par = parent_new(s, name);
	if (!par)
		return s->nparents == SIM_MAX_PARENTS ? -ENOSPC : -EINVAL;
	par->driver = SIM_GVT;
	par->drv = "i915";
	par->mdev_drv = "intel_vgpu_mdev";
	par->pci = true;
	par->class_link = class_link;
	par->low_mb = aperture_mb;
	par->high_mb = ggtt_mb - aperture_mb;
	par->fences = fences;

	/* intel_gvt_init_vgpu_types(): the first type that does not fit once ends the list. */
	low_avail = aperture_mb - GVT_HOST_LOW_MB;
	for (i = 0; i < ARRAY_SIZE(gvt_types); i++) {
		struct sim_type *t = &par->types[i];

		if (low_avail / gvt_types[i].low_mb == 0)
			break;
		snprintf(sysfs_name, sizeof(sysfs_name), "GVTg_V%u_%s", ver == 8 ? 4 : 5,
			 gvt_types[i].suffix);
		if (type_names(t, par->drv, sysfs_name))
			return -EINVAL;
		t->low_mb = gvt_types[i].low_mb;
		t->high_mb = gvt_types[i].high_mb;
		t->fence = gvt_types[i].fence;
		t->weight = gvt_types[i].weight;
		t->resolution = gvt_types[i].resolution;
		t->description = true;
	}
	par->ntypes = i;
	s->nparents++;
	return 0;
}

int sim_add_counted(struct sim *s, const char *name, unsigned int max, bool class_link)
{
	struct sim_parent *par;
	unsigned int i;

	par = parent_new(s, name);
	if (!par)
		return s->nparents == SIM_MAX_PARENTS ? -ENOSPC : -EINVAL;
	par->driver = SIM_MDPY;
	par->drv = "mdpy";
	par->mdev_drv = "mdpy";
	par->pci = false;
	par->class_link = class_link;
	par->max_instances = max;
	for (i = 0; i < ARRAY_SIZE(mdpy_types); i++) {
		struct sim_type *t = &par->types[i];

		/* Its "name" is the pretty name, "mdpy-vga", the same as the directory's. */
		if (type_names(t, par->drv, mdpy_types[i].name))
			return -EINVAL;
		memcpy(t->name, t->dir, sizeof(t->name));
		t->resolution = mdpy_types[i].resolution;
		t->description = true;
	}
	par->ntypes = i;
	s->nparents++;
	return 0;
}

int sim_add_pool(struct sim *s, enum sim_driver driver, unsigned int pool)
{
	const char *drv = driver == SIM_MBOCHS ? "mbochs" : "mtty";
	struct sim_parent *par;
	unsigned int i;

	if (driver != SIM_MBOCHS && driver != SIM_MTTY)
		return -EINVAL;
	par = parent_new(s, drv);
	if (!par)
		return s->nparents == SIM_MAX_PARENTS ? -ENOSPC : -EINVAL;
	par->driver = driver;
	par->drv = drv;
	par->mdev_drv = drv;
	par->pci = false;
	par->class_link = true;
	par->pool = pool;
	if (driver == SIM_MBOCHS) {
		for (i = 0; i < ARRAY_SIZE(mbochs_types); i++) {
			struct sim_type *t = &par->types[i];

			/* Its pretty name is "mbochs-small", the same as the directory's. */
			if (type_names(t, drv, mbochs_types[i].name))
				return -EINVAL;
			memcpy(t->name, t->dir, sizeof(t->name));
			t->units = mbochs_types[i].mbytes;
			t->description = true;
		}
	} else {
		for (i = 0; i < ARRAY_SIZE(mtty_types); i++) {
			struct sim_type *t = &par->types[i];

			/* "Single port serial", and no description attribute at all. */
			if (type_names(t, drv, mtty_types[i].name) ||
			    (size_t)snprintf(t->name, sizeof(t->name), "%s",
					     mtty_types[i].pretty) >= sizeof(t->name))
				return -EINVAL;
			t->units = mtty_types[i].ports;
		}
	}
	par->ntypes = i;
	s->nparents++;
	return 0;
}

int sim_init(struct sim *s, const char *profile)
{
	int ret = 0;

	memset(s, 0, sizeof(*s));
	if (!strcmp(profile, "desktop-1g")) {
		ret = sim_add_gvt(s, "0000:00:02.0", 9, 1024, GVT_GGTT_MB, GVT_FENCES, true);
	} else if (!strcmp(profile, "laptop-256m")) {
		ret = sim_add_gvt(s, "0000:00:02.0", 9, 256, GVT_GGTT_MB, GVT_FENCES, true);
	} else if (!strcmp(profile, "two-parents")) {
		ret = sim_add_gvt(s, "0000:00:02.0", 9, 1024, GVT_GGTT_MB, GVT_FENCES, true);
		/* The compat class link may be missing: only bus/pci/devices finds this one. */
		if (!ret)
			ret = sim_add_gvt(s, "0000:01:00.0", 9, 512, GVT_GGTT_MB, GVT_FENCES,
					  false);
	} else if (!strcmp(profile, "counted")) {
		/* Not PCI: found through class/mdev_bus only, like the kernel's mdpy sample. */
		ret = sim_add_counted(s, "mdpy", 4, true);
	} else if (!strcmp(profile, "broadwell")) {
		ret = sim_add_gvt(s, "0000:00:02.0", 8, 512, GVT_GGTT_MB, GVT_FENCES, true);
	} else if (!strcmp(profile, "samples")) {
		/* The three samples with their default parameters: mdpy count=4, mbochs 256 MB,
		 * mtty's 24 ports (MAX_MTTYS), as research/real-kernel.md section 1 measured. */
		ret = sim_add_counted(s, "mdpy", 4, true);
		if (!ret)
			ret = sim_add_pool(s, SIM_MBOCHS, 256);
		if (!ret)
			ret = sim_add_pool(s, SIM_MTTY, 24);
	} else {
		ret = -EINVAL;
	}
	return ret;
}

unsigned int sim_available(const struct sim *s, unsigned int p, unsigned int t)
{
	const struct sim_parent *par = &s->parents[p];
	const struct sim_type *ty = &par->types[t];
	unsigned int low, high, fence, n;

	if (par->driver == SIM_MDPY)
		return par->max_instances - par->used_instances;
	/* mbochs_get_available(), mtty_get_available(): what is left over the type's share. */
	if (par->driver == SIM_MBOCHS || par->driver == SIM_MTTY)
		return (par->pool - par->used_pool) / ty->units;

	/* intel_vgpu_get_available(); it does not count the vGPU ids left, nor do we. */
	low = (par->low_mb - GVT_HOST_LOW_MB - par->used_low_mb) / ty->low_mb;
	high = (par->high_mb - GVT_HOST_HIGH_MB - par->used_high_mb) / ty->high_mb;
	fence = (par->fences - GVT_HOST_FENCES - par->used_fences) / ty->fence;
	n = low < high ? low : high;
	return n < fence ? n : fence;
}

int sim_description(const struct sim *s, unsigned int p, unsigned int t, FILE *f)
{
	const struct sim_parent *par = &s->parents[p];
	const struct sim_type *ty = &par->types[t];
	int n;

	if (par->driver == SIM_MDPY)
		n = fprintf(f, "virtual display, %s framebuffer\n", ty->resolution);
	else if (par->driver == SIM_MBOCHS)
		n = fprintf(f, "virtual display, %u MB video memory\n", ty->units);
	else if (par->driver == SIM_MTTY)
		n = -1;      /* mtty shows none: the file does not exist */
	else
		n = fprintf(f, "low_gm_size: %uMB\nhigh_gm_size: %uMB\nfence: %u\n"
			    "resolution: %s\nweight: %u\n", ty->low_mb, ty->high_mb, ty->fence,
			    ty->resolution, ty->weight);
	return n < 0 ? -EIO : 0;
}

void sim_vendor(const struct sim *s, unsigned int m, const char **dir, const char **attr)
{
	static const char *const attrs[] = {
		[SIM_GVT] = "vgpu_id", [SIM_MDPY] = "resolution",
		[SIM_MBOCHS] = "memory", [SIM_MTTY] = "sample_mdev_dev",
	};
	enum sim_driver d = s->parents[s->mdevs[m].parent].driver;

	/* The attribute group of the mdev driver's dev_groups (kvmgt.c, the samples). */
	*dir = d == SIM_GVT ? "intel_vgpu" : "vendor";
	*attr = attrs[d];
}

int sim_vendor_show(const struct sim *s, unsigned int m, FILE *f)
{
	const struct sim_mdev *md = &s->mdevs[m];
	const struct sim_parent *par = &s->parents[md->parent];
	const struct sim_type *ty = &par->types[md->type];
	int n;

	switch (par->driver) {
	case SIM_GVT:
		n = fprintf(f, "%u\n", md->vgpu_id);
		break;
	case SIM_MDPY:
		n = fprintf(f, "%s\n", ty->resolution);
		break;
	case SIM_MBOCHS:
		n = fprintf(f, "%u MB\n", ty->units);
		break;
	default:
		n = fprintf(f, "This is MDEV %s\n", md->uuid);
		break;
	}
	return n < 0 ? -EIO : 0;
}

int sim_core_charge(struct sim_parent *par)
{
	/* mdev_device_create(): only drivers without get_available() are counted here. */
	if (par->driver != SIM_MDPY)
		return 0;
	if (par->used_instances >= par->max_instances)
		return -EUSERS;
	par->used_instances++;
	return 0;
}

void sim_core_uncharge(struct sim_parent *par)
{
	if (par->driver == SIM_MDPY)
		par->used_instances--;
}

int sim_charge(struct sim_parent *par, unsigned int t, unsigned int *vgpu_id)
{
	const struct sim_type *ty = &par->types[t];
	unsigned int id;

	*vgpu_id = 0;
	if (par->driver == SIM_MDPY)
		return 0;
	/* mbochs_probe(), mtty_probe(): ENOSPC when the type's share is not left. */
	if (par->driver == SIM_MBOCHS || par->driver == SIM_MTTY) {
		if (par->pool - par->used_pool < ty->units)
			return -ENOSPC;
		par->used_pool += ty->units;
		return 0;
	}

	/* __intel_gvt_create_vgpu(): idr_alloc() first, then alloc_resource(). */
	for (id = 1; id < GVT_MAX_VGPU; id++)
		if (!(par->vgpu_ids & (1u << id)))
			break;
	if (id == GVT_MAX_VGPU)
		return -ENOSPC;
	if (ty->low_mb > par->low_mb - GVT_HOST_LOW_MB - par->used_low_mb ||
	    ty->high_mb > par->high_mb - GVT_HOST_HIGH_MB - par->used_high_mb ||
	    ty->fence > par->fences - GVT_HOST_FENCES - par->used_fences)
		return -ENOSPC;
	par->vgpu_ids |= 1u << id;
	par->used_low_mb += ty->low_mb;
	par->used_high_mb += ty->high_mb;
	par->used_fences += ty->fence;
	*vgpu_id = id;
	return 0;
}

void sim_uncharge(struct sim_parent *par, unsigned int t, unsigned int vgpu_id)
{
	const struct sim_type *ty = &par->types[t];

	if (par->driver == SIM_MDPY)
		return;
	if (par->driver == SIM_MBOCHS || par->driver == SIM_MTTY) {
		par->used_pool -= ty->units;
		return;
	}
	par->vgpu_ids &= ~(1u << vgpu_id);
	par->used_low_mb -= ty->low_mb;
	par->used_high_mb -= ty->high_mb;
	par->used_fences -= ty->fence;
}
