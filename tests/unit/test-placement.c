/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "placement.h"
#include "testutil.h"

#define U1 "11111111-2222-4333-8444-000000000001"

static char *tmp, *root, err[512];
static struct mdev_sysfs sysfs;

static int setup(void **state)
{
	(void)state;
	tmp = tu_tmpdir();
	root = tu_copy_fixture("sysfs/host", tmp);
	sysfs.root = root;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(tmp);
	free(tmp);
	free(root);
	return 0;
}

static struct config *conf(const char *text)
{
	char *path = tu_fmt("%s/c.conf", tmp);
	struct config *cfg;

	tu_write_file(path, text);
	assert_int_equal(config_load(path, geteuid(), &cfg, NULL), 0);
	free(path);
	return cfg;
}

static struct domxml *dom(const char *meta)
{
	char *xml = tu_fmt("<domain><name>d</name><uuid>aaaaaaaa-0000-4000-8000-000000000001"
			   "</uuid><metadata>%s</metadata><devices><hostdev mode='subsystem' "
			   "type='mdev'><source><address uuid='" U1 "'/></source></hostdev>"
			   "</devices></domain>", meta);
	struct domxml *d;

	assert_int_equal(domxml_parse(xml, strlen(xml), "t", &d, err, sizeof(err)), 0);
	free(xml);
	return d;
}

#define META(p, t) "<v:vgpu xmlns:v='urn:vgpu-hook:1'><v:mdev uuid='" U1 "' parent='" p \
	"' type='" t "'/></v:vgpu>"

static void test_sources_in_order(void **state)
{
	struct config *cfg = conf("[defaults]\nparent = auto\ntype = i915-GVTg_V5_8\n"
				  "[domain d]\ntype = i915-GVTg_V5_2\n");
	struct domxml *d1 = dom(META("0000:01:00.0", "nvidia-63")), *d2 = dom("");
	struct placement_spec spec;

	(void)state;
	assert_int_equal(placement_spec_get(cfg, d1, U1, &spec, err, sizeof(err)), 0);
	assert_int_equal(spec.source, PLACEMENT_SOURCE_METADATA);
	assert_string_equal(spec.parent, "0000:01:00.0");
	assert_string_equal(spec.types.v[0], "nvidia-63");
	placement_spec_free(&spec);

	/* [domain d] sets only type: parent falls back to [defaults]. */
	assert_int_equal(placement_spec_get(cfg, d2, U1, &spec, err, sizeof(err)), 0);
	assert_int_equal(spec.source, PLACEMENT_SOURCE_DOMAIN);
	assert_string_equal(spec.parent, "auto");
	assert_string_equal(spec.types.v[0], "i915-GVTg_V5_2");
	assert_true(placement_spec_matches(&spec, "0000:02:00.0", "i915-GVTg_V5_2"));
	assert_false(placement_spec_matches(&spec, "0000:02:00.0", "i915-GVTg_V5_4"));
	placement_spec_free(&spec);
	free(d2->name);
	d2->name = strdup("e");
	assert_int_equal(placement_spec_get(cfg, d2, U1, &spec, err, sizeof(err)), 0);
	assert_int_equal(spec.source, PLACEMENT_SOURCE_DEFAULTS);
	assert_string_equal(spec.types.v[0], "i915-GVTg_V5_8");
	placement_spec_free(&spec);
	domxml_free(d1);
	domxml_free(d2);
	config_free(cfg);
}

static void test_spec_refusals(void **state)
{
	struct config *cfg = conf("");
	struct domxml *d;
	struct placement_spec spec;

	(void)state;
	d = dom(META("../../../tmp", "i915-GVTg_V5_4"));
	assert_int_equal(placement_spec_get(cfg, d, U1, &spec, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "metadata parent '../../../tmp'"));
	placement_spec_free(&spec);
	domxml_free(d);
	d = dom(META("0000:00:02.0", "../create"));
	assert_int_equal(placement_spec_get(cfg, d, U1, &spec, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "metadata type '../create'"));
	placement_spec_free(&spec);
	domxml_free(d);
	d = dom("");
	assert_int_equal(placement_spec_get(cfg, d, U1, &spec, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no parent and type set"));
	placement_spec_free(&spec);
	domxml_free(d);
	config_free(cfg);
}

/* Resolve parent @p and types @t against the fixture host. */
static int choose(const char *p, const char *t, struct placement_choice *c)
{
	char *text = tu_fmt("[defaults]\nparent = %s\ntype = %s\n", p, t);
	struct config *cfg = conf(text);
	struct domxml *d = dom("");
	struct placement_spec spec;
	int r;

	assert_int_equal(placement_spec_get(cfg, d, U1, &spec, err, sizeof(err)), 0);
	err[0] = '\0';
	r = placement_choose(&sysfs, &spec, c, err, sizeof(err));
	placement_spec_free(&spec);
	domxml_free(d);
	config_free(cfg);
	free(text);
	return r;
}

static void set_avail(const char *parent, const char *type, const char *n)
{
	char *path = tu_fmt("%s/bus/pci/devices/%s/mdev_supported_types/%s/available_instances",
			    root, parent, type);

	tu_write_file(path, n);
	free(path);
}

static void test_choose(void **state)
{
	struct placement_choice c;

	(void)state;
	assert_int_equal(choose("0000:00:02.0", "i915-GVTg_V5_4", &c), 0);
	assert_string_equal(c.type, "i915-GVTg_V5_4");
	assert_int_equal(c.available, 3);

	/* The first type with a free instance wins. */
	set_avail("0000:00:02.0", "i915-GVTg_V5_2", "0\n");
	assert_int_equal(choose("0000:00:02.0", "i915-GVTg_V5_2 i915-GVTg_V5_8", &c), 0);
	assert_string_equal(c.type, "i915-GVTg_V5_8");

	/* None free: the first that exists, so that the kernel's errno reaches the user. */
	set_avail("0000:00:02.0", "i915-GVTg_V5_8", "0\n");
	assert_int_equal(choose("0000:00:02.0", "i915-GVTg_V5_16 i915-GVTg_V5_2 i915-GVTg_V5_8",
				&c), 0);
	assert_string_equal(c.type, "i915-GVTg_V5_2");
	assert_int_equal(c.available, 0);

	/* auto: only where one parent offers the type. */
	assert_int_equal(choose("auto", "nvidia-63", &c), 0);
	assert_string_equal(c.parent, "0000:01:00.0");
	assert_int_equal(choose("auto", "i915-GVTg_V5_4", &c), -ENOTUNIQ);
	assert_non_null(strstr(err, "offered by several parents"));
	assert_int_equal(choose("auto", "i915-GVTg_V5_4 i915-GVTg_V5_1", &c), 0);
	assert_string_equal(c.parent, "0000:00:02.0");
	assert_string_equal(c.type, "i915-GVTg_V5_1");

	/* The fallback parent, without class/mdev_bus. */
	assert_int_equal(choose("0000:02:00.0", "i915-GVTg_V5_4", &c), 0);
	assert_string_equal(c.parent, "0000:02:00.0");

	assert_int_equal(choose("0000:00:02.0", "nvidia-63", &c), -ENOENT);
	assert_non_null(strstr(err, "hidden by a small aperture"));
	assert_int_equal(choose("0000:09:00.0", "i915-GVTg_V5_4", &c), -ENOENT);
	assert_non_null(strstr(err, "GVT-g not enabled"));
}

/* What a dry run has taken is counted: a preference list moves on as the real call does. */
static void test_choose_after_counts_taken(void **state)
{
	struct placement_spec spec = {
		.source = PLACEMENT_SOURCE_DEFAULTS, .parent = "0000:00:02.0"
	};
	struct placement_taken taken = { 0 };
	struct placement_choice c;

	(void)state;
	assert_int_equal(strv_add(&spec.types, "i915-GVTg_V5_4"), 0);
	assert_int_equal(strv_add(&spec.types, "i915-GVTg_V5_8"), 0);
	for (unsigned long want = 3; want > 0; want--) {
		assert_int_equal(placement_choose_after(&sysfs, &spec, &taken, &c, err,
						 sizeof(err)), 0);
		assert_string_equal(c.type, "i915-GVTg_V5_4");
		assert_int_equal(c.available, want);
		assert_int_equal(placement_take(&taken, &c), 0);
	}
	assert_int_equal(placement_choose_after(&sysfs, &spec, &taken, &c, err,
						 sizeof(err)), 0);
	assert_string_equal(c.type, "i915-GVTg_V5_8");
	assert_int_equal(c.available, 7);
	/* Without the count, the same sysfs gives the first type again. */
	assert_int_equal(placement_choose(&sysfs, &spec, &c, err, sizeof(err)), 0);
	assert_string_equal(c.type, "i915-GVTg_V5_4");
	placement_taken_free(&taken);
	placement_spec_free(&spec);
}

/* A parent that is not GVT-g's gets no GVT-g hint. */
static void test_hints_not_gvt(void **state)
{
	struct placement_choice c;

	(void)state;
	assert_int_equal(choose("0000:01:00.0", "nvidia-99", &c), -ENOENT);
	assert_null(strstr(err, "GVT-g"));
	assert_non_null(strstr(err, "the driver does not offer it here"));
	assert_int_equal(choose("mdpy", "mdpy-vga", &c), -ENOENT);
	assert_null(strstr(err, "GVT-g"));
	assert_non_null(strstr(err, "its mdev driver is not loaded"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sources_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spec_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_choose, setup, teardown),
		cmocka_unit_test_setup_teardown(test_choose_after_counts_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hints_not_gvt, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
