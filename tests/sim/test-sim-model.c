// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-sim-model: vgpu-sim's model without FUSE: the GVT-g types each aperture offers, the
 * kernel's available_instances arithmetic, the 7-vGPU limit, the errno of each bad write,
 * the control commands and the state text; the kernel's sample drivers, the stages of a
 * create, and a remove while a process holds the device through VFIO (Linux 6.1, as
 * research/real-kernel.md measured it).
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

/* The "samples" profile: mdpy, mbochs and mtty with their default parameters (section 1). */
static void test_samples(void **state)
{
	const char *dir, *attr;
	char u[SIM_UUID_LEN + 1], *text = NULL;
	size_t len = 0;
	unsigned int i;
	FILE *f;

	(void)state;
	assert_int_equal(sim_init(&s, "samples"), 0);
	assert_int_equal(s.nparents, 3);
	assert_string_equal(s.parents[1].name, "mbochs");
	assert_string_equal(s.parents[2].name, "mtty");
	assert_int_equal(avail(1, "mbochs-small"), 64);
	assert_int_equal(avail(1, "mbochs-medium"), 16);
	assert_int_equal(avail(1, "mbochs-large"), 4);
	assert_int_equal(avail(2, "mtty-1"), 24);
	assert_int_equal(avail(2, "mtty-2"), 12);
	/* mtty: a pretty name with spaces, and no description. */
	assert_string_equal(s.parents[2].types[0].name, "Single port serial");
	assert_false(s.parents[2].types[0].description);
	assert_true(s.parents[1].types[0].description);

	/* mbochs' pool is shared: 3 large (192 of 256 MB) leave small 16, medium 4, large 1. */
	for (i = 0; i < 3; i++) {
		uuid_n(u, i);
		assert_int_equal(create(1, "mbochs-large", u), 0);
	}
	assert_int_equal(avail(1, "mbochs-small"), 16);
	assert_int_equal(avail(1, "mbochs-medium"), 4);
	assert_int_equal(avail(1, "mbochs-large"), 1);
	uuid_n(u, 3);
	assert_int_equal(create(1, "mbochs-large", u), 0);
	/* The driver's probe refuses with ENOSPC, not the core's EUSERS, and takes nothing. */
	uuid_n(u, 4);
	assert_int_equal(create(1, "mbochs-small", u), -ENOSPC);
	assert_int_equal(sim_find_mdev(&s, u), -ENOENT);

	/* mtty-2 takes 2 of the 24 ports: 12 of them, then ENOSPC. */
	for (i = 10; i < 22; i++) {
		uuid_n(u, i);
		assert_int_equal(create(2, "mtty-2", u), 0);
	}
	uuid_n(u, 22);
	assert_int_equal(create(2, "mtty-1", u), -ENOSPC);
	assert_int_equal(avail(2, "mtty-1"), 0);

	/* Each driver's own attribute group. */
	uuid_n(u, 10);
	sim_vendor(&s, (unsigned int)sim_find_mdev(&s, u), &dir, &attr);
	assert_string_equal(dir, "vendor");
	assert_string_equal(attr, "sample_mdev_dev");
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(sim_vendor_show(&s, (unsigned int)sim_find_mdev(&s, u), f), 0);
	uuid_n(u, 0);
	assert_int_equal(sim_vendor_show(&s, (unsigned int)sim_find_mdev(&s, u), f), 0);
	fclose(f);
	assert_string_equal(text, "This is MDEV 00000000-0000-4000-8000-00000000000a\n64 MB\n");
	free(text);

	/* All of it comes back. */
	sim_remove_all(&s);
	assert_int_equal(avail(1, "mbochs-small"), 64);
	assert_int_equal(avail(2, "mtty-1"), 24);
}

/*
 * A remove while a process holds the device through VFIO (section 4): the write waits, the
 * device is off the bus and its type at once, its UUID stays taken (EEXIST) and its count
 * is not given back until the holder closes it.
 */
static void test_held_remove(void **state)
{
	unsigned int bad = 0;
	unsigned long serial;
	char line[96], *text;
	int m;

	(void)state;
	assert_int_equal(sim_init(&s, "counted"), 0);
	assert_int_equal(create(0, "mdpy-vga", U1), 0);
	snprintf(line, sizeof(line), "vfio-open %s", U1);
	assert_int_equal(sim_control(&s, line, strlen(line), &bad), 0);
	m = sim_find_mdev(&s, U1);
	serial = s.mdevs[m].serial;

	assert_int_equal(sim_remove(&s, U1, "1\n", 2), SIM_REMOVE_BLOCKED);
	assert_int_equal(s.mdevs[m].stage, SIM_REMOVING);
	assert_true(sim_remove_waiting(&s, (unsigned int)m, serial));
	assert_int_equal(create(0, "mdpy-vga", U1), -EEXIST);
	assert_int_equal(avail(0, "mdpy-vga"), 3);
	/* A second remove finds the attribute gone: ENODEV through a file opened before. */
	assert_int_equal(sim_remove(&s, U1, "1", 1), -ENODEV);
	text = dump(sim_dump_state);
	assert_non_null(strstr(text, "mdev " U1 " parent=mdpy type=mdpy-vga removing vfio-open\n"));
	free(text);

	/* The holder closes it: the remove completes, and everything is given back. */
	snprintf(line, sizeof(line), "vfio-close %s", U1);
	assert_int_equal(sim_control(&s, line, strlen(line), &bad), 0);
	assert_false(sim_remove_waiting(&s, (unsigned int)m, serial));
	assert_int_equal(sim_find_mdev(&s, U1), -ENOENT);
	assert_int_equal(avail(0, "mdpy-vga"), 4);
	assert_int_equal(create(0, "mdpy-vga", U1), 0);

	/* Not held: a remove is done at once. */
	assert_int_equal(sim_remove(&s, U1, "1", 1), 0);
	assert_int_equal(avail(0, "mdpy-vga"), 4);
}

/* The vfio-open and vfio-close commands: their errors, the control text, remove-all. */
static void test_hold_control(void **state)
{
	unsigned int bad = 0;
	char line[192], *text;

	(void)state;
	assert_int_equal(sim_init(&s, "desktop-1g"), 0);
#define CTL(str) sim_control(&s, str, strlen(str), &bad)
	snprintf(line, sizeof(line), "vfio-open %s", U1);
	assert_int_equal(CTL(line), -ENOENT);             /* no such instance */
	assert_int_equal(create(0, "i915-GVTg_V5_4", U1), 0);
	assert_int_equal(create(0, "i915-GVTg_V5_4", U2), 0);
	assert_int_equal(CTL(line), 0);
	assert_int_equal(CTL(line), -EBUSY);              /* its group is open already */
	snprintf(line, sizeof(line), "vfio-close %s", U2);
	assert_int_equal(CTL(line), -EINVAL);             /* not open */
	assert_int_equal(CTL("vfio-open not-a-uuid"), -EINVAL);
	assert_int_equal(CTL("vfio-open"), -EINVAL);
	snprintf(line, sizeof(line), "vfio-open %s extra", U2);
	assert_int_equal(CTL(line), -EINVAL);
	/* All or nothing: the second line fails, so U2 is not left open. */
	snprintf(line, sizeof(line), "vfio-open %s\nvfio-open %s", U2, U1);
	assert_int_equal(CTL(line), -EBUSY);
	assert_int_equal(bad, 2);
	assert_false(s.mdevs[sim_find_mdev(&s, U2)].vfio_open);

	text = dump(sim_dump_control);
	assert_string_equal(text, "vfio-open " U1 "\n");
	free(text);
	/* reset clears faults, not holders. */
	assert_int_equal(CTL("reset"), 0);
	assert_true(s.mdevs[sim_find_mdev(&s, U1)].vfio_open);

	/* remove-all removes held and waiting instances too, and gives everything back. */
	assert_int_equal(sim_remove(&s, U1, "1", 1), SIM_REMOVE_BLOCKED);
	assert_int_equal(CTL("remove-all"), 0);
	assert_int_equal(sim_find_mdev(&s, U1), -ENOENT);
	assert_int_equal(sim_find_mdev(&s, U2), -ENOENT);
	assert_int_equal(avail(0, "i915-GVTg_V5_4"), 5);
	text = dump(sim_dump_control);
	assert_string_equal(text, "");
	free(text);

	/* Single-threaded, no writer could wait: vfio-open is refused. */
	assert_int_equal(create(0, "i915-GVTg_V5_4", U1), 0);
	s.cannot_block = true;
	snprintf(line, sizeof(line), "vfio-open %s", U1);
	assert_int_equal(CTL(line), -EOPNOTSUPP);
#undef CTL
}

/*
 * A create in two steps, as mdev_device_create() does it: device_add() (on the bus, not
 * probed), then the driver's probe. A remove in between gets EAGAIN and loses its remove
 * attribute; a probe that fails takes the device away again and gives its count back.
 */
static void test_create_stages(void **state)
{
	unsigned int m, i, bad = 0;
	char u[SIM_UUID_LEN + 1], *text;

	(void)state;
	assert_int_equal(sim_init(&s, "counted"), 0);
	assert_int_equal(sim_create_add(&s, 0, 0, U1, strlen(U1), &m), 0);
	assert_int_equal(s.mdevs[m].stage, SIM_ADDED);
	assert_int_equal(avail(0, "mdpy-vga"), 3);            /* the core's count: taken */
	assert_int_equal(create(0, "mdpy-xga", U1), -EEXIST);
	text = dump(sim_dump_state);
	assert_non_null(strstr(text, "mdev " U1 " parent=mdpy type=mdpy-vga probing\n"));
	free(text);
	assert_int_equal(sim_remove(&s, U1, "1", 1), -EAGAIN);
	assert_true(s.mdevs[m].no_remove);
	assert_int_equal(sim_create_probe(&s, m, s.mdevs[m].serial), 0);
	assert_int_equal(s.mdevs[m].stage, SIM_LIVE);
	/* The kernel's remove_store() took the attribute away before it got EAGAIN. */
	assert_int_equal(sim_remove(&s, U1, "1", 1), -ENODEV);
	assert_true(sim_find_mdev(&s, U1) >= 0);
	sim_remove_all(&s);

	/* The core's EUSERS comes before the probe, so a fault armed for the probe waits. */
	for (i = 0; i < 4; i++) {
		uuid_n(u, i);
		assert_int_equal(create(0, "mdpy-hd", u), 0);
	}
	assert_int_equal(sim_control(&s, "fail create 1 EIO", 17, &bad), 0);
	assert_int_equal(create(0, "mdpy-vga", U2), -EUSERS);
	assert_int_equal(s.faults[SIM_CREATE].count, 1);
	assert_int_equal(sim_remove(&s, u, "1", 1), 0);
	assert_int_equal(sim_create_add(&s, 0, 0, U2, strlen(U2), &m), 0);
	assert_int_equal(sim_create_probe(&s, m, s.mdevs[m].serial), -EIO);
	assert_int_equal(sim_find_mdev(&s, U2), -ENOENT);
	assert_int_equal(avail(0, "mdpy-vga"), 1);            /* given back */
	sim_remove_all(&s);
	/* A probe of an instance removed meanwhile (remove-all) finds it gone. */
	assert_int_equal(sim_create_add(&s, 0, 0, U2, strlen(U2), &m), 0);
	sim_remove_all(&s);
	assert_int_equal(sim_create_probe(&s, m, s.mdevs[m].serial), -ENODEV);
	assert_int_equal(avail(0, "mdpy-vga"), 4);
}

/* vfio-dev indexes, like IOMMU groups, are the lowest free ones (ida), from 0. */
static void test_vfio_index(void **state)
{
	(void)state;
	assert_int_equal(sim_init(&s, "samples"), 0);
	assert_int_equal(create(0, "mdpy-vga", U1), 0);
	assert_int_equal(create(2, "mtty-1", U2), 0);
	assert_int_equal(s.mdevs[sim_find_mdev(&s, U1)].vfio_index, 0);
	assert_int_equal(s.mdevs[sim_find_mdev(&s, U2)].vfio_index, 1);
	assert_int_equal(sim_remove(&s, U1, "1", 1), 0);
	assert_int_equal(create(1, "mbochs-small", U1), 0);
	assert_int_equal(s.mdevs[sim_find_mdev(&s, U1)].vfio_index, 0);
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
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_held_remove),
		cmocka_unit_test(test_hold_control),
		cmocka_unit_test(test_create_stages),
		cmocka_unit_test(test_vfio_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
