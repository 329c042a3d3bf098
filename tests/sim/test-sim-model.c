// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-sim-model: vgpu-sim's model without FUSE: the GVT-g types each aperture offers, the
 * kernel's available_instances arithmetic, the 7-vGPU limit, the errno of each bad write,
 * the control commands and the state text.
 */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim.h"

#define U1 "3c0c1a59-5d2e-4e1f-9c1b-0d3a6b7e8f01"
#define U2 "3c0c1a59-5d2e-4e1f-9c1b-0d3a6b7e8f02"

static struct sim s;

/* Writes @uuid to the create file of @type on parent @p. */
static int create(unsigned int p, const char *type, const char *uuid)
{
	int t = sim_find_type(&s, p, type);

	assert_true(t >= 0);
	return sim_create(&s, p, (unsigned int)t, uuid, strlen(uuid));
}

static unsigned int avail(unsigned int p, const char *type)
{
	int t = sim_find_type(&s, p, type);

	assert_true(t >= 0);
	return sim_available(&s, p, (unsigned int)t);
}

static void uuid_n(char out[SIM_UUID_LEN + 1], unsigned int n)
{
	snprintf(out, SIM_UUID_LEN + 1, "00000000-0000-4000-8000-%012x", n);
}

static char *dump(int (*fn)(const struct sim *, FILE *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(fn(&s, f), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void test_profiles(void **state)
{
	(void)state;
	assert_int_equal(sim_init(&s, "nonsense"), -EINVAL);

	/* 1 GB aperture: every type; the high GM of 3 GB decides most counts. */
	assert_int_equal(sim_init(&s, "desktop-1g"), 0);
	assert_int_equal(s.nparents, 1);
	assert_string_equal(s.parents[0].name, "0000:00:02.0");
	assert_int_equal(s.parents[0].ntypes, 4);
	assert_string_equal(s.parents[0].types[0].dir, "i915-GVTg_V5_8");
	assert_string_equal(s.parents[0].types[0].name, "GVTg_V5_8");
	assert_string_equal(s.parents[0].types[3].dir, "i915-GVTg_V5_1");
	assert_int_equal(avail(0, "i915-GVTg_V5_8"), 7);   /* fences: 28 / 4 */
	assert_int_equal(avail(0, "i915-GVTg_V5_4"), 5);   /* high GM: 2688 / 512 */
	assert_int_equal(avail(0, "i915-GVTg_V5_2"), 2);
	assert_int_equal(avail(0, "i915-GVTg_V5_1"), 1);

	/* 256 MB: 128 MB left for vGPUs, so V5_2 (256 MB) ends the list (gvt-linux#24). */
	assert_int_equal(sim_init(&s, "laptop-256m"), 0);
	assert_int_equal(s.parents[0].ntypes, 2);
	assert_int_equal(sim_find_type(&s, 0, "i915-GVTg_V5_2"), -ENOENT);
	assert_int_equal(avail(0, "i915-GVTg_V5_8"), 2);
	assert_int_equal(avail(0, "i915-GVTg_V5_4"), 1);

	assert_int_equal(sim_init(&s, "broadwell"), 0);
	assert_int_equal(s.parents[0].ntypes, 3);
	assert_string_equal(s.parents[0].types[0].dir, "i915-GVTg_V4_8");
	assert_int_equal(avail(0, "i915-GVTg_V4_2"), 1);

	assert_int_equal(sim_init(&s, "two-parents"), 0);
	assert_int_equal(s.nparents, 2);
	assert_true(s.parents[0].class_link);
	assert_false(s.parents[1].class_link);
	assert_int_equal(s.parents[1].ntypes, 3);

	assert_int_equal(sim_init(&s, "counted"), 0);
	assert_string_equal(s.parents[0].name, "mdpy");
	assert_false(s.parents[0].pci);
	assert_string_equal(s.parents[0].types[0].dir, "mdpy-vga");
	assert_int_equal(avail(0, "mdpy-hd"), 4);
}

static void test_description(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(sim_init(&s, "desktop-1g"), 0);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(sim_description(&s, 0, 1, f), 0);
	fclose(f);
	assert_string_equal(text, "low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\n"
			    "resolution: 1920x1200\nweight: 4\n");
	free(text);
}

static void test_create_accounting(void **state)
{
	(void)state;
	assert_int_equal(sim_init(&s, "desktop-1g"), 0);

	/* One V5_4 takes 128 MB low, 512 MB high and 4 fences from every type's count. */
	assert_int_equal(create(0, "i915-GVTg_V5_4", U1), 0);
	assert_int_equal(avail(0, "i915-GVTg_V5_4"), 4);
	assert_int_equal(avail(0, "i915-GVTg_V5_8"), 5);   /* (2688 - 512) / 384 */
	assert_int_equal(avail(0, "i915-GVTg_V5_2"), 2);   /* 768 low: 3; 2176 high: 2 */
	assert_int_equal(avail(0, "i915-GVTg_V5_1"), 1);
	assert_int_equal(s.mdevs[sim_find_mdev(&s, U1)].vgpu_id, 1);

	/* ...and gives them back on remove. */
	assert_int_equal(sim_remove(&s, U1, "1", 1), 0);
	assert_int_equal(sim_find_mdev(&s, U1), -ENOENT);
	assert_int_equal(avail(0, "i915-GVTg_V5_4"), 5);
	assert_int_equal(avail(0, "i915-GVTg_V5_8"), 7);
	assert_int_equal(s.parents[0].used_fences, 0);
	assert_int_equal(s.parents[0].vgpu_ids, 0);
}

static void test_exhaust(void **state)
{
	char u[SIM_UUID_LEN + 1];
	unsigned int i;

	(void)state;
	assert_int_equal(sim_init(&s, "desktop-1g"), 0);
	for (i = 0; i < 5; i++) {
		uuid_n(u, i);
		assert_int_equal(create(0, "i915-GVTg_V5_4", u), 0);
		assert_int_equal(avail(0, "i915-GVTg_V5_4"), 4 - i);
	}
	uuid_n(u, 99);
	assert_int_equal(create(0, "i915-GVTg_V5_4", u), -ENOSPC);
	/* 128 MB of high GM is left: not even the smallest type fits. */
	assert_int_equal(avail(0, "i915-GVTg_V5_8"), 0);
	assert_int_equal(create(0, "i915-GVTg_V5_8", u), -ENOSPC);
	assert_int_equal(sim_find_mdev(&s, u), -ENOENT);
}

static void test_seven_vgpus(void **state)
{
	char u[SIM_UUID_LEN + 1];
	unsigned int i;

	(void)state;
	/* Enough GM and fences for 15: the vGPU ids 1..7 are the limit, as in the kernel. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(sim_add_gvt(&s, "0000:00:02.0", 9, 2048, 8192, 64, true), 0);
	assert_int_equal(avail(0, "i915-GVTg_V5_8"), 15);
	for (i = 0; i < 7; i++) {
		uuid_n(u, i);
		assert_int_equal(create(0, "i915-GVTg_V5_8", u), 0);
		assert_int_equal(s.mdevs[sim_find_mdev(&s, u)].vgpu_id, i + 1);
	}
	uuid_n(u, 7);
	assert_int_equal(create(0, "i915-GVTg_V5_8", u), -ENOSPC);
	/* get_available() does not count ids, so the kernel still shows 8 here. */
	assert_int_equal(avail(0, "i915-GVTg_V5_8"), 8);

	/* A freed id is reused, lowest first (idr_alloc). */
	uuid_n(u, 2);
	assert_int_equal(sim_remove(&s, u, "1\n", 2), 0);
	uuid_n(u, 50);
	assert_int_equal(create(0, "i915-GVTg_V5_8", u), 0);
	assert_int_equal(s.mdevs[sim_find_mdev(&s, u)].vgpu_id, 3);
}

static void test_create_input(void **state)
{
	(void)state;
	assert_int_equal(sim_init(&s, "two-parents"), 0);

	/* 35 and 38 bytes: EINVAL before anything is parsed. */
	assert_int_equal(create(0, "i915-GVTg_V5_4", U1 + 1), -EINVAL);
	assert_int_equal(sim_create(&s, 0, 1, U1 "\n\n", 38), -EINVAL);
	assert_int_equal(create(0, "i915-GVTg_V5_4", "3c0c1a59-5d2e-4e1f-9c1b-0d3a6b7e8fzz"),
			 -EINVAL);
	assert_int_equal(create(0, "i915-GVTg_V5_4", "3c0c1a595d2e-4e1f-9c1b-0d3a6b7e8f01X"),
			 -EINVAL);
	/* A NUL inside: kstrndup() stops there. */
	assert_int_equal(sim_create(&s, 0, 1, "3c0c1a59\0" "5d2e-4e1f-9c1b-0d3a6b7e8f01", 36),
			 -EINVAL);

	/* With a newline, in upper case: the device is named in lower case. */
	assert_int_equal(create(0, "i915-GVTg_V5_4", "3C0C1A59-5D2E-4E1F-9C1B-0D3A6B7E8F01\n"),
			 0);
	assert_true(sim_find_mdev(&s, U1) >= 0);
	/* The same UUID on the other parent too. */
	assert_int_equal(create(0, "i915-GVTg_V5_8", U1), -EEXIST);
	assert_int_equal(create(1, "i915-GVTg_V5_8", U1), -EEXIST);
	assert_int_equal(create(1, "i915-GVTg_V5_8", U2), 0);
	assert_int_equal(s.mdevs[sim_find_mdev(&s, U2)].parent, 1);
}

static void test_remove_input(void **state)
{
	(void)state;
	assert_int_equal(sim_init(&s, "desktop-1g"), 0);
	assert_int_equal(create(0, "i915-GVTg_V5_4", U1), 0);

	assert_int_equal(sim_remove(&s, U1, "0", 1), 0);
	assert_int_equal(sim_remove(&s, U1, "0\n", 2), 0);
	assert_int_equal(sim_remove(&s, U1, "", 0), -EINVAL);
	assert_int_equal(sim_remove(&s, U1, "yes", 3), -EINVAL);
	assert_int_equal(sim_remove(&s, U1, "-1", 2), -EINVAL);
	assert_int_equal(sim_remove(&s, U1, "1 ", 2), -EINVAL);
	assert_int_equal(sim_remove(&s, U1, "1\n\n", 3), -EINVAL);
	assert_int_equal(sim_remove(&s, U1, "08", 2), -EINVAL);
	assert_int_equal(sim_remove(&s, U1, "99999999999999999999999", 23), -EINVAL);
	assert_true(sim_find_mdev(&s, U1) >= 0);

	/* remove_store() takes any nonzero kstrtoul() number, "0x1" included. */
	assert_int_equal(sim_remove(&s, U1, "0x1", 3), 0);
	assert_int_equal(sim_find_mdev(&s, U1), -ENOENT);
	assert_int_equal(sim_remove(&s, U1, "1", 1), -ENODEV);
	assert_int_equal(create(0, "i915-GVTg_V5_4", U1), 0);
	assert_int_equal(sim_remove(&s, U1, "2\n", 2), 0);
}

static void test_counted(void **state)
{
	char u[SIM_UUID_LEN + 1];
	unsigned int i;

	(void)state;
	assert_int_equal(sim_init(&s, "counted"), 0);
	/* One count per parent, shared by its types. */
	for (i = 0; i < 4; i++) {
		uuid_n(u, i);
		assert_int_equal(create(0, i % 2 ? "mdpy-vga" : "mdpy-hd", u), 0);
	}
	assert_int_equal(avail(0, "mdpy-xga"), 0);
	uuid_n(u, 4);
	assert_int_equal(create(0, "mdpy-xga", u), -EUSERS);
	uuid_n(u, 0);
	assert_int_equal(create(0, "mdpy-xga", u), -EEXIST);   /* EEXIST is checked first */
	assert_int_equal(sim_remove(&s, u, "1", 1), 0);
	assert_int_equal(avail(0, "mdpy-vga"), 1);
}

static void test_faults(void **state)
{
	unsigned int bad = 0;
	char *text;

	(void)state;
	assert_int_equal(sim_init(&s, "desktop-1g"), 0);
#define CTL(str) sim_control(&s, str, strlen(str), &bad)
	assert_int_equal(CTL("fail create 2 ENOSPC\nbusy remove 2\ndelay create 200\n"), 0);
	text = dump(sim_dump_control);
	assert_string_equal(text, "fail create 2 ENOSPC\ndelay create 200\n"
			    "fail remove 2 EBUSY\n");
	free(text);

	assert_int_equal(create(0, "i915-GVTg_V5_4", U1), -ENOSPC);
	assert_int_equal(create(0, "i915-GVTg_V5_4", U1), -ENOSPC);
	assert_int_equal(avail(0, "i915-GVTg_V5_4"), 5);   /* nothing was taken */
	assert_int_equal(create(0, "i915-GVTg_V5_4", U1), 0);
	/* Input errors come before the injected ones and use none. */
	assert_int_equal(CTL("fail create 1 EIO"), 0);
	assert_int_equal(create(0, "i915-GVTg_V5_4", U1), -EEXIST);
	assert_int_equal(create(0, "i915-GVTg_V5_4", U2), -EIO);

	/* "0" is no removal, so it meets no fault either. */
	assert_int_equal(sim_remove(&s, U1, "0", 1), 0);
	assert_int_equal(sim_remove(&s, U1, "1", 1), -EBUSY);
	assert_int_equal(sim_remove(&s, U1, "1", 1), -EBUSY);
	assert_true(sim_find_mdev(&s, U1) >= 0);
	assert_int_equal(sim_remove(&s, U1, "1", 1), 0);

	assert_int_equal(CTL("fail remove 1 5\n"), 0);
	assert_int_equal(s.faults[SIM_REMOVE].err, EIO);

	/* All or nothing: the bad third line leaves the faults as they were. */
	assert_int_equal(CTL("reset\n# comment\n\nfail create 1 ENOPE\n"), -EINVAL);
	assert_int_equal(bad, 4);
	assert_int_equal(s.faults[SIM_REMOVE].count, 1);
	assert_int_equal(CTL("reset"), 0);
	text = dump(sim_dump_control);
	assert_string_equal(text, "");
	free(text);

	assert_int_equal(CTL("fail create"), -EINVAL);
	assert_int_equal(CTL("fail create 1"), -EINVAL);
	assert_int_equal(CTL("fail create 1 EIO extra"), -EINVAL);
	assert_int_equal(CTL("fail destroy 1 EIO"), -EINVAL);
	assert_int_equal(CTL("delay create -5"), -EINVAL);
	assert_int_equal(CTL("delay create 9999999"), -EINVAL);
	assert_int_equal(CTL("busy remove x"), -EINVAL);
	assert_int_equal(CTL("fail create 1 0"), -EINVAL);
	assert_int_equal(sim_control(&s, "reset\0x", 7, &bad), -EINVAL);
#undef CTL
}

/* A fault given a UUID hits only that instance: the second vGPU of a guest, say. */
static void test_fault_filter(void **state)
{
	unsigned int bad = 0;
	char line[192], upper[64], *text;

	(void)state;
	assert_int_equal(sim_init(&s, "desktop-1g"), 0);
#define CTL(str) sim_control(&s, str, strlen(str), &bad)
	for (size_t i = 0; i <= strlen(U2); i++)
		upper[i] = (char)toupper((unsigned char)U2[i]);
	snprintf(line, sizeof(line), "fail create 1 EIO %s\nbusy remove 1 %s", upper, U1);
	assert_int_equal(CTL(line), 0);
	text = dump(sim_dump_control);
	snprintf(line, sizeof(line), "fail create 1 EIO %s\nfail remove 1 EBUSY %s\n", U2, U1);
	assert_string_equal(text, line);   /* stored in lower case, as the kernel names it */
	free(text);

	assert_int_equal(create(0, "i915-GVTg_V5_4", U1), 0);
	assert_int_equal(create(0, "i915-GVTg_V5_4", U2), -EIO);
	assert_int_equal(create(0, "i915-GVTg_V5_4", U2), 0);
	assert_int_equal(sim_remove(&s, U2, "1", 1), 0);
	assert_int_equal(sim_remove(&s, U1, "1", 1), -EBUSY);
	assert_int_equal(sim_remove(&s, U1, "1", 1), 0);

	snprintf(line, sizeof(line), "fail lookup 2 ENOENT %s", U1);
	assert_int_equal(CTL(line), 0);
	assert_int_equal(sim_lookup(&s, U2), 0);
	assert_int_equal(sim_lookup(&s, U1), -ENOENT);
	assert_int_equal(sim_lookup(&s, U1), -ENOENT);
	assert_int_equal(sim_lookup(&s, U1), 0);

	assert_int_equal(CTL("fail create 1 EIO not-a-uuid"), -EINVAL);
	assert_int_equal(CTL("busy remove 1 11111111-2222-3333-4444-55555555555"), -EINVAL);
	snprintf(line, sizeof(line), "fail create 1 EIO %s extra", U1);
	assert_int_equal(CTL(line), -EINVAL);
	assert_int_equal(CTL("delay lookup 10"), -EINVAL);   /* only writes wait */
#undef CTL
}

static void test_state(void **state)
{
	char *before, *text;
	unsigned int bad;

	(void)state;
	assert_int_equal(sim_init(&s, "two-parents"), 0);
	before = dump(sim_dump_state);
	assert_string_equal(before,
		"parent 0000:00:02.0 driver=i915 low_gm_free_mb=896 high_gm_free_mb=2688 "
		"fences_free=28 instances=0\n"
		"type 0000:00:02.0 i915-GVTg_V5_8 available_instances=7\n"
		"type 0000:00:02.0 i915-GVTg_V5_4 available_instances=5\n"
		"type 0000:00:02.0 i915-GVTg_V5_2 available_instances=2\n"
		"type 0000:00:02.0 i915-GVTg_V5_1 available_instances=1\n"
		"parent 0000:01:00.0 driver=i915 low_gm_free_mb=384 high_gm_free_mb=3200 "
		"fences_free=28 instances=0\n"
		"type 0000:01:00.0 i915-GVTg_V5_8 available_instances=6\n"
		"type 0000:01:00.0 i915-GVTg_V5_4 available_instances=3\n"
		"type 0000:01:00.0 i915-GVTg_V5_2 available_instances=1\n");

	/* Instances are listed by UUID, whatever the order they were made in. */
	assert_int_equal(create(1, "i915-GVTg_V5_2", U2), 0);
	assert_int_equal(create(0, "i915-GVTg_V5_8", U1), 0);
	text = dump(sim_dump_state);
	assert_non_null(strstr(text, "instances=1\n"));
	assert_non_null(strstr(text, "mdev " U1 " parent=0000:00:02.0 type=i915-GVTg_V5_8\n"
				     "mdev " U2 " parent=0000:01:00.0 type=i915-GVTg_V5_2\n"));
	free(text);

	/* remove-all brings back the profile's state. */
	assert_int_equal(sim_control(&s, "remove-all", 10, &bad), 0);
	text = dump(sim_dump_state);
	assert_string_equal(text, before);
	free(text);
	free(before);

	assert_int_equal(sim_init(&s, "counted"), 0);
	text = dump(sim_dump_state);
	assert_string_equal(text, "parent mdpy driver=mdpy instances_free=4 instances=0\n"
			    "type mdpy mdpy-vga available_instances=4\n"
			    "type mdpy mdpy-xga available_instances=4\n"
			    "type mdpy mdpy-hd available_instances=4\n");
	free(text);
}

static void test_groups(void **state)
{
	(void)state;
	assert_int_equal(sim_init(&s, "desktop-1g"), 0);
	s.iommu_group_base = 10;
	assert_int_equal(create(0, "i915-GVTg_V5_8", U1), 0);
	assert_int_equal(create(0, "i915-GVTg_V5_8", U2), 0);
	assert_int_equal(s.mdevs[sim_find_mdev(&s, U1)].iommu_group, 10);
	assert_int_equal(s.mdevs[sim_find_mdev(&s, U2)].iommu_group, 11);
	assert_int_equal(sim_find_group(&s, 11), sim_find_mdev(&s, U2));
	assert_int_equal(sim_remove(&s, U1, "1", 1), 0);
	assert_int_equal(create(0, "i915-GVTg_V5_8", U1), 0);
	assert_int_equal(s.mdevs[sim_find_mdev(&s, U1)].iommu_group, 10);
}

static void test_errno_names(void **state)
{
	(void)state;
	assert_int_equal(sim_errno_parse("EUSERS"), EUSERS);
	assert_int_equal(sim_errno_parse("16"), EBUSY);
	assert_int_equal(sim_errno_parse("enospc"), -EINVAL);
	assert_int_equal(sim_errno_parse("5000"), -EINVAL);
	assert_string_equal(sim_errno_name(ENOSPC), "ENOSPC");
	assert_null(sim_errno_name(0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_description),
		cmocka_unit_test(test_create_accounting),
		cmocka_unit_test(test_exhaust),
		cmocka_unit_test(test_seven_vgpus),
		cmocka_unit_test(test_create_input),
		cmocka_unit_test(test_remove_input),
		cmocka_unit_test(test_counted),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_fault_filter),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_errno_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
