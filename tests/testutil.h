/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * testutil.h: what the cmocka tests share: temporary trees made from tests/fixtures, a fake
 * kernel behind the mdev write seam, and a captured log.
 */
#ifndef VGPU_TESTUTIL_H
#define VGPU_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include <cmocka.h>

#include "util.h"

/* tu_tmpdir: a new directory under $TMPDIR or /tmp, newly allocated; fails the test on error. */
char *tu_tmpdir(void);

/* tu_rmtree: remove @path and everything below it (not following links). */
void tu_rmtree(const char *path);

/* tu_copy_fixture: copy tests/fixtures/@name (a tree, links kept) to @dst/@name and return
 * that path, newly allocated. */
char *tu_copy_fixture(const char *name, const char *dst);

/* tu_write_file: create @path with @content (mode 0644, or @mode); fails the test on error. */
void tu_write_file(const char *path, const char *content);
void tu_write_file_mode(const char *path, const char *content, unsigned mode);

/* tu_read_file: the content of @path, newly allocated, or NULL when it does not exist. */
char *tu_read_file(const char *path);

/* tu_exists: whether @path exists (lstat). */
bool tu_exists(const char *path);

/* tu_fmt: a newly allocated formatted string. */
char *tu_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A fake kernel: set kernel.root and pass tu_kernel_write with &kernel as the mdev write
 * seam. A write of a UUID to <type>/create makes the device the way the kernel does
 * (<parent dir>/<uuid>/ with remove, mdev_type and iommu_group, bus/mdev/devices/<uuid>),
 * checks and decrements available_instances (ENOSPC at 0) and refuses an existing UUID
 * (EEXIST). A write of "1" to remove undoes it, after @remove_delay_ms (a remove that
 * blocks, as Linux 6.x's while a process holds the device). Every write is recorded in
 * @log as "PATH DATA" with PATH relative to the root; with @log_path set, also appended to
 * that file, so that writes made by a child process (the hook's remover) reach @log at
 * the next tu_kernel_sync().
 */
struct tu_kernel {
	const char *root;
	int fail_create[8];       /* errno for the Nth create (0-based), 0: succeed */
	int fail_remove[8];       /* errno for the Nth remove of "1", 0: succeed */
	int fail_remove_always;   /* when non-zero, every remove fails with it */
	unsigned remove_delay_ms; /* every remove of "1" waits this long first */
	size_t n_create, n_remove;
	struct strv log;
	const char *log_path;     /* NULL: @log only */
};

int tu_kernel_write(void *opaque, const char *path, const char *data, size_t len);

/* tu_kernel_sync: reload @log from @log_path (every process's writes); no-op without it. */
void tu_kernel_sync(struct tu_kernel *k);

/* tu_kernel_writes: how many recorded writes end with @suffix ("/create", "/remove"). */
size_t tu_kernel_writes(const struct tu_kernel *k, const char *suffix);

/* tu_make_device: make device @uuid of @type on @parent by hand (as mdevctl or a person
 * would), in the tree @root, without touching available_instances. Its iommu_group links
 * to the lowest free <root>/kernel/iommu_groups/<N> (made), as the kernel numbers them. */
void tu_make_device(const char *root, const char *parent, const char *type, const char *uuid);

/* tu_device_group: the IOMMU group number of device @uuid under @root, or -1. */
int tu_device_group(const char *root, const char *uuid);

/*
 * tu_fake_holder: model process @pid holding group @group under the fake roots: makes
 * <dev_root>/vfio/<group> (a regular file) if missing, and <proc_root>/<pid>/fd/3 linking
 * to it, with comm @comm and, when @domain is not NULL, a libvirt QEMU cmdline naming
 * domain @domain (commas doubled as libvirt does) with UUID @domain_uuid.
 */
void tu_fake_holder(const char *proc_root, const char *dev_root, int pid, int group,
		    const char *comm, const char *domain, const char *domain_uuid);

/* Captured log: every message of log.h, one per entry. tu_log_capture() starts capturing
 * (clearing earlier messages); tu_log_has() tells whether any message contains @needle. */
void tu_log_capture(void);
bool tu_log_has(const char *needle);
void tu_log_dump(void);

/*
 * tu_run_rows: run @fn once for each row of a table, each row its own cmocka test of the
 * group @group, so that a failing row hides none of the rows after it. @rows is the table,
 * @n rows of @size bytes; the test finds its row in *state. Row i's test is named
 * "@group #i: NAME", NAME being the string the row holds at byte @name_off (control and
 * non-ASCII bytes shown as \xNN, cut at about 50 bytes), or "@group #i" when @name_off
 * is TU_NO_NAME.
 * Returns cmocka's count of the tests that failed (0: all passed).
 * tu_run_rows_fx: the same with a cmocka @setup and @teardown around each row; @setup
 * finds the row in *state, and must keep it where the test finds it.
 * TU_RUN_ROWS(group, fn, table, field) is the same for a static array @table whose rows
 * are named by their member @field (a const char *; for a table of strings, use
 * TU_RUN_STRINGS).
 */
#define TU_NO_NAME ((size_t)-1)
int tu_run_rows(const char *group, CMUnitTestFunction fn, const void *rows, size_t n,
		size_t size, size_t name_off);
int tu_run_rows_fx(const char *group, CMUnitTestFunction fn, CMFixtureFunction setup,
		   CMFixtureFunction teardown, const void *rows, size_t n, size_t size,
		   size_t name_off);
#define TU_RUN_ROWS(group, fn, table, field)                                              \
	tu_run_rows(group, fn, table, ARRAY_SIZE(table), sizeof((table)[0]),              \
		    offsetof(__typeof__((table)[0]), field))
#define TU_RUN_STRINGS(group, fn, table)                                                  \
	tu_run_rows(group, fn, table, ARRAY_SIZE(table), sizeof((table)[0]), 0)
#define TU_RUN_ROWS_FX(group, fn, setup, teardown, table, field)                          \
	tu_run_rows_fx(group, fn, setup, teardown, table, ARRAY_SIZE(table),              \
		       sizeof((table)[0]), offsetof(__typeof__((table)[0]), field))
#define TU_RUN_NUMBERED(group, fn, table)                                                 \
	tu_run_rows(group, fn, table, ARRAY_SIZE(table), sizeof((table)[0]), TU_NO_NAME)

#endif
