/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sim.h: the model behind vgpu-sim, free of FUSE so that it can be unit-tested: mdev parents
 * with their types, the instances that exist, the kernel's accounting and errno values, and
 * the fault injection driven by the control file. Not thread-safe: the caller holds one lock
 * around every call, as the kernel holds mdev_list_lock and gvt->lock.
 *
 * Kernel behaviour modelled (Linux 6.1 and 6.12; research/hook-anchors.md section 4, and
 * research/real-kernel.md for what 6.1 was measured to do):
 *  - GVT-g (drivers/gpu/drm/i915/gvt/vgpu.c, kvmgt.c, aperture_gm.c): types 8, 4, 2, 1 with
 *    fixed low/high GM sizes and fences; available_instances is
 *    min(low GM left / low, high GM left / high, fences left / fence) after the host keeps
 *    128 MB low GM, 384 MB high GM and 4 fences; vGPU ids 1..7; a create that does not fit
 *    fails with ENOSPC; types are generated in the order 8, 4, 2, 1 and the first one whose
 *    low GM does not fit even once ends the list.
 *  - Drivers that let the mdev core count instances (mdev_core.c, max_instances: mdpy,
 *    vfio-ccw, vfio-ap): one count per parent shared by its types, EUSERS when none is left.
 *  - Drivers that keep a pool of their own (samples/vfio-mdev/mbochs.c: MB of memory,
 *    mtty.c: serial ports): available_instances is what is left divided by the type's share,
 *    and the driver's probe fails with ENOSPC when it does not fit.
 *  - create (mdev_sysfs.c create_store, mdev_core.c mdev_device_create): 36 or 37 bytes,
 *    else EINVAL; a UUID still in the core's list (on any parent, being removed included):
 *    EEXIST; then the core's count (EUSERS); then device_add(), which puts the device on the
 *    bus; then the driver's probe (ENOSPC); then the mdev_type links. A create is two steps
 *    here, sim_create_add() and sim_create_probe(), so that the file system can show the
 *    device between them.
 *  - remove (remove_store, mdev_device_remove_common): a kstrtoul() number, 0 does nothing;
 *    a remove while the probe runs gives EAGAIN and loses its remove attribute; a remove of
 *    a device that a process holds through VFIO takes the device off the bus at once but
 *    waits in vfio_unregister_group_dev() until the holder closes it, and only then gives
 *    its resources and its UUID back.
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
#define SIM_MAX_MDEVS 128     /* mbochs-small: 64 of them fit the sample's 256 MB */

/* GVT-g's fixed numbers (gvt.h, i915): what the host keeps, and the hardware's totals. */
#define GVT_HOST_LOW_MB 128
#define GVT_HOST_HIGH_MB 384
#define GVT_HOST_FENCES 4
#define GVT_MAX_VGPU 8       /* idr range 1..GVT_MAX_VGPU-1: at most 7 vGPUs */
#define GVT_GGTT_MB 4096     /* gen8+ global GTT: aperture (low GM) plus hidden (high GM) */
#define GVT_FENCES 32

/* The mdev drivers modelled, each with the kernel's accounting. */
enum sim_driver {
	SIM_GVT,        /* i915 GVT-g: the driver accounts GM and fences itself: ENOSPC */
	SIM_MDPY,       /* samples/vfio-mdev/mdpy: the mdev core counts max_instances: EUSERS */
	SIM_MBOCHS,     /* samples/vfio-mdev/mbochs: a pool of MB: ENOSPC from the probe */
	SIM_MTTY,       /* samples/vfio-mdev/mtty: a pool of serial ports: ENOSPC from the probe */
};

struct sim_type {
	char dir[SIM_NAME_MAX];        /* directory name, "<driver>-<sysfs name>" */
	char name[SIM_NAME_MAX];       /* the "name" attribute: "GVTg_V5_4", "mdpy-vga" */
	unsigned int low_mb;           /* GVT-g only */
	unsigned int high_mb;
	unsigned int fence;
	unsigned int weight;
	const char *resolution;        /* "1920x1200" */
	unsigned int units;            /* mbochs: MB, mtty: ports one instance takes */
	bool description;              /* has a "description" attribute (mtty's types have none) */
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
	/* mdpy: the core's count */
	unsigned int max_instances, used_instances;
	/* mbochs, mtty: the driver's pool */
	unsigned int pool, used_pool;
};

/*
 * Where an instance is in its life, as mdev_device_create() and mdev_device_remove_common()
 * go through it. Which sysfs entries each stage shows is in docs/vgpu-sim.md.
 */
enum sim_stage {
	SIM_FREE,       /* no instance in this slot */
	SIM_ADDED,      /* device_add() done, the driver's probe not yet: on the bus, unbound */
	SIM_LIVE,       /* probed and linked to its type: what a finished create leaves */
	SIM_REMOVING,   /* a remove waits for the VFIO holder: off the bus, still charged */
};

struct sim_mdev {
	enum sim_stage stage;
	char uuid[SIM_UUID_LEN + 1];   /* lowercase, as the kernel names it (%pUl) */
	unsigned int parent;
	unsigned int type;
	unsigned int vgpu_id;          /* GVT-g; 0 otherwise */
	unsigned int iommu_group;      /* from the probe on */
	unsigned int vfio_index;       /* vfio-dev/vfio<N>, from the probe on */
	bool vfio_open;                /* a process holds it through VFIO (vfio-open) */
	bool no_remove;                /* its remove attribute is gone (a remove during probe) */
	unsigned long serial;          /* tells this instance from a later one in the slot */
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
	unsigned int probe_delay_ms;   /* delay probe: a create waits between device_add and probe */
	bool cannot_block;             /* no thread is free to wait: vfio-open is refused */
	unsigned long next_serial;
};

/* sim_remove()'s answer when the instance is held: the writer waits (sim_remove_waiting). */
#define SIM_REMOVE_BLOCKED 1

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

/*
 * sim_add_pool: add a parent like the kernel's mbochs (@driver SIM_MBOCHS, @pool MB of
 * memory) or mtty (SIM_MTTY, @pool serial ports), named after the driver, with the sample's
 * types. Returns as sim_add_gvt; -EINVAL also for another @driver.
 */
int sim_add_pool(struct sim *s, enum sim_driver driver, unsigned int pool);

/* sim_available: available_instances of type @t on parent @p. */
unsigned int sim_available(const struct sim *s, unsigned int p, unsigned int t);

/* sim_description: the type's "description" attribute into @f; 0 or -EIO. */
int sim_description(const struct sim *s, unsigned int p, unsigned int t, FILE *f);

/*
 * sim_vendor: the driver's own attribute group of instance @m: *@dir ("vendor", GVT-g's
 * "intel_vgpu") and *@attr ("resolution", "memory", "sample_mdev_dev", "vgpu_id").
 * sim_vendor_show: that attribute's content into @f; 0 or -EIO.
 */
void sim_vendor(const struct sim *s, unsigned int m, const char **dir, const char **attr);
int sim_vendor_show(const struct sim *s, unsigned int m, FILE *f);

/*
 * The core's count (mdpy), taken before device_add(): 0 or -EUSERS; and given back.
 * Drivers that count for themselves are not touched.
 */
int sim_core_charge(struct sim_parent *par);
void sim_core_uncharge(struct sim_parent *par);

/*
 * The driver's resources for one instance of type @t, taken in its probe: 0 or -ENOSPC
 * (GVT-g: no vGPU id, GM or fences; mbochs, mtty: the pool); and given back.
 */
int sim_charge(struct sim_parent *par, unsigned int t, unsigned int *vgpu_id);
void sim_uncharge(struct sim_parent *par, unsigned int t, unsigned int vgpu_id);

/* state.c: instances, writes to create/remove, the control and state files */

int sim_find_parent(const struct sim *s, const char *name);
int sim_find_type(const struct sim *s, unsigned int p, const char *dir);
/* An instance in any stage but SIM_FREE: its index, or -ENOENT. */
int sim_find_mdev(const struct sim *s, const char *uuid);
int sim_find_group(const struct sim *s, unsigned int group);

/*
 * sim_create: a write of @len bytes of @buf to the create file of type @t on parent @p:
 * sim_create_add() then sim_create_probe(). Returns 0 (the instance is SIM_LIVE) or an
 * error of either.
 */
int sim_create(struct sim *s, unsigned int p, unsigned int t, const char *buf, size_t len);

/*
 * sim_create_add: the create's checks and device_add(). On 0, *@m is the new instance, in
 * stage SIM_ADDED, holding its UUID and the core's count. Returns 0, -EINVAL (not a UUID,
 * or not 36 or 37 bytes), -EEXIST (the UUID is in use, on any parent, in any stage), -EUSERS
 * (mdpy: the core's count is used up), -ENOMEM (the simulator holds SIM_MAX_MDEVS).
 */
int sim_create_add(struct sim *s, unsigned int p, unsigned int t, const char *buf, size_t len,
		   unsigned int *m);

/*
 * sim_create_probe: the driver's probe of instance @m, added with serial number @serial.
 * On 0 the instance is SIM_LIVE, with its IOMMU group and vfio-dev index; on an error it is
 * gone and what it held is given back. Returns 0, an injected `fail create` errno, -ENOSPC
 * (GVT-g, mbochs, mtty: it does not fit), or -ENODEV (it was removed meanwhile: remove-all).
 */
int sim_create_probe(struct sim *s, unsigned int m, unsigned long serial);

/*
 * sim_remove: a write of @len bytes of @buf to the remove file of instance @uuid.
 * Returns 0 (removed, or a 0 written), SIM_REMOVE_BLOCKED (it is held through VFIO: it is
 * now SIM_REMOVING, and is removed when the holder closes it; the writer waits while
 * sim_remove_waiting()), -EINVAL (not a number), -ENODEV (no such instance, or its remove
 * attribute is gone: being removed, or lost to an earlier EAGAIN), -EAGAIN (its probe has
 * not finished: mdev_device_remove() refuses, and remove_store() has removed the attribute
 * already, so the instance keeps no remove file), or an injected errno (the instance stays).
 */
int sim_remove(struct sim *s, const char *uuid, const char *buf, size_t len);

/* sim_remove_waiting: whether instance @m (serial @serial) still waits for its holder. */
bool sim_remove_waiting(const struct sim *s, unsigned int m, unsigned long serial);

/*
 * sim_lookup: a read of instance @uuid's link in bus/mdev/devices (it exists).
 * Returns 0, or the injected errno of a `fail lookup` fault (which it uses up).
 */
int sim_lookup(struct sim *s, const char *uuid);

/* sim_remove_all: remove every instance in every stage, held or not, ignoring faults. */
void sim_remove_all(struct sim *s);

/*
 * sim_control: run the control commands in @buf (@len bytes, one per line; see
 * docs/vgpu-sim.md). Nothing is applied unless every line succeeds.
 * Returns 0, -EINVAL (a line is not a valid command), -ENOENT (vfio-open or vfio-close of
 * an instance that is not there, or not probed yet), -EBUSY (vfio-open of an instance
 * already open, as a second open of its VFIO group), -EOPNOTSUPP (vfio-open when
 * cannot_block is set), -ENOMEM; on an error, *@bad (if not NULL) is the 1-based number of
 * the line that failed.
 */
int sim_control(struct sim *s, const char *buf, size_t len, unsigned int *bad);

/*
 * sim_dump_control: the faults and delays in force and the instances held open, as the
 * control commands that set them. 0 or -EIO.
 */
int sim_dump_control(const struct sim *s, FILE *f);

/* sim_dump_state: resources left per parent and type, then one line per instance. 0 or -EIO. */
int sim_dump_state(const struct sim *s, FILE *f);

/* errno names used in the control file: "ENOSPC" <-> ENOSPC. */
int sim_errno_parse(const char *name);
const char *sim_errno_name(int err);

#endif
