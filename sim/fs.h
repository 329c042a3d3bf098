/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fs.h: the FUSE side of vgpu-sim: sysfs's layout and file semantics over a struct sim. */
#ifndef VGPU_SIM_FS_H
#define VGPU_SIM_FS_H

#include <stdbool.h>
#include <fuse.h>

#include "sim.h"

struct simfs_config {
	const char *link_root;   /* absolute links point here (the mount point, resolved) */
	bool relative_links;     /* make links relative instead, as real sysfs does */
	bool verbose;            /* one line on stderr per create, remove and control write */
};

/*
 * simfs_main: mount @sim as configured by @cfg, with the FUSE arguments @args (mount point,
 * -f, -s, -d, -o ...), and serve it until it is unmounted. Returns fuse_main()'s value:
 * 0, or nonzero (4: the mount failed).
 */
int simfs_main(struct fuse_args *args, struct sim *sim, const struct simfs_config *cfg);

#endif
