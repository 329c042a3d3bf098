// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fs-tree.c: the tree of vgpu-sim's sysfs: which entries each directory has, and the lookup
 * of a path.
 *
 * Every directory lists its entries through children(), and a path is looked up by walking
 * those lists from the root, so that what readdir shows and what lookup finds cannot differ.
 * Which entries an instance has depends on its stage (sim.h), as in the kernel's create and
 * remove paths.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fs-int.h"

static const mode_t kind_mode[K_NR] = {
	[K_ROOT] = DIR_MODE, [K_SIMDIR] = DIR_MODE,
	[K_CONTROL] = S_IFREG | 0600, [K_STATE] = RO_MODE,
	[K_DEVICES] = DIR_MODE, [K_PCIROOT] = DIR_MODE, [K_VIRTUAL] = DIR_MODE,
	[K_VIRTUAL_DRV] = DIR_MODE, [K_PARENT] = DIR_MODE, [K_PARENT_UEVENT] = RW_MODE,
	[K_TYPES] = DIR_MODE,
	[K_TYPE] = DIR_MODE, [K_TYPE_NAME] = RO_MODE, [K_TYPE_DESC] = RO_MODE,
	[K_TYPE_API] = RO_MODE, [K_TYPE_AVAIL] = RO_MODE, [K_TYPE_CREATE] = WO_MODE,
	[K_TYPE_DEVICES] = DIR_MODE, [K_MDEV] = DIR_MODE, [K_REMOVE] = WO_MODE,
	[K_MDEV_UEVENT] = RW_MODE, [K_VENDOR] = DIR_MODE, [K_VENDOR_ATTR] = RO_MODE,
	[K_VFIO_DEV] = DIR_MODE, [K_VFIO] = DIR_MODE, [K_VFIO_UEVENT] = RW_MODE,
	[K_POWER] = DIR_MODE, [K_POWER_ATTR] = RO_MODE,   /* or as power_attrs[] says */
	[K_BUS] = DIR_MODE, [K_BUS_PCI] = DIR_MODE, [K_BUS_PCI_DEVICES] = DIR_MODE,
	[K_BUS_MDEV] = DIR_MODE, [K_BUS_MDEV_DEVICES] = DIR_MODE,
	[K_BUS_MDEV_DRIVERS] = DIR_MODE, [K_BUS_AUTOPROBE] = RW_MODE, [K_BUS_PROBE] = WO_MODE,
	[K_BUS_UEVENT] = WO_MODE, [K_MDEV_DRIVER] = DIR_MODE,
	[K_CLASS] = DIR_MODE, [K_CLASS_MDEV_BUS] = DIR_MODE, [K_CLASS_DRV] = DIR_MODE,
	[K_CLASS_VFIO] = DIR_MODE,
	[K_KERNEL] = DIR_MODE, [K_GROUPS] = DIR_MODE, [K_GROUP] = DIR_MODE,
	[K_GROUP_DEVICES] = DIR_MODE,
	[K_LINK_PARENT] = LNK_MODE, [K_LINK_MDEV] = LNK_MODE, [K_LINK_TYPE] = LNK_MODE,
	[K_LINK_GROUP] = LNK_MODE, [K_LINK_DRIVER] = LNK_MODE, [K_LINK_VFIO] = LNK_MODE,
	[K_LINK_PARENT_SUBSYS] = LNK_MODE, [K_LINK_MDEV_SUBSYS] = LNK_MODE,
	[K_LINK_VFIO_SUBSYS] = LNK_MODE,
};

/*
 * A device's power/ directory with runtime PM never enabled, as Debian's 6.1 kernel
 * (CONFIG_PM_ADVANCED_DEBUG=y) shows it for the mdev core's devices
 * (drivers/base/power/sysfs.c): NULL content is a read that fails with EIO.
 */
const struct power_attr power_attrs[] = {
	{ "async", RW_MODE, "disabled\n" },
	{ "autosuspend_delay_ms", RW_MODE, NULL },     /* no autosuspend: -EIO */
	{ "control", RW_MODE, "auto\n" },
	{ "runtime_active_kids", RO_MODE, "0\n" },
	{ "runtime_active_time", RO_MODE, "0\n" },
	{ "runtime_enabled", RO_MODE, "disabled\n" },
	{ "runtime_status", RO_MODE, "unsupported\n" },
	{ "runtime_suspended_time", RO_MODE, "0\n" },
	{ "runtime_usage", RO_MODE, "0\n" },
};

#define NR_POWER_ATTRS (sizeof(power_attrs) / sizeof(power_attrs[0]))

mode_t node_mode(const struct node *n)
{
	if (n->kind == K_POWER_ATTR)
		return power_attrs[n->a].mode;
	return kind_mode[n->kind];
}

static bool first_virtual_drv(const struct sim *s, unsigned int p)
{
	unsigned int q;

	for (q = 0; q < p; q++)
		if (!s->parents[q].pci && !strcmp(s->parents[q].drv, s->parents[p].drv))
			return false;
	return !s->parents[p].pci;
}

static bool first_mdev_drv(const struct sim *s, unsigned int p)
{
	unsigned int q;

	for (q = 0; q < p; q++)
		if (!strcmp(s->parents[q].mdev_drv, s->parents[p].mdev_drv))
			return false;
	return true;
}

static bool any_parent(const struct sim *s, bool pci)
{
	unsigned int p;

	for (p = 0; p < s->nparents; p++)
		if (s->parents[p].pci == pci)
			return true;
	return false;
}

/* Whether directory @d has an entry for parent @p, and the entry's name and kind. */
static bool parent_entry(const struct sim *s, const struct node *d, unsigned int p,
			 const char **name, enum kind *kind)
{
	const struct sim_parent *q = &s->parents[p], *par = &s->parents[d->p];

	*name = q->name;
	switch (d->kind) {
	case K_PCIROOT:
		*kind = K_PARENT;
		return q->pci;
	case K_BUS_PCI_DEVICES:
		*kind = K_LINK_PARENT;
		return q->pci;
	case K_CLASS_MDEV_BUS:
		*kind = K_LINK_PARENT;
		return q->class_link;
	case K_VIRTUAL:
		*name = q->drv;
		*kind = K_VIRTUAL_DRV;
		return first_virtual_drv(s, p);
	case K_CLASS:
		*name = q->drv;
		*kind = K_CLASS_DRV;
		return first_virtual_drv(s, p);
	case K_VIRTUAL_DRV:
		*kind = K_PARENT;
		return !q->pci && !strcmp(q->drv, par->drv);
	case K_CLASS_DRV:
		*kind = K_LINK_PARENT;
		return !q->pci && !strcmp(q->drv, par->drv);
	case K_BUS_MDEV_DRIVERS:
		*name = q->mdev_drv;
		*kind = K_MDEV_DRIVER;
		return first_mdev_drv(s, p);
	default:
		return false;
	}
}

#define STAGE(x) (1u << (x))
#define ON_BUS (STAGE(SIM_ADDED) | STAGE(SIM_LIVE))      /* device_add() to device_del() */
#define VFIO (STAGE(SIM_LIVE) | STAGE(SIM_REMOVING))     /* the probe to the last close */

static bool in_stage(const struct sim_mdev *m, unsigned int stages)
{
	return (STAGE(m->stage) & stages) != 0;
}

/*
 * Whether directory @d has an entry for instance @m, and the entry's name and kind: each
 * entry exists in the stages the kernel shows it in (mdev_device_create(), device_add(),
 * really_probe(), mdev_device_remove_common(), device_del(), vfio_unregister_group_dev()).
 */
static bool mdev_entry(const struct sim *s, const struct node *d, const struct sim_mdev *m,
		       char *buf, size_t len, const char **name, enum kind *kind)
{
	const struct sim_parent *par = &s->parents[d->p];

	*name = m->uuid;
	*kind = K_LINK_MDEV;
	if (m->stage == SIM_FREE)
		return false;
	switch (d->kind) {
	case K_PARENT:
		*kind = K_MDEV;
		return m->parent == d->p;
	case K_TYPE_DEVICES:
		return m->stage == SIM_LIVE && m->parent == d->p && m->type == d->t;
	case K_BUS_MDEV_DEVICES:
		return in_stage(m, ON_BUS);
	case K_MDEV_DRIVER:
		return m->stage == SIM_LIVE &&
		       !strcmp(s->parents[m->parent].mdev_drv, par->mdev_drv);
	case K_GROUPS:
		snprintf(buf, len, "%u", m->iommu_group);
		*name = buf;
		*kind = K_GROUP;
		return in_stage(m, VFIO);
	case K_GROUP_DEVICES:
		return m == &s->mdevs[d->m];
	case K_CLASS_VFIO:
		snprintf(buf, len, "vfio%u", m->vfio_index);
		*name = buf;
		*kind = K_LINK_VFIO;
		return in_stage(m, VFIO);
	default:
		return false;
	}
}

/*
 * The entries every directory of a kind has, in the order readdir lists them; @stages, for
 * the entries of an instance, the stages it has them in (0: always).
 */
static const struct {
	enum kind dir;
	const char *name;
	enum kind kind;
	unsigned int stages;
} fixed[] = {
	{ K_ROOT, ".vgpu-sim", K_SIMDIR, 0 },
	{ K_ROOT, "bus", K_BUS, 0 },
	{ K_ROOT, "class", K_CLASS, 0 },
	{ K_ROOT, "devices", K_DEVICES, 0 },
	{ K_ROOT, "kernel", K_KERNEL, 0 },
	{ K_SIMDIR, "control", K_CONTROL, 0 },
	{ K_SIMDIR, "state", K_STATE, 0 },
	{ K_PARENT, "mdev_supported_types", K_TYPES, 0 },
	{ K_PARENT, "power", K_POWER, 0 },
	{ K_PARENT, "subsystem", K_LINK_PARENT_SUBSYS, 0 },
	{ K_PARENT, "uevent", K_PARENT_UEVENT, 0 },
	{ K_TYPE, "available_instances", K_TYPE_AVAIL, 0 },
	{ K_TYPE, "create", K_TYPE_CREATE, 0 },
	{ K_TYPE, "description", K_TYPE_DESC, 0 },
	{ K_TYPE, "device_api", K_TYPE_API, 0 },
	{ K_TYPE, "devices", K_TYPE_DEVICES, 0 },
	{ K_TYPE, "name", K_TYPE_NAME, 0 },
	{ K_MDEV, "driver", K_LINK_DRIVER, STAGE(SIM_LIVE) },
	{ K_MDEV, "iommu_group", K_LINK_GROUP, VFIO },
	{ K_MDEV, "mdev_type", K_LINK_TYPE, STAGE(SIM_LIVE) },
	{ K_MDEV, "power", K_POWER, ON_BUS },
	{ K_MDEV, "remove", K_REMOVE, ON_BUS },
	{ K_MDEV, "subsystem", K_LINK_MDEV_SUBSYS, ON_BUS },
	{ K_MDEV, "uevent", K_MDEV_UEVENT, ON_BUS },
	{ K_MDEV, "vfio-dev", K_VFIO_DEV, VFIO },
	{ K_VFIO, "device", K_LINK_MDEV, 0 },
	{ K_VFIO, "power", K_POWER, 0 },
	{ K_VFIO, "subsystem", K_LINK_VFIO_SUBSYS, 0 },
	{ K_VFIO, "uevent", K_VFIO_UEVENT, 0 },
	{ K_BUS, "mdev", K_BUS_MDEV, 0 },
	{ K_BUS, "pci", K_BUS_PCI, 0 },
	{ K_BUS_PCI, "devices", K_BUS_PCI_DEVICES, 0 },
	{ K_BUS_MDEV, "devices", K_BUS_MDEV_DEVICES, 0 },
	{ K_BUS_MDEV, "drivers", K_BUS_MDEV_DRIVERS, 0 },
	{ K_BUS_MDEV, "drivers_autoprobe", K_BUS_AUTOPROBE, 0 },
	{ K_BUS_MDEV, "drivers_probe", K_BUS_PROBE, 0 },
	{ K_BUS_MDEV, "uevent", K_BUS_UEVENT, 0 },
	{ K_CLASS, "mdev_bus", K_CLASS_MDEV_BUS, 0 },
	{ K_CLASS, "vfio-dev", K_CLASS_VFIO, 0 },
	{ K_KERNEL, "iommu_groups", K_GROUPS, 0 },
	{ K_GROUP, "devices", K_GROUP_DEVICES, 0 },
};

/* Whether fixed entry @i of directory @d exists now. */
static bool fixed_present(const struct sim *s, const struct node *d, size_t i)
{
	const struct sim_mdev *m = &s->mdevs[d->m];

	if (fixed[i].kind == K_TYPE_DESC)
		return s->parents[d->p].types[d->t].description;
	if (fixed[i].dir != K_MDEV || !fixed[i].stages)
		return true;
	if (fixed[i].kind == K_REMOVE && m->no_remove)
		return false;
	return in_stage(m, fixed[i].stages);
}

/* Lists the entries of directory @d; -ENOTDIR when @d is none. */
int children(const struct sim *s, const struct node *d, child_fn fn, void *ctx)
{
	const struct sim_parent *par = &s->parents[d->p];
	struct node n = { .p = d->p, .t = d->t, .m = d->m };
	const char *nm, *attr;
	char buf[16];
	unsigned int i;
	enum kind k;
	int ret;

/* Hands one entry to @fn, and stops the listing when @fn asks to. */
#define EMIT(nm, k) do {                        \
		n.kind = (k);                   \
		ret = fn(ctx, (nm), &n);        \
		if (ret)                        \
			return ret;             \
	} while (0)

	if (!S_ISDIR(node_mode(d)))
		return -ENOTDIR;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (fixed[i].dir == d->kind && fixed_present(s, d, i))
			EMIT(fixed[i].name, fixed[i].kind);

	switch (d->kind) {
	case K_DEVICES:
		if (any_parent(s, true))
			EMIT("pci0000:00", K_PCIROOT);
		if (any_parent(s, false))
			EMIT("virtual", K_VIRTUAL);
		break;
	case K_TYPES:
		for (n.t = 0; n.t < par->ntypes; n.t++)
			EMIT(par->types[n.t].dir, K_TYPE);
		break;
	case K_MDEV:
		if (s->mdevs[d->m].stage == SIM_LIVE) {
			sim_vendor(s, d->m, &nm, &attr);
			EMIT(nm, K_VENDOR);
		}
		break;
	case K_VENDOR:
		sim_vendor(s, d->m, &nm, &attr);
		EMIT(attr, K_VENDOR_ATTR);
		break;
	case K_VFIO_DEV:
		snprintf(buf, sizeof(buf), "vfio%u", s->mdevs[d->m].vfio_index);
		EMIT(buf, K_VFIO);
		break;
	case K_POWER:
		for (n.a = 0; n.a < NR_POWER_ATTRS; n.a++)
			EMIT(power_attrs[n.a].name, K_POWER_ATTR);
		break;
	default:
		break;
	}
	for (n.p = 0; n.p < s->nparents; n.p++)
		if (parent_entry(s, d, n.p, &nm, &k))
			EMIT(nm, k);
	for (i = 0; i < SIM_MAX_MDEVS; i++) {
		const struct sim_mdev *m = &s->mdevs[i];

		if (!mdev_entry(s, d, m, buf, sizeof(buf), &nm, &k))
			continue;
		n.p = m->parent;
		n.t = m->type;
		n.m = i;
		EMIT(nm, k);
	}
#undef EMIT
	return 0;
}

struct lookup {
	const char *name;
	size_t len;
	struct node node;
};

static int lookup_cb(void *ctx, const char *name, const struct node *n)
{
	struct lookup *lk = ctx;

	if (strlen(name) != lk->len || memcmp(name, lk->name, lk->len))
		return 0;
	lk->node = *n;
	return 1;
}

/* Finds @path. */
int resolve(const struct sim *s, const char *path, struct node *out)
{
	struct node cur = { .kind = K_ROOT };
	int ret;

	for (;;) {
		struct lookup lk;

		while (*path == '/')
			path++;
		if (!*path)
			break;
		lk.name = path;
		lk.len = strcspn(path, "/");
		path += lk.len;
		ret = children(s, &cur, lookup_cb, &lk);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return -ENOENT;
		cur = lk.node;
	}
	*out = cur;
	return 0;
}
