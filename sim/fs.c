// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fs.c: the mdev part of sysfs as a FUSE file system.
 *
 * This file holds the FUSE operations and the mount: fs-tree.c the tree, fs-read.c the
 * reads, fs-write.c the writes (fs-int.h).
 *
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

#include "fs-int.h"

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
