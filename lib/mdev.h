/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mdev.h: the kernel's mediated-device sysfs interface, under a sysfs root given by the
 * caller ("/sys" in production, a temporary tree or vgpu-sim in tests).
 *
 * Kernel behaviour relied on (Linux 6.12 drivers/vfio/mdev/mdev_sysfs.c, mdev_core.c;
 * research/hook-anchors.md section 4):
 *  - a parent's types are <parent dir>/mdev_supported_types/<type>/, where the parent dir is
 *    class/mdev_bus/<parent> (a compat link, also for non-PCI parents) or, when that link is
 *    missing, bus/pci/devices/<parent>;
 *  - writing the 36-character UUID to <type>/create makes bus/mdev/devices/<uuid>, a link to
 *    <parent dir>/<uuid>/, whose mdev_type link names the type; the write fails with
 *    EINVAL (bad UUID), EEXIST (the UUID exists on any parent), ENOSPC (GVT-g: aperture,
 *    fences or the 7 vGPU slots exhausted), EUSERS (drivers counting max_instances),
 *    ENODEV (parent going away), ENOMEM or a driver's code;
 *  - writing "1" to bus/mdev/devices/<uuid>/remove removes it; ENODEV, EAGAIN (still being
 *    created or removed), EBUSY (kernels before ~5.19 while QEMU holds it).
 * The errno of the kernel is returned unchanged, never flattened.
 *
 * Every name put into a path is checked first: UUIDs with mdev_uuid_canon(), parents with
 * mdev_parent_valid(), types with mdev_type_valid(). Functions given an invalid name return
 * -EINVAL without touching the file system.
 */
#ifndef VGPU_MDEV_H
#define VGPU_MDEV_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define MDEV_UUID_LEN 36   /* canonical form, without NUL */
#define MDEV_NAME_MAX 64   /* longest parent or type name we accept, without NUL */

/*
 * The kernel seam: every write to a sysfs attribute goes through this function, so that
 * tests can stand in for the kernel (make a device appear on `create`, fail with ENOSPC...).
 * Must write @len bytes of @data to the attribute file @path in one write(2) and return 0 or
 * the -errno of open(2)/write(2)/close(2).
 */
typedef int (*mdev_write_fn)(void *opaque, const char *path, const char *data, size_t len);

struct mdev_sysfs {
	const char *root;      /* sysfs root, e.g. "/sys"; not owned; no trailing slash needed */
	mdev_write_fn write;   /* NULL: mdev_sysfs_write(), the real write(2) */
	void *opaque;          /* passed to @write */
	const char *proc_root; /* where procfs is, for mdev_holder_find(); NULL: "/proc" */
	const char *dev_root;  /* where /dev is, for mdev_holder_find(); NULL: "/dev" */
};

/* The default write: open(O_WRONLY|O_CLOEXEC|O_NOFOLLOW), one write(2), close(2). */
int mdev_sysfs_write(void *opaque, const char *path, const char *data, size_t len);

/*
 * mdev_uuid_canon: parse @in with libuuid and write its canonical form (lowercase,
 * hyphenated, as the kernel names the device with %pUl) to @out.
 * Returns 0, or -EINVAL when @in is not exactly a 36-character hyphenated UUID.
 */
int mdev_uuid_canon(const char *in, char out[MDEV_UUID_LEN + 1]);

/*
 * mdev_parent_valid: whether @s can name a parent device: 1 to MDEV_NAME_MAX characters of
 * [A-Za-z0-9_.:-], not starting with '.'. This admits PCI (0000:00:02.0), ccw (0.0.0313),
 * ap (matrix) and sample (mtty) parents and excludes "/", "." and "..".
 */
bool mdev_parent_valid(const char *s);

/* mdev_type_valid: whether @s can name an mdev type: 1 to MDEV_NAME_MAX of [A-Za-z0-9_-]. */
bool mdev_type_valid(const char *s);

/*
 * mdev_parent_dir: the directory of @parent that holds mdev_supported_types, into @buf
 * (@len bytes): <root>/class/mdev_bus/<parent> if it exists, else
 * <root>/bus/pci/devices/<parent> if that has mdev_supported_types.
 * Returns 0; -EINVAL for an invalid @parent; -ENOENT when neither exists (no such parent,
 * or it offers no mdev types); -ENAMETOOLONG.
 */
int mdev_parent_dir(const struct mdev_sysfs *s, const char *parent, char *buf, size_t len);

/*
 * mdev_list_parents: every parent offering mdev types: the entries of class/mdev_bus plus
 * the PCI devices with mdev_supported_types, sorted, without duplicates, into @out (which
 * the caller frees with strv_free). Entries that are not valid parent names are skipped.
 * Returns 0 (also when there are none), -ENOMEM, or -errno of opendir(3) other than ENOENT.
 */
int mdev_list_parents(const struct mdev_sysfs *s, struct strv *out);

/*
 * mdev_list_types: the mdev types of @parent, sorted, into @out (caller frees).
 * Returns 0, -EINVAL (invalid @parent), -ENOENT (no such parent), -ENOMEM, -errno.
 */
int mdev_list_types(const struct mdev_sysfs *s, const char *parent, struct strv *out);

/* What a type directory says of itself. */
struct mdev_type_info {
	char name[128];          /* "name", or "" where the kernel has none (it is optional) */
	char device_api[32];     /* "vfio-pci", "vfio-ccw", "vfio-ap" */
	char description[1024];  /* "description" as the driver formats it, or "" */
	unsigned long available; /* available_instances */
};

/*
 * mdev_type_read: read the attributes of @type on @parent into @info.
 * Returns 0; -EINVAL (invalid name, or available_instances not a decimal number);
 * -ENOENT (no such parent or type: GVT-g off, or type hidden by a small aperture);
 * -EFBIG (an attribute larger than its field); -errno from reading.
 */
int mdev_type_read(const struct mdev_sysfs *s, const char *parent, const char *type,
		   struct mdev_type_info *info);

/* An mdev that exists. */
struct mdev_device {
	char uuid[MDEV_UUID_LEN + 1];
	char parent[MDEV_NAME_MAX + 1];  /* basename of the directory holding the device */
	char type[MDEV_NAME_MAX + 1];    /* basename of the mdev_type link's target */
	unsigned long long ino;          /* inode number of the device directory: see below */
};

/*
 * mdev_device_find: look up bus/mdev/devices/<@uuid> and fill @dev.
 * @dev->ino is the inode number of the device directory (fstat(2) of the directory the link
 * leads to). It tells one device from a later one of the same UUID: sysfs is kernfs, which
 * numbers its nodes with idr_alloc_cyclic() (fs/kernfs/dir.c, __kernfs_new_node), so a
 * device created again gets a new number; nothing else in the 6.1 layout
 * (research/real-kernel.md 2) does: IOMMU group and vfio-dev numbers are reused, sysfs has
 * no birth time.
 * Returns 0; -ENOENT when no such device exists; -EINVAL for an invalid @uuid or when the
 * device's links do not resolve to a valid parent and type; -errno of realpath/readlink/
 * open/fstat. The parent is read from the link when it has the kernel's shape, else by
 * realpath(3); the type and the inode are read from the device directory so found.
 */
int mdev_device_find(const struct mdev_sysfs *s, const char *uuid, struct mdev_device *dev);

/*
 * mdev_device_open: mdev_device_find, keeping the device directory open: returns an O_PATH
 * descriptor of it (>= 0, close-on-exec; the caller closes it), for mdev_holder_find_at();
 * the same -errno as mdev_device_find on failure, with nothing left open. What is read
 * through the descriptor is read from that device, even if the UUID is removed and created
 * again meanwhile, and costs a one-component lookup instead of a walk of the whole path
 * through the bus link (docs/performance.md).
 */
int mdev_device_open(const struct mdev_sysfs *s, const char *uuid, struct mdev_device *dev);

/*
 * mdev_list_devices: the UUIDs of bus/mdev/devices, sorted, into @out (caller frees).
 * Names that are not canonical UUIDs are skipped. Returns 0, -ENOMEM, -errno of opendir
 * other than ENOENT (no bus/mdev means no devices).
 */
int mdev_list_devices(const struct mdev_sysfs *s, struct strv *out);

/*
 * mdev_create: write @uuid (canonical, no newline) to <parent dir>/mdev_supported_types/
 * <type>/create. Returns 0 or the kernel's -errno (see the top of this file); -ENOENT when
 * the parent or type does not exist; -EINVAL for invalid names.
 */
int mdev_create(const struct mdev_sysfs *s, const char *parent, const char *type,
		const char *uuid);

/*
 * mdev_remove: write "1" to bus/mdev/devices/<@uuid>/remove.
 * Returns 0; -ENOENT when the device does not exist (already gone); otherwise the kernel's
 * -errno (EBUSY, EAGAIN, ENODEV...). On Linux 6.x the write blocks, without bound, while a
 * process still holds the device through VFIO (vfio_unregister_group_dev; research/
 * real-kernel.md 4): look first (mdev_holder_find), and never call this where the caller
 * must return in time (hook.c runs it in a child for that reason).
 */
int mdev_remove(const struct mdev_sysfs *s, const char *uuid);

/*
 * mdev_parent_is_gvt: whether @parent is an Intel GVT-g parent (driver i915), so that
 * GVT-g's causes and remedies apply to it. True when <parent dir>/driver links to a driver
 * named i915, or, where the link is missing (research/real-kernel.md D6), when @type (may
 * be NULL) or one of the parent's types is named "i915-...": the kernel names a type
 * directory "<parent's driver>-<type>" (mdev_sysfs.c, research/hook-anchors.md 4.1).
 * A parent that does not exist is GVT-g's only when @type names i915.
 */
bool mdev_parent_is_gvt(const struct mdev_sysfs *s, const char *parent, const char *type);

/*
 * mdev_being_removed: whether a remove of @uuid on @parent is still waiting in the kernel:
 * bus/mdev/devices/<uuid> is gone but <parent dir>/<uuid>/ is still there. On Linux 6.x a
 * remove of a device held through VFIO takes the bus link away first and then waits for
 * the holder (mdev_device_remove_common; research/real-kernel.md 4); meanwhile a create of
 * the UUID gets EEXIST.
 */
bool mdev_being_removed(const struct mdev_sysfs *s, const char *parent, const char *uuid);

/* A process that holds an mdev open through VFIO. */
struct mdev_holder {
	int pid;
	char comm[17];                      /* /proc/PID/comm, "" when unreadable */
	char domain[256];                   /* QEMU's -name guest=NAME, "" when none */
	char domain_uuid[MDEV_UUID_LEN + 1]; /* QEMU's -uuid, "" when none */
};

/*
 * mdev_holder_find: the first process (other than this one) holding mdev @uuid through
 * VFIO, into @h. The device directory is bus/mdev/devices/<uuid>, or, when that link is
 * gone (a remove waiting, above) and @parent is not NULL, <parent dir>/<uuid>. What is
 * looked for, by device number (a char device; QEMU under libvirt has its own /dev, so
 * paths differ) or by inode (anything else, as in tests):
 *  - the group: <dev_root>/vfio/<N>, N the name of the iommu_group link's target;
 *  - the device cdev: <dev_root>/vfio/devices/vfioM for each vfio-dev/vfioM (6.6 and later
 *    with CONFIG_VFIO_DEVICE_CDEV; 6.1 has the sysfs entry without the node).
 * The kernel is asked first: the group node is opened and closed again. When that succeeds
 * nobody has the group open (a VFIO group is single-open, and on 6.6 and later a device
 * bound through its cdev blocks the group's open too: group_busy() in mdev.c) and 0 is
 * returned at once. Only when the open fails with EBUSY, or the node is not a character
 * device (tests) or cannot be opened, is every <proc_root>/<pid>/fd/<fd> stat(2)ed to find
 * the holder, a scan whose cost grows with the host's open descriptors; processes that
 * cannot be read are skipped. When the kernel says the group is open and the scan finds
 * nobody (a process in another PID namespace), @h->pid is 0.
 * For a QEMU started by libvirt, @h->domain and @h->domain_uuid come from its cmdline
 * (`-name guest=NAME,...` with ",," for a comma, and `-uuid UUID`).
 * Returns 1 (found), 0 (nobody holds it, or it has no VFIO node to hold), -EINVAL
 * (invalid @uuid or @parent), -ENOENT (no such device directory), -errno of opendir(3)
 * on <proc_root>.
 */
int mdev_holder_find(const struct mdev_sysfs *s, const char *uuid, const char *parent,
		     struct mdev_holder *h);

/*
 * mdev_holder_find_at: mdev_holder_find for the device directory open at @dirfd (from
 * mdev_device_open(), or any descriptor of the directory; not closed here), with no path
 * to look up. Returns 1, 0, or -errno of opendir(3) on <proc_root>, as mdev_holder_find.
 */
int mdev_holder_find_at(const struct mdev_sysfs *s, int dirfd, struct mdev_holder *h);

/*
 * mdev_holder_describe: "pid N (COMM)" plus ", domain NAME" when known, or, for pid 0, "a
 * process not in this /proc (the VFIO group is open)", into @buf (@len bytes, always
 * terminated). Returns @buf.
 */
const char *mdev_holder_describe(const struct mdev_holder *h, char *buf, size_t len);

#endif
