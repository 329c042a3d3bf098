/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * report.h: vgpu-hook's host-tool modes, for people: what the host offers, what exists,
 * whether the config is right. Output goes to @out; problems to stderr.
 */
#ifndef VGPU_REPORT_H
#define VGPU_REPORT_H

#include <stdio.h>
#include <sys/types.h>

#include "config.h"
#include "mdev.h"

/*
 * report_types: one row per parent and mdev type under @s: parent, type, free instances,
 * device API, name and the description's fields.
 * Returns the exit status: 0, or 1 when no parent offers mdev types (with a line saying how
 * to enable GVT-g) or sysfs cannot be read.
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
