/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * doctor_host() on hosts built for each thing users get wrong (research/anchors-update.md
 * section 5): a good GVT-g host, then one fault each, and what line and fix it gives.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "doctor.h"
#include "owner.h"
#include "testutil.h"

struct host {
	char *root;        /* stands for / */
	char *sys;         /* root/sys */
	struct config *cfg;
	struct doctor_env env;
	char *out;         /* the report */
	struct doctor_result res;
};

static void mkdirs(const char *path)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0755);
			*p = '/';
		}
	mkdir(buf, 0755);
}

/* put(h, "sys/module/kvmgt/", NULL): a directory; put(h, "a/b", "x"): a file holding x. */
static void put(struct host *h, const char *rel, const char *content)
{
	char *path = tu_fmt("%s/%s", h->root, rel);
	char *slash = strrchr(path, '/');

	if (!content) {
		mkdirs(path);
	} else {
		*slash = '\0';
		mkdirs(path);
		*slash = '/';
		tu_write_file(path, content);
	}
	free(path);
}

static void link_at(struct host *h, const char *target, const char *rel)
{
	char *path = tu_fmt("%s/%s", h->root, rel);

	unlink(path);
	assert_int_equal(symlink(target, path), 0);
	free(path);
}

static void drop(struct host *h, const char *rel)
{
	char *path = tu_fmt("%s/%s", h->root, rel);

	tu_rmtree(path);
	free(path);
}

#define GPU "sys/bus/pci/devices/0000:00:02.0"
/* Links below the root are relative: an absolute one would resolve against the real /. */
#define UP4 "../../../../"

static void gvt_type(struct host *h, const char *type, const char *avail)
{
	char *dir = tu_fmt(GPU "/mdev_supported_types/%s", type);
	char *p;

	put(h, p = tu_fmt("%s/available_instances", dir), avail);
	free(p);
	put(h, p = tu_fmt("%s/device_api", dir), "vfio-pci");
	free(p);
	put(h, p = tu_fmt("%s/create", dir), "");
	free(p);
	free(dir);
}

/* A Coffee Lake host set up as the ArchWiki says, libvirtd confined and started after the
 * hook was registered. */
static int good_host(void **state)
{
	struct host *h = calloc(1, sizeof(*h));
	char *conf;

	h->root = tu_tmpdir();
	h->sys = tu_fmt("%s/sys", h->root);
	put(h, "sys/kernel/iommu_groups/0/", NULL);
	put(h, "sys/kernel/iommu_groups/1/", NULL);
	put(h, "sys/class/iommu/dmar0/", NULL);
	put(h, "sys/module/vfio/", NULL);
	put(h, "sys/bus/mdev/devices/", NULL);
	put(h, GPU "/vendor", "0x8086\n");
	put(h, GPU "/device", "0x3e92\n");
	put(h, GPU "/class", "0x030000\n");
	put(h, "sys/bus/pci/drivers/i915/", NULL);
	link_at(h, "../../drivers/i915", GPU "/driver");
	put(h, "sys/module/i915/parameters/enable_gvt", "Y\n");
	put(h, "sys/module/i915/parameters/enable_guc", "0\n");
	put(h, "sys/module/kvmgt/", NULL);
	gvt_type(h, "i915-GVTg_V5_1", "1");
	gvt_type(h, "i915-GVTg_V5_2", "2");
	gvt_type(h, "i915-GVTg_V5_4", "3");
	gvt_type(h, "i915-GVTg_V5_8", "7");
	put(h, "sys/module/apparmor/parameters/enabled", "Y\n");
	put(h, "sys/kernel/security/apparmor/profiles",
	    "virt-aa-helper (enforce)\nlibvirtd (enforce)\nlibvirtd//qemu_bridge_helper (enforce)\n");
	put(h, "usr/sbin/vgpu-hook", "#!/bin/sh\n");
	char *bin = tu_fmt("%s/usr/sbin/vgpu-hook", h->root);

	chmod(bin, 0755);
	free(bin);
	put(h, "etc/libvirt/hooks/qemu.d/", NULL);
	link_at(h, UP4 "usr/sbin/vgpu-hook", "etc/libvirt/hooks/qemu.d/vgpu-hook");
	/* libvirtd started 10 s from now, as far as its start time says: after the hook. */
	char *btime = tu_fmt("cpu  1 2 3\nbtime %ld\nprocesses 9\n", (long)time(NULL) + 10);

	put(h, "proc/stat", btime);
	free(btime);
	put(h, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 intel_iommu=on i915.enable_gvt=1\n");
	put(h, "proc/812/comm", "libvirtd\n");
	put(h, "proc/812/stat", "812 (libvirtd) S 1 812 812 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 "
				"17 0 0 1 2 3\n");
	conf = tu_fmt("[defaults]\nsysfs_root = %s\nstate_dir = %s/run/vgpu-hook\n", h->sys, h->root);
	FILE *f = fmemopen(conf, strlen(conf), "r");

	assert_int_equal(config_parse(f, "test.conf", &h->cfg, NULL), 0);
	fclose(f);
	free(conf);
	h->env = (struct doctor_env){ .root = h->root, .proc_root = "/proc",
				      .hooks_dir = "/etc/libvirt/hooks",
				      .hook_bin = "/usr/sbin/vgpu-hook" };
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct host *h = *state;

	tu_rmtree(h->root);
	config_free(h->cfg);
	free(h->root);
	free(h->sys);
	free(h->out);
	free(h);
	return 0;
}

static void run(struct host *h)
{
	size_t len = 0;
	FILE *out;

	free(h->out);
	h->out = NULL;
	out = open_memstream(&h->out, &len);
	doctor_host(&h->env, h->cfg, out, &h->res);
	fclose(out);
}

/* The report has a line starting with @verdict and containing @needle. */
static void has(const struct host *h, const char *verdict, const char *needle)
{
	for (const char *l = h->out; l && *l;) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		char line[2048];

		snprintf(line, sizeof(line), "%.*s", (int)n, l);
		if (strncmp(line, verdict, strlen(verdict)) == 0 && strstr(line, needle))
			return;
		l += n + (end != NULL);
	}
	print_error("no '%s' line with '%s' in:\n%s", verdict, needle, h->out);
	fail();
}

static void test_good_host(void **state)
{
	struct host *h = *state;

	run(h);
	assert_int_equal(h->res.fails, 0);
	assert_int_equal(h->res.warns, 0);
	assert_int_equal(h->res.free_instances, 13);
	has(h, "ok", "kernel: IOMMU on: 1 unit in ");
	has(h, "ok", "gpu: 0000:00:02.0: i915.enable_gvt=1");
	has(h, "ok", "parent: 0000:00:02.0: 4 types, 13 free instances (most: i915-GVTg_V5_8, 7)");
	has(h, "ok", "libvirt: hook registered: /etc/libvirt/hooks/qemu.d/vgpu-hook -> /usr/sbin/vgpu-hook");
	has(h, "ok", "apparmor: libvirt's enforcing profile lets the daemon run /usr/sbin/vgpu-hook");
	has(h, "ok", "libvirt: libvirtd (pid 812) started after the hook was registered");
	has(h, "ok", "state: ");
}

static void test_gvt_disabled(void **state)
{
	struct host *h = *state;

	put(h, "sys/module/i915/parameters/enable_gvt", "N\n");
	drop(h, GPU "/mdev_supported_types");
	run(h);
	has(h, "FAIL", "i915.enable_gvt is off; fix: boot with i915.enable_gvt=1");
	has(h, "FAIL", "parent: no mdev parent");
	/* Not also blamed on the GPU's generation: GVT-g is simply off. */
	assert_null(strstr(h->out, "Broadwell"));
}

static void test_gvt_not_built(void **state)
{
	struct host *h = *state;

	drop(h, "sys/module/i915/parameters/enable_gvt");
	run(h);
	has(h, "FAIL", "built without GVT-g (CONFIG_DRM_I915_GVT)");
}

static void test_kvmgt_missing(void **state)
{
	struct host *h = *state;

	drop(h, "sys/module/kvmgt");
	drop(h, GPU "/mdev_supported_types");
	run(h);
	has(h, "FAIL", "kvmgt not loaded; fix: modprobe kvmgt");
}

static void test_guc_on(void **state)
{
	struct host *h = *state;

	put(h, "sys/module/i915/parameters/enable_guc", "3\n");
	run(h);
	has(h, "FAIL", "i915.enable_guc=3: GVT-g needs the GuC off; fix: boot with i915.enable_guc=0");
}

static void test_unsupported_generation(void **state)
{
	struct host *h = *state;

	/* An Alder Lake iGPU: GVT-g on, kvmgt loaded, and still no type. */
	put(h, GPU "/device", "0x4680\n");
	drop(h, GPU "/mdev_supported_types");
	run(h);
	has(h, "FAIL", "(Intel 0x4680) offers no GVT-g type although GVT-g is on: GVT-g supports "
		       "Broadwell to Comet Lake only");
}

static void test_no_iommu(void **state)
{
	struct host *h = *state;

	drop(h, "sys/class/iommu");
	drop(h, "sys/kernel/iommu_groups");
	put(h, "proc/cmdline", "root=/dev/sda1 quiet\n");
	run(h);
	has(h, "info", "kernel: no IOMMU: vGPUs do not need one (each mdev has an emulated IOMMU "
		       "group); passing a whole device through (GVT-d) does: enable VT-d in the "
		       "firmware and boot with intel_iommu=on");
	assert_int_equal(h->res.warns, 0);
	assert_int_equal(h->res.fails, 0);
	put(h, "proc/cmdline", "root=/dev/sda1 intel_iommu=on\n");
	run(h);
	has(h, "info", "no IOMMU although the command line turns it on: vGPUs do not need one");
}

/*
 * The real-host tier's VM: no IOMMU at all, and the groups the mdev core made for running
 * vGPUs in kernel/iommu_groups. Those groups are no IOMMU (Linux 6.1 in the tier).
 */
static void test_mdev_groups_are_no_iommu(void **state)
{
	struct host *h = *state;

	put(h, "sys/kernel/iommu_groups/0/devices/", NULL);
	drop(h, "sys/class/iommu/dmar0");
	put(h, "proc/cmdline", "console=ttyS0 loglevel=4\n");
	run(h);
	has(h, "info", "kernel: no IOMMU: vGPUs do not need one");
	assert_null(strstr(h->out, "IOMMU on"));
	assert_int_equal(h->res.warns, 0);
}

static void test_small_aperture(void **state)
{
	struct host *h = *state;

	drop(h, GPU "/mdev_supported_types/i915-GVTg_V5_1");
	drop(h, GPU "/mdev_supported_types/i915-GVTg_V5_2");
	run(h);
	has(h, "warn", "the aperture hides types V5_1, V5_2; fix: raise the aperture");
	assert_int_equal(h->res.fails, 0);
}

static void test_all_in_use(void **state)
{
	struct host *h = *state;

	for (int i = 1; i <= 8; i *= 2) {
		char *p = tu_fmt(GPU "/mdev_supported_types/i915-GVTg_V5_%d/available_instances", i);

		put(h, p, "0\n");
		free(p);
	}
	run(h);
	has(h, "warn", "0000:00:02.0: 4 types, no free instance");
	assert_int_equal(h->res.free_instances, 0);
}

static void test_sample_parent_without_intel(void **state)
{
	struct host *h = *state;

	drop(h, GPU);
	put(h, "sys/devices/virtual/mdpy/mdpy/mdev_supported_types/mdpy-hd/available_instances", "4\n");
	put(h, "sys/devices/virtual/mdpy/mdpy/mdev_supported_types/mdpy-hd/device_api", "vfio-pci\n");
	put(h, "sys/class/mdev_bus/", NULL);
	link_at(h, "../../devices/virtual/mdpy/mdpy", "sys/class/mdev_bus/mdpy");
	run(h);
	has(h, "info", "gpu: no Intel GPU");
	has(h, "ok", "parent: mdpy: 1 types, 4 free instances");
	assert_int_equal(h->res.fails, 0);
}

static void test_hook_not_registered(void **state)
{
	struct host *h = *state;

	drop(h, "etc/libvirt/hooks/qemu.d/vgpu-hook");
	/* Someone else's hooks/qemu is not ours. */
	put(h, "etc/libvirt/hooks/qemu", "#!/bin/sh\nexit 0\n");
	run(h);
	has(h, "FAIL", "libvirt: the hook is not registered");
	has(h, "FAIL", "fix: ln -s /usr/sbin/vgpu-hook /etc/libvirt/hooks/qemu.d/vgpu-hook");
}

static void test_hook_as_main_hook(void **state)
{
	struct host *h = *state;

	drop(h, "etc/libvirt/hooks/qemu.d/vgpu-hook");
	link_at(h, "../../../usr/sbin/vgpu-hook", "etc/libvirt/hooks/qemu");
	run(h);
	has(h, "ok", "hook registered: /etc/libvirt/hooks/qemu -> /usr/sbin/vgpu-hook");
}

static void test_apparmor_denies_libexec(void **state)
{
	struct host *h = *state;

	/* The layout of vgpu-hook 0.1.0: every guest's start fails with exit status 126. */
	put(h, "usr/libexec/vgpu-hook/vgpu-hook", "#!/bin/sh\n");
	char *p = tu_fmt("%s/usr/libexec/vgpu-hook/vgpu-hook", h->root);

	chmod(p, 0755);
	free(p);
	link_at(h, UP4 "usr/libexec/vgpu-hook/vgpu-hook", "etc/libvirt/hooks/qemu.d/vgpu-hook");
	run(h);
	has(h, "FAIL", "apparmor: libvirt's enforcing profile will refuse to run "
		       "/usr/libexec/vgpu-hook/vgpu-hook (exit status 126");
	/* Without an enforcing profile, nothing to say. */
	put(h, "sys/kernel/security/apparmor/profiles", "libvirtd (complain)\n");
	run(h);
	assert_null(strstr(h->out, "apparmor:"));
}

static void test_hook_dangling(void **state)
{
	struct host *h = *state;

	drop(h, "usr/sbin/vgpu-hook");
	run(h);
	has(h, "FAIL", "usr/sbin/vgpu-hook, which is missing; fix: reinstall vgpu-hook");
}

static void test_daemon_started_before_hook(void **state)
{
	struct host *h = *state;

	put(h, "proc/stat", "btime 1000\n");
	run(h);
	has(h, "warn", "libvirtd (pid 812) started before the hook was registered: unless another "
		       "QEMU hook was there then, it runs none until reloaded; fix: systemctl "
		       "reload libvirtd (a reload does not clear this line");
	/* Another hook newer than the daemon start proves nothing. */
	put(h, "etc/libvirt/hooks/qemu.d/other", "#!/bin/sh\n");
	run(h);
	has(h, "warn", "libvirtd (pid 812) started before the hook was registered");
}

/*
 * The real-host tier: libvirt enables its QEMU hooks at start if any is executable and reads
 * qemu.d again at every call, so a hook added next to one that was there runs at once.
 */
static void test_daemon_started_with_other_hook(void **state)
{
	struct host *h = *state;
	char *other = tu_fmt("%s/etc/libvirt/hooks/qemu.d/00-other", h->root);
	struct stat st;
	char *btime;

	put(h, "etc/libvirt/hooks/qemu.d/00-other", "#!/bin/sh\n");
	assert_int_equal(stat(other, &st), 0);
	/* The daemon started 1 s after 00-other appeared, our link 2 s later still. */
	sleep(2);
	link_at(h, UP4 "usr/sbin/vgpu-hook", "etc/libvirt/hooks/qemu.d/vgpu-hook");
	put(h, "proc/stat", btime = tu_fmt("btime %ld\n", (long)st.st_ctime + 1));
	free(btime);
	/* Not executable: libvirt skipped it, so it enabled nothing. */
	run(h);
	has(h, "warn", "libvirtd (pid 812) started before the hook was registered");
	/* chmod changes the ctime: made executable after the daemon started, still nothing. */
	chmod(other, 0755);
	run(h);
	has(h, "warn", "libvirtd (pid 812) started before the hook was registered");
	assert_int_equal(stat(other, &st), 0);
	put(h, "proc/stat", btime = tu_fmt("btime %ld\n", (long)st.st_ctime + 1));
	free(btime);
	sleep(2);
	link_at(h, UP4 "usr/sbin/vgpu-hook", "etc/libvirt/hooks/qemu.d/vgpu-hook");
	run(h);
	has(h, "ok", "libvirtd (pid 812) started before the hook was registered, with "
		     "/etc/libvirt/hooks/qemu.d/00-other there: it runs this one too");
	assert_int_equal(h->res.warns, 0);
	free(other);
}

static void test_stale_record(void **state)
{
	struct host *h = *state;
	struct owner_store st;
	struct owner_record rec = { .mdev = "4b20d080-1b54-4048-85b3-a6a62d165c01",
				    .domain_uuid = "aaaaaaaa-0000-4000-8000-000000000001",
				    .domain = "win10", .parent = "0000:00:02.0",
				    .type = "i915-GVTg_V5_4" };
	char *dir = tu_fmt("%s/run", h->root);

	mkdir(dir, 0755);
	assert_int_equal(owner_open(h->cfg->state_dir, true, &st), 0);
	assert_int_equal(owner_put(&st, &rec), 0);
	owner_close(&st);
	run(h);
	has(h, "ok", "1 vGPUs recorded");
	has(h, "warn", "the record of vGPU 4b20d080-1b54-4048-85b3-a6a62d165c01 of domain win10 is stale: "
		       "the vGPU is gone; it keeps the host from sleeping; fix: vgpu-hook --cleanup");
	free(dir);
}

static void test_state_dir_unsafe(void **state)
{
	struct host *h = *state;
	char *dir = tu_fmt("%s/run/vgpu-hook", h->root);

	mkdirs(dir);
	chmod(dir, 0777);
	run(h);
	has(h, "FAIL", "state: ");
	free(dir);
}

static void test_mdev_core_missing(void **state)
{
	struct host *h = *state;

	drop(h, "sys/bus/mdev");
	drop(h, "sys/module/vfio");
	run(h);
	has(h, "FAIL", "kernel: vfio not loaded; fix: modprobe vfio vfio_iommu_type1");
	has(h, "FAIL", "kernel: mdev core not loaded");
}

#define T(name) cmocka_unit_test_setup_teardown(name, good_host, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_good_host),
		T(test_gvt_disabled),
		T(test_gvt_not_built),
		T(test_kvmgt_missing),
		T(test_guc_on),
		T(test_unsupported_generation),
		T(test_no_iommu),
		T(test_mdev_groups_are_no_iommu),
		T(test_small_aperture),
		T(test_all_in_use),
		T(test_sample_parent_without_intel),
		T(test_hook_not_registered),
		T(test_hook_as_main_hook),
		T(test_apparmor_denies_libexec),
		T(test_hook_dangling),
		T(test_daemon_started_before_hook),
		T(test_daemon_started_with_other_hook),
		T(test_stale_record),
		T(test_state_dir_unsafe),
		T(test_mdev_core_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
