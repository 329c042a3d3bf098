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
};

/*
 * mdev_device_find: look up bus/mdev/devices/<@uuid> and fill @dev.
 * Returns 0; -ENOENT when no such device exists; -EINVAL for an invalid @uuid or when the
 * device's links do not resolve to a valid parent and type; -errno of realpath/readlink.
 */
int mdev_device_find(const struct mdev_sysfs *s, const char *uuid, struct mdev_device *dev);

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
 * -errno (EBUSY, EAGAIN, ENODEV...). On Linux 6.x the write blocks while QEMU still holds
 * the device (vfio_unregister_group_dev); libvirt runs `release` after QEMU is gone.
 */
int mdev_remove(const struct mdev_sysfs *s, const char *uuid);

#endif
