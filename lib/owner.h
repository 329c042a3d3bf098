/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * owner.h: ownership records: which mdev this hook created for which domain.
 *
 * libvirt calls `release end` after every failed start, also for domains whose vGPU was
 * created by someone else or is in use by another domain, and a hot-unplugged mdev is no
 * longer in the release XML (research/hook-anchors.md 1.1, 4.3). So the hook removes only
 * what these records say it created for that domain.
 *
 * Layout: <state_dir>/lock (flock), <state_dir>/<mdev uuid> (one record each), and
 * <state_dir>/.<mdev uuid>.remove while a background remove of that mdev runs (below).
 * A record is written before the device is created and removed after the device is gone,
 * so a hook killed in between leaves a record that the next `release` (or `prepare`) of
 * that domain completes: remove the device if it exists, then the record.
 *
 * MUST:
 *  1. the state directory is opened with O_DIRECTORY|O_NOFOLLOW and checked with fstat(2):
 *     owned by the effective uid, no group/other write; a symlink is refused;
 *  2. records and the lock are opened relative to that descriptor with O_NOFOLLOW;
 *  3. a record is written to a new temporary file (O_EXCL), fsynced and renamed, so a reader
 *     never sees half a record;
 *  4. every create or remove happens with the lock held, so concurrent hooks (libvirt runs
 *     one process per domain, unserialised) see each other's records.
 */
#ifndef VGPU_OWNER_H
#define VGPU_OWNER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "mdev.h"

#define OWNER_DOMAIN_NAME_MAX 255

struct owner_record {
	char mdev[MDEV_UUID_LEN + 1];              /* the vGPU */
	char domain_uuid[MDEV_UUID_LEN + 1];       /* its domain: the key */
	char domain[OWNER_DOMAIN_NAME_MAX + 1];    /* the domain's name, for people */
	char parent[MDEV_NAME_MAX + 1];
	char type[MDEV_NAME_MAX + 1];
	/* The proof that the device is the one the hook created: the inode number of its
	 * directory, read back right after the create (mdev_device_find, mdev.h). 0: not
	 * known yet (a record written before the create, or by a version without it). */
	unsigned long long ino;
	/* The domain's release has run and left the device in place (held, or its remove did
	 * not finish in time): any later release, prepare or `vgpu-hook --cleanup` removes it
	 * once nothing holds it. */
	bool pending;
};

/* One name in the state directory that is a canonical UUID: a record, or what sits in
 * its place (owner_store.names). */
struct owner_name {
	char uuid[MDEV_UUID_LEN + 1];
};

struct owner_store {
	int dirfd;    /* -1 when closed */
	int lockfd;   /* -1 when not locked */
	/*
	 * While locked, when @listed: the names of the records, read with the listing
	 * owner_lock() makes anyway and kept up to date by owner_put() and owner_del(). Every
	 * writer holds the lock (MUST 4), so no other process adds a record meanwhile: a
	 * UUID not among them has no record, which spares owner_get() an open(2) and
	 * owner_list() a second readdir(3). A name may be here with no record behind it (a
	 * write that failed midway), never a record without its name. Zero-initialised
	 * fields are the empty set; @listed false means "not known, ask the directory", and
	 * it is true only while the lock is held (owner_unlock() forgets the names).
	 */
	struct owner_name *names;
	size_t n_names, cap_names;
	bool listed;
};

/*
 * owner_open: open the state directory @path; when @create is true and it is missing, make
 * it with mode 0700 (its parent must exist). @st is initialised; close it with owner_close.
 * Returns 0; -ENOENT (missing and @create false); -ELOOP (a symlink); -ENOTDIR; -EPERM
 * (not owned by the effective uid, or group/other-writable); -errno of mkdir(2)/open(2).
 */
int owner_open(const char *path, bool create, struct owner_store *st);

/*
 * owner_lock: take the exclusive lock, waiting at most @timeout_ms milliseconds. Once it is
 * held, the directory is listed once: the temporary files (".<uuid>.tmp") of hooks killed
 * while writing a record are deleted (every writer holds the lock, so no live one can own
 * them), and the names of the records are kept (owner_store.names) until owner_unlock().
 * Returns 0; -ETIMEDOUT; -ELOOP when the lock file is a symlink; -errno.
 */
int owner_lock(struct owner_store *st, unsigned timeout_ms);

/* owner_unlock: release the lock (closing its descriptor) and forget the names listed;
 * harmless when not locked. */
void owner_unlock(struct owner_store *st);

/*
 * owner_get: read the record of mdev @uuid into @rec.
 * Returns 0; -ENOENT (no record); -EINVAL (invalid @uuid, or a malformed record);
 * -ELOOP (a symlink where the record should be); -errno.
 */
int owner_get(struct owner_store *st, const char *uuid, struct owner_record *rec);

/*
 * owner_put: write @rec atomically, replacing any record of the same mdev.
 * Returns 0; -EINVAL (a field is empty or invalid); -errno of open/write/fsync/rename.
 */
int owner_put(struct owner_store *st, const struct owner_record *rec);

/*
 * owner_mtime: when the record of mdev @uuid was last written (a prepare or a release
 * writes it; nothing else does), into *@mtime. Returns 0; -ENOENT (no record); -EINVAL
 * (invalid @uuid); -errno of fstatat(2).
 */
int owner_mtime(struct owner_store *st, const char *uuid, time_t *mtime);

/* owner_del: delete the record of mdev @uuid (and a dead remover's marker). Returns 0
 * (also when there was none), -EINVAL, -errno of unlinkat(2). */
int owner_del(struct owner_store *st, const char *uuid);

/*
 * owner_list: every well-formed record, sorted by mdev UUID, into a new array *@recs
 * (caller frees with free(3)) of *@n entries. Malformed records are skipped and logged.
 * Returns 0, -ENOMEM, -errno.
 */
int owner_list(struct owner_store *st, struct owner_record **recs, size_t *n);

/*
 * owner_remover_begin: mark that a remove of mdev @uuid runs in the background: create
 * ".<uuid>.remove" and take an exclusive flock on it. The flock lives as long as the
 * returned descriptor or any copy of it (fork(2)), so a remover that dies stops counting.
 * Returns the descriptor (>= 0); -EINVAL; -EBUSY (another remover holds it); -errno.
 */
int owner_remover_begin(struct owner_store *st, const char *uuid);

/* owner_remover_active: whether a live process holds the marker of @uuid. */
bool owner_remover_active(struct owner_store *st, const char *uuid);

/* owner_remover_end: delete the marker of @uuid and close @fd (from owner_remover_begin;
 * -1 is fine). */
void owner_remover_end(struct owner_store *st, const char *uuid, int fd);

/* owner_close: unlock and close; @st may be reused with owner_open. */
void owner_close(struct owner_store *st);

#endif
