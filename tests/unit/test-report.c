/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pure parts of the host tool's reports (report.h): the mdev type table of --types, the
 * description made one line, and the CAN START NOW cell of --guests. Each row of each table
 * is its own test case, named after it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "testutil.h"

#define HOST FIXTURES_DIR "/sysfs/host"

/* ---- report_flatten ---- */

struct flatten_row {
	const char *name, *in;
	size_t len;
	const char *want;
};

static const struct flatten_row flatten_rows[] = {
	{ "flatten: GVT-g key: value lines", "low_gm_size: 128MB\nfence: 4\n", 1024,
	  "low_gm_size 128MB, fence 4" },
	{ "flatten: free text on one line", "num_heads=4, frl_config=60", 1024,
	  "num_heads=4, frl_config=60" },
	{ "flatten: free text lines", "one\ntwo\n", 1024, "one, two" },
	{ "flatten: a colon without a blank is kept", "a:b: c", 1024, "a:b c" },
	{ "flatten: empty", "", 1024, "" },
	{ "flatten: cut to the buffer", "abcdefghij", 8, "abcde" },
};

static void test_flatten(void **state)
{
	const struct flatten_row *row = *state;
	char out[1024];

	assert_true(row->len <= sizeof(out));
	memset(out, 'x', sizeof(out));
	report_flatten(row->in, out, row->len);
	assert_string_equal(out, row->want);
}

/* ---- report_types_read and report_types: tests/fixtures/sysfs/host ---- */

struct type_row {
	const char *name;
	const char *parent, *type;
	unsigned long available;
	const char *tname, *desc;
};

#define GVT(low, high, res, weight) \
	"low_gm_size " low ", high_gm_size " high ", fence 4, resolution " res ", weight " weight

/* In the order the host lists them: parents, then types, by name. Every API is vfio-pci. */
static const struct type_row type_rows[] = {
	{ "types: 0000:00:02.0 i915-GVTg_V5_1", "0000:00:02.0", "i915-GVTg_V5_1", 1, "GVTg_V5_1",
	  GVT("512MB", "2048MB", "1920x1200", "16") },
	{ "types: 0000:00:02.0 i915-GVTg_V5_2", "0000:00:02.0", "i915-GVTg_V5_2", 1, "GVTg_V5_2",
	  GVT("256MB", "1024MB", "1920x1200", "8") },
	{ "types: 0000:00:02.0 i915-GVTg_V5_4", "0000:00:02.0", "i915-GVTg_V5_4", 3, "GVTg_V5_4",
	  GVT("128MB", "512MB", "1920x1200", "4") },
	{ "types: 0000:00:02.0 i915-GVTg_V5_8", "0000:00:02.0", "i915-GVTg_V5_8", 7, "GVTg_V5_8",
	  GVT("64MB", "384MB", "1024x768", "2") },
	{ "types: 0000:01:00.0 nvidia-63 (free text)", "0000:01:00.0", "nvidia-63", 4,
	  "GRID P4-1Q", "num_heads=4, frl_config=60, framebuffer=1024M, "
	  "max_resolution=5120x2880, max_instance=8" },
	{ "types: 0000:02:00.0 i915-GVTg_V5_4 (no class link)", "0000:02:00.0", "i915-GVTg_V5_4",
	  2, "GVTg_V5_4", GVT("128MB", "512MB", "1920x1200", "4") },
};

/* The columns of report_types() for this host, each as wide as its longest value or title:
 * PARENT 12, TYPE 14, FREE 4 (right-aligned), API 8, NAME 10. */
#define ROW_FMT "%-12s  %-14s  %4lu  %-8s  %-10s  %s"

#define N_TYPES ARRAY_SIZE(type_rows)

/* report_types() of @root: its exit status, and its output in *@out (caller frees). */
static int run_types(const char *root, char **out)
{
	struct mdev_sysfs s = { .root = root };
	size_t len;
	FILE *f = open_memstream(out, &len);
	int status;

	assert_non_null(f);
	status = report_types(&s, f);
	assert_int_equal(fclose(f), 0);
	return status;
}

/* Line @i (0: the first) of @text, newly allocated, or NULL. */
static char *line_of(const char *text, size_t i)
{
	const char *p = text, *nl;

	for (; i && p; i--)
		p = (nl = strchr(p, '\n')) ? nl + 1 : NULL;
	if (!p || !*p)
		return NULL;
	nl = strchr(p, '\n');
	return strndup(p, nl ? (size_t)(nl - p) : strlen(p));
}

static void test_type_row(void **state)
{
	const struct type_row *want = *state;
	size_t i = (size_t)(want - type_rows), n;
	struct mdev_sysfs s = { .root = HOST };
	struct report_type *rows;
	char *out = NULL, *line, *wline;

	assert_int_equal(report_types_read(&s, &rows, &n, NULL), 0);
	assert_int_equal(n, N_TYPES);
	assert_string_equal(rows[i].parent, want->parent);
	assert_string_equal(rows[i].type, want->type);
	assert_int_equal(rows[i].available, want->available);
	assert_string_equal(rows[i].api, "vfio-pci");
	assert_string_equal(rows[i].name, want->tname);
	assert_string_equal(rows[i].desc, want->desc);
	free(rows);

	assert_int_equal(run_types(HOST, &out), 0);
	line = line_of(out, i + 1);   /* after the header */
	assert_non_null(line);
	wline = tu_fmt(ROW_FMT, want->parent, want->type, want->available, "vfio-pci", want->tname,
		       want->desc);
	assert_string_equal(line, wline);
	free(wline);
	free(line);
	free(out);
}

static void test_types_header(void **state)
{
	char *out = NULL, *line;

	(void)state;
	assert_int_equal(run_types(HOST, &out), 0);
	line = line_of(out, 0);
	assert_non_null(line);
	assert_string_equal(line, "PARENT        TYPE            FREE  API       NAME        "
			    "DESCRIPTION");
	free(line);
	assert_null(line_of(out, N_TYPES + 1));
	free(out);
}

/* A type whose attributes cannot be read is left out, said on @errs; the others stay. */
static void test_types_unreadable_left_out(void **state)
{
	char *tmp = tu_tmpdir(), *root = tu_copy_fixture("sysfs/host", tmp), *errs = NULL;
	char *gone = tu_fmt("%s/bus/pci/devices/0000:01:00.0/mdev_supported_types/nvidia-63/"
			    "available_instances", root);
	struct mdev_sysfs s = { .root = root };
	struct report_type *rows;
	size_t n, len;
	FILE *f = open_memstream(&errs, &len);

	(void)state;
	assert_non_null(f);
	assert_int_equal(unlink(gone), 0);
	assert_int_equal(report_types_read(&s, &rows, &n, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(n, N_TYPES - 1);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(rows[i].type, "nvidia-63");
	assert_non_null(strstr(errs, "vgpu-hook: 0000:01:00.0 nvidia-63: "));
	free(rows);
	free(errs);
	free(gone);
	free(root);
	tu_rmtree(tmp);
	free(tmp);
}

/* No parent: -ENODEV and nothing returned; --types prints no table and fails. */
static void test_types_no_parent(void **state)
{
	char *tmp = tu_tmpdir(), *a = tu_fmt("%s/class", tmp), *b = tu_fmt("%s/class/mdev_bus", tmp);
	char *c = tu_fmt("%s/bus", tmp), *d = tu_fmt("%s/bus/pci", tmp);
	char *e = tu_fmt("%s/bus/pci/devices", tmp), *out = NULL;
	struct mdev_sysfs s = { .root = tmp };
	struct report_type *rows = (void *)1;
	size_t n = 1;

	(void)state;
	assert_int_equal(mkdir(a, 0755), 0);
	assert_int_equal(mkdir(b, 0755), 0);
	assert_int_equal(mkdir(c, 0755), 0);
	assert_int_equal(mkdir(d, 0755), 0);
	assert_int_equal(mkdir(e, 0755), 0);
	assert_int_equal(report_types_read(&s, &rows, &n, NULL), -ENODEV);
	assert_null(rows);
	assert_int_equal(n, 0);
	assert_int_equal(run_types(tmp, &out), 1);
	assert_string_equal(out, "");
	free(out);
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
	tu_rmtree(tmp);
	free(tmp);
}

/* ---- report_can_start ---- */

struct start_row {
	const char *name;
	int status;
	const char *err, *plan;
	size_t len;
	const char *want;
};

#define EXIST "yes, its vGPUs exist (it runs, or they were made for it)"

static const struct start_row start_rows[] = {
	{ "can start: the start would fail", 1,
	  "vgpu-hook: guest: no parent offers mdev type i915-GVTg_V5_4",
	  "guest: would fail: no parent offers mdev type i915-GVTg_V5_4\n", 256,
	  "no: vgpu-hook: guest: no parent offers mdev type i915-GVTg_V5_4" },
	{ "can start: would create a vGPU", 0, "",
	  "guest: would create vGPU 11111111-2222-4333-8444-000000000001: i915-GVTg_V5_4 on "
	  "0000:00:02.0 (3 free; from metadata)\n", 256, "yes" },
	{ "can start: would create one of two", 0, "",
	  "guest: vGPU 11111111-2222-4333-8444-000000000001 exists: would use it\n"
	  "guest: would create vGPU 11111111-2222-4333-8444-000000000002: i915-GVTg_V5_4 on "
	  "0000:00:02.0 (3 free; from metadata)\n", 256, "yes" },
	{ "can start: every vGPU exists", 0, "",
	  "guest: vGPU 11111111-2222-4333-8444-000000000001 exists: would use it\n", 256, EXIST },
	{ "can start: nothing printed", 0, "", "", 256, EXIST },
	{ "can start: no plan", 0, "", NULL, 256, EXIST },
	{ "can start: a long error is cut", 1, "vgpu-hook: a very long line", NULL, 16,
	  "no: vgpu-hook: " },
};

static void test_can_start(void **state)
{
	const struct start_row *row = *state;
	char buf[256];

	assert_true(row->len <= sizeof(buf));
	memset(buf, 'x', sizeof(buf));
	assert_string_equal(report_can_start(row->status, row->err, row->plan, buf, row->len),
			    row->want);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(flatten_rows) + N_TYPES + ARRAY_SIZE(start_rows) + 3];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(flatten_rows); i++)
		tests[n++] = (struct CMUnitTest){ flatten_rows[i].name, test_flatten, NULL, NULL,
						  (void *)&flatten_rows[i] };
	for (size_t i = 0; i < N_TYPES; i++)
		tests[n++] = (struct CMUnitTest){ type_rows[i].name, test_type_row, NULL, NULL,
						  (void *)&type_rows[i] };
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_types_header);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_types_unreadable_left_out);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_types_no_parent);
	for (size_t i = 0; i < ARRAY_SIZE(start_rows); i++)
		tests[n++] = (struct CMUnitTest){ start_rows[i].name, test_can_start, NULL, NULL,
						  (void *)&start_rows[i] };
	return _cmocka_run_group_tests("report", tests, n, NULL, NULL);
}
