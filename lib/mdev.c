/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "mdev.h"

int mdev_sysfs_write(void *opaque, const char *path, const char *data, size_t len)
{
	int fd, r;

	(void)opaque;
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	/* sysfs runs the store callback once per write(2) and returns its error there. */
	r = write_all(fd, data, len);
	if (close(fd) < 0 && r == 0 && errno != EINTR)
		r = -errno;
	return r;
}

static int sysfs_write(const struct mdev_sysfs *s, const char *path, const char *data)
{
	mdev_write_fn fn = s->write ? s->write : mdev_sysfs_write;

	return fn(s->opaque, path, data, strlen(data));
}

int mdev_uuid_canon(const char *in, char out[MDEV_UUID_LEN + 1])
{
	uuid_t u;

	/* uuid_parse() reads exactly 36 characters and ignores what follows them. */
	if (strlen(in) != MDEV_UUID_LEN || uuid_parse(in, u) < 0)
		return -EINVAL;
	uuid_unparse_lower(u, out);
	return 0;
}

static bool name_valid(const char *s, const char *extra)
{
	size_t n = strlen(s);

	if (n == 0 || n > MDEV_NAME_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(extra, *p))
			return false;
	return true;
}

bool mdev_parent_valid(const char *s)
{
	return s[0] != '.' && name_valid(s, "_.:-");
}

bool mdev_type_valid(const char *s)
{
	return name_valid(s, "_-");
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int mdev_parent_dir(const struct mdev_sysfs *s, const char *parent, char *buf, size_t len)
{
	char types[PATH_MAX];
	int r;

	if (!mdev_parent_valid(parent))
		return -EINVAL;
	r = path_fmt(buf, len, "%s/class/mdev_bus/%s", s->root, parent);
	if (r < 0)
		return r;
	if (is_dir(buf))
		return 0;
	/* The class link is a compat link whose creation may fail (mdev_core.c). */
	r = path_fmt(buf, len, "%s/bus/pci/devices/%s", s->root, parent);
	if (r < 0)
		return r;
	r = path_fmt(types, sizeof(types), "%s/mdev_supported_types", buf);
	if (r < 0)
		return r;
	return is_dir(types) ? 0 : -ENOENT;
}

/* Append the entries of @dir accepted by @valid (and, when @need is set, having @need below
 * them) to @out. A missing @dir is an empty one. */
static int list_dir(const char *dir, bool (*valid)(const char *), const char *need,
		    struct strv *out)
{
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((errno = 0, de = readdir(d))) {
		char path[PATH_MAX];

		if (!valid(de->d_name) || strv_contains(out, de->d_name))
			continue;
		if (need) {
			if (path_fmt(path, sizeof(path), "%s/%s/%s", dir, de->d_name, need) < 0 ||
			    !is_dir(path))
				continue;
		}
		r = strv_add(out, de->d_name);
		if (r < 0)
			break;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	return r;
}

int mdev_list_parents(const struct mdev_sysfs *s, struct strv *out)
{
	char dir[PATH_MAX];
	int r;

	r = path_fmt(dir, sizeof(dir), "%s/class/mdev_bus", s->root);
	if (r == 0)
		r = list_dir(dir, mdev_parent_valid, NULL, out);
	if (r == 0)
		r = path_fmt(dir, sizeof(dir), "%s/bus/pci/devices", s->root);
	if (r == 0)
		r = list_dir(dir, mdev_parent_valid, "mdev_supported_types", out);
	strv_sort(out);
	return r;
}

int mdev_list_types(const struct mdev_sysfs *s, const char *parent, struct strv *out)
{
	char dir[PATH_MAX];
	int r;

	r = mdev_parent_dir(s, parent, dir, sizeof(dir));
	if (r < 0)
		return r;
	r = path_fmt(dir + strlen(dir), sizeof(dir) - strlen(dir), "/mdev_supported_types");
	if (r < 0)
		return r;
	r = list_dir(dir, mdev_type_valid, NULL, out);
	strv_sort(out);
	return r;
}

static int type_dir(const struct mdev_sysfs *s, const char *parent, const char *type,
		    char *buf, size_t len)
{
	char pdir[PATH_MAX];
	int r;

	if (!mdev_type_valid(type))
		return -EINVAL;
	r = mdev_parent_dir(s, parent, pdir, sizeof(pdir));
	if (r < 0)
		return r;
	return path_fmt(buf, len, "%s/mdev_supported_types/%s", pdir, type);
}

/* Read the attribute @name of directory @dir; an absent optional one gives "". */
static int read_attr(const char *dir, const char *name, char *buf, size_t len, bool optional)
{
	char path[PATH_MAX];
	int r;

	r = path_fmt(path, sizeof(path), "%s/%s", dir, name);
	if (r < 0)
		return r;
	r = attr_read(path, buf, len, false);
	if (r == -ENOENT && optional) {
		buf[0] = '\0';
		return 0;
	}
	return r < 0 ? r : 0;
}

int mdev_type_read(const struct mdev_sysfs *s, const char *parent, const char *type,
		   struct mdev_type_info *info)
{
	char dir[PATH_MAX], avail[32], *end;
	int r;

	memset(info, 0, sizeof(*info));
	r = type_dir(s, parent, type, dir, sizeof(dir));
	if (r < 0)
		return r;
	if (!is_dir(dir))
		return -ENOENT;
	/* name and description are optional (Documentation/ABI/testing/sysfs-bus-vfio-mdev). */
	r = read_attr(dir, "name", info->name, sizeof(info->name), true);
	if (r == 0)
		r = read_attr(dir, "description", info->description, sizeof(info->description),
			      true);
	if (r == 0)
		r = read_attr(dir, "device_api", info->device_api, sizeof(info->device_api),
			      false);
	if (r == 0)
		r = read_attr(dir, "available_instances", avail, sizeof(avail), false);
	if (r < 0)
		return r;
	errno = 0;
	info->available = strtoul(avail, &end, 10);
	if (errno || end == avail || *end || !isdigit((unsigned char)avail[0]))
		return -EINVAL;
	return 0;
}

static const char *base_name(const char *path)
{
	const char *p = strrchr(path, '/');

	return p ? p + 1 : path;
}

/* An O_PATH descriptor of the directory @path, or -errno: the path walk done once, so that
 * what is read of the directory is read from it alone, by one-component lookups. */
static int dir_open(const char *path, int flags)
{
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC | flags);

	return fd < 0 ? -errno : fd;
}

/*
 * The parent of the device at @path (bus/mdev/devices/<@uuid>) into @parent (PATH_MAX
 * bytes), and the device directory, opened with dir_open(), into *@fd, from the link alone:
 * 1; 0 when the link is not what the kernel makes, so that the caller resolves the path in
 * full; -errno where realpath(3) would fail (-ENOENT: no such device).
 * bus_add_device() (drivers/base/bus.c) links the device to its own directory, which
 * mdev_device_add() puts in its parent's (mdev_core.c): the target ends in <parent>/<uuid>,
 * two real directories. When both are (lstat(2) of the one, O_NOFOLLOW of the other), the
 * last two components of realpath(@path) are those of the target; reading them there takes
 * one readlink(2), one lstat(2) and one open(2) where realpath(3) takes one readlink(2) for
 * each component of the path (docs/performance.md).
 */
static int device_from_link(const char *path, const char *uuid, char *parent, int *fd)
{
	char link[PATH_MAX], dir[PATH_MAX];
	const char *name;
	struct stat pst;
	char *slash;
	ssize_t n;

	/* A call that fails fails realpath(3) too, with the same errno, except readlink(2)'s
	 * EINVAL, for what is not a link, which realpath takes as it is. */
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return errno == EINVAL ? 0 : -errno;
	link[n] = '\0';
	slash = strrchr(link, '/');
	if (!slash || slash == link || strcmp(slash + 1, uuid) != 0)
		return 0;
	*slash = '\0';
	name = base_name(link);
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	/* A relative target is relative to the link's directory. */
	if (link[0] == '/') {
		if (str_copy(dir, sizeof(dir), link) < 0)
			return 0;
	} else {
		int len = (int)(strrchr(path, '/') - path);

		if (path_fmt(dir, sizeof(dir), "%.*s/%s", len, path, link) < 0)
			return 0;
	}
	if (lstat(dir, &pst) < 0)
		return -errno;
	if (!S_ISDIR(pst.st_mode) ||
	    path_fmt(dir + strlen(dir), sizeof(dir) - strlen(dir), "/%s", uuid) < 0)
		return 0;
	/* A symlink there fails O_NOFOLLOW|O_DIRECTORY with ENOTDIR (or ELOOP): resolve. */
	*fd = dir_open(dir, O_NOFOLLOW);
	if (*fd == -ENOTDIR || *fd == -ELOOP)
		return 0;
	if (*fd < 0)
		return *fd;
	strcpy(parent, name);
	return 1;
}

int mdev_device_open(const struct mdev_sysfs *s, const char *uuid, struct mdev_device *dev)
{
	char path[PATH_MAX], real[PATH_MAX], link[PATH_MAX], *slash;
	struct stat st;
	int r, fd = -1;
	ssize_t n;

	memset(dev, 0, sizeof(*dev));
	if (!uuid_canonical(uuid))
		return -EINVAL;
	r = path_fmt(path, sizeof(path), "%s/bus/mdev/devices/%s", s->root, uuid);
	if (r < 0)
		return r;
	/* The device directory sits in its parent's: .../<parent>/<uuid> (mdev_core.c). */
	r = device_from_link(path, uuid, real, &fd);
	if (r < 0)
		return r;
	if (r == 0) {
		if (!realpath(path, real))
			return -errno;
		slash = strrchr(real, '/');
		if (!slash || strcmp(slash + 1, uuid) != 0)
			return -EINVAL;
		fd = dir_open(real, 0);
		if (fd < 0)
			return fd;
		*slash = '\0';
		memmove(real, base_name(real), strlen(base_name(real)) + 1);
	}
	r = -EINVAL;
	if (!mdev_parent_valid(real))
		goto fail;
	strcpy(dev->parent, real);
	n = readlinkat(fd, "mdev_type", link, sizeof(link) - 1);
	if (n < 0) {
		r = errno == ENOENT ? -EINVAL : -errno;
		goto fail;
	}
	link[n] = '\0';
	if (!mdev_type_valid(base_name(link)))
		goto fail;
	strcpy(dev->type, base_name(link));
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	dev->ino = (unsigned long long)st.st_ino;
	strcpy(dev->uuid, uuid);
	return fd;

fail:
	close(fd);
	memset(dev, 0, sizeof(*dev));
	return r;
}

int mdev_device_find(const struct mdev_sysfs *s, const char *uuid, struct mdev_device *dev)
{
	int fd = mdev_device_open(s, uuid, dev);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int mdev_list_devices(const struct mdev_sysfs *s, struct strv *out)
{
	char dir[PATH_MAX];
	int r;

	r = path_fmt(dir, sizeof(dir), "%s/bus/mdev/devices", s->root);
	if (r == 0)
		r = list_dir(dir, uuid_canonical, NULL, out);
	strv_sort(out);
	return r;
}

int mdev_create(const struct mdev_sysfs *s, const char *parent, const char *type,
		const char *uuid)
{
	char path[PATH_MAX];
	int r;

	if (!uuid_canonical(uuid))
		return -EINVAL;
	r = type_dir(s, parent, type, path, sizeof(path));
	if (r < 0)
		return r;
	r = path_fmt(path + strlen(path), sizeof(path) - strlen(path), "/create");
	if (r < 0)
		return r;
	return sysfs_write(s, path, uuid);
}

int mdev_remove(const struct mdev_sysfs *s, const char *uuid)
{
	char path[PATH_MAX];
	int r;

	if (!uuid_canonical(uuid))
		return -EINVAL;
	r = path_fmt(path, sizeof(path), "%s/bus/mdev/devices/%s/remove", s->root, uuid);
	if (r < 0)
		return r;
	return sysfs_write(s, path, "1");
}

/* Whether some type of @parent (or @type) is named after the i915 driver. */
static bool types_name_i915(const struct mdev_sysfs *s, const char *parent, const char *type)
{
	struct strv types = { 0 };
	bool yes = false;

	if (type && strncmp(type, "i915-", 5) == 0)
		return true;
	if (mdev_list_types(s, parent, &types) == 0)
		for (size_t i = 0; i < types.n && !yes; i++)
			yes = strncmp(types.v[i], "i915-", 5) == 0;
	strv_free(&types);
	return yes;
}

bool mdev_parent_is_gvt(const struct mdev_sysfs *s, const char *parent, const char *type)
{
	char dir[PATH_MAX], path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	if (mdev_parent_dir(s, parent, dir, sizeof(dir)) < 0)
		return type && strncmp(type, "i915-", 5) == 0;
	if (path_fmt(path, sizeof(path), "%s/driver", dir) == 0 &&
	    (n = readlink(path, link, sizeof(link) - 1)) > 0) {
		link[n] = '\0';
		return strcmp(base_name(link), "i915") == 0;
	}
	return types_name_i915(s, parent, type);
}

bool mdev_being_removed(const struct mdev_sysfs *s, const char *parent, const char *uuid)
{
	char dir[PATH_MAX], path[PATH_MAX];

	if (!uuid_canonical(uuid) || mdev_parent_dir(s, parent, dir, sizeof(dir)) < 0)
		return false;
	if (path_fmt(path, sizeof(path), "%s/bus/mdev/devices/%s", s->root, uuid) < 0 ||
	    access(path, F_OK) == 0)
		return false;
	return path_fmt(path, sizeof(path), "%s/%s", dir, uuid) == 0 && is_dir(path);
}

#define HOLD_TARGETS 8

/* What holding the device means: the files whose open descriptors count. */
struct hold_targets {
	struct stat st[HOLD_TARGETS];
	size_t n;
	int group_busy;   /* group_busy() of the group node, -1 when there is none */
};

static void target_add(struct hold_targets *t, const char *path)
{
	if (t->n < HOLD_TARGETS && stat(path, &t->st[t->n]) == 0)
		t->n++;
}

static bool target_match(const struct hold_targets *t, const struct stat *st)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct stat *w = &t->st[i];

		if (S_ISCHR(w->st_mode) ? S_ISCHR(st->st_mode) && st->st_rdev == w->st_rdev
					: st->st_dev == w->st_dev && st->st_ino == w->st_ino)
			return true;
	}
	return false;
}

/*
 * Whether the VFIO group node @path, a character device, is open, as the kernel tells: 1
 * when it refuses an open (EBUSY), 0 when the open succeeds (it is closed again at once),
 * -1 on another error (EACCES under a confining policy or on a nodev mount, ENODEV while the
 * group goes away).
 * A group is single-open: vfio_group_fops_open() (drivers/vfio/group.c) answers EBUSY while
 * group->opened_file is set, which QEMU's open of the group keeps set as long as it uses
 * the device (the fd is held for the device fd's lifetime); on Linux 6.6 and later it also
 * answers EBUSY while a device of the group is bound through its cdev (cdev_device_open_cnt,
 * vfio_df_ioctl_bind_iommufd()), the exclusion between the group and the cdev path. The
 * open itself changes nothing: its release only clears opened_file again.
 */
static int group_busy(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno == EBUSY ? 1 : -1;
}

/* The group and device nodes of the device directory open at @dirfd, into @t. */
static void hold_targets_get(const struct mdev_sysfs *s, int dirfd, struct hold_targets *t)
{
	const char *dev_root = s->dev_root ? s->dev_root : "/dev";
	char path[PATH_MAX], link[PATH_MAX];
	struct dirent *de;
	ssize_t n;
	DIR *d;

	t->n = 0;
	t->group_busy = -1;
	n = readlinkat(dirfd, "iommu_group", link, sizeof(link) - 1);
	if (n > 0) {
		const char *group;

		link[n] = '\0';
		group = base_name(link);
		if (group[0] && strspn(group, "0123456789") == strlen(group) &&
		    path_fmt(path, sizeof(path), "%s/vfio/%s", dev_root, group) == 0) {
			target_add(t, path);
			/* A plain file (the tests' fake /dev) cannot tell: scan. */
			if (t->n && S_ISCHR(t->st[t->n - 1].st_mode))
				t->group_busy = group_busy(path);
		}
	}
	/* The kernel says nobody has the group open: no need to look further (below). */
	if (t->group_busy == 0)
		return;
	d = opendir_at(dirfd, "vfio-dev");
	if (d) {
		while ((de = readdir(d)))
			if (strncmp(de->d_name, "vfio", 4) == 0 && de->d_name[4] &&
			    strspn(de->d_name + 4, "0123456789") == strlen(de->d_name + 4) &&
			    path_fmt(path, sizeof(path), "%s/vfio/devices/%s", dev_root,
				     de->d_name) == 0)
				target_add(t, path);
		closedir(d);
	}
}

static bool pid_name(const char *s)
{
	return s[0] && strspn(s, "0123456789") == strlen(s);
}

/* Whether process @pid (under @proc) has a descriptor on one of @t. */
static bool pid_holds(const char *proc, const char *pid, const struct hold_targets *t)
{
	char path[PATH_MAX];
	struct dirent *de;
	bool yes = false;
	DIR *d;

	if (path_fmt(path, sizeof(path), "%s/%s/fd", proc, pid) < 0 || !(d = opendir(path)))
		return false;
	while (!yes && (de = readdir(d))) {
		char fd[PATH_MAX];
		struct stat st;

		if (pid_name(de->d_name) &&
		    path_fmt(fd, sizeof(fd), "%s/%s", path, de->d_name) == 0 &&
		    stat(fd, &st) == 0)
			yes = target_match(t, &st);
	}
	closedir(d);
	return yes;
}

/* The domain of a QEMU started by libvirt, from its NUL-separated @argv of @len bytes. */
static void qemu_domain(const char *argv, size_t len, struct mdev_holder *h)
{
	const char *end = argv + len;

	for (const char *a = argv; a < end; a += strlen(a) + 1) {
		const char *next = a + strlen(a) + 1;

		if (next >= end)
			break;
		if (strcmp(a, "-uuid") == 0) {
			if (mdev_uuid_canon(next, h->domain_uuid) < 0)
				h->domain_uuid[0] = '\0';
		} else if (strcmp(a, "-name") == 0) {
			const char *v = strncmp(next, "guest=", 6) == 0 ? next + 6 : next;
			size_t o = 0;

			/* libvirt doubles a comma in the name (virQEMUBuildBufferEscapeComma). */
			for (const char *p = v; *p && o + 1 < sizeof(h->domain); p++) {
				if (*p == ',' && p[1] != ',')
					break;
				if (*p == ',')
					p++;
				h->domain[o++] = *p;
			}
			h->domain[o] = '\0';
		}
	}
}

static void holder_fill(const char *proc, const char *pid, struct mdev_holder *h)
{
	char path[PATH_MAX], buf[8192];
	ssize_t n;
	int fd;

	memset(h, 0, sizeof(*h));
	h->pid = atoi(pid);
	if (path_fmt(path, sizeof(path), "%s/%s/comm", proc, pid) == 0 &&
	    attr_read(path, buf, sizeof(buf), false) >= 0)
		snprintf(h->comm, sizeof(h->comm), "%.16s", buf);
	for (char *p = h->comm; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (path_fmt(path, sizeof(path), "%s/%s/cmdline", proc, pid) < 0)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	qemu_domain(buf, (size_t)n + 1, h);
	for (char *p = h->domain; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

int mdev_holder_find_at(const struct mdev_sysfs *s, int dirfd, struct mdev_holder *h)
{
	const char *proc = s->proc_root ? s->proc_root : "/proc";
	struct hold_targets t;
	struct dirent *de;
	char self[24];
	int found = 0;
	DIR *d;

	memset(h, 0, sizeof(*h));
	hold_targets_get(s, dirfd, &t);
	if (t.n == 0 || t.group_busy == 0)
		return 0;
	/* Held, or cannot tell: which process? A scan of every descriptor on the host, which
	 * costs about 80 ms with ten thousand of them (docs/performance.md). */
	d = opendir(proc);
	if (!d)
		return -errno;
	snprintf(self, sizeof(self), "%d", (int)getpid());
	while (!found && (de = readdir(d)))
		if (pid_name(de->d_name) && strcmp(de->d_name, self) != 0 &&
		    pid_holds(proc, de->d_name, &t)) {
			holder_fill(proc, de->d_name, h);
			found = 1;
		}
	closedir(d);
	/* The kernel says held, by a process this one cannot see (another PID namespace). */
	if (!found && t.group_busy == 1)
		found = 1;
	return found;
}

int mdev_holder_find(const struct mdev_sysfs *s, const char *uuid, const char *parent,
		     struct mdev_holder *h)
{
	char dir[PATH_MAX];
	int r, fd;

	memset(h, 0, sizeof(*h));
	if (!uuid_canonical(uuid) || (parent && !mdev_parent_valid(parent)))
		return -EINVAL;
	r = path_fmt(dir, sizeof(dir), "%s/bus/mdev/devices/%s", s->root, uuid);
	if (r < 0)
		return r;
	fd = dir_open(dir, 0);
	if (fd < 0) {
		char pdir[PATH_MAX];

		if (!parent || mdev_parent_dir(s, parent, pdir, sizeof(pdir)) < 0 ||
		    path_fmt(dir, sizeof(dir), "%s/%s", pdir, uuid) < 0 ||
		    (fd = dir_open(dir, 0)) < 0)
			return -ENOENT;
	}
	r = mdev_holder_find_at(s, fd, h);
	close(fd);
	return r;
}

const char *mdev_holder_describe(const struct mdev_holder *h, char *buf, size_t len)
{
	if (!h->pid) {
		snprintf(buf, len, "a process not in this /proc (the VFIO group is open)");
		return buf;
	}
	snprintf(buf, len, "pid %d (%s)%s%s", h->pid, h->comm[0] ? h->comm : "?",
		 h->domain[0] ? ", domain " : "", h->domain);
	return buf;
}
