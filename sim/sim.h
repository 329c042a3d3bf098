/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sim.h: the model behind vgpu-sim, free of FUSE so that it can be unit-tested: mdev parents
 * with their types, the instances that exist, the kernel's accounting and errno values, and
 * the fault injection driven by the control file. Not thread-safe: the caller holds one lock
 * around every call, as the kernel holds mdev_list_lock and gvt->lock.
 *
 * Kernel behaviour modelled (Linux 6.12; research/hook-anchors.md section 4):
 *  - GVT-g (drivers/gpu/drm/i915/gvt/vgpu.c, kvmgt.c, aperture_gm.c): types 8, 4, 2, 1 with
 *    fixed low/high GM sizes and fences; available_instances is
 *    min(low GM left / low, high GM left / high, fences left / fence) after the host keeps
 *    128 MB low GM, 384 MB high GM and 4 fences; vGPU ids 1..7; a create that does not fit
 *    fails with ENOSPC; types are generated in the order 8, 4, 2, 1 and the first one whose
 *    low GM does not fit even once ends the list.
 *  - Drivers that let the mdev core count instances (mdev_core.c, max_instances: mdpy,
 *    vfio-ccw, vfio-ap): one count per parent shared by its types, EUSERS when none is left.
 *  - create (mdev_sysfs.c create_store): 36 or 37 bytes, else EINVAL; a UUID that exists on
 *    any parent: EEXIST. remove (remove_store): a kstrtoul() number, 0 does nothing.
 */
#ifndef VGPU_SIM_H
#define VGPU_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SIM_UUID_LEN 36
#define SIM_NAME_MAX 40      /* parent and type names, NUL included */
#define SIM_MAX_PARENTS 4
#define SIM_MAX_TYPES 4
#define SIM_MAX_MDEVS 64

/* GVT-g's fixed numbers (gvt.h, i915): what the host keeps, and the hardware's totals. */
#define GVT_HOST_LOW_MB 128
#define GVT_HOST_HIGH_MB 384
#define GVT_HOST_FENCES 4
#define GVT_MAX_VGPU 8       /* idr range 1..GVT_MAX_VGPU-1: at most 7 vGPUs */
#define GVT_GGTT_MB 4096     /* gen8+ global GTT: aperture (low GM) plus hidden (high GM) */
#define GVT_FENCES 32

enum sim_driver {
	SIM_GVT,        /* the driver accounts resources itself (get_available): ENOSPC */
	SIM_COUNTED,    /* the mdev core counts max_instances: EUSERS */
};

struct sim_type {
	char dir[SIM_NAME_MAX];        /* directory name, "<driver>-<sysfs name>" */
	char name[SIM_NAME_MAX];       /* the "name" attribute: "GVTg_V5_4", "mdpy-vga" */
	unsigned int low_mb;           /* GVT-g only */
	unsigned int high_mb;
	unsigned int fence;
	unsigned int weight;
	const char *resolution;        /* "1920x1200" */
};

struct sim_parent {
	char name[SIM_NAME_MAX];       /* "0000:00:02.0" */
	enum sim_driver driver;
	const char *drv;               /* PCI driver, prefix of the type names: "i915" */
	const char *mdev_drv;          /* the mdev bus driver of its instances */
	bool pci;                      /* devices/pci0000:00/<name>, else devices/virtual/<drv>/ */
	bool class_link;               /* class/mdev_bus/<name> exists (a compat link) */
	unsigned int ntypes;
	struct sim_type types[SIM_MAX_TYPES];
	/* GVT-g: sizes, and what the vGPUs hold */
	unsigned int low_mb, high_mb, fences;
	unsigned int used_low_mb, used_high_mb, used_fences;
	unsigned int vgpu_ids;         /* bit n set: vGPU id n taken */
	/* counted */
	unsigned int max_instances, used_instances;
};

struct sim_mdev {
	bool live;
	char uuid[SIM_UUID_LEN + 1];   /* lowercase, as the kernel names it (%pUl) */
	unsigned int parent;
	unsigned int type;
	unsigned int vgpu_id;          /* GVT-g; 0 otherwise */
	unsigned int iommu_group;
};

/*
 * Injected faults of one operation: the next @count of them fail with @err, only those of
 * instance @uuid when it is set; each create or remove write waits @delay_ms first.
 */
struct sim_fault {
	unsigned int count;
	int err;
	char uuid[SIM_UUID_LEN + 1];   /* "" for any instance */
	unsigned int delay_ms;
};

/*
 * SIM_LOOKUP: reading an existing instance's link bus/mdev/devices/<uuid>: readlink(2),
 * realpath(3), or any path walk through the link (stat, open of a file below it). This is
 * what a program checking that a new device appeared runs into.
 */
enum sim_op { SIM_CREATE, SIM_REMOVE, SIM_LOOKUP, SIM_NR_OPS };

struct sim {
	unsigned int nparents;
	struct sim_parent parents[SIM_MAX_PARENTS];
	struct sim_mdev mdevs[SIM_MAX_MDEVS];
	unsigned int iommu_group_base;
	struct sim_fault faults[SIM_NR_OPS];
};

/* gvt.c: profiles and the per-driver arithmetic */

/* The profile names, NULL-terminated; the first is the default. */
extern const char *const sim_profiles[];

/* sim_init: empty @s, then add the parents of @profile. Returns 0 or -EINVAL (no such profile). */
int sim_init(struct sim *s, const char *profile);

/*
 * sim_add_gvt: add a GVT-g parent of graphics version @ver (8: Broadwell, "GVTg_V4_*";
 * otherwise "GVTg_V5_*") with @aperture_mb of low GM, @ggtt_mb of global GTT in all and
 * @fences fence registers; its types are generated as the kernel does.
 * Returns 0, -ENOSPC (too many parents), -EINVAL (bad name or sizes).
 */
int sim_add_gvt(struct sim *s, const char *name, unsigned int ver, unsigned int aperture_mb,
		unsigned int ggtt_mb, unsigned int fences, bool class_link);

/* sim_add_counted: add an mdpy-like parent allowing @max instances. Returns as sim_add_gvt. */
int sim_add_counted(struct sim *s, const char *name, unsigned int max, bool class_link);

/* sim_available: available_instances of type @t on parent @p. */
unsigned int sim_available(const struct sim *s, unsigned int p, unsigned int t);

/* sim_description: the type's "description" attribute into @f; 0 or -EIO. */
int sim_description(const struct sim *s, unsigned int p, unsigned int t, FILE *f);

/* Take and give back a parent's resources for one instance of type @t: 0 or -ENOSPC/-EUSERS. */
int sim_charge(struct sim_parent *par, unsigned int t, unsigned int *vgpu_id);
void sim_uncharge(struct sim_parent *par, unsigned int t, unsigned int vgpu_id);

/* state.c: instances, writes to create/remove, the control and state files */

int sim_find_parent(const struct sim *s, const char *name);
int sim_find_type(const struct sim *s, unsigned int p, const char *dir);
int sim_find_mdev(const struct sim *s, const char *uuid);
int sim_find_group(const struct sim *s, unsigned int group);

/*
 * sim_create: a write of @len bytes of @buf to the create file of type @t on parent @p.
 * Returns 0 (the instance exists), -EINVAL, -EEXIST, -ENOSPC (GVT-g), -EUSERS (counted),
 * -ENOMEM (simulator full), or an injected errno.
 */
int sim_create(struct sim *s, unsigned int p, unsigned int t, const char *buf, size_t len);

/*
 * sim_remove: a write of @len bytes of @buf to the remove file of instance @uuid.
 * Returns 0 (removed, or a 0 written), -EINVAL (not a number), -ENODEV (no such instance),
 * or an injected errno (the instance stays).
 */
int sim_remove(struct sim *s, const char *uuid, const char *buf, size_t len);

/*
 * sim_lookup: a read of instance @uuid's link in bus/mdev/devices (it exists).
 * Returns 0, or the injected errno of a `fail lookup` fault (which it uses up).
 */
int sim_lookup(struct sim *s, const char *uuid);

/* sim_remove_all: remove every instance, ignoring injected faults. */
void sim_remove_all(struct sim *s);

/*
 * sim_control: run the control commands in @buf (@len bytes, one per line; see
 * docs/vgpu-sim.md). Nothing is applied unless every line is valid.
 * Returns 0 or -EINVAL; on -EINVAL, *@bad (if not NULL) is the 1-based number of the bad line.
 */
int sim_control(struct sim *s, const char *buf, size_t len, unsigned int *bad);

/* sim_dump_control: the faults in force, as the control commands that set them. 0 or -EIO. */
int sim_dump_control(const struct sim *s, FILE *f);

/* sim_dump_state: resources left per parent and type, then one line per instance. 0 or -EIO. */
int sim_dump_state(const struct sim *s, FILE *f);

/* errno names used in the control file: "ENOSPC" <-> ENOSPC. */
int sim_errno_parse(const char *name);
const char *sim_errno_name(int err);

#endif
