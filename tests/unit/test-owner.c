/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "owner.h"
#include "testutil.h"

#define U1 "11111111-2222-4333-8444-000000000001"
#define U2 "11111111-2222-4333-8444-000000000002"
#define D1 "aaaaaaaa-0000-4000-8000-000000000001"

static char *tmp, *dir;

static int setup(void **state)
{
	(void)state;
	tmp = tu_tmpdir();
	dir = tu_fmt("%s/state", tmp);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(tmp);
	free(tmp);
	free(dir);
	return 0;
}

static struct owner_record rec(const char *mdev, const char *domain)
{
	struct owner_record r = { 0 };

	strcpy(r.mdev, mdev);
	strcpy(r.domain_uuid, D1);
	strcpy(r.domain, domain);
	strcpy(r.parent, "0000:00:02.0");
	strcpy(r.type, "i915-GVTg_V5_4");
	return r;
}

static void test_roundtrip(void **state)
{
	struct owner_store st;
	struct owner_record a = rec(U2, "win\n10"), b = rec(U1, "linux"), got, *all;
	struct stat sb;
	size_t n;

	(void)state;
	assert_int_equal(owner_open(dir, false, &st), -ENOENT);
	assert_int_equal(owner_open(dir, true, &st), 0);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_int_equal(owner_lock(&st, 0), 0);
	assert_int_equal(owner_get(&st, U1, &got), -ENOENT);
	assert_int_equal(owner_put(&st, &a), 0);
	assert_int_equal(owner_put(&st, &b), 0);
	assert_int_equal(owner_get(&st, U2, &got), 0);
	assert_string_equal(got.domain, "win?10");   /* control characters cannot split it */
	assert_string_equal(got.domain_uuid, D1);
	assert_int_equal(owner_list(&st, &all, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(all[0].mdev, U1);         /* sorted */
	free(all);
	assert_int_equal(owner_del(&st, U1), 0);
	assert_int_equal(owner_del(&st, U1), 0);
	assert_int_equal(owner_get(&st, U1, &got), -ENOENT);
	assert_int_equal(owner_get(&st, "../../etc/passwd", &got), -EINVAL);
	owner_close(&st);
}

/*
 * With the lock held the store answers from the names it listed when the lock was taken
 * (owner_store.names): a record that appears behind its back (something that does not take
 * the lock, as no writer may) stays unseen until the next lock; its own writes are seen at
 * once, and owner_list() gives what the directory holds.
 */
static void test_names_while_locked(void **state)
{
	struct owner_store st;
	struct owner_record a = rec(U1, "one"), got, *all;
	char *path = tu_fmt("%s/" U2, dir);
	size_t n;

	(void)state;
	assert_int_equal(owner_open(dir, true, &st), 0);
	assert_int_equal(owner_put(&st, &a), 0);      /* unlocked: no set to keep */
	assert_int_equal(owner_lock(&st, 0), 0);
	assert_true(st.listed);
	assert_int_equal(st.n_names, 1);
	assert_int_equal(owner_get(&st, U1, &got), 0);

	/* Planted behind the lock's back: the locked store does not open it. */
	a = rec(U2, "two");
	tu_write_file_mode(path, "mdev=" U2 "\ndomain_uuid=" D1 "\ndomain=two\nparent=0000:00:02.0"
			   "\ntype=i915-GVTg_V5_4\nino=0\npending=0\n", 0600);
	assert_int_equal(owner_get(&st, U2, &got), -ENOENT);
	assert_int_equal(owner_list(&st, &all, &n), 0);
	assert_int_equal(n, 1);
	free(all);
	/* Once unlocked, the directory is asked again: it is there. */
	owner_unlock(&st);
	assert_false(st.listed);
	assert_null(st.names);
	assert_int_equal(owner_get(&st, U2, &got), 0);
	assert_string_equal(got.domain, "two");

	/* Its own writes and deletes, seen at once under the lock. */
	assert_int_equal(owner_lock(&st, 0), 0);
	assert_int_equal(st.n_names, 2);
	assert_int_equal(owner_del(&st, U2), 0);
	assert_int_equal(st.n_names, 1);
	assert_int_equal(owner_get(&st, U2, &got), -ENOENT);
	assert_int_equal(owner_put(&st, &a), 0);
	assert_int_equal(owner_get(&st, U2, &got), 0);
	assert_int_equal(owner_list(&st, &all, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(all[0].mdev, U1);
	assert_string_equal(all[1].mdev, U2);
	free(all);
	/* A record deleted behind its back is skipped, not an error. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(owner_get(&st, U2, &got), -ENOENT);
	assert_int_equal(owner_list(&st, &all, &n), 0);
	assert_int_equal(n, 1);
	free(all);
	free(path);
	owner_close(&st);
	assert_null(st.names);
}

static void test_refuses_bad_records(void **state)
{
	struct owner_store st;
	struct owner_record bad = rec(U1, "x"), got, *all;
	char *path;
	size_t n;

	(void)state;
	assert_int_equal(owner_open(dir, true, &st), 0);
	strcpy(bad.parent, "../x");
	assert_int_equal(owner_put(&st, &bad), -EINVAL);
	bad = rec(U1, "");
	assert_int_equal(owner_put(&st, &bad), -EINVAL);

	path = tu_fmt("%s/" U1, dir);
	tu_write_file_mode(path, "mdev=" U1 "\ndomain_uuid=" D1 "\n", 0600);
	assert_int_equal(owner_get(&st, U1, &got), -EINVAL);
	assert_int_equal(owner_list(&st, &all, &n), 0);   /* skipped, not fatal */
	assert_int_equal(n, 0);
	free(all);
	assert_int_equal(unlink(path), 0);
	/* A planted symlink is never followed. */
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(owner_get(&st, U1, &got), -ELOOP);
	free(path);
	owner_close(&st);
}

static void test_state_dir_checks(void **state)
{
	struct owner_store st;
	char *link = tu_fmt("%s/link", tmp), *lock;

	(void)state;
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(symlink(dir, link), 0);
	assert_int_equal(owner_open(link, true, &st), -ELOOP);
	assert_int_equal(chmod(dir, 0770), 0);
	assert_int_equal(owner_open(dir, true, &st), -EPERM);
	assert_int_equal(chmod(dir, 0700), 0);

	/* The lock file as a symlink: refused, nothing created at its target. */
	lock = tu_fmt("%s/lock", dir);
	free(link);
	link = tu_fmt("%s/target", tmp);
	assert_int_equal(symlink(link, lock), 0);
	assert_int_equal(owner_open(dir, true, &st), 0);
	assert_int_equal(owner_lock(&st, 0), -ELOOP);
	assert_false(tu_exists(link));
	owner_close(&st);
	free(lock);
	free(link);
}

static void test_lock_is_exclusive_and_bounded(void **state)
{
	struct owner_store st, other;
	pid_t pid;
	int status;

	(void)state;
	assert_int_equal(owner_open(dir, true, &st), 0);
	assert_int_equal(owner_lock(&st, 0), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Another hook process: must time out, not block, while the lock is held. */
		if (owner_open(dir, true, &other) < 0)
			_exit(2);
		_exit(owner_lock(&other, 100) == -ETIMEDOUT ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	owner_unlock(&st);
	pid = fork();
	if (pid == 0) {
		if (owner_open(dir, true, &other) < 0)
			_exit(2);
		_exit(owner_lock(&other, 100) == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	owner_close(&st);
}

/* The proof and the pending mark round-trip; a record of the earlier format still parses. */
static void test_proof_and_pending(void **state)
{
	struct owner_store st;
	struct owner_record a = rec(U1, "one"), got;
	char *path;

	(void)state;
	assert_int_equal(owner_open(dir, true, &st), 0);
	a.ino = 18446744073709551615ull;
	a.pending = true;
	assert_int_equal(owner_put(&st, &a), 0);
	assert_int_equal(owner_get(&st, U1, &got), 0);
	assert_true(got.ino == 18446744073709551615ull);
	assert_true(got.pending);
	path = tu_fmt("%s/" U1, dir);
	tu_write_file_mode(path, "mdev=" U1 "\ndomain_uuid=" D1 "\ndomain=one\nparent=0000:00:02.0"
			   "\ntype=i915-GVTg_V5_4\n", 0600);
	assert_int_equal(owner_get(&st, U1, &got), 0);
	assert_true(got.ino == 0);
	assert_false(got.pending);
	tu_write_file_mode(path, "mdev=" U1 "\ndomain_uuid=" D1 "\ndomain=one\nparent=0000:00:02.0"
			   "\ntype=i915-GVTg_V5_4\npending=2\n", 0600);
	assert_int_equal(owner_get(&st, U1, &got), -EINVAL);
	tu_write_file_mode(path, "mdev=" U1 "\ndomain_uuid=" D1 "\ndomain=one\nparent=0000:00:02.0"
			   "\ntype=i915-GVTg_V5_4\nino=-1\n", 0600);
	assert_int_equal(owner_get(&st, U1, &got), -EINVAL);
	free(path);
	owner_close(&st);
}

/* The background remover's marker counts only while its descriptor lives. */
static void test_remover_marker(void **state)
{
	struct owner_store st;
	struct owner_record a = rec(U1, "one");
	char *path = tu_fmt("%s/." U1 ".remove", dir);
	int fd;

	(void)state;
	assert_int_equal(owner_open(dir, true, &st), 0);
	assert_false(owner_remover_active(&st, U1));
	fd = owner_remover_begin(&st, U1);
	assert_true(fd >= 0);
	assert_true(owner_remover_active(&st, U1));
	assert_int_equal(owner_remover_begin(&st, U1), -EBUSY);
	assert_int_equal(owner_put(&st, &a), 0);
	assert_int_equal(owner_del(&st, U1), 0);      /* a live remover's marker stays */
	assert_true(tu_exists(path));
	close(fd);                                     /* the remover died */
	assert_false(owner_remover_active(&st, U1));
	assert_int_equal(owner_del(&st, U1), 0);      /* and a dead one's goes */
	assert_false(tu_exists(path));
	fd = owner_remover_begin(&st, U1);
	owner_remover_end(&st, U1, fd);
	assert_false(tu_exists(path));
	assert_false(owner_remover_active(&st, U1));
	free(path);
	owner_close(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_while_locked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_bad_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_dir_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_is_exclusive_and_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proof_and_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remover_marker, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
