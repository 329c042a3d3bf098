/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * inhibit.h: a host with a GVT-g vGPU must not sleep. Suspend and hibernate hang or break
 * GVT-g hosts while vGPUs exist (intel/gvt-linux #156, #140: "Host S3 support is not
 * implemented yet in GVT"; research/anchors-update.md section 5). vgpu-inhibit holds
 * systemd-logind's "sleep" inhibitor lock in "block" mode for as long as any ownership
 * record of vgpu-hook exists, so `systemctl suspend` (hibernate, hybrid-sleep,
 * suspend-then-hibernate) is refused with a reason that names the guests, and allowed
 * again as soon as the last record is gone.
 *
 * Why records, not devices: a record exists from before the vGPU is created until after it
 * is removed (owner.h), so counting records never misses a vGPU being made, and a vGPU
 * left by a killed hook keeps its record until a release, prepare or the host tool
 * finishes the job.
 *
 * Why a daemon of its own: an inhibitor lock lives as long as the descriptor logind hands
 * out (org.freedesktop.login1.Manager.Inhibit, systemd's doc/INHIBITOR_LOCKS), so the hook,
 * which exits within milliseconds, cannot hold it; and libsystemd, whose sd-bus makes the
 * call, has no static archive in Debian, which the hook's static link needs.
 */
#ifndef VGPU_INHIBIT_H
#define VGPU_INHIBIT_H

#include <stddef.h>

#include "owner.h"

/* The reason logind shows (`systemd-inhibit --list`, the error of `systemctl suspend`). */
#define INHIBIT_WHY_MAX 512

/*
 * inhibit_why: write into @buf (@len bytes, at least 128) the reason for @n records @recs:
 * "vGPUs exist for GUEST[, GUEST...]: GVT-g hosts hang or break in suspend; stop these
 * guests first", each domain named once, in the records' order; names that do not fit are
 * counted ("and 3 more"). Returns the number of distinct domains named or counted.
 */
size_t inhibit_why(const struct owner_record *recs, size_t n, char *buf, size_t len);

/*
 * inhibit_take: ask logind on the system bus for a "sleep" inhibitor in "block" mode,
 * who "vgpu-hook", why @why. Returns the lock's descriptor (close-on-exec; closing it
 * releases the lock), or -errno: that of connecting to the system bus, or of the call
 * (logind missing: -EHOSTDOWN/-ENOENT as sd-bus maps it; refused: -EACCES). On error, a
 * one-line reason is logged with the bus's error message.
 */
int inhibit_take(const char *why);

/*
 * inhibit_run: the daemon's loop. Opens @state_dir (making it, mode 0700, when missing),
 * watches it with inotify, and after every change re-reads the records: while there is
 * at least one it holds a lock whose reason is inhibit_why()'s (a new lock is taken before
 * the old one is dropped, so the host is never unprotected in between); with none it holds
 * no lock. Runs until SIGTERM, SIGINT or SIGHUP (returns 0, the lock released), or until
 * the state directory is removed or renamed, or inotify fails (returns -errno).
 * A failed inhibit_take() is logged and retried at the next change, or after
 * @retry_ms milliseconds, whichever is first.
 */
int inhibit_run(const char *state_dir, unsigned retry_ms);

#endif
