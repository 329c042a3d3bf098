/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hook_run() through the sequences libvirt makes (research/hook-anchors.md 1.1), with
 * tu_kernel standing in for the kernel behind the mdev write seam.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hook.h"
#include "owner.h"
#include "testutil.h"

#define GVT "0000:00:02.0"
#define U1 "11111111-2222-4333-8444-000000000001"
#define U2 "11111111-2222-4333-8444-000000000002"
#define ONE_UUID "aaaaaaaa-0000-4000-8000-000000000001"
#define OTHER_UUID "aaaaaaaa-0000-4000-8000-000000000004"
#define OLD_UUID "aaaaaaaa-0000-4000-8000-0000000000ff"

struct fx {
	char *tmp, *root, *state, *conf, *proc, *dev, *klog;
	struct tu_kernel kernel;
	struct hook_env env;
	char err[1024];
	const void *row;   /* the table row of a test run by TU_RUN_ROWS_FX, else NULL */
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char *text;

	fx->tmp = tu_tmpdir();
	fx->root = tu_copy_fixture("sysfs/host", fx->tmp);
	fx->state = tu_fmt("%s/state", fx->tmp);
	fx->conf = tu_fmt("%s/vgpu-hook.conf", fx->tmp);
	text = tu_fmt("[defaults]\nsysfs_root = %s\nstate_dir = %s\nparent = " GVT "\n"
		      "type = i915-GVTg_V5_4\nremove_retries = 3\n", fx->root, fx->state);
	tu_write_file(fx->conf, text);
	free(text);
	fx->proc = tu_fmt("%s/proc", fx->tmp);
	fx->dev = tu_fmt("%s/dev", fx->tmp);
	fx->klog = tu_fmt("%s/kernel.log", fx->tmp);
	assert_int_equal(mkdir(fx->proc, 0755), 0);
	assert_int_equal(mkdir(fx->dev, 0755), 0);
	fx->kernel.root = fx->root;
	fx->kernel.log_path = fx->klog;
	hook_env_init(&fx->env, fx->conf);
	fx->env.proc_root = fx->proc;
	fx->env.dev_root = fx->dev;
	fx->env.privileged = true;
	fx->env.config_owner = geteuid();
	fx->env.write = tu_kernel_write;
	fx->env.write_opaque = &fx->kernel;
	fx->env.retry_delay_ms = 0;
	fx->env.lock_timeout_ms = 1000;
	tu_log_capture();
	fx->row = *state;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	tu_rmtree(fx->tmp);
	strv_free(&fx->kernel.log);
	free(fx->tmp);
	free(fx->root);
	free(fx->state);
	free(fx->conf);
	free(fx->proc);
	free(fx->dev);
	free(fx->klog);
	free(fx);
	return 0;
}

/* Run one hook call with @xml (text) on stdin; check that stdout stays empty. */
static int call_xml(struct fx *fx, const char *name, const char *op, const char *subop,
		    const char *extra, const char *xml)
{
	char *in = tu_fmt("%s/stdin", fx->tmp), *out = tu_fmt("%s/stdout", fx->tmp);
	int fd, saved, status;
	struct stat st;

	tu_write_file(in, xml ? xml : "");
	fd = open(in, O_RDONLY);
	assert_true(fd >= 0);
	saved = dup(STDOUT_FILENO);
	tu_write_file(out, "");
	{
		int ofd = open(out, O_WRONLY);

		dup2(ofd, STDOUT_FILENO);
		close(ofd);
	}
	status = hook_run(&fx->env, name, op, subop, extra, fd, fx->err, sizeof(fx->err));
	tu_kernel_sync(&fx->kernel);   /* the remover child's writes too */
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_size, 0);   /* never a byte on stdout */
	assert_null(strchr(fx->err, '\n'));
	free(in);
	free(out);
	return status;
}

static char *fixture(const char *name)
{
	char *path = tu_fmt("%s/domains/%s", FIXTURES_DIR, name), *xml = tu_read_file(path);

	assert_non_null(xml);
	free(path);
	return xml;
}

static int call(struct fx *fx, const char *name, const char *op, const char *subop,
		const char *extra, const char *file)
{
	char *xml = fixture(file);
	int status = call_xml(fx, name, op, subop, extra, xml);

	free(xml);
	return status;
}

static char *avail(struct fx *fx, const char *parent, const char *type)
{
	char *path = tu_fmt("%s/bus/pci/devices/%s/mdev_supported_types/%s/available_instances",
			    fx->root, parent, type);
	char *v = tu_read_file(path);

	free(path);
	return v;
}

static bool device(struct fx *fx, const char *uuid)
{
	char *path = tu_fmt("%s/bus/mdev/devices/%s", fx->root, uuid);
	bool r = tu_exists(path);

	free(path);
	return r;
}

static bool record(struct fx *fx, const char *uuid)
{
	char *path = tu_fmt("%s/%s", fx->state, uuid);
	bool r = tu_exists(path);

	free(path);
	return r;
}

static void assert_avail(struct fx *fx, const char *type, const char *want)
{
	char *v = avail(fx, GVT, type);

	assert_string_equal(v, want);
	free(v);
}

static void lifecycle(struct fx *fx, const char *reason)
{
	static const char *const mid[][3] = {
		{ "start", "begin", "-" }, { "started", "begin", "-" }, { "stopped", "end", "-" },
	};
	struct owner_store st;
	struct owner_record rec;

	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 0);
	assert_int_equal(tu_kernel_writes(&fx->kernel, "/create"), 1);
	assert_string_equal(fx->kernel.log.v[0], "/class/mdev_bus/" GVT
			    "/mdev_supported_types/i915-GVTg_V5_4/create " U1);
	assert_true(device(fx, U1));
	assert_avail(fx, "i915-GVTg_V5_4", "2\n");
	assert_int_equal(owner_open(fx->state, false, &st), 0);
	assert_int_equal(owner_get(&st, U1, &rec), 0);
	assert_string_equal(rec.domain_uuid, ONE_UUID);
	assert_string_equal(rec.domain, "one");
	assert_string_equal(rec.type, "i915-GVTg_V5_4");
	owner_close(&st);

	for (size_t i = 0; i < ARRAY_SIZE(mid); i++)
		assert_int_equal(call(fx, "one", mid[i][0], mid[i][1], mid[i][2], "one.xml"), 0);
	assert_int_equal(fx->kernel.log.n, 1);   /* the other operations write nothing */

	assert_int_equal(call(fx, "one", "release", "end", reason, "one.xml"), 0);
	assert_int_equal(fx->kernel.log.n, 2);
	assert_string_equal(fx->kernel.log.v[1], "/bus/mdev/devices/" U1 "/remove 1");
	assert_false(device(fx, U1));
	assert_false(record(fx, U1));
	assert_avail(fx, "i915-GVTg_V5_4", "3\n");
	assert_true(tu_log_has("one: created vGPU " U1 ": i915-GVTg_V5_4 on " GVT));
	assert_true(tu_log_has("one: removed vGPU " U1));
}

static void test_lifecycle(void **state)
{
	lifecycle(*state, "-");
}

static void test_lifecycle_destroyed(void **state)
{
	lifecycle(*state, "destroyed");
}

static void test_lifecycle_from_snapshot(void **state)
{
	lifecycle(*state, "from snapshot");
}

static void test_other_ops_touch_nothing(void **state)
{
	static const char *const ops[][3] = {
		{ "reconnect", "begin", "-" }, { "migrate", "begin", "-" },
		{ "restore", "begin", "-" }, { "attach", "begin", "-" },
		{ "prepare", "end", "-" }, { "release", "begin", "-" }, { "bogus", "-", "-" },
	};
	struct fx *fx = *state;

	for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
		assert_int_equal(call(fx, "one", ops[i][0], ops[i][1], ops[i][2], "one.xml"), 0);
	/* Not even stdin: a broken XML changes nothing for them. */
	assert_int_equal(call_xml(fx, "one", "reconnect", "begin", "-", "<broken"), 0);
	assert_int_equal(fx->kernel.log.n, 0);
	assert_false(tu_exists(fx->state));
}

static void test_failed_start_removes_nothing(void **state)
{
	struct fx *fx = *state;

	fx->kernel.fail_create[0] = ENOSPC;
	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 1);
	assert_non_null(strstr(fx->err, "one: cannot create vGPU " U1 ": i915-GVTg_V5_4 on " GVT
				": no free instance: GVT-g aperture or fences exhausted, or all 7 "
				"vGPU slots used"));
	assert_non_null(strstr(fx->err, "(No space left on device)"));
	assert_non_null(strstr(fx->err, "vgpu-hook --types"));
	assert_false(record(fx, U1));
	assert_int_equal(call(fx, "one", "stopped", "end", "-", "one.xml"), 0);
	assert_int_equal(call(fx, "one", "release", "end", "failed", "one.xml"), 0);
	assert_int_equal(tu_kernel_writes(&fx->kernel, "/remove"), 0);
	assert_avail(fx, "i915-GVTg_V5_4", "3\n");
}

static void test_same_uuid_two_domains(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 0);
	/* "other" names one's vGPU: refused, and its failed start removes nothing of one's. */
	assert_int_equal(call(fx, "other", "prepare", "begin", "-", "other.xml"), 1);
	assert_non_null(strstr(fx->err, "other: vGPU " U1 " is in use by domain one"));
	assert_int_equal(call(fx, "other", "release", "end", "failed", "other.xml"), 0);
	assert_int_equal(tu_kernel_writes(&fx->kernel, "/remove"), 0);
	assert_true(device(fx, U1));
	assert_true(record(fx, U1));
	assert_int_equal(call(fx, "one", "release", "end", "-", "one.xml"), 0);
	assert_false(device(fx, U1));
}

static void test_second_create_fails_rolls_back(void **state)
{
	struct fx *fx = *state;

	fx->kernel.fail_create[1] = ENOSPC;
	assert_int_equal(call(fx, "two", "prepare", "begin", "-", "two.xml"), 1);
	assert_non_null(strstr(fx->err, "cannot create vGPU " U2 ": i915-GVTg_V5_8 on " GVT));
	assert_int_equal(tu_kernel_writes(&fx->kernel, "/create"), 2);
	assert_int_equal(tu_kernel_writes(&fx->kernel, "/remove"), 1);   /* the first one */
	assert_false(device(fx, U1));
	assert_false(device(fx, U2));
	assert_false(record(fx, U1));
	assert_false(record(fx, U2));
	assert_avail(fx, "i915-GVTg_V5_4", "3\n");
	assert_avail(fx, "i915-GVTg_V5_8", "7\n");
	assert_true(tu_log_has("two: rolled back vGPU " U1));
}

/* A plan that ends in a refusal is not carried out: the vGPU listed before the refused one
 * is not even created (and so needs no rollback). */
static void test_refused_plan_touches_nothing(void **state)
{
	struct fx *fx = *state;

	tu_make_device(fx->root, GVT, "i915-GVTg_V5_4", U2);   /* two.xml asks for V5_8 */
	tu_log_capture();
	assert_int_equal(call(fx, "two", "prepare", "begin", "-", "two.xml"), 1);
	assert_non_null(strstr(fx->err, "vGPU " U2 " exists as i915-GVTg_V5_4 on " GVT
			       ", but the domain asks for i915-GVTg_V5_8"));
	assert_int_equal(tu_kernel_writes(&fx->kernel, "/create"), 0);
	assert_false(device(fx, U1));
	assert_false(record(fx, U1));
	assert_false(tu_log_has("rolled back"));
}

/* Each kernel errno at create: exit 1, its reason and advice in the one line. */
static const struct {
	int err;
	const char *words;
} create_errnos[] = {
	{ ENOSPC, "all 7 vGPU slots used; stop a guest using one or pick a smaller type" },
	{ EUSERS, "no free instance left on this parent" },
	{ EEXIST, "a device with this UUID exists on another parent; give the domain its "
		  "own UUID: vgpu-xml --add-vgpu (File exists)" },
	{ EINVAL, "the kernel refused the UUID (Invalid argument)" },
	{ ENOENT, "GVT-g not enabled or type hidden by a small aperture" },
	{ ENODEV, "the parent device is being removed (No such device)" },
	{ EBUSY, "(Device or resource busy)" },
};

static void test_create_errno(void **state)
{
	struct fx *fx = *state;
	__typeof__(create_errnos[0]) *c = fx->row;

	fx->kernel.fail_create[0] = c->err;
	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 1);
	if (!strstr(fx->err, c->words) ||
	    !strstr(fx->err, "one: cannot create vGPU " U1 ": i915-GVTg_V5_4 on " GVT))
		fail_msg("errno %d: '%s'", c->err, fx->err);
	assert_false(record(fx, U1));
	assert_false(device(fx, U1));
}

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

static void test_adopts_precreated(void **state)
{
	struct fx *fx = *state;

	tu_make_device(fx->root, GVT, "i915-GVTg_V5_4", U1);
	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 0);
	assert_int_equal(fx->kernel.log.n, 0);
	assert_false(record(fx, U1));
	assert_true(tu_log_has("was not created by vgpu-hook: using it, never removed"));
	assert_int_equal(call(fx, "one", "release", "end", "-", "one.xml"), 0);
	assert_int_equal(fx->kernel.log.n, 0);
	assert_true(device(fx, U1));
}

static void test_refuses_mismatching_device(void **state)
{
	struct fx *fx = *state;

	tu_make_device(fx->root, GVT, "i915-GVTg_V5_8", U1);
	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 1);
	assert_non_null(strstr(fx->err, "exists as i915-GVTg_V5_8 on " GVT
				", but the domain asks for i915-GVTg_V5_4 on " GVT " (metadata)"));
	assert_int_equal(fx->kernel.log.n, 0);
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

static void test_no_mdev_needs_no_config(void **state)
{
	struct fx *fx = *state;

	/* A config the hook would refuse: a domain without vGPU never reads it. */
	assert_int_equal(chmod(fx->conf, 0666), 0);
	assert_int_equal(call(fx, "plain", "prepare", "begin", "-", "none.xml"), 0);
	assert_int_equal(call(fx, "plain", "start", "begin", "-", "none.xml"), 0);
	assert_int_equal(call(fx, "plain", "release", "end", "-", "none.xml"), 0);
	assert_int_equal(fx->kernel.log.n, 0);
}

/* What must be refused at prepare, with one line, and nothing written under sysfs. */
static const struct {
	const char *xml;
	const char *words;
} refusals[] = {
	{ "", "no domain XML on stdin" },
	{ "<domain><name>x</name>", "domain XML: stdin:1: " },
	{ "<!DOCTYPE d [<!ENTITY e SYSTEM '/etc/shadow'>]><domain><name>&e;</name></domain>",
	  "a DOCTYPE is not allowed" },
	{ "<domain><name>one</name><uuid>" ONE_UUID "</uuid><devices><hostdev "
	  "mode='subsystem' type='mdev'><source><address uuid='not-a-uuid'/></source>"
	  "</hostdev></devices></domain>", "'not-a-uuid' is not a UUID" },
	{ "<domain><name>one</name><uuid>" ONE_UUID "</uuid><metadata><v:vgpu "
	  "xmlns:v='urn:vgpu-hook:1'><v:mdev uuid='" U1 "' parent='..' type='x'/></v:vgpu>"
	  "</metadata><devices><hostdev mode='subsystem' type='mdev'><source><address "
	  "uuid='" U1 "'/></source></hostdev></devices></domain>", "metadata parent '..'" },
	{ "<domain><name>one</name><uuid>" ONE_UUID "</uuid><metadata><v:vgpu "
	  "xmlns:v='urn:vgpu-hook:1'><v:mdev uuid='" U1 "' parent='" GVT "' "
	  "type='../../../../x'/></v:vgpu></metadata><devices><hostdev mode='subsystem' "
	  "type='mdev'><source><address uuid='" U1 "'/></source></hostdev></devices>"
	  "</domain>", "metadata type '../../../../x'" },
	{ "<domain><name>one</name><uuid>" ONE_UUID "</uuid><metadata><v:vgpu "
	  "xmlns:v='urn:vgpu-hook:1'><v:mdev uuid='" U1 "' parent='" GVT "' "
	  "type='i915-GVTg_V5_16'/></v:vgpu></metadata><devices><hostdev mode='subsystem' "
	  "type='mdev'><source><address uuid='" U1 "'/></source></hostdev></devices>"
	  "</domain>", "no parent " GVT " offers mdev type i915-GVTg_V5_16" },
	{ "<domain><name>one</name><devices><hostdev mode='subsystem' type='mdev'><source>"
	  "<address uuid='" U1 "'/></source></hostdev></devices></domain>", "no <uuid>" },
};

static void test_refusal(void **state)
{
	struct fx *fx = *state;
	__typeof__(refusals[0]) *c = fx->row;

	if (call_xml(fx, "one", "prepare", "begin", "-", c->xml) != 1 || !strstr(fx->err, c->words))
		fail_msg("'%s'", fx->err);
	assert_int_equal(fx->kernel.log.n, 0);
}

static void test_refuses_bad_config_and_state(void **state)
{
	struct fx *fx = *state;
	char *text;

	assert_int_equal(chmod(fx->conf, 0620), 0);
	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 1);
	assert_non_null(strstr(fx->err, "refusing a config that is writable by group or other"));
	assert_int_equal(chmod(fx->conf, 0600), 0);
	fx->env.config_owner = geteuid() + 1;
	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 1);
	assert_non_null(strstr(fx->err, "owned by another user"));
	fx->env.config_owner = geteuid();

	text = tu_fmt("%s/elsewhere", fx->tmp);
	assert_int_equal(mkdir(text, 0700), 0);
	assert_int_equal(symlink(text, fx->state), 0);
	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 1);
	assert_non_null(strstr(fx->err, "is a symlink; refusing it"));
	free(text);
	assert_int_equal(fx->kernel.log.n, 0);
}

static void test_dry_run_changes_nothing(void **state)
{
	struct fx *fx = *state;
	char *out = tu_fmt("%s/plan", fx->tmp), *plan;
	FILE *f = fopen(out, "w+e");

	assert_non_null(f);
	fx->env.plan_out = f;
	assert_int_equal(call(fx, "two", "prepare", "begin", "-", "two.xml"), 0);
	fclose(f);
	plan = tu_read_file(out);
	assert_non_null(strstr(plan, "two: would create vGPU " U1 ": i915-GVTg_V5_4 on " GVT
				" (3 free; from metadata)"));
	assert_non_null(strstr(plan, "would create vGPU " U2 ": i915-GVTg_V5_8"));
	assert_int_equal(fx->kernel.log.n, 0);
	assert_false(tu_exists(fx->state));
	free(plan);
	free(out);
}

static void conf_add(struct fx *fx, const char *line)
{
	char *old = tu_read_file(fx->conf), *text = tu_fmt("%s%s\n", old, line);

	tu_write_file(fx->conf, text);
	free(old);
	free(text);
}

static struct owner_record get_record(struct fx *fx, const char *uuid)
{
	struct owner_store st;
	struct owner_record rec;

	assert_int_equal(owner_open(fx->state, false, &st), 0);
	assert_int_equal(owner_get(&st, uuid, &rec), 0);
	owner_close(&st);
	return rec;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The domain XML of @name (@duuid) asking for @mdev with the config's settings. */
static char *plain_xml(const char *name, const char *duuid, const char *mdev)
{
	return tu_fmt("<domain><name>%s</name><uuid>%s</uuid><devices><hostdev "
		      "mode='subsystem' type='mdev'><source><address uuid='%s'/></source>"
		      "</hostdev></devices></domain>", name, duuid, mdev);
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

/* The domain redefined with a new <uuid> while its vGPU was left (libvirtd died): it
 * starts, and no message blames it for its own vGPU. */
static void test_redefined_domain_keeps_its_vgpu(void **state)
{
	struct fx *fx = *state;
	char *xml = fixture("one.xml"), *p;

	p = strstr(xml, ONE_UUID);
	assert_non_null(p);
	memcpy(p, OLD_UUID, strlen(OLD_UUID));
	assert_int_equal(call_xml(fx, "one", "prepare", "begin", "-", xml), 0);
	assert_string_equal(get_record(fx, U1).domain_uuid, OLD_UUID);
	tu_log_capture();
	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 0);
	assert_false(tu_log_has("in use by domain one"));
	assert_true(tu_log_has("was created by vgpu-hook for this domain (an earlier "
			       "definition of it, with another <uuid>): kept"));
	assert_string_equal(get_record(fx, U1).domain_uuid, ONE_UUID);
	assert_int_equal(tu_kernel_writes(&fx->kernel, "/create"), 1);
	assert_int_equal(call(fx, "one", "release", "end", "-", "one.xml"), 0);
	assert_false(device(fx, U1));
	assert_false(record(fx, U1));
	free(xml);
}

/* Fields of the hostdev the hook does not read never refuse a guest (issue 12): a user alias
 * of 64 characters and a model longer than 15 start it. */
static void test_unread_hostdev_fields_start(void **state)
{
	static const char alias[] = "ua-0123456789012345678901234567890123456789012345678901234567890";
	struct fx *fx = *state;
	char *xml = fixture("one.xml"), *p, *aliased, *edited;

	assert_int_equal(strlen(alias), 64);
	p = strstr(xml, "</source>");
	assert_non_null(p);
	*p = '\0';
	aliased = tu_fmt("%s</source><alias name='%s'/>%s", xml, alias, p + strlen("</source>"));
	p = strstr(aliased, "model='vfio-pci'");
	assert_non_null(p);
	edited = tu_fmt("%.*smodel='vfio-pci-and-much-longer-than-fifteen'%s",
			(int)(p - aliased), aliased, p + strlen("model='vfio-pci'"));
	if (call_xml(fx, "one", "prepare", "begin", "-", edited) != 0)
		fail_msg("%s", fx->err);
	assert_true(device(fx, U1));
	assert_int_equal(call_xml(fx, "one", "release", "end", "-", edited), 0);
	assert_false(device(fx, U1));
	free(edited);
	free(aliased);
	free(xml);
}

/* A per-user daemon: what exists is used with nothing recorded; only a create is refused. */
static void test_unprivileged_adopts_and_refuses_only_create(void **state)
{
	struct fx *fx = *state;

	fx->env.privileged = false;
	tu_make_device(fx->root, GVT, "i915-GVTg_V5_4", U1);
	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 0);
	assert_true(tu_log_has("was not created by vgpu-hook: using it"));
	assert_int_equal(call(fx, "one", "release", "end", "-", "one.xml"), 0);
	assert_false(tu_exists(fx->state));
	assert_true(device(fx, U1));
	assert_false(tu_log_has("state directory"));
	/* Something to create: refused, with what to do. */
	assert_int_equal(call(fx, "two", "prepare", "begin", "-", "two.xml"), 1);
	assert_non_null(strstr(fx->err, "two: cannot create vGPU " U2 " (i915-GVTg_V5_8 on " GVT
				"): only root can"));
	assert_null(strstr(fx->err, "state directory"));
	assert_int_equal(fx->kernel.log.n, 0);
	assert_false(tu_exists(fx->state));
}

/* Hints: GVT-g's only for an i915 parent; others get the causes every driver has. */
static void test_hints_fit_the_parent(void **state)
{
	struct fx *fx = *state;
	char *xml, *conf;

	conf = tu_fmt("[defaults]\nsysfs_root = %s\nstate_dir = %s\nparent = 0000:01:00.0\n"
		      "type = nvidia-63\n", fx->root, fx->state);
	tu_write_file(fx->conf, conf);
	free(conf);
	xml = plain_xml("n", ONE_UUID, U1);
	fx->kernel.fail_create[0] = ENOSPC;
	assert_int_equal(call_xml(fx, "n", "prepare", "begin", "-", xml), 1);
	assert_non_null(strstr(fx->err, "nvidia-63 on 0000:01:00.0: no free instance: the "
				"parent's resources are taken by its other vGPUs"));
	assert_null(strstr(fx->err, "GVT-g"));
	fx->kernel.fail_create[1] = ENOENT;
	assert_int_equal(call_xml(fx, "n", "prepare", "begin", "-", xml), 1);
	assert_null(strstr(fx->err, "GVT-g"));
	assert_non_null(strstr(fx->err, "the parent does not offer this type now"));
	free(xml);

	xml = tu_fmt("<domain><name>n</name><uuid>" ONE_UUID "</uuid><metadata><v:vgpu "
		     "xmlns:v='urn:vgpu-hook:1'><v:mdev uuid='" U1 "' parent='mdpy' "
		     "type='mdpy-vga'/></v:vgpu></metadata><devices><hostdev mode='subsystem' "
		     "type='mdev'><source><address uuid='" U1 "'/></source></hostdev></devices>"
		     "</domain>");
	assert_int_equal(call_xml(fx, "n", "prepare", "begin", "-", xml), 1);
	assert_non_null(strstr(fx->err, "parent mdpy offers no mdev types"));
	assert_non_null(strstr(fx->err, "wrong name, or its mdev driver is not loaded"));
	assert_null(strstr(fx->err, "GVT-g"));
	free(xml);
	xml = tu_fmt("<domain><name>n</name><uuid>" ONE_UUID "</uuid><metadata><v:vgpu "
		     "xmlns:v='urn:vgpu-hook:1'><v:mdev uuid='" U1 "' parent='0000:01:00.0' "
		     "type='nvidia-999'/></v:vgpu></metadata><devices><hostdev mode='subsystem' "
		     "type='mdev'><source><address uuid='" U1 "'/></source></hostdev></devices>"
		     "</domain>");
	assert_int_equal(call_xml(fx, "n", "prepare", "begin", "-", xml), 1);
	assert_non_null(strstr(fx->err, "no parent 0000:01:00.0 offers mdev type nvidia-999: the "
				"driver does not offer it here"));
	free(xml);
	/* An i915 parent keeps GVT-g's hints. */
	xml = tu_fmt("<domain><name>n</name><uuid>" ONE_UUID "</uuid><metadata><v:vgpu "
		     "xmlns:v='urn:vgpu-hook:1'><v:mdev uuid='" U1 "' parent='" GVT "' "
		     "type='i915-GVTg_V5_16'/></v:vgpu></metadata><devices><hostdev "
		     "mode='subsystem' type='mdev'><source><address uuid='" U1 "'/></source>"
		     "</hostdev></devices></domain>");
	assert_int_equal(call_xml(fx, "n", "prepare", "begin", "-", xml), 1);
	assert_non_null(strstr(fx->err, "GVT-g not enabled, or the type is hidden"));
	free(xml);
}

/* Linux 6.x: the UUID's remove still waits for its holder, so create gets EEXIST: the line
 * says so and names the holder, not "another parent". */
static void test_eexist_while_remove_waits(void **state)
{
	struct fx *fx = *state;
	char *dir, *link;

	/* What 6.1 shows then: no bus link, the parent's <uuid>/ still there. */
	dir = tu_fmt("%s/devices/pci0000:00/" GVT "/" U1, fx->root);
	assert_int_equal(mkdir(dir, 0755), 0);
	link = tu_fmt("%s/iommu_group", dir);
	{
		char *g = tu_fmt("%s/kernel/iommu_groups/5", fx->root);

		assert_int_equal(mkdir(g, 0755), 0);
		assert_int_equal(symlink(g, link), 0);
		free(g);
	}
	tu_fake_holder(fx->proc, fx->dev, 999, 5, "qemu-system-x86", "old", OLD_UUID);
	fx->kernel.fail_create[0] = EEXIST;
	assert_int_equal(call(fx, "one", "prepare", "begin", "-", "one.xml"), 1);
	assert_non_null(strstr(fx->err, "one: cannot create vGPU " U1 ": i915-GVTg_V5_4 on " GVT
				": a remove of this vGPU is still waiting for pid 999 "
				"(qemu-system-x86), domain old to let it go"));
	assert_null(strstr(fx->err, "another parent"));
	assert_false(record(fx, U1));
	free(link);
	free(dir);
}

/* --dry-run with a preference list counts what the same call takes. */
static void test_dry_run_counts_what_it_takes(void **state)
{
	struct fx *fx = *state;
	char *out = tu_fmt("%s/plan", fx->tmp), *plan, *xml, *conf;
	FILE *f;

	conf = tu_fmt("[defaults]\nsysfs_root = %s\nstate_dir = %s\nparent = " GVT "\n"
		      "type = i915-GVTg_V5_4 i915-GVTg_V5_8\n", fx->root, fx->state);
	tu_write_file(fx->conf, conf);
	free(conf);
	xml = tu_fmt("<domain><name>four</name><uuid>" ONE_UUID "</uuid><devices>"
		     "%s%s%s%s</devices></domain>",
		     "<hostdev mode='subsystem' type='mdev'><source><address uuid='" U1
		     "'/></source></hostdev>",
		     "<hostdev mode='subsystem' type='mdev'><source><address uuid='" U2
		     "'/></source></hostdev>",
		     "<hostdev mode='subsystem' type='mdev'><source><address uuid='"
		     "11111111-2222-4333-8444-000000000003'/></source></hostdev>",
		     "<hostdev mode='subsystem' type='mdev'><source><address uuid='"
		     "11111111-2222-4333-8444-000000000004'/></source></hostdev>");
	f = fopen(out, "w+e");
	assert_non_null(f);
	fx->env.plan_out = f;
	assert_int_equal(call_xml(fx, "four", "prepare", "begin", "-", xml), 0);
	fclose(f);
	fx->env.plan_out = NULL;
	plan = tu_read_file(out);
	assert_non_null(strstr(plan, "would create vGPU " U1 ": i915-GVTg_V5_4 on " GVT " (3 free"));
	assert_non_null(strstr(plan, "would create vGPU " U2 ": i915-GVTg_V5_4 on " GVT " (2 free"));
	assert_non_null(strstr(plan, "000000000003: i915-GVTg_V5_4 on " GVT " (1 free"));
	assert_non_null(strstr(plan, "000000000004: i915-GVTg_V5_8 on " GVT " (7 free"));
	/* The real call makes the same. */
	assert_int_equal(call_xml(fx, "four", "prepare", "begin", "-", xml), 0);
	assert_true(tu_log_has("created vGPU 11111111-2222-4333-8444-000000000004: "
			       "i915-GVTg_V5_8"));
	free(plan);
	free(out);
	free(xml);
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
		T(test_lifecycle),
		T(test_lifecycle_destroyed),
		T(test_lifecycle_from_snapshot),
		T(test_other_ops_touch_nothing),
		T(test_failed_start_removes_nothing),
		T(test_same_uuid_two_domains),
		T(test_second_create_fails_rolls_back),
		T(test_remove_retries),
		T(test_remove_gives_up_bounded),
		T(test_release_of_others_needs_no_lock),
		T(test_adopts_precreated),
		T(test_refuses_mismatching_device),
		T(test_hot_unplugged_is_not_leaked),
		T(test_killed_mid_create_is_repaired),
		T(test_no_mdev_needs_no_config),
		T(test_refuses_bad_config_and_state),
		T(test_dry_run_changes_nothing),
		T(test_release_leaves_held_vgpu),
		T(test_release_is_bounded),
		T(test_moved_vgpu_belongs_to_its_holder),
		T(test_record_of_recreated_device_is_stale),
		T(test_release_leaves_recreated_device),
		T(test_redefined_domain_keeps_its_vgpu),
		T(test_unread_hostdev_fields_start),
		T(test_refused_plan_touches_nothing),
		T(test_unprivileged_adopts_and_refuses_only_create),
		T(test_hints_fit_the_parent),
		T(test_eexist_while_remove_waits),
		T(test_dry_run_counts_what_it_takes),
		T(test_cleanup),
		T(test_reclaim_leaked),
	};

	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	failed += TU_RUN_ROWS_FX("create errno", test_create_errno, setup, teardown,
				 create_errnos, words);
	failed += TU_RUN_ROWS_FX("refusal", test_refusal, setup, teardown, refusals, words);
	return failed;
}
