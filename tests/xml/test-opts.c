/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * patch_opts_edits (patch.h), the one list of vgpu-xml's edit options, and the rule of
 * patch_opts_check() built on it: --remove-vgpu goes with no other change. One case per
 * option.
 */
#include <errno.h>
#include <string.h>

#include "patch.h"
#include "testutil.h"

#define U1 "11111111-2222-4333-8444-000000000001"

struct row {
	const char *name;
	struct patch_opts o;
	unsigned int edits;
};

static const struct row rows[] = {
	{ "nothing", { .uuid = U1, .native = true }, 0 },
	{ "add", { .add_vgpu = true }, PATCH_EDIT_ADD },
	{ "remove", { .remove = true, .uuid = U1 }, PATCH_EDIT_REMOVE },
	{ "parent and type", { .parent = "0000:00:02.0", .type = "i915-GVTg_V5_4" },
	  PATCH_EDIT_METADATA },
	{ "opregion", { .opregion = true }, PATCH_EDIT_OPREGION },
	{ "ramfb", { .ramfb = true }, PATCH_EDIT_RAMFB },
	{ "romfile", { .romfile = "/usr/share/vbios_gvt_uefi.rom" }, PATCH_EDIT_ROMFILE },
	{ "resolution", { .xres = 1920, .yres = 1080 }, PATCH_EDIT_RESOLUTION },
	{ "display on", { .display = PATCH_ON }, PATCH_EDIT_DISPLAY },
	{ "display off", { .display = PATCH_OFF }, PATCH_EDIT_DISPLAY },
	{ "migrate", { .migrate_legacy = true }, PATCH_EDIT_MIGRATE },
};

/* The bits of the row, and: with --remove-vgpu, a valid edit is refused, alone it is fine. */
static void test_edits(void **state)
{
	const struct row *row = *state;
	struct patch_opts o = row->o;
	char err[256] = "";

	assert_int_equal(patch_opts_edits(&o), row->edits);
	assert_int_equal(patch_opts_check(&o, err, sizeof(err)), 0);
	if (row->edits & ~PATCH_EDIT_REMOVE) {
		o.remove = true;
		assert_int_equal(patch_opts_check(&o, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, "--remove-vgpu goes with no other change");
	}
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(rows)];

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		tests[i] = (struct CMUnitTest){ rows[i].name, test_edits, NULL, NULL,
						(void *)&rows[i] };
	return _cmocka_run_group_tests("patch_opts_edits", tests, ARRAY_SIZE(rows), NULL, NULL);
}
