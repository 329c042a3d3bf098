// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vgpu-sim: a FUSE file system that behaves like the kernel's mdev sysfs (GVT-g types,
 * instance accounting, the kernel's errno values, fault injection), so that vgpu-hook and
 * libvirt can be run against it on a machine without a GPU. See docs/vgpu-sim.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "fs.h"
#include "sim.h"

#ifndef VGPU_VERSION
#define VGPU_VERSION "unknown"
#endif

#define MAX_CONTROL 32

struct options {
	char *profile;
	char *link_root;
	int relative_links;
	int verbose;
	unsigned int iommu_group_base;
	int help;
	int version;
	char *mountpoint;               /* not owned: points into argv */
	const char *extra;              /* a second non-option argument */
	unsigned int ncontrol;
	char *control[MAX_CONTROL];
	int too_many_control;
};

enum { KEY_HELP, KEY_VERSION, KEY_CONTROL_EQ, KEY_CONTROL_SP };

#define OPT(t, field) { t, offsetof(struct options, field), 1 }

static const struct fuse_opt sim_opts[] = {
	OPT("--profile=%s", profile),
	OPT("--profile %s", profile),
	OPT("--link-root=%s", link_root),
	OPT("--link-root %s", link_root),
	OPT("--relative-links", relative_links),
	OPT("--verbose", verbose),
	OPT("-v", verbose),
	OPT("--iommu-group-base=%u", iommu_group_base),
	OPT("--iommu-group-base %u", iommu_group_base),
	FUSE_OPT_KEY("--control=", KEY_CONTROL_EQ),
	FUSE_OPT_KEY("--control ", KEY_CONTROL_SP),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_END
};

static void usage(FILE *f)
{
	const char *const *p;

	fprintf(f,
		"Usage: vgpu-sim [OPTIONS] MOUNTPOINT\n"
		"A FUSE file system that behaves like the kernel's mdev sysfs (GVT-g vGPUs).\n"
		"\n"
		"  --profile NAME          simulated host (default: %s):", sim_profiles[0]);
	for (p = sim_profiles; *p; p++)
		fprintf(f, " %s", *p);
	fprintf(f, "\n"
		"  --control LINE          run a control-file command at start; repeatable\n"
		"                          (e.g. 'busy remove 3', 'fail create 1 ENOSPC')\n"
		"  --relative-links        relative symlinks, like sysfs (default: absolute, into\n"
		"                          MOUNTPOINT, so that a bind mount of bus/mdev resolves)\n"
		"  --link-root DIR         absolute symlinks point into DIR instead of MOUNTPOINT\n"
		"  --iommu-group-base N    first IOMMU group number (default 0)\n"
		"  -v, --verbose           log every create, remove and control write to stderr\n"
		"  -f                      stay in the foreground\n"
		"  -d                      FUSE debug output (implies -f)\n"
		"  -s                      single-threaded\n"
		"  -o OPT[,OPT...]         FUSE mount options (allow_other is added for root)\n"
		"  -h, --help              this help\n"
		"  -V, --version           version\n"
		"\n"
		"Control: MOUNTPOINT/.vgpu-sim/control ('vfio-open UUID' holds a device as QEMU\n"
		"does, so that its remove blocks); state: MOUNTPOINT/.vgpu-sim/state.\n"
		"Unmount with: umount MOUNTPOINT, or fusermount3 -u MOUNTPOINT.\n");
}

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct options *o = data;

	(void)outargs;
	switch (key) {
	case KEY_HELP:
		o->help = 1;
		return 0;
	case KEY_VERSION:
		o->version = 1;
		return 0;
	case KEY_CONTROL_EQ:
	case KEY_CONTROL_SP:
		/* "--control=LINE", or "--control" and "LINE" joined by fuse_opt. */
		arg += strlen(key == KEY_CONTROL_EQ ? "--control=" : "--control");
		if (o->ncontrol == MAX_CONTROL) {
			o->too_many_control = 1;
			return 0;
		}
		o->control[o->ncontrol] = strdup(arg);
		if (!o->control[o->ncontrol])
			return -1;
		o->ncontrol++;
		return 0;
	case FUSE_OPT_KEY_NONOPT:
		if (!o->mountpoint)
			o->mountpoint = (char *)arg;
		else if (!o->extra)
			o->extra = arg;
		return 1;
	default:
		return 1;
	}
}

/* A clear reason, before FUSE prints its own less clear one. */
static int check_fuse(void)
{
	int fd;

	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vgpu-sim: FUSE is unavailable: cannot open /dev/fuse: %s%s\n",
			strerror(errno), errno == ENOENT ?
			" (load the fuse module, or give the container /dev/fuse)" : "");
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Whether FUSE will serve requests one at a time (-s): then a remove blocked by a VFIO holder
 * would stop every other request, the vfio-close that would end it included. Parsed from a
 * copy, as fuse_main() parses @args again. Returns 1, 0, or -1 (out of memory).
 */
static int single_threaded(const struct fuse_args *args)
{
	struct fuse_args copy = FUSE_ARGS_INIT(0, NULL);
	struct fuse_cmdline_opts opts = { 0 };
	int i, ret = -1;

	for (i = 0; i < args->argc; i++)
		if (fuse_opt_add_arg(&copy, args->argv[i]))
			goto out;
	/* An error here is reported by fuse_main() later, with its own message. */
	ret = fuse_parse_cmdline(&copy, &opts) ? 0 : opts.singlethread != 0;
	free(opts.mountpoint);
out:
	fuse_opt_free_args(&copy);
	return ret;
}

static int setup(struct sim *sim, const struct options *o, bool cannot_block)
{
	unsigned int i, bad;
	int ret;

	if (sim_init(sim, o->profile ? o->profile : sim_profiles[0])) {
		fprintf(stderr, "vgpu-sim: unknown profile '%s' (see vgpu-sim --help)\n",
			o->profile);
		return -1;
	}
	sim->iommu_group_base = o->iommu_group_base;
	sim->cannot_block = cannot_block;
	for (i = 0; i < o->ncontrol; i++) {
		ret = sim_control(sim, o->control[i], strlen(o->control[i]), &bad);
		if (ret == -EINVAL) {
			fprintf(stderr, "vgpu-sim: invalid --control '%s' (see docs/vgpu-sim.md)\n",
				o->control[i]);
			return -1;
		}
		if (ret) {
			/* vfio-open of an instance that cannot exist yet, or with -s. */
			fprintf(stderr, "vgpu-sim: --control '%s': %s%s\n", o->control[i],
				strerror(-ret), ret == -EOPNOTSUPP ?
				" (vfio-open needs the multi-threaded mode: drop -s)" : "");
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options o = { 0 };
	struct simfs_config cfg = { 0 };
	char root[PATH_MAX];
	static struct sim sim;
	unsigned int i;
	int ret = 2, st;

	if (fuse_opt_parse(&args, &o, sim_opts, opt_proc)) {
		fprintf(stderr, "vgpu-sim: invalid arguments (see vgpu-sim --help)\n");
		goto out;
	}
	if (o.help) {
		usage(stdout);
		ret = 0;
		goto out;
	}
	if (o.version) {
		printf("vgpu-sim %s (FUSE %s)\n", VGPU_VERSION, fuse_pkgversion());
		ret = 0;
		goto out;
	}
	if (o.too_many_control) {
		fprintf(stderr, "vgpu-sim: at most %d --control options\n", MAX_CONTROL);
		goto out;
	}
	if (!o.mountpoint) {
		fprintf(stderr, "vgpu-sim: no mount point given\n");
		usage(stderr);
		goto out;
	}
	if (o.extra) {
		fprintf(stderr, "vgpu-sim: unexpected argument '%s' (see vgpu-sim --help)\n",
			o.extra);
		goto out;
	}
	st = single_threaded(&args);
	if (st < 0) {
		fprintf(stderr, "vgpu-sim: out of memory\n");
		goto out;
	}
	if (setup(&sim, &o, st == 1))
		goto out;

	ret = 1;
	if (!o.relative_links) {
		/* Absolute links must name the mount point as every process sees it. */
		if (!realpath(o.link_root ? o.link_root : o.mountpoint, root)) {
			fprintf(stderr, "vgpu-sim: %s: %s\n",
				o.link_root ? o.link_root : o.mountpoint, strerror(errno));
			goto out;
		}
		cfg.link_root = strcmp(root, "/") ? root : "";
	}
	cfg.relative_links = o.relative_links;
	cfg.verbose = o.verbose;
	if (check_fuse())
		goto out;

	/*
	 * First, so that the user's -o can override: sysfs's modes enforced; root's vgpu-sim
	 * readable by other processes (libvirtd); thread counts for 16 concurrent writers,
	 * set because libfuse 3.14.0 warns about its own default of max_idle_threads.
	 */
	if (fuse_opt_insert_arg(&args, 1, "-odefault_permissions,fsname=vgpu-sim,"
				"max_idle_threads=16,max_threads=16") ||
	    (geteuid() == 0 && fuse_opt_insert_arg(&args, 1, "-oallow_other"))) {
		fprintf(stderr, "vgpu-sim: out of memory\n");
		goto out;
	}

	ret = simfs_main(&args, &sim, &cfg);
	if (ret == 4)
		fprintf(stderr, "vgpu-sim: cannot mount on %s (the reason is above; mounting needs "
			"root, or fusermount3 for a user)\n", o.mountpoint);
	ret = ret ? 1 : 0;
out:
	for (i = 0; i < o.ncontrol; i++)
		free(o.control[i]);
	free(o.profile);
	free(o.link_root);
	fuse_opt_free_args(&args);
	return ret;
}
