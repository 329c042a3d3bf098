/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hook_run() at prepare begin (research/hook-anchors.md 1.1), the start of a guest: what it
 * creates, adopts, keeps and refuses, with its one-line errors and its dry run; and the
 * operations that must touch nothing. tu_kernel stands in for the kernel (hookfx.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hookfx.h"

static char *avail(struct fx *fx, const char *parent, const char *type)
{
	char *path = tu_fmt("%s/bus/pci/devices/%s/mdev_supported_types/%s/available_instances",
			    fx->root, parent, type);
	char *v = tu_read_file(path);

	free(path);
	return v;
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

	xml = meta_xml("n", ONE_UUID, U1, "mdpy", "mdpy-vga");
	assert_int_equal(call_xml(fx, "n", "prepare", "begin", "-", xml), 1);
	assert_non_null(strstr(fx->err, "parent mdpy offers no mdev types"));
	assert_non_null(strstr(fx->err, "wrong name, or its mdev driver is not loaded"));
	assert_null(strstr(fx->err, "GVT-g"));
	free(xml);
	xml = meta_xml("n", ONE_UUID, U1, "0000:01:00.0", "nvidia-999");
	assert_int_equal(call_xml(fx, "n", "prepare", "begin", "-", xml), 1);
	assert_non_null(strstr(fx->err, "no parent 0000:01:00.0 offers mdev type nvidia-999: the "
				"driver does not offer it here"));
	free(xml);
	/* An i915 parent keeps GVT-g's hints. */
	xml = meta_xml("n", ONE_UUID, U1, GVT, "i915-GVTg_V5_16");
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

/* The config's [defaults]: the GVT-g parent, the type preference list @types. */
static void write_gvt_conf(struct fx *fx, const char *types)
{
	char *conf = tu_fmt("[defaults]\nsysfs_root = %s\nstate_dir = %s\nparent = " GVT "\n"
			    "type = %s\n", fx->root, fx->state, types);

	tu_write_file(fx->conf, conf);
	free(conf);
}

/* Domain "four" with four mdevs: U1, U2, then ...0003 and ...0004. Caller frees. */
static char *four_vgpus_xml(void)
{
	return tu_fmt("<domain><name>four</name><uuid>" ONE_UUID "</uuid><devices>"
		      "%s%s%s%s</devices></domain>",
		      "<hostdev mode='subsystem' type='mdev'><source><address uuid='" U1
		      "'/></source></hostdev>",
		      "<hostdev mode='subsystem' type='mdev'><source><address uuid='" U2
		      "'/></source></hostdev>",
		      "<hostdev mode='subsystem' type='mdev'><source><address uuid='"
		      "11111111-2222-4333-8444-000000000003'/></source></hostdev>",
		      "<hostdev mode='subsystem' type='mdev'><source><address uuid='"
		      "11111111-2222-4333-8444-000000000004'/></source></hostdev>");
}

/* Domain "four"'s prepare as a dry run: asserts its exit @status, returns the plan it
 * printed (caller frees). */
static char *dry_prepare(struct fx *fx, const char *xml, int status)
{
	char *out = tu_fmt("%s/plan", fx->tmp), *plan;
	FILE *f = fopen(out, "w+e");

	assert_non_null(f);
	fx->env.plan_out = f;
	assert_int_equal(call_xml(fx, "four", "prepare", "begin", "-", xml), status);
	fclose(f);
	fx->env.plan_out = NULL;
	plan = tu_read_file(out);
	assert_non_null(plan);
	free(out);
	return plan;
}

/* --dry-run with a preference list counts what the same call takes. */
static void test_dry_run_counts_what_it_takes(void **state)
{
	struct fx *fx = *state;
	char *plan, *xml;

	write_gvt_conf(fx, "i915-GVTg_V5_4 i915-GVTg_V5_8");
	xml = four_vgpus_xml();
	plan = dry_prepare(fx, xml, 0);
	assert_non_null(strstr(plan, "would create vGPU " U1 ": i915-GVTg_V5_4 on " GVT " (3 free"));
	assert_non_null(strstr(plan, "would create vGPU " U2 ": i915-GVTg_V5_4 on " GVT " (2 free"));
	assert_non_null(strstr(plan, "000000000003: i915-GVTg_V5_4 on " GVT " (1 free"));
	assert_non_null(strstr(plan, "000000000004: i915-GVTg_V5_8 on " GVT " (7 free"));
	/* The real call makes the same. */
	assert_int_equal(call_xml(fx, "four", "prepare", "begin", "-", xml), 0);
	assert_true(tu_log_has("created vGPU 11111111-2222-4333-8444-000000000004: "
			       "i915-GVTg_V5_8"));
	free(plan);
	free(xml);
}

/* A dry run whose create finds its type with no free instance says it would fail: the real
 * call would get the kernel's errno (--doctor and --status answer "cannot start now"). */
static void test_dry_run_full_type_would_fail(void **state)
{
	struct fx *fx = *state;
	char *plan, *xml;

	write_gvt_conf(fx, "i915-GVTg_V5_4");
	xml = four_vgpus_xml();
	plan = dry_prepare(fx, xml, 1);
	assert_non_null(strstr(plan, "000000000003: i915-GVTg_V5_4 on " GVT " (1 free"));
	assert_non_null(strstr(plan, "000000000004: i915-GVTg_V5_4 on " GVT " (0 free"));
	assert_non_null(strstr(plan, "four: would fail: four: vGPU "
			       "11111111-2222-4333-8444-000000000004: i915-GVTg_V5_4 on " GVT
			       " has no free instance now"));
	free(plan);
	free(xml);
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
		T(test_adopts_precreated),
		T(test_refuses_mismatching_device),
		T(test_no_mdev_needs_no_config),
		T(test_refuses_bad_config_and_state),
		T(test_dry_run_changes_nothing),
		T(test_redefined_domain_keeps_its_vgpu),
		T(test_unread_hostdev_fields_start),
		T(test_refused_plan_touches_nothing),
		T(test_unprivileged_adopts_and_refuses_only_create),
		T(test_hints_fit_the_parent),
		T(test_eexist_while_remove_waits),
		T(test_dry_run_counts_what_it_takes),
		T(test_dry_run_full_type_would_fail),
	};

	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	failed += TU_RUN_ROWS_FX("create errno", test_create_errno, setup, teardown,
				 create_errnos, words);
	failed += TU_RUN_ROWS_FX("refusal", test_refusal, setup, teardown, refusals, words);
	return failed;
}
