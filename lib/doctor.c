/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* doctor.c: the host checks of `vgpu-hook --doctor` (doctor.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doctor.h"
#include "mdev.h"
#include "owner.h"
#include "util.h"

struct doctor {
	const struct doctor_env *env;
	const char *sys;
	char proc[PATH_MAX];  /* root + proc_root */
	FILE *out;
	struct doctor_result *res;
};

static void say(struct doctor *d, enum doctor_verdict v, const char *area, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void say(struct doctor *d, enum doctor_verdict v, const char *area, const char *fmt, ...)
{
	static const char *const word[] = { "ok", "info", "warn", "FAIL" };
	va_list ap;

	if (v == DOCTOR_FAIL)
		d->res->fails++;
	else if (v == DOCTOR_WARN)
		d->res->warns++;
	fprintf(d->out, "%-5s %s: ", word[v], area);
	va_start(ap, fmt);
	vfprintf(d->out, fmt, ap);
	va_end(ap);
	fputc('\n', d->out);
}

/* Read ROOT/REL into @buf. Returns attr_read()'s value. */
static int read_at(const char *root, const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];

	if (path_fmt(path, sizeof(path), "%s/%s", root, rel) < 0)
		return -ENAMETOOLONG;
	return attr_read(path, buf, len, false);
}

static bool exists_at(const char *root, const char *rel)
{
	char path[PATH_MAX];

	return path_fmt(path, sizeof(path), "%s/%s", root, rel) == 0 && access(path, F_OK) == 0;
}

/* The number of entries of ROOT/REL, without "." and ".."; -errno when unreadable. */
static int count_at(const char *root, const char *rel)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *dir;
	int n = 0;

	if (path_fmt(path, sizeof(path), "%s/%s", root, rel) < 0)
		return -ENAMETOOLONG;
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((e = readdir(dir)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(dir);
	return n;
}

/*
 * Scan ROOT/REL line by line (files larger than any buffer: /proc/stat, AppArmor's profile
 * list) for the first line containing @needle; copy it into @line when given.
 */
static bool grep_at(const char *root, const char *rel, const char *needle, char *line,
		    size_t len)
{
	char path[PATH_MAX], buf[512];
	bool found = false;
	FILE *f;

	if (path_fmt(path, sizeof(path), "%s/%s", root, rel) < 0 || !(f = fopen(path, "re")))
		return false;
	while (!found && fgets(buf, sizeof(buf), f))
		if (strstr(buf, needle)) {
			found = true;
			if (line)
				str_copy(line, len, buf);
		}
	fclose(f);
	return found;
}

/* Whether the whitespace-separated word @w is on the kernel command line @cmdline. */
static bool cmdline_has(const char *cmdline, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = cmdline; (p = strstr(p, w)); p += n)
		if ((p == cmdline || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0' || p[n] == '\n'))
			return true;
	return false;
}

static void check_kernel(struct doctor *d)
{
	char cmdline[4096] = "";
	int units;

	read_at(d->proc, "cmdline", cmdline, sizeof(cmdline));
	/*
	 * An IOMMU's units register in class/iommu (dmar0, ivhd0, ...). Not kernel/iommu_groups:
	 * every mdev gets a group of its own without any IOMMU (vfio_register_emulated_iommu_dev,
	 * as kvmgt and the samples do), so groups prove nothing, and vGPUs need no IOMMU.
	 */
	units = count_at(d->sys, "class/iommu");
	if (units > 0)
		say(d, DOCTOR_OK, "kernel", "IOMMU on: %d unit%s in %s/class/iommu", units,
		    units == 1 ? "" : "s", d->sys);
	else if (cmdline_has(cmdline, "intel_iommu=on") || cmdline_has(cmdline, "amd_iommu=on"))
		say(d, DOCTOR_INFO, "kernel", "no IOMMU although the command line turns it on: "
		    "vGPUs do not need one (each mdev has an emulated IOMMU group); passing a whole "
		    "device through (GVT-d) does: enable VT-d (or AMD-Vi) in the firmware setup");
	else
		say(d, DOCTOR_INFO, "kernel", "no IOMMU: vGPUs do not need one (each mdev has an "
		    "emulated IOMMU group); passing a whole device through (GVT-d) does: enable "
		    "VT-d in the firmware and boot with intel_iommu=on");
	if (exists_at(d->sys, "module/vfio"))
		say(d, DOCTOR_OK, "kernel", "vfio loaded");
	else
		say(d, DOCTOR_FAIL, "kernel", "vfio not loaded; fix: modprobe vfio vfio_iommu_type1");
	/* The mdev core registers the bus; before 6.0 its vfio half was the vfio_mdev module. */
	if (exists_at(d->sys, "bus/mdev"))
		say(d, DOCTOR_OK, "kernel", "mdev core loaded (bus/mdev)");
	else
		say(d, DOCTOR_FAIL, "kernel", "mdev core not loaded (no %s/bus/mdev); fix: modprobe "
		    "mdev (and vfio_mdev on kernels before 6.0), or load the parent's driver "
		    "(kvmgt for GVT-g)", d->sys);
}

/* The four types of gen9 GVT-g (V4_* on Broadwell): kvmgt's vgpu_types table. */
static const char *const gvt_types[] = { "1", "2", "4", "8" };

static void check_intel_gpu(struct doctor *d, const char *addr)
{
	char rel[PATH_MAX], buf[64], dev[16] = "?", gvt[8] = "", guc[16] = "";
	struct strv types = { 0 };
	struct mdev_sysfs s = { .root = d->sys };
	int r;

	path_fmt(rel, sizeof(rel), "bus/pci/devices/%s/device", addr);
	read_at(d->sys, rel, dev, sizeof(dev));
	path_fmt(rel, sizeof(rel), "%s/bus/pci/devices/%s/driver", d->sys, addr);
	char target[PATH_MAX];
	ssize_t n = readlink(rel, target, sizeof(target) - 1);

	target[n > 0 ? n : 0] = '\0';
	const char *drv = n > 0 ? strrchr(target, '/') : NULL;

	drv = drv ? drv + 1 : "";
	if (strcmp(drv, "i915") != 0) {
		say(d, DOCTOR_INFO, "gpu", "%s (Intel %s) is bound to %s, not i915: no GVT-g "
		    "there%s", addr, dev, *drv ? drv : "no driver",
		    strcmp(drv, "vfio-pci") == 0 ? " (passed through whole: GVT-d)" : "");
		return;
	}
	if (read_at(d->sys, "module/i915/parameters/enable_gvt", gvt, sizeof(gvt)) < 0) {
		say(d, DOCTOR_FAIL, "gpu", "%s: this i915 has no enable_gvt parameter: the kernel "
		    "is built without GVT-g (CONFIG_DRM_I915_GVT); fix: a kernel with it (Debian's "
		    "and Ubuntu's have it)", addr);
		return;
	}
	if (strcmp(gvt, "Y") != 0)
		say(d, DOCTOR_FAIL, "gpu", "%s: i915.enable_gvt is off; fix: boot with "
		    "i915.enable_gvt=1 (GRUB_CMDLINE_LINUX, update-grub, reboot)", addr);
	else
		say(d, DOCTOR_OK, "gpu", "%s: i915.enable_gvt=1", addr);
	if (read_at(d->sys, "module/i915/parameters/enable_guc", guc, sizeof(guc)) >= 0 &&
	    atoi(guc) > 0)
		say(d, DOCTOR_FAIL, "gpu", "%s: i915.enable_guc=%s: GVT-g needs the GuC off; fix: "
		    "boot with i915.enable_guc=0", addr, guc);
	if (!exists_at(d->sys, "module/kvmgt")) {
		say(d, DOCTOR_FAIL, "gpu", "%s: kvmgt not loaded; fix: modprobe kvmgt, and add "
		    "kvmgt to /etc/modules-load.d/vgpu.conf (\"No such device\" from modprobe: "
		    "GVT-g is off or this GPU has none)", addr);
		return;
	}
	r = mdev_list_types(&s, addr, &types);
	if (r < 0 || !types.n) {
		if (strcmp(gvt, "Y") == 0)
			say(d, DOCTOR_FAIL, "gpu", "%s (Intel %s) offers no GVT-g type although "
			    "GVT-g is on: GVT-g supports Broadwell to Comet Lake only; newer GPUs "
			    "share through SR-IOV, not mdev", addr, dev);
		strv_free(&types);
		return;
	}
	/* Types kvmgt leaves out because the aperture cannot hold them. */
	char hidden[64] = "";
	const char *gen = strv_contains(&types, "i915-GVTg_V4_1") ||
			  strv_contains(&types, "i915-GVTg_V4_2") ||
			  strv_contains(&types, "i915-GVTg_V4_4") ? "4" : "5";

	for (size_t i = 0; i < sizeof(gvt_types) / sizeof(gvt_types[0]); i++) {
		snprintf(buf, sizeof(buf), "i915-GVTg_V%s_%s", gen, gvt_types[i]);
		if (!strv_contains(&types, buf)) {
			size_t o = strlen(hidden);

			snprintf(hidden + o, sizeof(hidden) - o, "%sV%s_%s", o ? ", " : "", gen,
				 gvt_types[i]);
		}
	}
	if (*hidden)
		say(d, DOCTOR_WARN, "gpu", "%s: the aperture hides types %s; fix: raise the "
		    "aperture (DVMT pre-allocated / aperture size) in the firmware setup, or use "
		    "the smaller types", addr, hidden);
	strv_free(&types);
}

static void check_gpus(struct doctor *d)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *dir;
	unsigned intel = 0;

	if (path_fmt(path, sizeof(path), "%s/bus/pci/devices", d->sys) < 0 || !(dir = opendir(path)))
		return;
	while ((e = readdir(dir))) {
		char rel[PATH_MAX], vendor[16] = "", class[16] = "";

		if (e->d_name[0] == '.')
			continue;
		path_fmt(rel, sizeof(rel), "bus/pci/devices/%s/vendor", e->d_name);
		read_at(d->sys, rel, vendor, sizeof(vendor));
		path_fmt(rel, sizeof(rel), "bus/pci/devices/%s/class", e->d_name);
		read_at(d->sys, rel, class, sizeof(class));
		/* Display controllers: class 0x03xxxx (VGA 0x0300, other 0x0380). */
		if (strcmp(vendor, "0x8086") != 0 || strncmp(class, "0x03", 4) != 0)
			continue;
		intel++;
		check_intel_gpu(d, e->d_name);
	}
	closedir(dir);
	if (!intel)
		say(d, DOCTOR_INFO, "gpu", "no Intel GPU: no GVT-g on this host (other mdev parents "
		    "are listed below)");
}

static void check_parents(struct doctor *d)
{
	struct mdev_sysfs s = { .root = d->sys };
	struct strv parents = { 0 };
	int r = mdev_list_parents(&s, &parents);

	if (r < 0) {
		say(d, DOCTOR_FAIL, "parent", "cannot list the mdev parents under %s: %s", d->sys,
		    strerror(-r));
		return;
	}
	if (!parents.n)
		say(d, DOCTOR_FAIL, "parent", "no mdev parent under %s: nothing can make a vGPU; "
		    "fix: the gpu and kernel lines above", d->sys);
	for (size_t i = 0; i < parents.n; i++) {
		struct strv types = { 0 };
		unsigned long sum = 0;
		char best[MDEV_NAME_MAX + 1] = "";
		unsigned long best_n = 0;

		mdev_list_types(&s, parents.v[i], &types);
		for (size_t t = 0; t < types.n; t++) {
			struct mdev_type_info info;

			if (mdev_type_read(&s, parents.v[i], types.v[t], &info) < 0)
				continue;
			sum += info.available;
			if (info.available > best_n) {
				best_n = info.available;
				str_copy(best, sizeof(best), types.v[t]);
			}
		}
		d->res->free_instances += (unsigned)sum;
		if (sum)
			say(d, DOCTOR_OK, "parent", "%s: %zu types, %lu free instances (most: %s, %lu)",
			    parents.v[i], types.n, sum, best, best_n);
		else
			say(d, DOCTOR_WARN, "parent", "%s: %zu types, no free instance: every one is "
			    "in use; fix: stop a guest using one (vgpu-hook --status)", parents.v[i],
			    types.n);
		strv_free(&types);
	}
	strv_free(&parents);
}

/* A hook file: where it resolves to, whether libvirt runs it. */
struct hook_file {
	char path[PATH_MAX];
	char target[PATH_MAX];  /* realpath, or "" */
	time_t since;           /* when it came to be there: the link's (or file's) ctime */
	bool missing;           /* a link to nothing: @target is the link's text */
};

static bool find_hook(struct doctor *d, struct hook_file *h)
{
	static const char *const where[] = { "qemu.d/vgpu-hook", "qemu" };
	size_t rootlen = strlen(d->env->root);
	char full[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < 2; i++) {
		path_fmt(h->path, sizeof(h->path), "%s/%s", d->env->hooks_dir, where[i]);
		path_fmt(full, sizeof(full), "%s%s", d->env->root, h->path);
		if (lstat(full, &st) < 0)
			continue;
		h->missing = false;
		/* The target as the host sees it: below the root, without it. */
		if (!realpath(full, h->target)) {
			/* Dangling: say where it points (realpath leaves a partial path). */
			ssize_t n = readlink(full, h->target, sizeof(h->target) - 1);

			h->target[n > 0 ? n : 0] = '\0';
			h->missing = true;
		} else if (rootlen) {
			if (strncmp(h->target, d->env->root, rootlen) == 0)
				memmove(h->target, h->target + rootlen, strlen(h->target + rootlen) + 1);
			else
				h->target[0] = '\0';
		}
		/* hooks/qemu may be someone else's script: ours only if it resolves to us. */
		if (i == 1 && strcmp(h->target, d->env->hook_bin) != 0)
			continue;
		h->since = st.st_ctime;
		return true;
	}
	return false;
}

/* Whether libvirtd's or virtqemud's AppArmor profile lets the daemon execute @path. */
static bool apparmor_allows(const char *path)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (strncmp(path, "/etc/libvirt/hooks/", 19) == 0)
		return true;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (strlen(dirs[i]) == n && strncmp(path, dirs[i], n) == 0)
			return true;
	return false;
}

/* The start time (seconds since the epoch) of the first process named @comm, or 0. */
static time_t started(struct doctor *d, const char *comm, long *pid)
{
	char buf[1024], line[64];
	struct dirent *e;
	time_t btime = 0, t = 0;
	DIR *dir;

	if (grep_at(d->proc, "stat", "btime ", line, sizeof(line)))
		btime = strtol(line + 6, NULL, 10);
	if (!btime || !(dir = opendir(d->proc)))
		return 0;
	while ((e = readdir(dir))) {
		char rel[64], name[64];

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		path_fmt(rel, sizeof(rel), "%s/comm", e->d_name);
		if (read_at(d->proc, rel, name, sizeof(name)) < 0 || strcmp(name, comm))
			continue;
		path_fmt(rel, sizeof(rel), "%s/stat", e->d_name);
		if (read_at(d->proc, rel, buf, sizeof(buf)) < 0)
			continue;
		/* Field 22, starttime, in clock ticks since boot; fields after ")" (proc(5)). */
		const char *p = strrchr(buf, ')');
		unsigned long long ticks = 0;
		int field = 2;

		for (; p && *p && field < 22; p++)
			if (*p == ' ')
				field++;
		if (p && sscanf(p, "%llu", &ticks) == 1) {
			long hz = sysconf(_SC_CLK_TCK);

			t = btime + (time_t)(ticks / (unsigned long long)(hz > 0 ? hz : 100));
			*pid = strtol(e->d_name, NULL, 10);
			break;
		}
	}
	closedir(dir);
	return t;
}

/*
 * Another QEMU hook libvirt would have found when it started at @t: hooks/qemu or an entry
 * of hooks/qemu.d other than @ours, executable and there (ctime) before @t. libvirt enables
 * a driver's hooks at start when one of them is executable, then reads qemu.d again at
 * every call (src/util/virhook.c, virHookCheck and virHookCall). Copies its path to @buf.
 */
static bool other_hook_before(struct doctor *d, const char *ours, time_t t, char *buf,
			      size_t len)
{
	char dir[PATH_MAX], full[PATH_MAX];
	struct dirent *e;
	struct stat st;
	bool found = false;
	DIR *dh;

	path_fmt(buf, len, "%s/qemu", d->env->hooks_dir);
	path_fmt(full, sizeof(full), "%s%s", d->env->root, buf);
	if (strcmp(buf, ours) != 0 && stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_ctime < t && access(full, X_OK) == 0)
		return true;
	path_fmt(dir, sizeof(dir), "%s%s/qemu.d", d->env->root, d->env->hooks_dir);
	if (!(dh = opendir(dir)))
		return false;
	while (!found && (e = readdir(dh))) {
		if (e->d_name[0] == '.')
			continue;
		path_fmt(buf, len, "%s/qemu.d/%s", d->env->hooks_dir, e->d_name);
		path_fmt(full, sizeof(full), "%s/%s", dir, e->d_name);
		found = strcmp(buf, ours) != 0 && lstat(full, &st) == 0 && st.st_ctime < t &&
			stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0;
	}
	closedir(dh);
	return found;
}

static void check_libvirt(struct doctor *d)
{
	struct hook_file h = { .since = 0 };
	static const char *const daemons[] = { "libvirtd", "virtqemud" };
	char aa[8] = "";

	if (!find_hook(d, &h)) {
		say(d, DOCTOR_FAIL, "libvirt", "the hook is not registered (neither %s/qemu.d/"
		    "vgpu-hook nor %s/qemu leads to %s); fix: ln -s %s %s/qemu.d/vgpu-hook, then "
		    "systemctl reload libvirtd", d->env->hooks_dir, d->env->hooks_dir,
		    d->env->hook_bin, d->env->hook_bin, d->env->hooks_dir);
		return;
	}
	char full[PATH_MAX];

	path_fmt(full, sizeof(full), "%s%s", d->env->root, h.target);
	if (h.missing || !*h.target || access(full, X_OK) < 0) {
		say(d, DOCTOR_FAIL, "libvirt", "%s leads to %s, which is %s; fix: reinstall "
		    "vgpu-hook", h.path, *h.target ? h.target : "nothing",
		    h.missing || !*h.target ? "missing" : "not executable");
		return;
	}
	say(d, strcmp(h.target, d->env->hook_bin) ? DOCTOR_WARN : DOCTOR_OK, "libvirt",
	    "hook registered: %s -> %s%s", h.path, h.target,
	    strcmp(h.target, d->env->hook_bin) ? " (not the installed hook)" : "");

	/* AppArmor: enabled, and a daemon profile loaded in enforce mode. */
	if (read_at(d->sys, "module/apparmor/parameters/enabled", aa, sizeof(aa)) >= 0 &&
	    strcmp(aa, "Y") == 0 &&
	    (grep_at(d->sys, "kernel/security/apparmor/profiles", "libvirtd (enforce)", NULL, 0) ||
	     grep_at(d->sys, "kernel/security/apparmor/profiles", "virtqemud (enforce)", NULL, 0))) {
		if (apparmor_allows(h.target))
			say(d, DOCTOR_OK, "apparmor", "libvirt's enforcing profile lets the daemon run "
			    "%s", h.target);
		else
			say(d, DOCTOR_FAIL, "apparmor", "libvirt's enforcing profile will refuse to "
			    "run %s (exit status 126 at every guest's start, vGPU or not); fix: "
			    "install the hook in /usr/sbin and link to it", h.target);
	}
	for (size_t i = 0; i < 2; i++) {
		long pid = 0;
		time_t t = started(d, daemons[i], &pid);

		if (!t)
			continue;
		char other[PATH_MAX];

		if (t < h.since && other_hook_before(d, h.path, t, other, sizeof(other)))
			say(d, DOCTOR_OK, "libvirt", "%s (pid %ld) started before the hook was "
			    "registered, with %s there: it runs this one too", daemons[i], pid, other);
		else if (t < h.since)
			say(d, DOCTOR_WARN, "libvirt", "%s (pid %ld) started before the hook was "
			    "registered: unless another QEMU hook was there then, it runs none until "
			    "reloaded; fix: systemctl reload %s (a reload does not clear this line, "
			    "which sees the start time only; a restart does, and guests keep running)",
			    daemons[i], pid, daemons[i]);
		else
			say(d, DOCTOR_OK, "libvirt", "%s (pid %ld) started after the hook was "
			    "registered", daemons[i], pid);
	}
}

static void check_state(struct doctor *d, const struct config *cfg)
{
	struct mdev_sysfs s = { .root = d->sys };
	struct owner_store st;
	struct owner_record *recs = NULL;
	size_t n = 0;
	int r = owner_open(cfg->state_dir, false, &st);

	if (r == -ENOENT) {
		say(d, DOCTOR_OK, "state", "%s not made yet (the first start makes it)",
		    cfg->state_dir);
		return;
	}
	if (r < 0) {
		say(d, DOCTOR_FAIL, "state", "%s: %s; fix: remove it, the next start makes it "
		    "again (mode 0700, owned by root)", cfg->state_dir, strerror(-r));
		return;
	}
	r = owner_list(&st, &recs, &n);
	if (r < 0)
		say(d, DOCTOR_FAIL, "state", "cannot read the records in %s: %s", cfg->state_dir,
		    strerror(-r));
	else
		say(d, DOCTOR_OK, "state", "%s: %zu vGPUs recorded", cfg->state_dir, n);
	for (size_t i = 0; i < n; i++) {
		struct mdev_device dev;
		int f = mdev_device_find(&s, recs[i].mdev, &dev);

		if (f == -ENOENT)
			say(d, DOCTOR_WARN, "state", "the record of vGPU %s of domain %s is stale: "
			    "the vGPU is gone; it keeps the host from sleeping; fix: vgpu-hook "
			    "--cleanup", recs[i].mdev, recs[i].domain);
		else if (f == 0 && recs[i].ino && dev.ino != recs[i].ino)
			say(d, DOCTOR_WARN, "state", "the record of vGPU %s of domain %s is stale: "
			    "the device there now is not the one vgpu-hook created; fix: vgpu-hook "
			    "--cleanup", recs[i].mdev, recs[i].domain);
		else if (f == 0 && recs[i].pending)
			say(d, DOCTOR_INFO, "state", "vGPU %s of domain %s was left by its release "
			    "(held, or its remove was slow); vgpu-hook --cleanup removes it once "
			    "nothing holds it", recs[i].mdev, recs[i].domain);
	}
	free(recs);
	owner_close(&st);
}

void doctor_host(const struct doctor_env *env, const struct config *cfg, FILE *out,
		struct doctor_result *res)
{
	struct doctor d = {
		.env = env,
		.sys = env->sysfs_root ? env->sysfs_root : cfg->sysfs_root,
		.out = out,
		.res = res,
	};

	memset(res, 0, sizeof(*res));
	path_fmt(d.proc, sizeof(d.proc), "%s%s", env->root, env->proc_root);
	check_kernel(&d);
	check_gpus(&d);
	check_parents(&d);
	check_libvirt(&d);
	check_state(&d, cfg);
}
