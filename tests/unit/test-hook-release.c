/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hook_run() at release end (research/hook-anchors.md 1.1), the end of a guest, and the host
 * tool's --cleanup and --reclaim: what is removed, retried, left to its holder or dropped as
 * stale, and how long a release may take. tu_kernel stands in for the kernel (hookfx.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hookfx.h"

static void test_remove_retries(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 0);
	fx->kernel.fail_remove[0] = EBUSY;
	fx->kernel.fail_remove[1] = EAGAIN;
	assert_int_equal(call(fx, "one", "release", "end", "-", "one.xml"), 0);
	assert_int_equal(tu_kernel_writes(&fx->kernel, "/remove"), 3);
	assert_false(device(fx, U1));
	assert_false(record(fx, U1));
}

static void test_remove_gives_up_bounded(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 0);
	fx->kernel.fail_remove_always = EBUSY;
	assert_int_equal(call(fx, "one", "release", "end", "-", "one.xml"), 0);
	assert_int_equal(tu_kernel_writes(&fx->kernel, "/remove"), 4);   /* 1 + 3 retries */
	assert_true(device(fx, U1));
	assert_true(record(fx, U1));   /* kept, so that the next release retries */
	assert_true(tu_log_has("cannot remove vGPU " U1));
	fx->kernel.fail_remove_always = 0;
	assert_int_equal(call(fx, "one", "release", "end", "-", "one.xml"), 0);
	assert_false(device(fx, U1));
	assert_false(record(fx, U1));
}

static void test_release_of_others_needs_no_lock(void **state)
{
	struct fx *fx = *state;
	struct owner_store held;

	/* two holds vGPUs; another hook holds the lock (a slow prepare elsewhere). */
	assert_int_equal(call(fx, "two", "prepare", "begin", "-", "two.xml"), 0);
	assert_int_equal(owner_open(fx->state, false, &held), 0);
	assert_int_equal(owner_lock(&held, 0), 0);
	fx->env.lock_timeout_ms = 50;
	tu_log_capture();
	/* A domain with no record of its own neither waits for the lock nor fails on it. */
	assert_int_equal(call(fx, "one", "release", "end", "-", "one.xml"), 0);
	assert_false(tu_log_has("cannot lock"));
	assert_int_equal(tu_kernel_writes(&fx->kernel, "/remove"), 0);
	/* Its own records do need the lock: with it held, nothing is removed, and it says so. */
	assert_int_equal(call(fx, "two", "release", "end", "-", "two.xml"), 0);
	assert_true(tu_log_has("cannot lock"));
	assert_int_equal(tu_kernel_writes(&fx->kernel, "/remove"), 0);
	owner_close(&held);
	assert_int_equal(call(fx, "two", "release", "end", "-", "two.xml"), 0);
	assert_int_equal(tu_kernel_writes(&fx->kernel, "/remove"), 2);
}

static void test_hot_unplugged_is_not_leaked(void **state)
{
	struct fx *fx = *state;
	char *xml = fixture("two.xml"), *cut;

	assert_int_equal(call(fx, "two", "prepare", "begin", "-", "two.xml"), 0);
	assert_true(device(fx, U1) && device(fx, U2));
	/* The release XML no longer lists the second hostdev. */
	cut = strstr(xml, "    <hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci'>\n"
			  "      <source>\n        <address uuid='" U2);
	assert_non_null(cut);
	memmove(cut, strstr(cut, "</hostdev>\n") + 11, strlen(strstr(cut, "</hostdev>\n") + 11) + 1);
	assert_null(strstr(xml, "address uuid='" U2));
	assert_int_equal(call_xml(fx, "two", "release", "end", "-", xml), 0);
	assert_false(device(fx, U1));
	assert_false(device(fx, U2));
	free(xml);
}

static void test_killed_mid_create_is_repaired(void **state)
{
	struct fx *fx = *state;
	struct owner_store st;
	struct owner_record rec = { .mdev = U1, .domain_uuid = ONE_UUID, .domain = "one",
				    .parent = GVT, .type = "i915-GVTg_V5_4" };

	/* Killed after the record, before create: the next release drops the record. */
	assert_int_equal(owner_open(fx->state, true, &st), 0);
	assert_int_equal(owner_put(&st, &rec), 0);
	assert_int_equal(call(fx, "one", "release", "end", "-", "one.xml"), 0);
	assert_false(record(fx, U1));

	/* Killed after create: the device is ours; prepare keeps it, release removes it. */
	assert_int_equal(owner_put(&st, &rec), 0);
	tu_make_device(fx->root, GVT, "i915-GVTg_V5_4", U1);
	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 0);
	assert_true(tu_log_has("was created by vgpu-hook for this domain: kept"));
	assert_int_equal(call(fx, "one", "release", "end", "-", "one.xml"), 0);
	assert_false(device(fx, U1));
	assert_false(record(fx, U1));
	owner_close(&st);
}

static void conf_add(struct fx *fx, const char *line)
{
	char *old = tu_read_file(fx->conf), *text = tu_fmt("%s%s\n", old, line);

	tu_write_file(fx->conf, text);
	free(old);
	free(text);
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The device @uuid removed by hand and created again by someone else: the old directory is
 * kept under another name (so its inode number cannot be given to the new one, as ext4
 * would), the new one made as mdevctl would. Returns the kept directory (caller frees).
 */
static char *recreate_by_hand(struct fx *fx, const char *uuid)
{
	char *bus = tu_fmt("%s/bus/mdev/devices/%s", fx->root, uuid);
	char *dir = tu_fmt("%s/devices/pci0000:00/" GVT "/%s", fx->root, uuid);
	char *kept = tu_fmt("%s/kept-%s", fx->tmp, uuid);
	struct stat a, b;

	assert_int_equal(stat(bus, &a), 0);
	assert_int_equal(rename(dir, kept), 0);
	assert_int_equal(unlink(bus), 0);
	tu_make_device(fx->root, GVT, "i915-GVTg_V5_4", uuid);
	assert_int_equal(stat(bus, &b), 0);
	assert_true(a.st_ino != b.st_ino);
	free(bus);
	free(dir);
	return kept;
}

/* A process holding the vGPU: its release leaves it, recorded; once let go, the next
 * release (of any domain) removes it. */
static void test_release_leaves_held_vgpu(void **state)
{
	struct fx *fx = *state;
	char *pdir;

	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 0);
	tu_fake_holder(fx->proc, fx->dev, 4242, tu_device_group(fx->root, U1),
		       "qemu-system-x86", "one", ONE_UUID);
	assert_int_equal(call(fx, "one", "release", "end", "-", "one.xml"), 0);
	assert_int_equal(tu_kernel_writes(&fx->kernel, "/remove"), 0);
	assert_true(device(fx, U1));
	assert_true(get_record(fx, U1).pending);
	assert_true(tu_log_has("one: vGPU " U1 " (i915-GVTg_V5_4 on " GVT ") is held by pid "
			       "4242 (qemu-system-x86), domain one: left in place and recorded"));
	/* A restart while it is held is refused, naming the holder. */
	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 1);
	assert_non_null(strstr(fx->err, "one: vGPU " U1 " is held by pid 4242 (qemu-system-x86), "
				"domain one"));
	/* Let go: another domain's release finishes the job. */
	pdir = tu_fmt("%s/4242", fx->proc);
	tu_rmtree(pdir);
	free(pdir);
	assert_int_equal(call(fx, "plain", "release", "end", "-", "none.xml"), 0);
	assert_int_equal(tu_kernel_writes(&fx->kernel, "/remove"), 1);
	assert_false(device(fx, U1));
	assert_false(record(fx, U1));
}

/* A remove that blocks: the release returns within release_timeout, the remove finishes
 * in the background and clears the record. */
static void test_release_is_bounded(void **state)
{
	struct fx *fx = *state;
	long long t0, took;

	conf_add(fx, "release_timeout = 1");
	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 0);
	fx->kernel.remove_delay_ms = 2500;
	t0 = mono_ms();
	assert_int_equal(call(fx, "one", "release", "end", "-", "one.xml"), 0);
	took = mono_ms() - t0;
	if (took < 900 || took > 1800)
		fail_msg("release took %lld ms, release_timeout is 1 s", took);
	assert_true(tu_log_has("one: vGPU " U1 ": the remove did not finish within "
			       "release_timeout (1 s): it goes on in the background"));
	assert_true(device(fx, U1));
	assert_true(get_record(fx, U1).pending);
	/* A quick restart meanwhile is refused: the device is about to go. */
	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 1);
	assert_non_null(strstr(fx->err, "one: vGPU " U1 " is still being removed"));
	for (int i = 0; i < 100 && (record(fx, U1) || device(fx, U1)); i++)
		sleep_ms(50);
	assert_false(device(fx, U1));
	assert_false(record(fx, U1));
	assert_int_equal(waitpid(-1, NULL, 0) > 0, 1);   /* the remover, done */
	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 0);
	assert_true(device(fx, U1));
}

/* detach-device from one guest, attach-device to another: no hook runs. The first
 * guest's release leaves the vGPU to the guest that holds it, whose release removes it. */
static void test_moved_vgpu_belongs_to_its_holder(void **state)
{
	struct fx *fx = *state;
	struct owner_record rec;
	char *pdir;

	assert_int_equal(call(fx, "two", "prepare", "begin", "-", "two.xml"), 0);
	tu_fake_holder(fx->proc, fx->dev, 777, tu_device_group(fx->root, U2),
		       "qemu-system-x86", "b,c", OTHER_UUID);
	assert_int_equal(call(fx, "two", "release", "end", "-", "two.xml"), 0);
	assert_false(device(fx, U1));
	assert_true(device(fx, U2));
	rec = get_record(fx, U2);
	assert_string_equal(rec.domain_uuid, OTHER_UUID);
	assert_string_equal(rec.domain, "b,c");
	assert_false(rec.pending);
	assert_true(tu_log_has("two: vGPU " U2 ", created for domain two, is in use by pid 777 "
			       "(qemu-system-x86), domain b,c: left in place; it belongs to "
			       "that domain now"));
	pdir = tu_fmt("%s/777", fx->proc);
	tu_rmtree(pdir);
	free(pdir);
	{
		char *xml = plain_xml("b,c", OTHER_UUID, U2);

		assert_int_equal(call_xml(fx, "b,c", "release", "end", "-", xml), 0);
		free(xml);
	}
	assert_false(device(fx, U2));
	assert_false(record(fx, U2));
}

/* Remove by hand (no release ran), then someone else creates the UUID: the record does not
 * describe that device, so nobody is refused for it and nobody removes it. */
static void test_record_of_recreated_device_is_stale(void **state)
{
	struct fx *fx = *state;
	char *kept;

	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 0);
	assert_true(get_record(fx, U1).ino != 0);
	kept = recreate_by_hand(fx, U1);
	/* Another domain is not refused "in use by domain one": it uses the device. */
	assert_int_equal(call(fx, "other", "prepare", "begin", "-", "other.xml"), 0);
	assert_true(tu_log_has("the record for domain one is stale"));
	assert_true(tu_log_has("was not created by vgpu-hook: using it"));
	assert_false(record(fx, U1));
	/* one's next start takes it as foreign, and its stop leaves it. */
	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 0);
	assert_int_equal(call(fx, "one", "release", "end", "-", "one.xml"), 0);
	assert_int_equal(call(fx, "other", "release", "end", "-", "other.xml"), 0);
	assert_true(device(fx, U1));
	assert_int_equal(tu_kernel_writes(&fx->kernel, "/remove"), 0);
	tu_rmtree(kept);
	free(kept);
}

/* Also at release: a record whose device was made again by someone else is dropped, and
 * that device is left alone. */
static void test_release_leaves_recreated_device(void **state)
{
	struct fx *fx = *state;
	char *kept;

	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 0);
	kept = recreate_by_hand(fx, U1);
	assert_int_equal(call(fx, "one", "release", "end", "-", "one.xml"), 0);
	assert_true(device(fx, U1));
	assert_false(record(fx, U1));
	assert_int_equal(tu_kernel_writes(&fx->kernel, "/remove"), 0);
	assert_true(tu_log_has("is not the device vgpu-hook created for domain one"));
	tu_rmtree(kept);
	free(kept);
}

/* The host tool: --cleanup finishes what releases left once let go, and drops stale
 * records; a running guest's record stays. */
/* Age the record of @uuid by @s seconds, as if no prepare or release had written it since. */
static void age_record(struct fx *fx, const char *uuid, time_t s)
{
	char *path = tu_fmt("%s/%s", fx->state, uuid);
	struct timespec t[2] = { { .tv_sec = time(NULL) - s }, { .tv_sec = time(NULL) - s } };

	assert_int_equal(utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW), 0);
	free(path);
}

static int cleanup_with(struct fx *fx, unsigned reclaim_idle_s, char **text)
{
	char *out = tu_fmt("%s/cleanup", fx->tmp);
	FILE *f = fopen(out, "w+e");
	int status;

	fx->env.reclaim_idle_s = reclaim_idle_s;
	status = hook_cleanup(&fx->env, f, fx->err, sizeof(fx->err));
	fx->env.reclaim_idle_s = 0;
	fclose(f);
	tu_kernel_sync(&fx->kernel);
	*text = tu_read_file(out);
	free(out);
	return status;
}

static void test_cleanup(void **state)
{
	struct fx *fx = *state;
	char *text, *pdir;

	assert_int_equal(call(fx, "two", "prepare", "begin", "-", "two.xml"), 0);
	assert_int_equal(call(fx, "other", "prepare", "begin", "-", "none.xml"), 0);
	tu_fake_holder(fx->proc, fx->dev, 4242, tu_device_group(fx->root, U1),
		       "qemu-system-x86", "two", "aaaaaaaa-0000-4000-8000-000000000002");
	tu_fake_holder(fx->proc, fx->dev, 4243, tu_device_group(fx->root, U2),
		       "qemu-system-x86", "two", "aaaaaaaa-0000-4000-8000-000000000002");
	assert_int_equal(call(fx, "two", "release", "end", "-", "two.xml"), 0);
	assert_true(get_record(fx, U1).pending && get_record(fx, U2).pending);
	pdir = tu_fmt("%s/4242", fx->proc);
	tu_rmtree(pdir);
	free(pdir);
	assert_int_equal(cleanup_with(fx, 0, &text), 0);
	assert_non_null(strstr(text, "removed vGPU " U1));
	assert_non_null(strstr(text, "vGPU " U2 " (i915-GVTg_V5_8 on " GVT ") is held by pid 4243"));
	assert_false(device(fx, U1));
	assert_true(device(fx, U2));
	assert_true(record(fx, U2));
	free(text);
}

/*
 * libvirtd and QEMU killed with the guest running: no release ever runs. --reclaim removes
 * the vGPUs nobody holds once their records are old; a fresh record (a guest starting) and
 * a held vGPU (a guest running) are kept, and --cleanup alone reclaims nothing.
 */
static void test_reclaim_leaked(void **state)
{
	struct fx *fx = *state;
	char *text;

	assert_int_equal(call(fx, "two", "prepare", "begin", "-", "two.xml"), 0);
	assert_int_equal(cleanup_with(fx, HOOK_RECLAIM_IDLE_S, &text), 0);
	assert_non_null(strstr(text, "vGPU " U1 " (i915-GVTg_V5_4 on " GVT "): kept"));
	assert_true(device(fx, U1) && device(fx, U2));
	free(text);

	age_record(fx, U1, HOOK_RECLAIM_IDLE_S + 60);
	age_record(fx, U2, HOOK_RECLAIM_IDLE_S + 60);
	assert_int_equal(cleanup_with(fx, 0, &text), 0);
	assert_true(device(fx, U1) && device(fx, U2));
	free(text);

	tu_fake_holder(fx->proc, fx->dev, 4243, tu_device_group(fx->root, U2),
		       "qemu-system-x86", "two", "aaaaaaaa-0000-4000-8000-000000000002");
	assert_int_equal(cleanup_with(fx, HOOK_RECLAIM_IDLE_S, &text), 0);
	assert_non_null(strstr(text, "its record is "));
	assert_non_null(strstr(text, "removed vGPU " U1));
	assert_false(device(fx, U1));
	assert_false(record(fx, U1));
	assert_non_null(strstr(text, "vGPU " U2 " (i915-GVTg_V5_8 on " GVT ") is held by pid 4243"));
	assert_true(device(fx, U2));
	assert_true(get_record(fx, U2).pending);
	free(text);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_remove_retries),
		T(test_remove_gives_up_bounded),
		T(test_release_of_others_needs_no_lock),
		T(test_hot_unplugged_is_not_leaked),
		T(test_killed_mid_create_is_repaired),
		T(test_release_leaves_held_vgpu),
		T(test_release_is_bounded),
		T(test_moved_vgpu_belongs_to_its_holder),
		T(test_record_of_recreated_device_is_stale),
		T(test_release_leaves_recreated_device),
		T(test_cleanup),
		T(test_reclaim_leaked),
	};

	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	return failed;
}
