/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hook.h: the libvirt QEMU hook: `NAME OP SUBOP EXTRA`, the domain XML on stdin.
 *
 * The contract (research/hook-anchors.md section 1; libvirt 6.5 to 11.x):
 *  - `prepare begin`: create every vGPU of the domain, all or nothing; exit 1 with one line
 *    (which libvirt shows as the start error) when any cannot be made;
 *  - `release end`: remove the vGPUs this hook created for the domain (ownership records);
 *    always exit 0: libvirt ignores the result and the guest is already gone;
 *  - every other operation, `reconnect` included (a failure there kills a running guest):
 *    exit 0 and touch nothing; stdin is not even read;
 *  - stdout is never written: for `migrate` and `restore` it would replace the definition;
 *  - a domain without mdev hostdevs needs neither root nor the config file;
 *  - nothing blocks without bound: `release end` takes at most the config's
 *    release_timeout seconds in all, whatever the kernel does. On Linux 6.x a remove of a
 *    vGPU some process holds through VFIO blocks until it is let go, with no EBUSY
 *    (research/real-kernel.md 4), so a held vGPU is left in place, recorded, and a remove
 *    that does not finish in time goes on in a background process that clears its record
 *    when it completes; any later release, prepare or `vgpu-hook --cleanup` finishes what
 *    was left once nothing holds the vGPU (owner.h, `pending`).
 */
#ifndef VGPU_HOOK_H
#define VGPU_HOOK_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "mdev.h"

#define HOOK_LOCK_TIMEOUT_MS 60000u   /* the longest wait for another hook's lock */
#define HOOK_RETRY_DELAY_MS 200u      /* between remove retries on EBUSY/EAGAIN */

/* How the hook runs: production values come from hook/main.c, tests set their own. */
struct hook_env {
	const char *config_path;   /* the config file; compiled in for production */
	uid_t config_owner;        /* who must own it: 0 */
	mdev_write_fn write;       /* kernel seam for sysfs writes; NULL: the real write(2) */
	void *write_opaque;
	unsigned lock_timeout_ms;
	unsigned retry_delay_ms;
	FILE *plan_out;            /* non-NULL: dry run, describe the plan here, change nothing */
	const char *proc_root;     /* procfs, to find who holds a vGPU; NULL: "/proc" */
	const char *dev_root;      /* /dev, for the VFIO nodes; NULL: "/dev" */
	bool privileged;           /* may create vGPUs and keep records: euid 0 */
	unsigned reclaim_idle_s;   /* hook_cleanup: reclaim leaked vGPUs (below); 0: never */
};

/*
 * A running guest's QEMU holds its vGPU through VFIO from seconds after `prepare begin`
 * until it stops; a vGPU nobody holds whose record has not been written for this long
 * belongs to no running or starting guest (libvirtd and QEMU killed, a release that never
 * ran): `vgpu-hook --reclaim` removes it.
 */
#define HOOK_RECLAIM_IDLE_S 300

/* hook_env_init: production defaults for @env (config @path, owner root, real writes, the
 * real /proc and /dev, privileged when the effective uid is 0). */
void hook_env_init(struct hook_env *env, const char *path);

/*
 * hook_run: one hook call. @name, @op, @subop, @extra are argv[1..4] as libvirt passes them
 * (@extra may be "-", a shutoff reason such as "destroyed" or "from snapshot"). The domain
 * XML is read from @in_fd, only for `prepare begin` and `release end`.
 * On failure @err (@errlen bytes) holds the one line for stderr, without the program name
 * and without a newline, e.g. "win10: cannot create vGPU 3c0c...: ...", logged to syslog
 * but not to stderr: the caller prints it (with @env->plan_out, hook_run() itself writes
 * it there as "NAME: would fail: LINE").
 * Returns the exit status: 0, or 1 (only `prepare` fails, and a dry run that finds a
 * problem); every action and failure is also logged (log.h).
 */
int hook_run(const struct hook_env *env, const char *name, const char *op, const char *subop,
	     const char *extra, int in_fd, char *err, size_t errlen);

/*
 * hook_cleanup: the host tool's `--cleanup`: under the lock, go through every ownership
 * record and finish what a release left (owner.h `pending`: remove the vGPU once nothing
 * holds it), drop the records whose vGPU is gone or was created again by someone else, and
 * leave the others (a guest that runs or starts). With @env->reclaim_idle_s, a vGPU whose
 * record has not been written for that many seconds is released as its domain's release
 * would (removed unless a process holds it: then left, pending). One line per record goes
 * to @out.
 * Bounded by release_timeout like a release. Returns the exit status: 0, or 1 when the
 * config, the state directory or the lock cannot be had (the line in @err, for the caller
 * to print; it is logged to syslog only).
 */
int hook_cleanup(const struct hook_env *env, FILE *out, char *err, size_t errlen);

#endif
