/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * report.h: vgpu-hook's host-tool modes, for people: what the host offers, what exists,
 * whether the config is right, and whether each guest can start now. Output goes to @out;
 * problems to stderr. vgpu-xml shares the list of mdev types.
 */
#ifndef VGPU_REPORT_H
#define VGPU_REPORT_H

#include <stdio.h>
#include <sys/types.h>

#include "config.h"
#include "mdev.h"

/* One mdev type that a parent offers, as the kernel's sysfs describes it. */
struct report_type {
	char parent[MDEV_NAME_MAX + 1];   /* "0000:00:02.0" */
	char type[MDEV_NAME_MAX + 1];     /* "i915-GVTg_V5_4" */
	unsigned long available;          /* available_instances */
	char api[32];                     /* device_api: "vfio-pci" */
	char name[128];                   /* the name attribute; "" when the type has none */
	char desc[1024];                  /* the description on one line (report_flatten) */
};

/*
 * report_flatten: the mdev type description @in on one line, into @out (@len bytes, NUL
 * included, cut to fit): GVT-g's "key: value" lines (kvmgt.c) become "key value" joined by
 * ", ", other drivers' free text keeps its words with each newline but a last one turned
 * into ", ".
 */
void report_flatten(const char *in, char *out, size_t len);

/*
 * report_types_read: every mdev type of every parent under @s, in the order of
 * mdev_list_parents() and mdev_list_types(), into *@out (*@n rows; the caller frees *@out
 * with free(3); NULL when there is none). A type whose attributes cannot be read is left
 * out. @errs (NULL: silent) gets one line "vgpu-hook: ..." for each type left out and for
 * an error returned but -ENODEV.
 * Returns 0; -ENODEV when no parent offers mdev types; -errno of mdev_list_parents() or
 * mdev_list_types() (sysfs cannot be read; then nothing is returned); -ENOMEM.
 */
int report_types_read(const struct mdev_sysfs *s, struct report_type **out, size_t *n,
		      FILE *errs);

/*
 * report_types: the host tool's `--types`: a table on @out, a header and one row per parent
 * and mdev type under @s (report_types_read): parent, type, free instances, device API,
 * name ("-" when none) and the description's fields (report_flatten), each column as wide
 * as its longest value.
 * Returns the exit status: 0, or 1 when no parent offers mdev types (with a line on stderr
 * saying how to enable GVT-g) or sysfs cannot be read.
 */
int report_types(const struct mdev_sysfs *s, FILE *out);

/*
 * report_status: one row per mdev that exists under @s, with the domain vgpu-hook created
 * it for ("-" when vgpu-hook did not create it), marked "(left by its release: ...)" when a
 * release left it in place and "(stale record: ...)" when the device is not the one the
 * record's proof names; plus the ownership records in @cfg->state_dir whose device is gone.
 * Returns the exit status: 0, or 1 when sysfs or the state directory cannot be read.
 */
int report_status(const struct mdev_sysfs *s, const struct config *cfg, FILE *out);

/*
 * report_can_start: the CAN START NOW cell of report_guests() for a guest whose dry run of
 * `prepare begin` returned @status (0: it would succeed; else its exit status) with the
 * one-line error @err, and printed @plan (its "would ..." lines; NULL: none): "no: " and
 * @err when @status is not 0, written into @buf (@len bytes, cut to fit); "yes" when the
 * plan would create a vGPU; "yes, its vGPUs exist (it runs, or they were made for it)"
 * when it would create none.
 * Returns the cell: @buf or a static string.
 */
const char *report_can_start(int status, const char *err, const char *plan, char *buf,
			     size_t len);

/*
 * report_guests: for each of the @n domain XML files @files, or when @n is 0 each domain
 * libvirt has defined in @dir (its NAME.xml files, as libvirt saves persistent
 * definitions: /etc/libvirt/qemu), that has mdev hostdevs, one row:
 * its name, its number of vGPUs, and whether its `prepare begin` would succeed now, by the
 * same dry run as `--dry-run` with the config @config_path: "yes", "yes, its vGPUs exist"
 * (running, or made by hand), or "no: " and the line the start would fail with. Reads
 * files only; libvirt is never called. A definition that cannot be read or parsed gets a
 * row saying why. Prints nothing when no domain has a vGPU or @dir does not exist.
 * Returns the number of domains that could not start, or -errno when @dir is unreadable.
 */
int report_guests(const char *config_path, const char *dir, char *const *files, size_t n,
		  FILE *out);

/*
 * report_forget: the host tool's `--forget UUID`: delete the ownership record of vGPU
 * @uuid, under the lock, and leave the device alone (say how to remove it). For a record
 * that stays wrong: its domain is gone, or was redefined elsewhere, and another guest is
 * refused with "in use by domain ...". Returns the exit status: 0, or 1 when @uuid is not
 * a UUID, nothing is recorded for it, a background remove of it runs, or the state
 * directory or the lock cannot be had (one line on stderr).
 */
int report_forget(const struct config *cfg, const char *uuid, FILE *out);

/*
 * report_check_config: load @path (which must be owned by @owner) and print every error as
 * "FILE:LINE: message" on stderr, or a summary on @out. Returns the exit status: 0 or 1.
 */
int report_check_config(const char *path, uid_t owner, FILE *out);

#endif
