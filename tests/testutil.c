/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "mdev.h"
#include "testutil.h"

char *tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *dir = tu_fmt("%s/vgpu-test.XXXXXX", base && *base ? base : "/tmp");

	assert_non_null(mkdtemp(dir));
	return dir;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 ? -1 : 0;
	return unlink(path) < 0 ? -1 : 0;
}

void tu_rmtree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_copy_fixture(const char *name, const char *dst)
{
	char *cmd = tu_fmt("cp -a '%s/%s' '%s/'", FIXTURES_DIR, name, dst);
	const char *base = strrchr(name, '/');

	assert_int_equal(system(cmd), 0);
	free(cmd);
	return tu_fmt("%s/%s", dst, base ? base + 1 : name);
}

void tu_write_file_mode(const char *path, const char *content, unsigned mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, content, strlen(content)), 0);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

void tu_write_file(const char *path, const char *content)
{
	tu_write_file_mode(path, content, 0644);
}

char *tu_read_file(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "re");
	int c;

	if (!f)
		return NULL;
	while ((c = getc(f)) != EOF) {
		buf = realloc(buf, len + 2);
		assert_non_null(buf);
		buf[len++] = (char)c;
	}
	fclose(f);
	if (!buf)
		buf = calloc(1, 1);
	assert_non_null(buf);
	buf[len] = '\0';
	return buf;
}

bool tu_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

char *tu_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	return s;
}

static char *dir_of(const char *path)
{
	char *d = strdup(path), *slash;

	assert_non_null(d);
	slash = strrchr(d, '/');
	if (slash)
		*slash = '\0';
	return d;
}

static int avail_add(const char *typedir, int delta)
{
	char *path = tu_fmt("%s/available_instances", typedir), buf[32];
	long n;
	int r = 0;

	if (attr_read(path, buf, sizeof(buf), false) < 0) {
		free(path);
		return -EIO;
	}
	n = strtol(buf, NULL, 10);
	if (n + delta < 0) {
		r = -ENOSPC;
	} else {
		snprintf(buf, sizeof(buf), "%ld\n", n + delta);
		tu_write_file(path, buf);
	}
	free(path);
	return r;
}

static int nth(const int *table, size_t n, size_t *count)
{
	size_t i = (*count)++;

	return i < n ? table[i] : 0;
}

void tu_make_device(const char *root, const char *parent, const char *type, const char *uuid)
{
	char real[PATH_MAX], *pdir, *dev, *link, *bus, *mdir;
	int r;

	pdir = tu_fmt("%s/class/mdev_bus/%s", root, parent);
	if (!realpath(pdir, real)) {
		free(pdir);
		pdir = tu_fmt("%s/bus/pci/devices/%s", root, parent);
		assert_non_null(realpath(pdir, real));
	}
	dev = tu_fmt("%s/%s", real, uuid);
	assert_int_equal(mkdir(dev, 0755), 0);
	link = tu_fmt("%s/mdev_type", dev);
	mdir = tu_fmt("../mdev_supported_types/%s", type);
	assert_int_equal(symlink(mdir, link), 0);
	free(link);
	link = tu_fmt("%s/remove", dev);
	tu_write_file_mode(link, "", 0200);
	bus = tu_fmt("%s/bus/mdev/devices/%s", root, uuid);
	r = symlink(dev, bus);
	assert_int_equal(r, 0);
	free(link);
	/* Its IOMMU group, as the kernel gives every mdev one; the tree may have none yet. */
	link = tu_fmt("%s/kernel", root);
	mkdir(link, 0755);
	free(link);
	link = tu_fmt("%s/kernel/iommu_groups", root);
	mkdir(link, 0755);
	free(link);
	for (int g = 0;; g++) {
		char *gdir = tu_fmt("%s/kernel/iommu_groups/%d", root, g);

		if (mkdir(gdir, 0755) == 0) {
			link = tu_fmt("%s/iommu_group", dev);
			assert_int_equal(symlink(gdir, link), 0);
			free(link);
			free(gdir);
			break;
		}
		assert_int_equal(errno, EEXIST);
		free(gdir);
	}
	free(mdir);
	free(bus);
	free(dev);
	free(pdir);
}

static int kernel_create(struct tu_kernel *k, const char *path, const char *data, size_t len)
{
	char uuid[MDEV_UUID_LEN + 1], in[40], *typedir, *typesdir, *pdir, *bus, *type;
	int r = 0;

	if (len != 36 && !(len == 37 && data[36] == '\n'))
		return -EINVAL;
	snprintf(in, sizeof(in), "%.36s", data);
	if (mdev_uuid_canon(in, uuid) < 0)
		return -EINVAL;
	typedir = dir_of(path);
	typesdir = dir_of(typedir);
	pdir = dir_of(typesdir);
	bus = tu_fmt("%s/bus/mdev/devices/%s", k->root, uuid);
	type = strrchr(typedir, '/') + 1;
	if (tu_exists(bus)) {
		r = -EEXIST;
	} else if ((r = avail_add(typedir, -1)) == 0) {
		/* Same shape as the kernel's: the device in its parent's directory. */
		tu_make_device(k->root, strrchr(pdir, '/') + 1, type, uuid);
	}
	free(bus);
	free(pdir);
	free(typesdir);
	free(typedir);
	return r;
}

int tu_kernel_write(void *opaque, const char *path, const char *data, size_t len)
{
	struct tu_kernel *k = opaque;
	size_t rootlen = strlen(k->root);
	const char *rel = strncmp(path, k->root, rootlen) == 0 ? path + rootlen : path;
	char *entry = tu_fmt("%s %.*s", rel, (int)len, data);
	size_t plen = strlen(path);
	int e;

	strv_add(&k->log, entry);
	if (k->log_path) {
		char *line = tu_fmt("%s\n", entry);
		int fd = open(k->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
		close(fd);
		free(line);
	}
	free(entry);
	if (plen > 7 && strcmp(path + plen - 7, "/create") == 0) {
		if (!tu_exists(path))
			return -ENOENT;
		e = nth(k->fail_create, ARRAY_SIZE(k->fail_create), &k->n_create);
		return e ? -e : kernel_create(k, path, data, len);
	}
	if (plen > 7 && strcmp(path + plen - 7, "/remove") == 0) {
		char real[PATH_MAX], link[PATH_MAX], *dev = dir_of(path), *typedir, *mt;
		ssize_t n;

		if (!tu_exists(path)) {
			free(dev);
			return -ENOENT;
		}
		e = k->fail_remove_always ? k->fail_remove_always
					  : nth(k->fail_remove, ARRAY_SIZE(k->fail_remove), &k->n_remove);
		if (e || len < 1 || data[0] != '1') {
			free(dev);
			return e ? -e : (len && data[0] == '0' ? 0 : -EINVAL);
		}
		if (k->remove_delay_ms)
			sleep_ms(k->remove_delay_ms);
		assert_non_null(realpath(dev, real));
		{
			char glink[PATH_MAX], *g = tu_fmt("%s/iommu_group", real);
			ssize_t gn = readlink(g, glink, sizeof(glink) - 1);

			if (gn > 0) {
				glink[gn] = '\0';
				rmdir(glink);
			}
			unlink(g);
			free(g);
		}
		mt = tu_fmt("%s/mdev_type", real);
		n = readlink(mt, link, sizeof(link) - 1);
		assert_true(n > 0);
		link[n] = '\0';
		typedir = tu_fmt("%s/%s", real, link);
		avail_add(typedir, +1);
		unlink(mt);
		free(mt);
		mt = tu_fmt("%s/remove", real);
		unlink(mt);
		free(mt);
		assert_int_equal(rmdir(real), 0);
		assert_int_equal(unlink(dev), 0);
		free(typedir);
		free(dev);
		return 0;
	}
	return mdev_sysfs_write(NULL, path, data, len);
}

void tu_kernel_sync(struct tu_kernel *k)
{
	char *text, *line, *save = NULL;

	if (!k->log_path)
		return;
	strv_free(&k->log);
	text = tu_read_file(k->log_path);
	if (!text)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		strv_add(&k->log, line);
	free(text);
}

int tu_device_group(const char *root, const char *uuid)
{
	char *path = tu_fmt("%s/bus/mdev/devices/%s/iommu_group", root, uuid), link[PATH_MAX];
	ssize_t n = readlink(path, link, sizeof(link) - 1);

	free(path);
	if (n <= 0)
		return -1;
	link[n] = '\0';
	return atoi(strrchr(link, '/') + 1);
}

void tu_fake_holder(const char *proc_root, const char *dev_root, int pid, int group,
		    const char *comm, const char *domain, const char *domain_uuid)
{
	char *p, *node, *cmd;
	size_t len = 0;

	p = tu_fmt("%s/vfio", dev_root);
	mkdir(dev_root, 0755);
	mkdir(p, 0755);
	free(p);
	node = tu_fmt("%s/vfio/%d", dev_root, group);
	if (!tu_exists(node))
		tu_write_file(node, "");
	mkdir(proc_root, 0755);
	p = tu_fmt("%s/%d", proc_root, pid);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = tu_fmt("%s/%d/fd", proc_root, pid);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = tu_fmt("%s/%d/fd/3", proc_root, pid);
	assert_int_equal(symlink(node, p), 0);
	free(p);
	p = tu_fmt("%s/%d/comm", proc_root, pid);
	cmd = tu_fmt("%s\n", comm);
	tu_write_file(p, cmd);
	free(cmd);
	free(p);
	if (domain) {
		char *name = calloc(1, 2 * strlen(domain) + 1), *o = name;

		assert_non_null(name);
		for (const char *c = domain; *c; c++) {
			*o++ = *c;
			if (*c == ',')
				*o++ = ',';
		}
		cmd = tu_fmt("/usr/bin/qemu-system-x86_64%c-name%cguest=%s,debug-threads=on%c"
			     "-uuid%c%s%c-S%c", 0, 0, name, 0, 0, domain_uuid, 0, 0);
		len = strlen("/usr/bin/qemu-system-x86_64") + 1 + 6 + 6 + strlen(name) +
		      strlen(",debug-threads=on") + 1 + 6 + strlen(domain_uuid) + 1 + 3;
		free(name);
	} else {
		cmd = tu_fmt("sleep%c600%c", 0, 0);
		len = 10;
	}
	p = tu_fmt("%s/%d/cmdline", proc_root, pid);
	{
		int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, cmd, len), (ssize_t)len);
		close(fd);
	}
	free(p);
	free(cmd);
	free(node);
}

size_t tu_kernel_writes(const struct tu_kernel *k, const char *suffix)
{
	size_t n = 0;

	for (size_t i = 0; i < k->log.n; i++) {
		const char *sp = strchr(k->log.v[i], ' ');
		size_t slen = strlen(suffix);

		if (sp && (size_t)(sp - k->log.v[i]) >= slen &&
		    strncmp(sp - slen, suffix, slen) == 0)
			n++;
	}
	return n;
}

static struct strv captured;

static void capture(void *opaque, int priority, const char *msg)
{
	(void)opaque;
	(void)priority;
	strv_add(&captured, msg);
}

void tu_log_capture(void)
{
	strv_free(&captured);
	log_set_fn(capture, NULL);
}

bool tu_log_has(const char *needle)
{
	for (size_t i = 0; i < captured.n; i++)
		if (strstr(captured.v[i], needle))
			return true;
	return false;
}

void tu_log_dump(void)
{
	for (size_t i = 0; i < captured.n; i++)
		fprintf(stderr, "log: %s\n", captured.v[i]);
}

/* The name of row @i: "@group #@i: @s", @s with control and non-ASCII bytes as \xNN and cut
 * at about 50 bytes. */
static char *row_name(const char *group, const char *s, size_t i)
{
	char buf[64];
	size_t n = 0;

	if (!s)
		return tu_fmt("%s #%zu", group, i);
	for (; *s && n + 4 < sizeof(buf) - 4; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\\x%02x", c);
		else
			buf[n++] = (char)c;
	}
	if (*s)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "...");
	buf[n] = '\0';
	return tu_fmt("%s #%zu: %s", group, i, buf);
}

int tu_run_rows(const char *group, CMUnitTestFunction fn, const void *rows, size_t n,
		size_t size, size_t name_off)
{
	return tu_run_rows_fx(group, fn, NULL, NULL, rows, n, size, name_off);
}

int tu_run_rows_fx(const char *group, CMUnitTestFunction fn, CMFixtureFunction setup,
		   CMFixtureFunction teardown, const void *rows, size_t n, size_t size,
		   size_t name_off)
{
	struct CMUnitTest *tests = calloc(n ? n : 1, sizeof(*tests));
	int failed;

	if (!tests) {
		fprintf(stderr, "%s: out of memory\n", group);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *row = (const char *)rows + i * size;
		const char *name = NULL;

		if (name_off != TU_NO_NAME)
			memcpy(&name, row + name_off, sizeof(name));
		tests[i].name = row_name(group, name, i);
		tests[i].test_func = fn;
		tests[i].setup_func = setup;
		tests[i].teardown_func = teardown;
		tests[i].initial_state = (void *)row;
	}
	failed = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		free((char *)tests[i].name);
	free(tests);
	return failed;
}
