/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mdev.h"
#include "testutil.h"

#define GVT "0000:00:02.0"
#define U1 "11111111-2222-4333-8444-000000000001"

struct fx {
	char *tmp;
	char *root;
	struct mdev_sysfs s;
	const void *row;   /* the table row of a test run by TU_RUN_ROWS_FX, else NULL */
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	fx->tmp = tu_tmpdir();
	fx->root = tu_copy_fixture("sysfs/host", fx->tmp);
	fx->s.root = fx->root;
	fx->row = *state;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	tu_rmtree(fx->tmp);
	free(fx->root);
	free(fx->tmp);
	free(fx);
	return 0;
}

static void test_names(void **state)
{
	char out[MDEV_UUID_LEN + 1];

	(void)state;
	assert_int_equal(mdev_uuid_canon("4B20D080-1B54-4048-85B3-A6A62D165C01", out), 0);
	assert_string_equal(out, "4b20d080-1b54-4048-85b3-a6a62d165c01");
	assert_int_equal(mdev_uuid_canon("4b20d080-1b54-4048-85b3-a6a62d165c01\n", out), -EINVAL);
	assert_int_equal(mdev_uuid_canon("4b20d0801b54404885b3a6a62d165c01", out), -EINVAL);
	assert_int_equal(mdev_uuid_canon("../../../../../../../../../../../etc", out), -EINVAL);

	assert_true(mdev_parent_valid("0000:00:02.0"));
	assert_true(mdev_parent_valid("0.0.0313"));
	assert_true(mdev_parent_valid("matrix"));
	assert_false(mdev_parent_valid(".."));
	assert_false(mdev_parent_valid("."));
	assert_false(mdev_parent_valid("../0000:00:02.0"));
	assert_false(mdev_parent_valid("0000:00:02.0/x"));
	assert_false(mdev_parent_valid("a b"));
	assert_false(mdev_parent_valid(""));
	assert_false(mdev_parent_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));

	assert_true(mdev_type_valid("i915-GVTg_V5_4"));
	assert_true(mdev_type_valid("nvidia-63"));
	assert_false(mdev_type_valid("i915.GVTg"));
	assert_false(mdev_type_valid(".."));
	assert_false(mdev_type_valid("a/b"));
	assert_false(mdev_type_valid(""));
}

static void test_parents(void **state)
{
	struct fx *fx = *state;
	struct strv v = { 0 };

	assert_int_equal(mdev_list_parents(&fx->s, &v), 0);
	/* 0000:02:00.0 has no class/mdev_bus link; 0000:00:1f.0 offers no types. */
	assert_int_equal(v.n, 3);
	assert_string_equal(v.v[0], "0000:00:02.0");
	assert_string_equal(v.v[1], "0000:01:00.0");
	assert_string_equal(v.v[2], "0000:02:00.0");
	strv_free(&v);
}

static void test_parent_dir_fallback(void **state)
{
	struct fx *fx = *state;
	char dir[PATH_MAX], *want;

	assert_int_equal(mdev_parent_dir(&fx->s, GVT, dir, sizeof(dir)), 0);
	want = tu_fmt("%s/class/mdev_bus/" GVT, fx->root);
	assert_string_equal(dir, want);
	free(want);
	assert_int_equal(mdev_parent_dir(&fx->s, "0000:02:00.0", dir, sizeof(dir)), 0);
	want = tu_fmt("%s/bus/pci/devices/0000:02:00.0", fx->root);
	assert_string_equal(dir, want);
	free(want);
	assert_int_equal(mdev_parent_dir(&fx->s, "0000:00:1f.0", dir, sizeof(dir)), -ENOENT);
	assert_int_equal(mdev_parent_dir(&fx->s, "0000:09:00.0", dir, sizeof(dir)), -ENOENT);
	assert_int_equal(mdev_parent_dir(&fx->s, "../..", dir, sizeof(dir)), -EINVAL);
	assert_int_equal(mdev_parent_dir(&fx->s, GVT, dir, 10), -ENAMETOOLONG);
}

static void test_types(void **state)
{
	struct fx *fx = *state;
	struct mdev_type_info info;
	struct strv v = { 0 };
	char *path;

	assert_int_equal(mdev_list_types(&fx->s, GVT, &v), 0);
	assert_int_equal(v.n, 4);
	assert_string_equal(v.v[0], "i915-GVTg_V5_1");
	assert_string_equal(v.v[3], "i915-GVTg_V5_8");
	strv_free(&v);

	assert_int_equal(mdev_type_read(&fx->s, GVT, "i915-GVTg_V5_4", &info), 0);
	assert_string_equal(info.name, "GVTg_V5_4");
	assert_string_equal(info.device_api, "vfio-pci");
	assert_int_equal(info.available, 3);
	assert_non_null(strstr(info.description, "low_gm_size: 128MB\nhigh_gm_size: 512MB"));

	assert_int_equal(mdev_type_read(&fx->s, GVT, "i915-GVTg_V5_16", &info), -ENOENT);
	assert_int_equal(mdev_type_read(&fx->s, GVT, "../../..", &info), -EINVAL);

	/* name is optional; available_instances must be a number. */
	path = tu_fmt("%s/class/mdev_bus/" GVT "/mdev_supported_types/i915-GVTg_V5_8/name",
		      fx->root);
	assert_int_equal(unlink(path), 0);
	free(path);
	assert_int_equal(mdev_type_read(&fx->s, GVT, "i915-GVTg_V5_8", &info), 0);
	assert_string_equal(info.name, "");
	path = tu_fmt("%s/class/mdev_bus/" GVT "/mdev_supported_types/i915-GVTg_V5_8/"
		      "available_instances", fx->root);
	tu_write_file(path, "-1\n");
	assert_int_equal(mdev_type_read(&fx->s, GVT, "i915-GVTg_V5_8", &info), -EINVAL);
	tu_write_file(path, "7 \n");
	assert_int_equal(mdev_type_read(&fx->s, GVT, "i915-GVTg_V5_8", &info), -EINVAL);
	free(path);
}

static void test_create_writes_uuid(void **state)
{
	struct fx *fx = *state;
	char *path, *got;

	assert_int_equal(mdev_create(&fx->s, GVT, "i915-GVTg_V5_4", U1), 0);
	path = tu_fmt("%s/class/mdev_bus/" GVT "/mdev_supported_types/i915-GVTg_V5_4/create",
		      fx->root);
	got = tu_read_file(path);
	assert_string_equal(got, U1);   /* 36 bytes, no newline */
	free(got);
	free(path);
	assert_int_equal(mdev_create(&fx->s, GVT, "nope", U1), -ENOENT);
	assert_int_equal(mdev_create(&fx->s, GVT, "i915-GVTg_V5_4", "11111111-2222-4333-8444-00000000000A"), -EINVAL);
	assert_int_equal(mdev_create(&fx->s, "..", "i915-GVTg_V5_4", U1), -EINVAL);
}

static void test_device_find_and_remove(void **state)
{
	struct fx *fx = *state;
	struct mdev_device dev;
	struct strv v = { 0 };
	char *path, *got;

	assert_int_equal(mdev_device_find(&fx->s, U1, &dev), -ENOENT);
	assert_int_equal(mdev_remove(&fx->s, U1), -ENOENT);

	tu_make_device(fx->root, "0000:02:00.0", "i915-GVTg_V5_4", U1);
	assert_int_equal(mdev_device_find(&fx->s, U1, &dev), 0);
	assert_string_equal(dev.parent, "0000:02:00.0");
	assert_string_equal(dev.type, "i915-GVTg_V5_4");
	assert_int_equal(mdev_list_devices(&fx->s, &v), 0);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.v[0], U1);
	strv_free(&v);

	assert_int_equal(mdev_remove(&fx->s, U1), 0);
	path = tu_fmt("%s/bus/mdev/devices/" U1 "/remove", fx->root);
	got = tu_read_file(path);
	assert_string_equal(got, "1");
	free(got);
	free(path);
	assert_int_equal(mdev_device_find(&fx->s, "11111111-2222-4333-8444-00000000000A", &dev),
			 -EINVAL);
}

static int refuse(void *opaque, const char *path, const char *data, size_t len)
{
	(void)path;
	(void)data;
	(void)len;
	return -*(int *)opaque;
}

/* What the kernel answers a create or a remove with, kept as it is. */
static const struct {
	int err;
	const char *name;
} kernel_errnos[] = {
	{ ENOSPC, "ENOSPC" }, { EEXIST, "EEXIST" }, { EUSERS, "EUSERS" }, { EINVAL, "EINVAL" },
	{ ENODEV, "ENODEV" }, { EBUSY, "EBUSY" }, { EAGAIN, "EAGAIN" }, { EIO, "EIO" },
};

static void test_kernel_errno_kept(void **state)
{
	struct fx *fx = *state;
	__typeof__(kernel_errnos[0]) *c = fx->row;
	int e = c->err;

	tu_make_device(fx->root, GVT, "i915-GVTg_V5_4", U1);
	fx->s.write = refuse;
	fx->s.opaque = &e;
	assert_int_equal(mdev_create(&fx->s, GVT, "i915-GVTg_V5_4", U1), -e);
	assert_int_equal(mdev_remove(&fx->s, U1), -e);
}

/* The inode number of the device directory, the proof of which device it is. */
static void test_device_ino(void **state)
{
	struct fx *fx = *state;
	struct mdev_device dev;
	struct stat st;
	char *path;

	tu_make_device(fx->root, GVT, "i915-GVTg_V5_4", U1);
	assert_int_equal(mdev_device_find(&fx->s, U1, &dev), 0);
	path = tu_fmt("%s/bus/mdev/devices/" U1 "/", fx->root);
	assert_int_equal(stat(path, &st), 0);
	assert_true(dev.ino != 0);
	assert_true(dev.ino == (unsigned long long)st.st_ino);
	free(path);
}

/* The lowest free descriptor: what a leaked one would change. */
static int lowest_fd(void)
{
	int fd = dup(0);

	assert_true(fd >= 0);
	close(fd);
	return fd;
}

/*
 * mdev_device_open: the device directory kept open, and what is read through it read from
 * that directory, by the kernel's link or, for a link of another shape, through realpath.
 */
static void test_device_open(void **state)
{
	struct fx *fx = *state;
	char *proc = tu_fmt("%s/proc", fx->tmp), *dev = tu_fmt("%s/dev", fx->tmp), *bus, *real,
	     *alias, *aliasdir;
	struct mdev_device d, f;
	struct mdev_holder h;
	char path[PATH_MAX];
	struct stat st;
	int fd, free_fd = lowest_fd(), g;

	fx->s.proc_root = proc;
	fx->s.dev_root = dev;
	assert_int_equal(mkdir(proc, 0755), 0);
	assert_int_equal(mdev_device_open(&fx->s, U1, &d), -ENOENT);
	assert_int_equal(lowest_fd(), free_fd);
	assert_int_equal(mdev_device_open(&fx->s, "../x", &d), -EINVAL);

	tu_make_device(fx->root, GVT, "i915-GVTg_V5_4", U1);
	g = tu_device_group(fx->root, U1);
	assert_true(g >= 0);
	fd = mdev_device_open(&fx->s, U1, &d);
	assert_true(fd >= 0);
	assert_int_equal(mdev_device_find(&fx->s, U1, &f), 0);
	assert_memory_equal(&d, &f, sizeof(d));
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_true(d.ino == (unsigned long long)st.st_ino);
	assert_int_equal(mdev_holder_find_at(&fx->s, fd, &h), 0);
	tu_fake_holder(proc, dev, 41, g, "qemu-system-x86", "win10",
		       "aaaaaaaa-0000-4000-8000-000000000009");
	assert_int_equal(mdev_holder_find_at(&fx->s, fd, &h), 1);
	assert_int_equal(h.pid, 41);
	/* With the bus link gone, the descriptor still reaches the device. */
	bus = tu_fmt("%s/bus/mdev/devices/" U1, fx->root);
	real = tu_fmt("%s/class/mdev_bus/" GVT "/" U1, fx->root);
	assert_non_null(realpath(real, path));
	free(real);
	real = tu_fmt("%s", path);   /* the device directory, no link on the way */
	assert_int_equal(unlink(bus), 0);
	assert_int_equal(mdev_holder_find(&fx->s, U1, NULL, &h), -ENOENT);
	assert_int_equal(mdev_holder_find_at(&fx->s, fd, &h), 1);
	close(fd);

	/* A link whose last component is a symlink, not the kernel's shape: resolved in
	 * full, the same device. */
	aliasdir = tu_fmt("%s/alias", fx->tmp);
	alias = tu_fmt("%s/" U1, aliasdir);
	assert_int_equal(mkdir(aliasdir, 0755), 0);
	assert_int_equal(symlink(real, alias), 0);
	assert_int_equal(symlink(alias, bus), 0);
	fd = mdev_device_open(&fx->s, U1, &f);
	assert_true(fd >= 0);
	assert_memory_equal(&d, &f, sizeof(d));
	assert_int_equal(mdev_holder_find_at(&fx->s, fd, &h), 1);
	close(fd);
	/* A device without a type link is refused, with nothing left open. */
	free(alias);
	alias = tu_fmt("%s/mdev_type", real);
	assert_int_equal(unlink(alias), 0);
	assert_int_equal(mdev_device_open(&fx->s, U1, &f), -EINVAL);
	assert_int_equal(lowest_fd(), free_fd);
	free(alias);
	free(aliasdir);
	free(real);
	free(bus);
	free(proc);
	free(dev);
}

/* Who holds the vGPU's group node, and the domain of a libvirt QEMU (commas doubled). */
static void test_holder_find(void **state)
{
	struct fx *fx = *state;
	char *proc = tu_fmt("%s/proc", fx->tmp), *dev = tu_fmt("%s/dev", fx->tmp), *bus, *node;
	char buf[400];
	struct mdev_holder h;
	int g;

	fx->s.proc_root = proc;
	fx->s.dev_root = dev;
	assert_int_equal(mkdir(proc, 0755), 0);
	tu_make_device(fx->root, GVT, "i915-GVTg_V5_4", U1);
	g = tu_device_group(fx->root, U1);
	assert_true(g >= 0);
	assert_int_equal(mdev_holder_find(&fx->s, U1, NULL, &h), 0);   /* no node, nobody */
	tu_fake_holder(proc, dev, 31, g + 1, "other", NULL, NULL);    /* another group */
	assert_int_equal(mdev_holder_find(&fx->s, U1, NULL, &h), 0);
	tu_fake_holder(proc, dev, 32, g, "qemu-system-x86", "win,10",
		       "aaaaaaaa-0000-4000-8000-000000000009");
	assert_int_equal(mdev_holder_find(&fx->s, U1, NULL, &h), 1);
	assert_int_equal(h.pid, 32);
	assert_string_equal(h.comm, "qemu-system-x86");
	assert_string_equal(h.domain, "win,10");
	assert_string_equal(h.domain_uuid, "aaaaaaaa-0000-4000-8000-000000000009");
	assert_string_equal(mdev_holder_describe(&h, buf, sizeof(buf)),
			    "pid 32 (qemu-system-x86), domain win,10");
	/* A remove waiting on 6.x: the bus link is gone, the parent's <uuid>/ is not. */
	bus = tu_fmt("%s/bus/mdev/devices/" U1, fx->root);
	assert_int_equal(unlink(bus), 0);
	assert_true(mdev_being_removed(&fx->s, GVT, U1));
	assert_int_equal(mdev_holder_find(&fx->s, U1, NULL, &h), -ENOENT);
	assert_int_equal(mdev_holder_find(&fx->s, U1, GVT, &h), 1);
	assert_int_equal(h.pid, 32);
	assert_int_equal(mdev_holder_find(&fx->s, "../x", GVT, &h), -EINVAL);
	/* A group node that is a character device is asked first: one that opens is open
	 * nowhere, whatever a scan of /proc would find (here the same node as /dev/null). */
	node = tu_fmt("%s/vfio/%d", dev, g);
	assert_int_equal(unlink(node), 0);
	if (mknod(node, S_IFCHR | 0600, makedev(1, 3)) == 0) {
		int fd = open(node, O_RDWR | O_CLOEXEC);

		/* A file system mounted nodev (a tmpfs /tmp) refuses to open it: then the
		 * kernel cannot be asked, and the scan finds the holder as above. */
		if (fd >= 0) {
			close(fd);
			assert_int_equal(mdev_holder_find(&fx->s, U1, GVT, &h), 0);
		} else {
			assert_int_equal(errno, EACCES);
			assert_int_equal(mdev_holder_find(&fx->s, U1, GVT, &h), 1);
		}
	} else
		assert_int_equal(errno, EPERM);   /* not root: mknod(2) needs CAP_MKNOD */
	free(node);
	free(bus);
	free(proc);
	free(dev);
}

/* GVT-g's hints only for i915's parents: by the driver link, else by type names. */
static void test_parent_is_gvt(void **state)
{
	struct fx *fx = *state;
	char *link;

	assert_true(mdev_parent_is_gvt(&fx->s, GVT, NULL));            /* i915-GVTg_* types */
	assert_false(mdev_parent_is_gvt(&fx->s, "0000:01:00.0", NULL)); /* nvidia-63 */
	assert_true(mdev_parent_is_gvt(&fx->s, "0000:09:00.0", "i915-GVTg_V5_4"));
	assert_false(mdev_parent_is_gvt(&fx->s, "mdpy", "mdpy-vga"));
	/* The driver link decides where there is one. */
	link = tu_fmt("%s/devices/pci0000:00/0000:02:00.0/driver", fx->root);
	assert_int_equal(symlink("../../../bus/pci/drivers/nvidia", link), 0);
	assert_false(mdev_parent_is_gvt(&fx->s, "0000:02:00.0", NULL));
	free(link);
	link = tu_fmt("%s/devices/pci0000:00/0000:01:00.0/driver", fx->root);
	assert_int_equal(symlink("../../../bus/pci/drivers/i915", link), 0);
	assert_true(mdev_parent_is_gvt(&fx->s, "0000:01:00.0", NULL));
	free(link);
	assert_false(mdev_being_removed(&fx->s, GVT, U1));   /* nothing there at all */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_parents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parent_dir_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_writes_uuid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_find_and_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_ino, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_holder_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parent_is_gvt, setup, teardown),
	};

	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	failed += TU_RUN_ROWS_FX("kernel errno", test_kernel_errno_kept, setup, teardown,
				 kernel_errnos, name);
	return failed;
}
