/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fs-int.h: what the files of vgpu-sim's FUSE side share: the kinds of node in the tree, a
 * node, the mounted file system's state, and the functions one file calls in another
 * (fs-tree.c: the tree; fs-read.c: reads; fs-write.c: writes; fs.c: the FUSE operations).
 * Internal to vgpu-sim.
 */
#ifndef VGPU_SIM_FS_INT_H
#define VGPU_SIM_FS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

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

static inline struct simfs *fs_get(void)
{
	return fuse_get_context()->private_data;
}

/* The mode (type and permissions) stat shows for node @n. */
mode_t node_mode(const struct node *n);

/* kernfs_fop_open(): a file without store() cannot be opened for writing, even by root. */
static inline bool writable(const struct node *n)
{
	return (node_mode(n) & 0200) != 0;
}

/*
 * children: calls @fn(@ctx, name, node) with each entry of directory @d of @s in readdir's
 * order. Returns 0, @fn's nonzero return that stopped the listing, or -ENOTDIR when @d is
 * not a directory. Call with the lock held.
 */
int children(const struct sim *s, const struct node *d, child_fn fn, void *ctx);

/*
 * resolve: looks up @path (from the root of the mount, "/" separated) in @s into *@out.
 * Returns 0, -ENOENT when a component does not exist, or -ENOTDIR when one below a file
 * is asked for. Call with the lock held.
 */
int resolve(const struct sim *s, const char *path, struct node *out);

/*
 * render: what a read of file @n at @path returns, or where link @n points, into *@text
 * (caller frees), *@len bytes. Returns 0, -EACCES for a file without show(), -EIO for a
 * read the kernel fails so (or a link without a target), or -ENOMEM. Call with the lock held.
 */
int render(const struct simfs *fs, const struct node *n, const char *path, char **text,
	   size_t *len);

/*
 * fs_write, fs_truncate: the FUSE write and truncate operations (fuse_operations): a write
 * to create, remove, the control file or a uevent file, as the kernel's store() does.
 * fs_write returns @size or a -errno; fs_truncate 0, -EISDIR or -EACCES.
 */
int fs_write(const char *path, const char *buf, size_t size, off_t off,
	     struct fuse_file_info *fi);
int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi);

/* The attributes of a device's power/ directory (fs-tree.c). */
struct power_attr {
	const char *name;
	mode_t mode;
	const char *content;
};

extern const struct power_attr power_attrs[];

#endif
