// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fs.c: the mdev part of sysfs as a FUSE file system.
 *
 * Every directory lists its entries through children(), and a path is looked up by walking
 * those lists from the root, so that what readdir shows and what lookup finds cannot differ.
 * Nothing is cached (timeouts 0, direct I/O): a create is visible to the next stat or read.
 * One mutex guards the model, as the kernel's mdev_list_lock and gvt->lock do.
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
	K_VGPU_DIR,             /* <uuid>/intel_vgpu/ */
	K_VGPU_ID,
	K_BUS,
	K_BUS_PCI,
	K_BUS_PCI_DEVICES,
	K_BUS_MDEV,
	K_BUS_MDEV_DEVICES,
	K_BUS_MDEV_DRIVERS,
	K_MDEV_DRIVER,          /* bus/mdev/drivers/<drv>/ */
	K_CLASS,
	K_CLASS_MDEV_BUS,
	K_KERNEL,
	K_GROUPS,               /* kernel/iommu_groups/ */
	K_GROUP,
	K_GROUP_DEVICES,
	K_LINK_PARENT,          /* symlinks, named by what they point to */
	K_LINK_MDEV,
	K_LINK_TYPE,
	K_LINK_GROUP,
	K_LINK_DRIVER,
	K_NR,
};

#define DIR_MODE (S_IFDIR | 0755)
#define RO_MODE (S_IFREG | 0444)
#define WO_MODE (S_IFREG | 0200)
#define LNK_MODE (S_IFLNK | 0777)

static const mode_t kind_mode[K_NR] = {
	[K_ROOT] = DIR_MODE, [K_SIMDIR] = DIR_MODE,
	[K_CONTROL] = S_IFREG | 0600, [K_STATE] = RO_MODE,
	[K_DEVICES] = DIR_MODE, [K_PCIROOT] = DIR_MODE, [K_VIRTUAL] = DIR_MODE,
	[K_VIRTUAL_DRV] = DIR_MODE, [K_PARENT] = DIR_MODE, [K_TYPES] = DIR_MODE,
	[K_TYPE] = DIR_MODE, [K_TYPE_NAME] = RO_MODE, [K_TYPE_DESC] = RO_MODE,
	[K_TYPE_API] = RO_MODE, [K_TYPE_AVAIL] = RO_MODE, [K_TYPE_CREATE] = WO_MODE,
	[K_TYPE_DEVICES] = DIR_MODE, [K_MDEV] = DIR_MODE, [K_REMOVE] = WO_MODE,
	[K_VGPU_DIR] = DIR_MODE, [K_VGPU_ID] = RO_MODE,
	[K_BUS] = DIR_MODE, [K_BUS_PCI] = DIR_MODE, [K_BUS_PCI_DEVICES] = DIR_MODE,
	[K_BUS_MDEV] = DIR_MODE, [K_BUS_MDEV_DEVICES] = DIR_MODE,
	[K_BUS_MDEV_DRIVERS] = DIR_MODE, [K_MDEV_DRIVER] = DIR_MODE,
	[K_CLASS] = DIR_MODE, [K_CLASS_MDEV_BUS] = DIR_MODE,
	[K_KERNEL] = DIR_MODE, [K_GROUPS] = DIR_MODE, [K_GROUP] = DIR_MODE,
	[K_GROUP_DEVICES] = DIR_MODE,
	[K_LINK_PARENT] = LNK_MODE, [K_LINK_MDEV] = LNK_MODE, [K_LINK_TYPE] = LNK_MODE,
	[K_LINK_GROUP] = LNK_MODE, [K_LINK_DRIVER] = LNK_MODE,
};

struct node {
	enum kind kind;
	unsigned int p;         /* parent, for everything below a parent */
	unsigned int t;         /* type */
	unsigned int m;         /* instance */
};

struct simfs {
	pthread_mutex_t lock;
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
	case K_VIRTUAL_DRV:
		*kind = K_PARENT;
		return !q->pci && !strcmp(q->drv, par->drv);
	case K_BUS_MDEV_DRIVERS:
		*name = q->mdev_drv;
		*kind = K_MDEV_DRIVER;
		return first_mdev_drv(s, p);
	default:
		return false;
	}
}

/* Whether directory @d has an entry for instance @m, and the entry's name and kind. */
static bool mdev_entry(const struct sim *s, const struct node *d, const struct sim_mdev *m,
		       char *buf, size_t len, const char **name, enum kind *kind)
{
	const struct sim_parent *par = &s->parents[d->p];

	*name = m->uuid;
	*kind = K_LINK_MDEV;
	if (!m->live)
		return false;
	switch (d->kind) {
	case K_PARENT:
		*kind = K_MDEV;
		return m->parent == d->p;
	case K_TYPE_DEVICES:
		return m->parent == d->p && m->type == d->t;
	case K_BUS_MDEV_DEVICES:
		return true;
	case K_MDEV_DRIVER:
		return !strcmp(s->parents[m->parent].mdev_drv, par->mdev_drv);
	case K_GROUPS:
		snprintf(buf, len, "%u", m->iommu_group);
		*name = buf;
		*kind = K_GROUP;
		return true;
	case K_GROUP_DEVICES:
		return m == &s->mdevs[d->m];
	default:
		return false;
	}
}

/* The entries every directory of a kind has, in the order readdir lists them. */
static const struct {
	enum kind dir;
	const char *name;
	enum kind kind;
} fixed[] = {
	{ K_ROOT, ".vgpu-sim", K_SIMDIR },
	{ K_ROOT, "bus", K_BUS },
	{ K_ROOT, "class", K_CLASS },
	{ K_ROOT, "devices", K_DEVICES },
	{ K_ROOT, "kernel", K_KERNEL },
	{ K_SIMDIR, "control", K_CONTROL },
	{ K_SIMDIR, "state", K_STATE },
	{ K_PARENT, "mdev_supported_types", K_TYPES },
	{ K_TYPE, "available_instances", K_TYPE_AVAIL },
	{ K_TYPE, "create", K_TYPE_CREATE },
	{ K_TYPE, "description", K_TYPE_DESC },
	{ K_TYPE, "device_api", K_TYPE_API },
	{ K_TYPE, "devices", K_TYPE_DEVICES },
	{ K_TYPE, "name", K_TYPE_NAME },
	{ K_MDEV, "driver", K_LINK_DRIVER },
	{ K_MDEV, "iommu_group", K_LINK_GROUP },
	{ K_MDEV, "mdev_type", K_LINK_TYPE },
	{ K_MDEV, "remove", K_REMOVE },
	{ K_VGPU_DIR, "vgpu_id", K_VGPU_ID },
	{ K_BUS, "mdev", K_BUS_MDEV },
	{ K_BUS, "pci", K_BUS_PCI },
	{ K_BUS_PCI, "devices", K_BUS_PCI_DEVICES },
	{ K_BUS_MDEV, "devices", K_BUS_MDEV_DEVICES },
	{ K_BUS_MDEV, "drivers", K_BUS_MDEV_DRIVERS },
	{ K_CLASS, "mdev_bus", K_CLASS_MDEV_BUS },
	{ K_KERNEL, "iommu_groups", K_GROUPS },
	{ K_GROUP, "devices", K_GROUP_DEVICES },
};

/* Lists the entries of directory @d; -ENOTDIR when @d is none. */
static int children(const struct sim *s, const struct node *d, child_fn fn, void *ctx)
{
	const struct sim_parent *par = &s->parents[d->p];
	struct node n = { .p = d->p, .t = d->t, .m = d->m };
	const char *nm;
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

	if (!S_ISDIR(kind_mode[d->kind]))
		return -ENOTDIR;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (fixed[i].dir == d->kind)
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
		if (par->driver == SIM_GVT)
			EMIT("intel_vgpu", K_VGPU_DIR);
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

/* Finds @path; *@depth (if not NULL) is its number of components. */
static int resolve(const struct sim *s, const char *path, struct node *out, unsigned int *depth)
{
	struct node cur = { .kind = K_ROOT };
	unsigned int d = 0;
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
		d++;
	}
	*out = cur;
	if (depth)
		*depth = d;
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

	switch (n->kind) {
	case K_LINK_PARENT:
		return parent_path(s, n->p, f);
	case K_LINK_MDEV:
		if (parent_path(s, n->p, f) < 0)
			return -1;
		return fprintf(f, "/%s", s->mdevs[n->m].uuid);
	case K_LINK_TYPE:
		if (parent_path(s, n->p, f) < 0)
			return -1;
		return fprintf(f, "/mdev_supported_types/%s", par->types[n->t].dir);
	case K_LINK_GROUP:
		return fprintf(f, "kernel/iommu_groups/%u", s->mdevs[n->m].iommu_group);
	case K_LINK_DRIVER:
		return fprintf(f, "bus/mdev/drivers/%s", par->mdev_drv);
	default:
		return -1;
	}
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
	case K_VGPU_ID:
		return fprintf(f, "%u\n", s->mdevs[n->m].vgpu_id) < 0 ? -EIO : 0;
	default:
		return -EACCES;
	}
}

/*
 * What a read of file @n returns, or where link @n points (@depth: components in its path),
 * into *@text (caller frees), *@len bytes.
 */
static int render(const struct simfs *fs, const struct node *n, unsigned int depth,
		  char **text, size_t *len)
{
	FILE *f;
	unsigned int i;
	int ret = 0;

	f = open_memstream(text, len);
	if (!f)
		return -ENOMEM;
	if (kind_mode[n->kind] == LNK_MODE) {
		/* Relative: from the link's directory up to the root, then down. */
		if (fs->cfg.relative_links)
			for (i = 1; i < depth; i++)
				fputs("../", f);
		else
			fprintf(f, "%s/", fs->cfg.link_root);
		if (link_target(fs->sim, n, f) < 0)
			ret = -EIO;
	} else {
		ret = file_content(fs->sim, n, f);
	}
	if (fclose(f) && !ret)
		ret = -ENOMEM;
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
	unsigned int depth;
	int ret;

	pthread_mutex_lock(&fs->lock);
	ret = resolve(fs->sim, path, n, &depth);
	if (!ret && (kind_mode[n->kind] & S_IFMT) == fmt)
		ret = render(fs, n, depth, text, len);
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
	char *target = NULL;
	size_t len = 0;
	int ret;

	(void)fi;
	ret = fetch(fs, path, S_IFLNK, &n, &target, &len);
	if (ret)
		goto out;

	memset(st, 0, sizeof(*st));
	st->st_mode = kind_mode[n.kind];
	st->st_nlink = S_ISDIR(st->st_mode) ? 2 : 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_atim = st->st_mtim = st->st_ctim = fs->start;
	st->st_blksize = 4096;
	/* Like sysfs: a page for every attribute, whatever a read returns. */
	if (S_ISREG(st->st_mode))
		st->st_size = 4096;
	else if (S_ISLNK(st->st_mode))
		st->st_size = (off_t)len;
out:
	free(target);
	return ret;
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
	ret = resolve(fs->sim, path, &n, NULL);
	if (!ret)
		ret = children(fs->sim, &n, fill_cb, &fl);
	pthread_mutex_unlock(&fs->lock);
	return ret;
}

static bool writable(enum kind k)
{
	return k == K_TYPE_CREATE || k == K_REMOVE || k == K_CONTROL;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	struct simfs *fs = fs_get();
	int acc = fi->flags & O_ACCMODE;
	struct node n;
	int ret;

	pthread_mutex_lock(&fs->lock);
	ret = resolve(fs->sim, path, &n, NULL);
	pthread_mutex_unlock(&fs->lock);
	if (ret)
		return ret;
	if (!S_ISREG(kind_mode[n.kind]))
		return -EISDIR;
	/* kernfs_fop_open(): no show() means no reading, no store() no writing, even for root. */
	if (acc != O_WRONLY && !(kind_mode[n.kind] & 0444))
		return -EACCES;
	if (acc != O_RDONLY && !writable(n.kind))
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

static int fs_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct simfs *fs = fs_get();
	unsigned int delay = 0;
	struct node n;
	int ret;

	(void)off;
	(void)fi;
	pthread_mutex_lock(&fs->lock);
	ret = resolve(fs->sim, path, &n, NULL);
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
		ret = resolve(fs->sim, path, &n, NULL);
	/* The open file of a device that has gone is a deactivated kernfs node. */
	if (ret == -ENOENT)
		ret = -ENODEV;
	else if (!ret) {
		switch (n.kind) {
		case K_TYPE_CREATE:
			ret = sim_create(fs->sim, n.p, n.t, buf, size);
			break;
		case K_REMOVE:
			ret = sim_remove(fs->sim, fs->sim->mdevs[n.m].uuid, buf, size);
			break;
		case K_CONTROL:
			ret = sim_control(fs->sim, buf, size, NULL);
			break;
		default:
			ret = -EACCES;
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
	ret = resolve(fs->sim, path, &n, NULL);
	pthread_mutex_unlock(&fs->lock);
	if (!ret && !writable(n.kind))
		ret = S_ISDIR(kind_mode[n.kind]) ? -EISDIR : -EACCES;
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
	ret = fuse_main(args->argc, args->argv, &simfs_ops, &fs);
	pthread_mutex_destroy(&fs.lock);
	return ret;
}
