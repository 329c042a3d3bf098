/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* file_replace (util.h): the atomic replace of a file that owner_put and vgpu-xml -i share. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "util.h"

static char *tmp;
static int dfd = -1;

static int setup(void **state)
{
	(void)state;
	tmp = tu_tmpdir();
	dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	close(dfd);
	tu_rmtree(tmp);
	free(tmp);
	return 0;
}

/* How many entries the test directory holds. */
static int entries(void)
{
	DIR *d = opendir(tmp);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void check_file(const char *name, const char *content, unsigned mode)
{
	char *path = tu_fmt("%s/%s", tmp, name), *got = tu_read_file(path);
	struct stat st;

	assert_non_null(got);
	assert_string_equal(got, content);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, mode);
	free(got);
	free(path);
}

/* Whether the stream @d (closed here) lists @name. */
static bool lists(DIR *d, const char *name)
{
	struct dirent *e;
	bool found = false;

	assert_non_null(d);
	while ((e = readdir(d)))
		found = found || strcmp(e->d_name, name) == 0;
	closedir(d);
	return found;
}

/* opendir_at: a stream of its own over a directory relative to @dirfd, errors as errno. */
static void test_opendir_at(void **state)
{
	char *sub = tu_fmt("%s/sub", tmp), *file = tu_fmt("%s/sub/f", tmp);
	int lowest;

	(void)state;
	assert_int_equal(mkdir(sub, 0755), 0);
	tu_write_file_mode(file, "", 0600);
	lowest = dup(0);
	close(lowest);
	assert_true(lists(opendir_at(dfd, "sub"), "f"));
	/* "." is @dirfd's own directory. */
	assert_true(lists(opendir_at(dfd, "."), "sub"));
	errno = 0;
	assert_null(opendir_at(dfd, "missing"));
	assert_int_equal(errno, ENOENT);
	assert_null(opendir_at(dfd, "sub/f"));
	assert_int_equal(errno, ENOTDIR);
	assert_null(opendir_at(-1, "sub"));
	assert_int_equal(errno, EBADF);
	assert_int_equal(dup(0), lowest);   /* nothing left open */
	close(lowest);
	free(file);
	free(sub);
}

/* A template: the six X become a free name, the file is replaced, nothing else is left. */
static void test_template_replaces(void **state)
{
	char *path = tu_fmt("%s/domain.xml", tmp), name[] = ".domain.xml.XXXXXX";

	(void)state;
	tu_write_file_mode(path, "old\n", 0640);
	assert_int_equal(file_replace(dfd, "domain.xml", name, 0640, NULL, "new\n", 4), 0);
	assert_string_not_equal(name, ".domain.xml.XXXXXX");
	assert_int_equal(strncmp(name, ".domain.xml.", 12), 0);
	assert_int_equal(strlen(name), strlen(".domain.xml.XXXXXX"));
	check_file("domain.xml", "new\n", 0640);
	assert_int_equal(entries(), 1);
	free(path);
}

/* A fixed name: a leftover of a killed writer is replaced, and the mode is @mode whatever
 * the umask says. */
static void test_fixed_name_replaces_leftover(void **state)
{
	char *left = tu_fmt("%s/.rec.tmp", tmp), name[] = ".rec.tmp";
	mode_t old = umask(0277);

	(void)state;
	tu_write_file(left, "half a rec");
	assert_int_equal(file_replace(dfd, "rec", name, 0600, NULL, "mdev=x\n", 7), 0);
	umask(old);
	assert_string_equal(name, ".rec.tmp");
	check_file("rec", "mdev=x\n", 0600);
	assert_false(tu_exists(left));
	assert_int_equal(entries(), 1);
	free(left);
}

/* A failed rename (the name is a directory) leaves the name as it was and no temporary file. */
static void test_failure_leaves_nothing(void **state)
{
	char *sub = tu_fmt("%s/busy", tmp), name[] = ".busy.XXXXXX";
	struct stat st;

	(void)state;
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(file_replace(dfd, "busy", name, 0644, NULL, "x", 1), -EISDIR);
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(entries(), 1);
	free(sub);
}

/* A symlink is replaced itself, not its target (vgpu-xml resolves it first). */
static void test_symlink_is_replaced(void **state)
{
	char *target = tu_fmt("%s/target", tmp), *link = tu_fmt("%s/link", tmp);
	char name[] = ".link.XXXXXX", *got;

	(void)state;
	tu_write_file(target, "target\n");
	assert_int_equal(symlink("target", link), 0);
	assert_int_equal(file_replace(dfd, "link", name, 0644, NULL, "new\n", 4), 0);
	check_file("link", "new\n", 0644);
	got = tu_read_file(target);
	assert_string_equal(got, "target\n");
	assert_int_equal(entries(), 2);
	free(got);
	free(target);
	free(link);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_template_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fixed_name_replaces_leftover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_is_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_opendir_at, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
