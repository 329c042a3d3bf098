/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * doctor.h: why this host can or cannot give a guest a vGPU, one line per check, each
 * failure with its fix (`vgpu-hook --doctor`). What users of GVT-g and mdev report most
 * (research/anchors-update.md section 5): GVT is not there at all (no
 * mdev_supported_types, kvmgt "No such device", an unsupported GPU generation, a missing
 * kernel option), types hidden by a small aperture, and a hook libvirt never runs.
 *
 * The checks read files only: sysfs, /proc, libvirt's hook directory. Nothing is written,
 * and libvirt is never called.
 */
#ifndef VGPU_DOCTOR_H
#define VGPU_DOCTOR_H

#include <stdio.h>

#include "config.h"

/*
 * Where the doctor looks. @proc_root, @hooks_dir and @hook_bin are absolute paths on the
 * host, read below @root, a directory standing for "/" ("" in production), so that tests
 * can give a whole tree and the paths a link resolves to still read as the host's (links
 * are resolved by the kernel: below a test @root they must be relative).
 */
struct doctor_env {
	const char *root;         /* "" */
	const char *sysfs_root;   /* NULL: the config's sysfs_root ("/sys"); not below @root */
	const char *proc_root;    /* "/proc" */
	const char *hooks_dir;    /* libvirt's hook directory: "/etc/libvirt/hooks" */
	const char *hook_bin;     /* where the hook is installed: "/usr/sbin/vgpu-hook" */
};

/* What a line says. */
enum doctor_verdict {
	DOCTOR_OK,     /* "ok" */
	DOCTOR_INFO,   /* "info": a fact, no action needed */
	DOCTOR_WARN,   /* "warn": works now, but a likely cause of trouble */
	DOCTOR_FAIL,   /* "FAIL": a guest with a vGPU cannot start until this is fixed */
};

/* The outcome of doctor_host(). */
struct doctor_result {
	unsigned fails, warns;
	unsigned free_instances;  /* summed over every parent and type */
};

/*
 * doctor_host: run every host check and print one line each to @out:
 *   "VERDICT  AREA: what was found[; fix: what to do]"
 * AREA is kernel, gpu, parent, libvirt, apparmor or state. The checks:
 *  - kernel: IOMMU groups (and the command line's intel_iommu/amd_iommu), the vfio and
 *    mdev modules (the mdev bus);
 *  - gpu: each Intel display controller: i915 bound, i915.enable_gvt, i915.enable_guc
 *    (GVT-g needs the GuC off), kvmgt loaded, GVT-g types offered (none with everything
 *    else right: a generation GVT-g does not support, Broadwell to Comet Lake only), the
 *    standard types a small aperture hides;
 *  - parent: each mdev parent (any driver) with its types and free instances;
 *  - libvirt: the hook registered as hooks/qemu or an executable in hooks/qemu.d (libvirt >= 6.5),
 *    executable, resolving to @env->hook_bin; the daemon (libvirtd or virtqemud) started
 *    before any QEMU hook existed, so it calls none until reloaded: libvirt looks for
 *    hooks only at start and on SIGHUP (src/util/virhook.c, virHookInitialize and
 *    virHookCall), and reads qemu.d again on every call once one was found;
 *  - apparmor: with AppArmor enabled and libvirtd's or virtqemud's profile enforcing, the
 *    hook's resolved path must be one the profile lets the daemon execute
 *    (usr.sbin.libvirtd.in and usr.sbin.virtqemud.in allow any program directly in
 *    @sbindir@, /usr/bin, /sbin and /bin, and anything below /etc/libvirt/hooks; AppArmor
 *    checks the path after symlinks are resolved);
 *  - state: @cfg's state directory (absent is fine), each ownership record that is stale
 *    (its vGPU gone, or not the device the hook created: owner.h's inode proof), and each
 *    vGPU a release left in place (pending).
 * @cfg is the loaded config (its sysfs_root and state_dir are used; @env->sysfs_root
 * wins when set). Fills @res. A check that cannot read what it needs says so in its line.
 */
void doctor_host(const struct doctor_env *env, const struct config *cfg, FILE *out,
		struct doctor_result *res);

#endif
