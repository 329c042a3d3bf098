// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fs.c: the mdev part of sysfs as a FUSE file system.
 *
 * Every directory lists its entries through children(), and a path is looked up by walking
 * those lists from the root, so that what readdir shows and what lookup finds cannot differ.
 * Nothing is cached (timeouts 0, direct I/O): a create is visible to the next stat or read.
 * One mutex guards the model, as the kernel's mdev_list_lock and gvt->lock do. Which entries
 * an instance has depends on its stage (sim.h), as in the kernel's create and remove paths.
 * A remove of an instance held through VFIO waits on a condition variable, without the
 * mutex, until a control write lets it go; so it needs a free FUSE thread (not -s).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "fs.h"

enum kind {
	K_ROOT,
	K_SIMDIR,               /* .vgpu-sim/ */
	K_CONTROL,
	K_STATE,
	K_DEVICES,              /* devices/ */
	K_PCIROOT,              /* devices/pci0000:00/ */
	K_VIRTUAL,              /* devices/virtual/ */
	K_VIRTUAL_DRV,          /* devices/virtual/<drv>/ */
	K_PARENT,               /* the parent device's directory */
	K_PARENT_UEVENT,
	K_TYPES,                /* <parent>/mdev_supported_types/ */
	K_TYPE,
	K_TYPE_NAME,
	K_TYPE_DESC,
	K_TYPE_API,
	K_TYPE_AVAIL,
	K_TYPE_CREATE,
	K_TYPE_DEVICES,
	K_MDEV,                 /* <parent>/<uuid>/ */
	K_REMOVE,
	K_MDEV_UEVENT,
	K_VENDOR,               /* <uuid>/vendor/ (the samples), <uuid>/intel_vgpu/ (GVT-g) */
	K_VENDOR_ATTR,
	K_VFIO_DEV,             /* <uuid>/vfio-dev/ */
	K_VFIO,                 /* <uuid>/vfio-dev/vfio<N>/ */
	K_VFIO_UEVENT,
	K_POWER,                /* power/ of a parent, an instance or its vfio<N> */
	K_POWER_ATTR,
	K_BUS,
	K_BUS_PCI,
	K_BUS_PCI_DEVICES,
	K_BUS_MDEV,
	K_BUS_MDEV_DEVICES,
	K_BUS_MDEV_DRIVERS,
	K_BUS_AUTOPROBE,
	K_BUS_PROBE,
	K_BUS_UEVENT,
	K_MDEV_DRIVER,          /* bus/mdev/drivers/<drv>/ */
	K_CLASS,
	K_CLASS_MDEV_BUS,
	K_CLASS_DRV,            /* class/<drv>/: the class of a virtual parent (mdpy, mbochs) */
	K_CLASS_VFIO,           /* class/vfio-dev/ */
	K_KERNEL,
	K_GROUPS,               /* kernel/iommu_groups/ */
	K_GROUP,
	K_GROUP_DEVICES,
	K_LINK_PARENT,          /* symlinks, named by what they point to */
	K_LINK_MDEV,
	K_LINK_TYPE,
	K_LINK_GROUP,
	K_LINK_DRIVER,
	K_LINK_VFIO,
	K_LINK_PARENT_SUBSYS,   /* <parent>/subsystem */
	K_LINK_MDEV_SUBSYS,     /* <uuid>/subsystem */
	K_LINK_VFIO_SUBSYS,     /* vfio<N>/subsystem */
	K_NR,
};

#define DIR_MODE (S_IFDIR | 0755)
#define RO_MODE (S_IFREG | 0444)
#define WO_MODE (S_IFREG | 0200)
#define RW_MODE (S_IFREG | 0644)
#define LNK_MODE (S_IFLNK | 0777)

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
static const struct {
	const char *name;
	mode_t mode;
	const char *content;
} power_attrs[] = {
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

struct node {
	enum kind kind;
	unsigned int p;         /* parent, for everything below a parent */
	unsigned int t;         /* type */
	unsigned int m;         /* instance */
	unsigned int a;         /* K_POWER_ATTR: index in power_attrs[] */
};

struct simfs {
	pthread_mutex_t lock;
	pthread_cond_t changed;  /* signalled after every control write: a holder may be gone */
	struct sim *sim;
	struct simfs_config cfg;
	uid_t uid;
	gid_t gid;
	struct timespec start;
};

/* Called with each entry of a directory; a nonzero return stops the listing. */
typedef int (*child_fn)(void *ctx, const char *name, const struct node *n);

static struct simfs *fs_get(void)
{
	return fuse_get_context()->private_data;
}

static mode_t node_mode(const struct node *n)
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
static int children(const struct sim *s, const struct node *d, child_fn fn, void *ctx)
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
static int resolve(const struct sim *s, const char *path, struct node *out)
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

static int parent_path(const struct sim *s, unsigned int p, FILE *f)
{
	const struct sim_parent *par = &s->parents[p];

	if (par->pci)
		return fprintf(f, "devices/pci0000:00/%s", par->name);
	return fprintf(f, "devices/virtual/%s/%s", par->drv, par->name);
}

/* Where link @n points, relative to the root of the file system. */
static int link_target(const struct sim *s, const struct node *n, FILE *f)
{
	const struct sim_parent *par = &s->parents[n->p];
	const struct sim_mdev *m = &s->mdevs[n->m];

	switch (n->kind) {
	case K_LINK_PARENT:
		return parent_path(s, n->p, f);
	case K_LINK_MDEV:
		if (parent_path(s, n->p, f) < 0)
			return -1;
		return fprintf(f, "/%s", m->uuid);
	case K_LINK_TYPE:
		if (parent_path(s, n->p, f) < 0)
			return -1;
		return fprintf(f, "/mdev_supported_types/%s", par->types[n->t].dir);
	case K_LINK_GROUP:
		return fprintf(f, "kernel/iommu_groups/%u", m->iommu_group);
	case K_LINK_DRIVER:
		return fprintf(f, "bus/mdev/drivers/%s", par->mdev_drv);
	case K_LINK_VFIO:
		if (parent_path(s, n->p, f) < 0)
			return -1;
		return fprintf(f, "/%s/vfio-dev/vfio%u", m->uuid, m->vfio_index);
	case K_LINK_PARENT_SUBSYS:
		/* bus_add_device() for a PCI parent; a class device's is its class. */
		return par->pci ? fprintf(f, "bus/pci") : fprintf(f, "class/%s", par->drv);
	case K_LINK_MDEV_SUBSYS:
		return fprintf(f, "bus/mdev");
	case K_LINK_VFIO_SUBSYS:
		return fprintf(f, "class/vfio-dev");
	default:
		return -1;
	}
}

/* dev_uevent(): DRIVER= once bound; pci_uevent() adds its own lines for a PCI parent. */
static int uevent_content(const struct sim *s, const struct node *n, FILE *f)
{
	const struct sim_parent *par = &s->parents[n->p];
	int ret = 0;

	if (n->kind == K_MDEV_UEVENT && s->mdevs[n->m].stage == SIM_LIVE)
		ret = fprintf(f, "DRIVER=%s\n", par->mdev_drv);
	else if (n->kind == K_PARENT_UEVENT && par->pci)
		ret = fprintf(f, "DRIVER=%s\nPCI_CLASS=30000\nPCI_SLOT_NAME=%s\n", par->drv,
			      par->name);
	return ret < 0 ? -EIO : 0;
}

/* The content of file @n, as its show() function formats it. */
static int file_content(const struct sim *s, const struct node *n, FILE *f)
{
	const struct sim_parent *par = &s->parents[n->p];

	switch (n->kind) {
	case K_CONTROL:
		return sim_dump_control(s, f);
	case K_STATE:
		return sim_dump_state(s, f);
	case K_TYPE_NAME:
		return fprintf(f, "%s\n", par->types[n->t].name) < 0 ? -EIO : 0;
	case K_TYPE_DESC:
		return sim_description(s, n->p, n->t, f);
	case K_TYPE_API:
		return fprintf(f, "vfio-pci\n") < 0 ? -EIO : 0;
	case K_TYPE_AVAIL:
		return fprintf(f, "%u\n", sim_available(s, n->p, n->t)) < 0 ? -EIO : 0;
	case K_VENDOR_ATTR:
		return sim_vendor_show(s, n->m, f);
	case K_PARENT_UEVENT:
	case K_MDEV_UEVENT:
	case K_VFIO_UEVENT:
		return uevent_content(s, n, f);
	case K_BUS_AUTOPROBE:
		return fprintf(f, "1\n") < 0 ? -EIO : 0;
	case K_POWER_ATTR:
		if (!power_attrs[n->a].content)
			return -EIO;
		return fputs(power_attrs[n->a].content, f) < 0 ? -EIO : 0;
	default:
		return -EACCES;
	}
}

/*
 * The text of a link at @path pointing to @target (both from the root, @path with a leading
 * slash): relative as kernfs_get_target_path() makes it, up from the link's directory to
 * the nearest common ancestor and down to the target.
 */
static void relative_link(const char *path, const char *target, FILE *f)
{
	const char *dir_end = strrchr(path, '/');
	const char *d = path + 1, *t = target;

	/* Skip the components the link's directory and the target share. */
	while (d < dir_end) {
		size_t dl = strcspn(d, "/"), tl = strcspn(t, "/");

		if (dl != tl || memcmp(d, t, dl) || !t[tl])
			break;
		d += dl + 1;
		t += tl + 1;
	}
	/* One "../" for every component of the directory left. */
	while (d < dir_end) {
		fputs("../", f);
		d += strcspn(d, "/") + 1;
	}
	fputs(t, f);
}

/*
 * What a read of file @n at @path returns, or where link @n points, into *@text (caller
 * frees), *@len bytes.
 */
static int render(const struct simfs *fs, const struct node *n, const char *path,
		  char **text, size_t *len)
{
	char *target = NULL;
	size_t tlen = 0;
	FILE *f;
	int ret = 0;

	if (node_mode(n) != LNK_MODE) {
		f = open_memstream(text, len);
		if (!f)
			return -ENOMEM;
		ret = file_content(fs->sim, n, f);
		if (fclose(f) && !ret)
			ret = -ENOMEM;
		return ret;
	}

	f = open_memstream(&target, &tlen);
	if (!f)
		return -ENOMEM;
	if (link_target(fs->sim, n, f) < 0)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -ENOMEM;
	if (!ret) {
		f = open_memstream(text, len);
		if (!f) {
			ret = -ENOMEM;
		} else {
			if (fs->cfg.relative_links)
				relative_link(path, target, f);
			else
				fprintf(f, "%s/%s", fs->cfg.link_root, target);
			if (fclose(f))
				ret = -ENOMEM;
		}
	}
	free(target);
	return ret;
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	/* State changes with every write: never let the kernel cache an answer. */
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->direct_io = 1;
	cfg->kernel_cache = 0;
	return fuse_get_context()->private_data;
}

/*
 * Looks up @path into @n and, when it is of the file type @fmt (S_IFLNK, S_IFREG), renders
 * it into *@text (caller frees); all under the lock.
 */
static int fetch(struct simfs *fs, const char *path, mode_t fmt, struct node *n, char **text,
		 size_t *len)
{
	int ret;

	pthread_mutex_lock(&fs->lock);
	ret = resolve(fs->sim, path, n);
	if (!ret && (node_mode(n) & S_IFMT) == fmt)
		ret = render(fs, n, path, text, len);
	pthread_mutex_unlock(&fs->lock);
	return ret;
}

/*
 * Reading the link bus/mdev/devices/<uuid> (node @n, already resolved) may meet an injected
 * `fail lookup` fault. Only READLINK is failed, never the kernel's LOOKUP of the name: the
 * kernel repeats a failed LOOKUP of a cached name once, READLINK never, so each readlink(2)
 * or path walk through the link uses up exactly one fault. Returns 0 or its -errno.
 */
static int lookup_fault(struct simfs *fs, const char *path, const struct node *n)
{
	static const char dir[] = "/bus/mdev/devices/";
	int ret;

	if (n->kind != K_LINK_MDEV || strncmp(path, dir, sizeof(dir) - 1) ||
	    strchr(path + sizeof(dir) - 1, '/'))
		return 0;
	pthread_mutex_lock(&fs->lock);
	ret = sim_lookup(fs->sim, fs->sim->mdevs[n->m].uuid);
	pthread_mutex_unlock(&fs->lock);
	return ret;
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct simfs *fs = fs_get();
	struct node n;
	int ret;

	(void)fi;
	pthread_mutex_lock(&fs->lock);
	ret = resolve(fs->sim, path, &n);
	pthread_mutex_unlock(&fs->lock);
	if (ret)
		return ret;

	memset(st, 0, sizeof(*st));
	st->st_mode = node_mode(&n);
	st->st_nlink = S_ISDIR(st->st_mode) ? 2 : 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_atim = st->st_mtim = st->st_ctim = fs->start;
	st->st_blksize = 4096;
	/* Like sysfs: a page for every attribute, whatever a read returns; 0 for a link. */
	if (S_ISREG(st->st_mode))
		st->st_size = 4096;
	return 0;
}

static int fs_readlink(const char *path, char *buf, size_t size)
{
	struct simfs *fs = fs_get();
	struct node n;
	char *target = NULL;
	size_t len = 0;
	int ret;

	ret = fetch(fs, path, S_IFLNK, &n, &target, &len);
	if (!ret)
		ret = lookup_fault(fs, path, &n);
	if (!ret && !target)
		ret = -EINVAL;
	if (!ret && size)
		snprintf(buf, size, "%s", target);
	free(target);
	return ret;
}

struct fill {
	void *buf;
	fuse_fill_dir_t filler;
};

static int fill_cb(void *ctx, const char *name, const struct node *n)
{
	struct fill *fl = ctx;

	(void)n;
	return fl->filler(fl->buf, name, NULL, 0, 0) ? -ENOMEM : 0;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct simfs *fs = fs_get();
	struct fill fl = { .buf = buf, .filler = filler };
	struct node n;
	int ret;

	(void)off;
	(void)fi;
	(void)flags;
	if (filler(buf, ".", NULL, 0, 0) || filler(buf, "..", NULL, 0, 0))
		return -ENOMEM;
	pthread_mutex_lock(&fs->lock);
	ret = resolve(fs->sim, path, &n);
	if (!ret)
		ret = children(fs->sim, &n, fill_cb, &fl);
	pthread_mutex_unlock(&fs->lock);
	return ret;
}

/* kernfs_fop_open(): a file without store() cannot be opened for writing, even by root. */
static bool writable(const struct node *n)
{
	return (node_mode(n) & 0200) != 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	struct simfs *fs = fs_get();
	int acc = fi->flags & O_ACCMODE;
	struct node n;
	int ret;

	pthread_mutex_lock(&fs->lock);
	ret = resolve(fs->sim, path, &n);
	pthread_mutex_unlock(&fs->lock);
	if (ret)
		return ret;
	if (!S_ISREG(node_mode(&n)))
		return -EISDIR;
	/* kernfs_fop_open(): no show() means no reading, no store() no writing, even for root. */
	if (acc != O_WRONLY && !(node_mode(&n) & 0444))
		return -EACCES;
	if (acc != O_RDONLY && !writable(&n))
		return -EACCES;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	return 0;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct simfs *fs = fs_get();
	struct node n;
	char *text = NULL;
	size_t len = 0;
	int ret;

	(void)fi;
	ret = fetch(fs, path, S_IFREG, &n, &text, &len);
	/* The open file of a device that has gone is a deactivated kernfs node. */
	if (ret == -ENOENT)
		ret = -ENODEV;
	if (ret)
		goto out;
	if (off < 0 || (size_t)off >= len) {
		ret = 0;
		goto out;
	}
	if (size > len - (size_t)off)
		size = len - (size_t)off;
	memcpy(buf, text + off, size);
	ret = (int)size;
out:
	free(text);
	return ret;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void log_write(const struct simfs *fs, const char *path, const char *buf, size_t size,
		      int ret)
{
	const char *name = sim_errno_name(-ret);
	int shown = (int)(size > 64 ? 64 : size);

	if (!fs->cfg.verbose)
		return;
	while (shown && (buf[shown - 1] == '\n' || buf[shown - 1] == '\0'))
		shown--;
	if (!ret)
		fprintf(stderr, "vgpu-sim: %s <- \"%.*s\": ok\n", path, shown, buf);
	else
		fprintf(stderr, "vgpu-sim: %s <- \"%.*s\": %s\n", path, shown, buf,
			name ? name : strerror(-ret));
}

/*
 * A write to a uevent file asks for a synthetic uevent (kobject_synth_uevent()): an action
 * word, then optional arguments, one trailing newline or NUL ignored. vgpu-sim sends no
 * uevents, so a valid one does nothing. Returns 0 or -EINVAL (kobject_action_type()).
 */
static int uevent_write(const char *buf, size_t size)
{
	static const char *const actions[] = {
		"add", "remove", "change", "move", "online", "offline", "bind", "unbind",
	};
	const char *sp;
	size_t i, n;

	if (size && (buf[size - 1] == '\n' || buf[size - 1] == '\0'))
		size--;
	sp = memchr(buf, ' ', size);
	n = sp ? (size_t)(sp - buf) : size;
	for (i = 0; size && i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strlen(actions[i]) == n && !memcmp(actions[i], buf, n))
			return 0;
	return -EINVAL;
}

/*
 * Waits, without the lock, until instance @m (serial @serial) is no longer held and its
 * remove has finished: kernel 6.x's vfio_unregister_group_dev(). A signal to the writer
 * cannot end it (the FUSE request is in user space: the writer is in state D, as on the
 * kernel); only a vfio-close, reset of the holds by remove-all, or the end of vgpu-sim
 * does. Returns 0, or -ENODEV when vgpu-sim is going away first. Called with the lock held.
 */
static int wait_for_holder(struct simfs *fs, unsigned int m, unsigned long serial)
{
	struct fuse_session *se = fuse_get_session(fuse_get_context()->fuse);

	while (sim_remove_waiting(fs->sim, m, serial)) {
		struct timespec until;

		/* Wake now and then to see whether the file system is being unmounted. */
		if (fuse_session_exited(se))
			return -ENODEV;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&fs->changed, &fs->lock, &until);
	}
	return 0;
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct simfs *fs = fs_get();
	unsigned int delay = 0, m;
	unsigned long serial;
	struct node n;
	int ret;

	(void)off;
	(void)fi;
	pthread_mutex_lock(&fs->lock);
	ret = resolve(fs->sim, path, &n);
	if (!ret && n.kind == K_TYPE_CREATE)
		delay = fs->sim->faults[SIM_CREATE].delay_ms;
	else if (!ret && n.kind == K_REMOVE)
		delay = fs->sim->faults[SIM_REMOVE].delay_ms;
	pthread_mutex_unlock(&fs->lock);

	/* Outside the lock, so that readers and other writers go on meanwhile. */
	if (!ret && delay)
		sleep_ms(delay);

	pthread_mutex_lock(&fs->lock);
	if (!ret)
		ret = resolve(fs->sim, path, &n);
	/* The open file of a device that has gone is a deactivated kernfs node. */
	if (ret == -ENOENT)
		ret = -ENODEV;
	else if (!ret) {
		switch (n.kind) {
		case K_TYPE_CREATE:
			ret = sim_create_add(fs->sim, n.p, n.t, buf, size, &m);
			if (ret)
				break;
			serial = fs->sim->mdevs[m].serial;
			/* delay probe: the device is on the bus, unbound, for that long. */
			delay = fs->sim->probe_delay_ms;
			if (delay) {
				pthread_mutex_unlock(&fs->lock);
				sleep_ms(delay);
				pthread_mutex_lock(&fs->lock);
			}
			ret = sim_create_probe(fs->sim, m, serial);
			break;
		case K_REMOVE:
			m = n.m;
			ret = sim_remove(fs->sim, fs->sim->mdevs[m].uuid, buf, size);
			if (ret == SIM_REMOVE_BLOCKED)
				ret = wait_for_holder(fs, m, fs->sim->mdevs[m].serial);
			break;
		case K_CONTROL:
			ret = sim_control(fs->sim, buf, size, NULL);
			if (!ret)
				pthread_cond_broadcast(&fs->changed);
			break;
		case K_PARENT_UEVENT:
		case K_MDEV_UEVENT:
		case K_VFIO_UEVENT:
		case K_BUS_UEVENT:
			ret = uevent_write(buf, size);
			break;
		default:
			/* drivers_probe, drivers_autoprobe, power/: the kernel acts; we do not. */
			ret = writable(&n) ? -EOPNOTSUPP : -EACCES;
			break;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	log_write(fs, path, buf, size, ret);
	return ret ? ret : (int)size;
}

/* open(O_TRUNC), as in `echo UUID > create`: sysfs accepts and ignores it. */
static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct simfs *fs = fs_get();
	struct node n;
	int ret;

	(void)size;
	(void)fi;
	pthread_mutex_lock(&fs->lock);
	ret = resolve(fs->sim, path, &n);
	pthread_mutex_unlock(&fs->lock);
	if (!ret && !writable(&n))
		ret = S_ISDIR(node_mode(&n)) ? -EISDIR : -EACCES;
	return ret;
}

static const struct fuse_operations simfs_ops = {
	.init = fs_init,
	.getattr = fs_getattr,
	.readlink = fs_readlink,
	.readdir = fs_readdir,
	.open = fs_open,
	.read = fs_read,
	.write = fs_write,
	.truncate = fs_truncate,
};

int simfs_main(struct fuse_args *args, struct sim *sim, const struct simfs_config *cfg)
{
	struct simfs fs = {
		.sim = sim,
		.cfg = *cfg,
		.uid = getuid(),
		.gid = getgid(),
	};
	int ret;

	clock_gettime(CLOCK_REALTIME, &fs.start);
	ret = pthread_mutex_init(&fs.lock, NULL);
	if (ret)
		return ret;
	ret = pthread_cond_init(&fs.changed, NULL);
	if (ret) {
		pthread_mutex_destroy(&fs.lock);
		return ret;
	}
	ret = fuse_main(args->argc, args->argv, &simfs_ops, &fs);
	pthread_cond_destroy(&fs.changed);
	pthread_mutex_destroy(&fs.lock);
	return ret;
}
