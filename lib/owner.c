/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "log.h"
#include "owner.h"

#define LOCK_NAME "lock"
#define RECORD_MAX 1024

int owner_open(const char *path, bool create, struct owner_store *st)
{
	struct stat sb;
	int fd;

	*st = (struct owner_store){ .dirfd = -1, .lockfd = -1 };
	/* Opened first: it exists on every call but the first, and a mkdir(2) costs a path
	 * walk (docs/performance.md). */
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return -errno;
		fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		int r = -errno;

		/* O_NOFOLLOW|O_DIRECTORY on a symlink fails with ELOOP or ENOTDIR: say which. */
		return lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode) ? -ELOOP : r;
	}
	if (fstat(fd, &sb) < 0 || sb.st_uid != geteuid() || (sb.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return -EPERM;
	}
	st->dirfd = fd;
	return 0;
}

/* Whether @name is a record's temporary file, ".<uuid>.tmp" (owner_put). */
static bool tmp_name(const char *name)
{
	char uuid[MDEV_UUID_LEN + 1];

	if (name[0] != '.' || strlen(name) != 1 + MDEV_UUID_LEN + 4 ||
	    strcmp(name + 1 + MDEV_UUID_LEN, ".tmp") != 0)
		return false;
	memcpy(uuid, name + 1, MDEV_UUID_LEN);
	uuid[MDEV_UUID_LEN] = '\0';
	return uuid_canonical(uuid);
}

/* The index of @uuid among the names of @st, or -1. */
static long name_index(const struct owner_store *st, const char *uuid)
{
	for (size_t i = 0; i < st->n_names; i++)
		if (strcmp(st->names[i].uuid, uuid) == 0)
			return (long)i;
	return -1;
}

static void names_forget(struct owner_store *st)
{
	free(st->names);
	st->names = NULL;
	st->n_names = st->cap_names = 0;
	st->listed = false;
}

/* Add @uuid to the names of @st; on ENOMEM the set is dropped: the directory is asked. */
static void name_add(struct owner_store *st, const char *uuid)
{
	struct owner_name *slot;

	if (!st->listed || name_index(st, uuid) >= 0)
		return;
	slot = ARRAY_ADD(st->names, st->n_names, st->cap_names);
	if (slot)
		memcpy(slot->uuid, uuid, sizeof(slot->uuid));
	else
		names_forget(st);
}

static void name_drop(struct owner_store *st, const char *uuid)
{
	long i = st->listed ? name_index(st, uuid) : -1;

	if (i >= 0)
		st->names[i] = st->names[--st->n_names];
}

/*
 * With the lock held no record is being written: a temporary file is a killed hook's, and
 * the records are what is there now (owner_store.names). One readdir for both. A listing
 * that fails leaves the names unknown.
 */
static void list_locked(struct owner_store *st)
{
	struct dirent *de;
	DIR *d;

	names_forget(st);
	d = opendir_at(st->dirfd, ".");
	if (!d)
		return;
	st->listed = true;
	while ((errno = 0, de = readdir(d))) {
		if (tmp_name(de->d_name) && unlinkat(st->dirfd, de->d_name, 0) == 0)
			log_info("removed %s, left by a hook killed while writing it", de->d_name);
		else if (uuid_canonical(de->d_name))
			name_add(st, de->d_name);
	}
	if (errno)
		names_forget(st);
	closedir(d);
}

int owner_lock(struct owner_store *st, unsigned timeout_ms)
{
	unsigned waited = 0, step = 1;
	int fd;

	if (st->lockfd >= 0)
		return 0;
	fd = openat(st->dirfd, LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* Bounded: a hook blocked forever would hold libvirt's domain job forever. */
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int r = -errno;

			close(fd);
			return r;
		}
		if (waited >= timeout_ms) {
			close(fd);
			return -ETIMEDOUT;
		}
		sleep_ms(step);
		waited += step;
		if (step < 50)
			step *= 2;
	}
	st->lockfd = fd;
	list_locked(st);
	return 0;
}

void owner_unlock(struct owner_store *st)
{
	if (st->lockfd >= 0) {
		close(st->lockfd);   /* drops the flock */
		st->lockfd = -1;
	}
	names_forget(st);
}

/* Parse "key=value" lines; every field is required and validated. */
static int record_parse(char *buf, struct owner_record *rec)
{
	char *line, *save = NULL;
	unsigned seen = 0;

	memset(rec, 0, sizeof(*rec));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		char *dst;
		size_t len;
		unsigned bit;

		if (!eq)
			return -EINVAL;
		*eq = '\0';
		if (strcmp(line, "mdev") == 0)
			dst = rec->mdev, len = sizeof(rec->mdev), bit = 1;
		else if (strcmp(line, "domain_uuid") == 0)
			dst = rec->domain_uuid, len = sizeof(rec->domain_uuid), bit = 2;
		else if (strcmp(line, "domain") == 0)
			dst = rec->domain, len = sizeof(rec->domain), bit = 4;
		else if (strcmp(line, "parent") == 0)
			dst = rec->parent, len = sizeof(rec->parent), bit = 8;
		else if (strcmp(line, "type") == 0)
			dst = rec->type, len = sizeof(rec->type), bit = 16;
		else if (strcmp(line, "ino") == 0 || strcmp(line, "pending") == 0) {
			bool ino = line[0] == 'i';
			char *end;
			unsigned long long v;

			bit = ino ? 32 : 64;
			errno = 0;
			v = strtoull(eq + 1, &end, 10);
			if ((seen & bit) || errno || end == eq + 1 || *end || eq[1] == '-' ||
			    (!ino && v > 1))
				return -EINVAL;
			if (ino)
				rec->ino = v;
			else
				rec->pending = v == 1;
			seen |= bit;
			continue;
		} else
			continue;   /* a later version's field */
		if ((seen & bit) || str_copy(dst, len, eq + 1) < 0)
			return -EINVAL;
		seen |= bit;
	}
	if ((seen & 31) != 31 || !uuid_canonical(rec->mdev) || !uuid_canonical(rec->domain_uuid) ||
	    !mdev_parent_valid(rec->parent) || !mdev_type_valid(rec->type))
		return -EINVAL;
	return 0;
}

static int record_read(struct owner_store *st, const char *name, struct owner_record *rec)
{
	char buf[RECORD_MAX + 1];
	struct stat sb;
	ssize_t n;
	size_t got = 0;
	int fd, r;

	/* O_NONBLOCK: a FIFO named like a record would block the open; it is malformed. */
	fd = openat(st->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	r = fstat(fd, &sb) < 0 ? -errno : S_ISREG(sb.st_mode) ? 0 : -EINVAL;
	if (r < 0) {
		close(fd);
		return r;
	}
	while (got < RECORD_MAX && (n = read(fd, buf + got, RECORD_MAX - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			close(fd);
			return r;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	if (got == RECORD_MAX || memchr(buf, '\0', got))
		return -EINVAL;
	r = record_parse(buf, rec);
	if (r == 0 && strcmp(rec->mdev, name) != 0)
		r = -EINVAL;
	return r;
}

int owner_get(struct owner_store *st, const char *uuid, struct owner_record *rec)
{
	if (!uuid_canonical(uuid))
		return -EINVAL;
	if (st->listed && name_index(st, uuid) < 0)
		return -ENOENT;
	return record_read(st, uuid, rec);
}

int owner_put(struct owner_store *st, const struct owner_record *rec)
{
	char buf[RECORD_MAX], tmp[64], domain[OWNER_DOMAIN_NAME_MAX + 1];
	int n;

	if (!uuid_canonical(rec->mdev) || !uuid_canonical(rec->domain_uuid) ||
	    !mdev_parent_valid(rec->parent) || !mdev_type_valid(rec->type) || !rec->domain[0])
		return -EINVAL;
	/* The name is only for people; keep the record one field a line. */
	snprintf(domain, sizeof(domain), "%s", rec->domain);
	for (char *p = domain; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = '?';
	n = snprintf(buf, sizeof(buf), "mdev=%s\ndomain_uuid=%s\ndomain=%s\nparent=%s\ntype=%s\n"
		     "ino=%llu\npending=%d\n", rec->mdev, rec->domain_uuid, domain, rec->parent,
		     rec->type, rec->ino, rec->pending ? 1 : 0);
	if (n < 0 || n >= (int)sizeof(buf))
		return -EINVAL;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", rec->mdev);
	/* Named before it is written: a write that fails midway may have left it. */
	name_add(st, rec->mdev);
	/* A leftover from a killed hook is ours to replace (we hold the lock). */
	return file_replace(st->dirfd, rec->mdev, tmp, 0600, NULL, buf, (size_t)n);
}

int owner_mtime(struct owner_store *st, const char *uuid, time_t *mtime)
{
	struct stat sb;

	if (!uuid_canonical(uuid))
		return -EINVAL;
	if (fstatat(st->dirfd, uuid, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	*mtime = sb.st_mtime;
	return 0;
}

int owner_del(struct owner_store *st, const char *uuid)
{
	if (!uuid_canonical(uuid))
		return -EINVAL;
	if (unlinkat(st->dirfd, uuid, 0) < 0 && errno != ENOENT)
		return -errno;
	name_drop(st, uuid);
	if (!owner_remover_active(st, uuid))
		owner_remover_end(st, uuid, -1);
	return 0;
}

static void marker_name(const char *uuid, char *buf, size_t len)
{
	snprintf(buf, len, ".%s.remove", uuid);
}

int owner_remover_begin(struct owner_store *st, const char *uuid)
{
	char name[64];
	int fd;

	if (!uuid_canonical(uuid))
		return -EINVAL;
	marker_name(uuid, name, sizeof(name));
	fd = openat(st->dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
		    0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int r = errno == EWOULDBLOCK ? -EBUSY : -errno;

		close(fd);
		return r;
	}
	return fd;
}

bool owner_remover_active(struct owner_store *st, const char *uuid)
{
	char name[64];
	bool active;
	int fd;

	if (!uuid_canonical(uuid))
		return false;
	marker_name(uuid, name, sizeof(name));
	fd = openat(st->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	active = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return active;
}

void owner_remover_end(struct owner_store *st, const char *uuid, int fd)
{
	char name[64];

	if (uuid_canonical(uuid)) {
		marker_name(uuid, name, sizeof(name));
		unlinkat(st->dirfd, name, 0);
	}
	if (fd >= 0)
		close(fd);
}

static int cmp_record(const void *a, const void *b)
{
	return strcmp(((const struct owner_record *)a)->mdev,
		      ((const struct owner_record *)b)->mdev);
}

/* Read the record @name into the array @v of *@cnt (room for *@cap): 0 when added or
 * skipped (gone meanwhile, or malformed: logged), -ENOMEM. */
static int list_one(struct owner_store *st, const char *name, struct owner_record **v,
		    size_t *cnt, size_t *cap)
{
	struct owner_record rec, *slot;
	int r = record_read(st, name, &rec);

	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		log_warn("ignoring malformed ownership record %s: %s", name, strerror(-r));
		return 0;
	}
	slot = ARRAY_ADD(*v, *cnt, *cap);
	if (!slot)
		return -ENOMEM;
	*slot = rec;
	return 0;
}

int owner_list(struct owner_store *st, struct owner_record **recs, size_t *n)
{
	struct owner_record *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	*recs = NULL;
	*n = 0;
	if (st->listed) {
		for (size_t i = 0; i < st->n_names && r == 0; i++)
			r = list_one(st, st->names[i].uuid, &v, &cnt, &cap);
	} else {
		d = opendir_at(st->dirfd, ".");
		if (!d)
			return -errno;
		while (r == 0 && (errno = 0, de = readdir(d)))
			if (uuid_canonical(de->d_name))   /* not the lock, temporary files */
				r = list_one(st, de->d_name, &v, &cnt, &cap);
		if (r == 0 && errno)
			r = -errno;
		closedir(d);
	}
	if (r < 0) {
		free(v);
		return r;
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), cmp_record);
	*recs = v;
	*n = cnt;
	return 0;
}

void owner_close(struct owner_store *st)
{
	owner_unlock(st);
	if (st->dirfd >= 0) {
		close(st->dirfd);
		st->dirfd = -1;
	}
}
