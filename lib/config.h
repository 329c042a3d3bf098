/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * config.h: /etc/vgpu-hook/vgpu-hook.conf, an INI file read with libinih (config-ini.h).
 *
 *   [defaults]                 host-wide settings and the default vGPU
 *   sysfs_root = /sys          where sysfs is (only in [defaults])
 *   state_dir = /run/vgpu-hook ownership records and lock (only in [defaults])
 *   parent = auto              a parent address, or auto: the only parent offering the type
 *   type = i915-GVTg_V5_4 i915-GVTg_V5_8   mdev type, or a preference list
 *   remove_retries = 5         retries of `remove` on EBUSY/EAGAIN (0..100)
 *   release_timeout = 10       seconds `release end` may take in all (1..300; [defaults])
 *
 *   [domain NAME]              parent, type, remove_retries for domain NAME
 *
 * MUST (the hook runs as root and creates devices from what this file says):
 *  1. the open file is checked with fstat(2) on the same descriptor that is read: it must be
 *     a regular file owned by the expected owner (root) and not writable by group or other;
 *  2. a line is read as written, or refused: the inih adapter (config-ini.h) refuses a NUL
 *     byte, a line longer than inih reads whole, an indented line and a section header
 *     whose end is not one ']'; section headers are read there, not by inih;
 *  3. in `[domain NAME]`, NAME is taken as written after the one space, and matched exactly;
 *     one that could never match a name as written is refused (config_domain_name_ok);
 *  4. every value is validated (parent and type as sysfs path components, numbers in range)
 *     and every error is reported as "FILE:LINE: message"; a file with any error is not used.
 * sysfs_root and state_dir are host-wide: one lock must serialise every domain.
 */
#ifndef VGPU_CONFIG_H
#define VGPU_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "mdev.h"
#include "util.h"

#define CONFIG_DEFAULT_SYSFS_ROOT "/sys"
#define CONFIG_DEFAULT_STATE_DIR "/run/vgpu-hook"
#define CONFIG_DEFAULT_REMOVE_RETRIES 5
#define CONFIG_REMOVE_RETRIES_MAX 100
#define CONFIG_DEFAULT_RELEASE_TIMEOUT 10   /* seconds */
#define CONFIG_RELEASE_TIMEOUT_MAX 300

/* [defaults] or one [domain NAME]. */
struct config_section {
	char *domain;                      /* NAME of [domain NAME], owned; NULL for [defaults] */
	unsigned line;                     /* line of the section header; 0 for [defaults] */
	char parent[MDEV_NAME_MAX + 1];    /* "" unset, "auto", or a valid parent name */
	struct strv types;                 /* preference list, empty when unset */
	int remove_retries;                /* -1 unset */
};

struct config {
	char *path;                        /* owned */
	bool found;                        /* false: the file does not exist, defaults apply */
	char *sysfs_root;                  /* owned, never NULL */
	char *state_dir;                   /* owned, never NULL */
	int release_timeout;               /* seconds, 1..CONFIG_RELEASE_TIMEOUT_MAX */
	struct config_section defaults;
	struct config_section *domains;    /* owned */
	size_t n_domains;
};

/*
 * config_load: read and validate @path, which must be owned by @owner (0 in production).
 * A missing file gives the defaults (found == false).
 * On success *@out is owned by the caller (config_free). Every problem is appended to
 * @errors as one "FILE:LINE: message" (or "FILE: message") line; @errors may be NULL.
 * Returns 0; -EPERM (wrong owner, or group/other-writable); -EINVAL (not a regular file,
 * or any syntax or value error; *@out is then NULL); -ENOMEM; -errno of open(2)/read(2).
 */
int config_load(const char *path, uid_t owner, struct config **out, struct strv *errors);

/*
 * config_parse: read and validate the config text of @f (an open stream, not closed) as
 * config_load() does, without its owner and mode checks (MUST 1 is the caller's: tests and
 * fuzzing use it on memory). @path names the text in messages and is copied into the result.
 * On success *@out is owned by the caller (config_free), with found == true. Every problem is
 * appended to @errors as by config_load(); @errors may be NULL.
 * Returns 0; -EINVAL (any syntax or value error; *@out is then NULL); -ENOMEM; -errno of
 * reading the stream.
 */
int config_parse(FILE *f, const char *path, struct config **out, struct strv *errors);

/* config_defaults: a configuration holding only the defaults, as for a missing file. Returns
 * NULL on ENOMEM. */
struct config *config_defaults(void);

/* config_free: free @cfg and all it owns; NULL is fine. */
void config_free(struct config *cfg);

/* The longest domain name a [domain NAME] section takes, in bytes: longer than any libvirt
 * domain name, since libvirt keeps each domain as NAME.xml, a file name (NAME_MAX 255). */
#define CONFIG_DOMAIN_NAME_MAX 255

/*
 * config_domain_name_ok: whether `[domain @name]` in the config configures the domain named
 * @name (as libvirt passes it to the hook), so that a message may suggest that section.
 * False when @name is empty, longer than CONFIG_DOMAIN_NAME_MAX, holds a newline, begins or
 * ends with a blank (isspace: `[domain  vm]` was read as "vm" before, so it is refused
 * rather than read another way), or holds a ']' followed by blanks and ';' or '#' (the
 * header's end would be ambiguous). Every other name libvirt allows (anything but '/' and a
 * newline: virXMLCheckIllegalChars and VIR_DOMAIN_DEF_FEATURE_NAME_SLASH) is fine,
 * `vm[1]`, `a;b`, `#1` and 255-byte names included; config_load() accepts exactly these.
 */
bool config_domain_name_ok(const char *name);

/* config_domain: the [domain @name] section, or NULL. */
const struct config_section *config_domain(const struct config *cfg, const char *name);

/* config_remove_retries: remove_retries for domain @name: its section's, else [defaults]',
 * else CONFIG_DEFAULT_REMOVE_RETRIES. */
int config_remove_retries(const struct config *cfg, const char *name);

#endif
