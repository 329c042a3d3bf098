/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"

static char *tmp;

/*
 * Allocation failure, injected: this test is linked with -Wl,--wrap for malloc, calloc,
 * realloc and strdup (tests/unit/CMakeLists.txt), so every allocation of lib/ goes through
 * these (and strndup). With fail_in >= 0, the allocation that many allocations from now fails, once.
 */
static long fail_in = -1;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static bool alloc_fails(void)
{
	return fail_in >= 0 && fail_in-- == 0;
}

void *__wrap_malloc(size_t n)
{
	return alloc_fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return alloc_fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return alloc_fails() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return alloc_fails() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return alloc_fails() ? NULL : __real_strndup(s, n);
}

static int setup(void **state)
{
	(void)state;
	tmp = tu_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(tmp);
	free(tmp);
	return 0;
}

static int load(const char *text, struct config **cfg, struct strv *errors)
{
	char *path = tu_fmt("%s/vgpu-hook.conf", tmp);
	int r;

	tu_write_file(path, text);
	r = config_load(path, geteuid(), cfg, errors);
	free(path);
	return r;
}

static void test_full(void **state)
{
	struct strv errors = { 0 };
	const struct config_section *d;
	struct config *cfg;

	(void)state;
	assert_int_equal(load("# comment\n; comment\n[defaults]\nsysfs_root = /tmp/sys\n"
			      "state_dir = /tmp/state  ; inline\nparent = auto\n"
			      "type = i915-GVTg_V5_4 i915-GVTg_V5_8\nremove_retries = 7\n\n"
			      "[domain win 10]\nparent = 0000:00:02.0\ntype = i915-GVTg_V5_2\n"
			      "[domain other]\nremove_retries = 0\n", &cfg, &errors), 0);
	assert_int_equal(errors.n, 0);
	assert_true(cfg->found);
	assert_string_equal(cfg->sysfs_root, "/tmp/sys");
	assert_string_equal(cfg->state_dir, "/tmp/state");
	assert_string_equal(cfg->defaults.parent, "auto");
	assert_int_equal(cfg->defaults.types.n, 2);
	assert_string_equal(cfg->defaults.types.v[1], "i915-GVTg_V5_8");
	d = config_domain(cfg, "win 10");
	assert_non_null(d);
	assert_string_equal(d->parent, "0000:00:02.0");
	assert_string_equal(d->types.v[0], "i915-GVTg_V5_2");
	assert_null(config_domain(cfg, "win"));
	assert_int_equal(config_remove_retries(cfg, "win 10"), 7);
	assert_int_equal(config_remove_retries(cfg, "other"), 0);
	config_free(cfg);
}

static void test_missing_means_defaults(void **state)
{
	struct config *cfg;
	char *path = tu_fmt("%s/none.conf", tmp);

	(void)state;
	assert_int_equal(config_load(path, 0, &cfg, NULL), 0);
	assert_false(cfg->found);
	assert_string_equal(cfg->sysfs_root, "/sys");
	assert_string_equal(cfg->state_dir, "/run/vgpu-hook");
	assert_int_equal(config_remove_retries(cfg, "x"), CONFIG_DEFAULT_REMOVE_RETRIES);
	config_free(cfg);
	free(path);
}

/* Each error: its errno-free message, with the line it names. */
static const struct {
	const char *text;
	const char *msg;
} bad[] = {
	{ "parent = auto\n", ":1: 'parent' is outside any section" },
	{ "[defaults]\nparent = ../../etc\n", ":2: parent '../../etc' is neither auto" },
	{ "[defaults]\nparent = 0000:00:02.0/x\n", ":2: parent" },
	{ "[defaults]\ntype = i915/../x\n", ":2: type 'i915/../x' is not an mdev type" },
	{ "[defaults]\ntype = a a\n", ":2: type 'a' is listed twice" },
	{ "[defaults]\ntype = \n", ":2: type is empty" },
	{ "[defaults]\ntype = a\ntype = b\n", ":3: type is set twice" },
	{ "[defaults]\nremove_retries = 101\n", ":2: remove_retries '101' is not a number" },
	{ "[defaults]\nremove_retries = 0x3\n", ":2: remove_retries" },
	{ "[defaults]\nsysfs_root = sys\n", ":2: sysfs_root 'sys' is not an absolute path" },
	{ "[defaults]\nstate_dir = /run/../tmp\n", ":2: state_dir '/run/../tmp'" },
	{ "[domain x]\nstate_dir = /run/x\n", ":2: state_dir is host-wide" },
	{ "[defaults]\ncolour = blue\n", ":2: unknown key 'colour'" },
	{ "[default]\ntype = a\n", ":1: unknown section [default]" },
	{ "[domain]\ntype = a\n", ":1: unknown section [domain]" },
	{ "[defaults]\n[defualts]\n", ":2: unknown section [defualts]" },
	{ "[domain  vm]\ntype = a\n", ":1: [domain  vm]: a domain name that begins or ends with "
	  "a blank cannot be a section" },
	{ "[domain vm ]\ntype = a\n", ":1: [domain vm ]: a domain name that begins or ends" },
	{ "[domain a] ;b]\ntype = a\n", ":1: ambiguous section header" },
	{ "[defaults] ; see [x]\ntype = a\n", ":1: ambiguous section header" },
	{ "[domain vm] x\ntype = a\n", ":1: syntax error: a section header ends with ']'" },
	{ "[defaults\ntype = a\n", ":1: syntax error" },
	{ "[defaults]\njust words\n", ":2: syntax error" },
	{ "[defaults]\ntype = a\n  b\n", ":3: indented line" },
};

static void test_error(void **state)
{
	__typeof__(bad[0]) *c = *state;
	struct strv errors = { 0 };
	struct config *cfg = NULL;
	int r = load(c->text, &cfg, &errors);
	bool found = false;

	for (size_t e = 0; e < errors.n; e++)
		found = found || strstr(errors.v[e], c->msg);
	if (r != -EINVAL || !found)
		fail_msg("r=%d, first error '%s', want '%s'", r, errors.n ? errors.v[0] : "",
			 c->msg);
	assert_null(cfg);
	assert_non_null(strstr(errors.v[0], "/vgpu-hook.conf:"));
	strv_free(&errors);
}

/* What inih would cut short or end early, read as written (issue 14). */
static void test_section_names_as_written(void **state)
{
	struct strv errors = { 0 };
	struct config *cfg;
	char name[CONFIG_DOMAIN_NAME_MAX + 1], *text;

	(void)state;
	memset(name, 'n', CONFIG_DOMAIN_NAME_MAX);
	name[CONFIG_DOMAIN_NAME_MAX] = '\0';
	text = tu_fmt("[defaults] ; comment\n[domain vm[1]]\ntype = a\n[domain a;b]\ntype = b\n"
		      "[domain #1] # comment\ntype = c\n[domain %s]\ntype = d\n", name);
	if (load(text, &cfg, &errors) != 0)
		fail_msg("%s", errors.n ? errors.v[0] : "");
	assert_int_equal(cfg->n_domains, 4);
	assert_non_null(config_domain(cfg, "vm[1]"));
	assert_null(config_domain(cfg, "vm[1"));
	assert_string_equal(config_domain(cfg, "a;b")->types.v[0], "b");
	assert_string_equal(config_domain(cfg, "#1")->types.v[0], "c");
	assert_string_equal(config_domain(cfg, name)->types.v[0], "d");
	config_free(cfg);
	free(text);

	/* 256 bytes: no libvirt domain has such a name. */
	text = tu_fmt("[domain %sx]\ntype = a\n", name);
	assert_int_equal(load(text, &cfg, &errors), -EINVAL);
	assert_non_null(strstr(errors.v[0], ":1: [domain nnnn"));
	assert_non_null(strstr(errors.v[0], "...]: a domain name that is longer than 255 bytes "
			       "cannot be a section"));
	strv_free(&errors);
	free(text);
}

/* config_domain_name_ok() says exactly what the loader does: a [domain NAME] section for
 * each name loads, and configures that name, if and only if the function says so. */
static const struct {
	const char *name;
	bool ok;
} names[] = {
	{ "vm", true }, { "vm[1]", true }, { "a]b", true }, { "a] b", true },
	{ "a;b", true }, { "#1", true }, { "--help", true }, { "win 10", true },
	{ "x]]", true }, { "\xc3\xa9t\xc3\xa9", true }, { "a\tb", true },
	{ " vm", false }, { "vm ", false }, { "\tvm", false }, { "vm\r", false },
	{ "a] ;b", false }, { "a]#b", false }, { "a]\t; b", false }, { "", false },
};

static void test_domain_name_ok_matches_loader(void **state)
{
	__typeof__(names[0]) *c = *state;
	struct strv errors = { 0 };
	struct config *cfg = NULL;
	char *text = tu_fmt("[domain %s]\ntype = a\n", c->name);
	int r = load(text, &cfg, &errors);
	bool loaded = r == 0 && config_domain(cfg, c->name);

	if (config_domain_name_ok(c->name) != c->ok || loaded != c->ok)
		fail_msg("'%s': config_domain_name_ok %d, loaded %d (%s), want %d", c->name,
			 config_domain_name_ok(c->name), loaded, errors.n ? errors.v[0] : "",
			 c->ok);
	config_free(cfg);
	strv_free(&errors);
	free(text);
}

/* A newline ends a section header: no name holds one. */
static void test_domain_name_newline(void **state)
{
	(void)state;
	assert_false(config_domain_name_ok("a\nb"));
}

static void test_every_error_reported(void **state)
{
	struct strv errors = { 0 };
	struct config *cfg;

	(void)state;
	assert_int_equal(load("[defaults]\nparent = ..\ntype = a/b\ncolour = x\n", &cfg, &errors),
			 -EINVAL);
	assert_int_equal(errors.n, 3);
	assert_non_null(strstr(errors.v[2], ":4: unknown key"));
	strv_free(&errors);
}

static void test_long_line_and_nul(void **state)
{
	struct strv errors = { 0 };
	struct config *cfg;
	char *big = malloc(1 << 20);
	char *path = tu_fmt("%s/vgpu-hook.conf", tmp);
	static const char nul[] = "[defaults]\ntype = a\0b\n";
	FILE *f;

	(void)state;
	memset(big, 'x', (1 << 20) - 1);
	memcpy(big, "[defaults]\ntype = ", 18);
	big[(1 << 20) - 1] = '\0';
	assert_int_equal(load(big, &cfg, &errors), -EINVAL);
	assert_non_null(strstr(errors.v[0], ":2: line longer than"));
	strv_free(&errors);
	free(big);

	f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(nul, 1, sizeof(nul) - 1, f), sizeof(nul) - 1);
	fclose(f);
	assert_int_equal(config_load(path, geteuid(), &cfg, &errors), -EINVAL);
	assert_non_null(strstr(errors.v[0], ":2: NUL byte"));
	strv_free(&errors);
	free(path);
}

/*
 * Out of memory at any allocation of the parse: the file is refused with -ENOMEM, or read
 * whole; never accepted without a section or a type (issue 12: section_for() returned NULL
 * and the [domain NAME] section was dropped).
 */
static void test_out_of_memory_fails_closed(void **state)
{
	static const char text[] =
		"[defaults]\nstate_dir = /tmp/state\ntype = i915-GVTg_V5_4 i915-GVTg_V5_8\n"
		"[domain a]\nparent = 0000:00:02.0\ntype = i915-GVTg_V5_2\n"
		"[domain b]\ntype = i915-GVTg_V5_1 i915-GVTg_V5_2\nremove_retries = 3\n"
		"[domain c]\nremove_retries = 1\n";
	const struct config_section *d;
	long n, failed = 0;

	(void)state;
	for (n = 0;; n++) {
		struct strv errors = { 0 };
		struct config *cfg = NULL;
		FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");
		bool hit;
		int r;

		assert_non_null(f);
		fail_in = n;
		r = config_parse(f, "mem.conf", &cfg, &errors);
		hit = fail_in < 0;
		fail_in = -1;
		fclose(f);
		if (r < 0) {
			if (r != -ENOMEM || !hit)
				fail_msg("allocation %ld failing gave %d (%s), not -ENOMEM", n, r,
					 errors.n ? errors.v[0] : "no error");
			assert_null(cfg);
			failed++;
			strv_free(&errors);
			continue;
		}
		assert_int_equal(errors.n, 0);
		assert_string_equal(cfg->state_dir, "/tmp/state");
		assert_int_equal(cfg->defaults.types.n, 2);
		assert_int_equal(cfg->n_domains, 3);
		d = config_domain(cfg, "a");
		assert_true(d && strcmp(d->parent, "0000:00:02.0") == 0 && d->types.n == 1);
		d = config_domain(cfg, "b");
		assert_true(d && d->types.n == 2 && d->remove_retries == 3);
		d = config_domain(cfg, "c");
		assert_true(d && d->remove_retries == 1);
		config_free(cfg);
		if (!hit)
			break;   /* allocation n was not reached: every one has failed once */
	}
	assert_true(failed >= 8);   /* the parse allocates; the wrappers saw it */
}

static void test_owner_and_mode(void **state)
{
	struct strv errors = { 0 };
	struct config *cfg;
	char *path = tu_fmt("%s/vgpu-hook.conf", tmp);

	(void)state;
	tu_write_file_mode(path, "[defaults]\n", 0664);
	assert_int_equal(config_load(path, geteuid(), &cfg, &errors), -EPERM);
	assert_non_null(strstr(errors.v[0], "writable by group or other"));
	strv_free(&errors);
	tu_write_file_mode(path, "[defaults]\n", 0602);
	assert_int_equal(config_load(path, geteuid(), &cfg, &errors), -EPERM);
	strv_free(&errors);
	tu_write_file_mode(path, "[defaults]\n", 0644);
	assert_int_equal(config_load(path, geteuid() + 1, &cfg, &errors), -EPERM);
	assert_non_null(strstr(errors.v[0], "owned by another user"));
	strv_free(&errors);
	assert_int_equal(config_load(tmp, geteuid(), &cfg, &errors), -EINVAL);
	assert_non_null(strstr(errors.v[0], "not a regular file"));
	strv_free(&errors);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_means_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_section_names_as_written, setup, teardown),
		cmocka_unit_test(test_domain_name_newline),
		cmocka_unit_test_setup_teardown(test_every_error_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line_and_nul, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_memory_fails_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_and_mode, setup, teardown),
	};

	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	/* setup leaves *state alone: each test finds its row there. */
	failed += TU_RUN_ROWS_FX("error", test_error, setup, teardown, bad, text);
	failed += TU_RUN_ROWS_FX("domain name", test_domain_name_ok_matches_loader, setup,
				 teardown, names, name);
	return failed;
}
