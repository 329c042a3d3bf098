/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vgpu-inhibit: block the host's suspend and hibernate while vgpu-hook's vGPUs exist
 * (inhibit.h). Run by systemd (vgpu-inhibit.service); it reads the state directory from
 * vgpu-hook's config.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "inhibit.h"
#include "log.h"
#include "util.h"

#ifndef VGPU_CONFIG_PATH
#define VGPU_CONFIG_PATH "/etc/vgpu-hook/vgpu-hook.conf"
#endif
#ifndef VGPU_VERSION
#define VGPU_VERSION "unknown"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vgpu-inhibit [--config FILE] [--state-dir DIR]\n"
		"       vgpu-inhibit --help | --version\n"
		"\n"
		"Holds systemd-logind's sleep inhibitor (block mode) while any vGPU that\n"
		"vgpu-hook made exists, naming the guests; releases it when the last is gone.\n"
		"\n"
		"  --config FILE    vgpu-hook's config (default %s), for state_dir\n"
		"  --state-dir DIR  watch DIR instead of the config's state_dir\n",
		VGPU_CONFIG_PATH);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = VGPU_CONFIG_PATH, *state_dir = NULL;
	struct config *cfg = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 's':
			state_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("vgpu-inhibit %s\n", VGPU_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_open("vgpu-inhibit", true);
	if (!state_dir) {
		struct strv errors = { 0 };

		r = config_load(path, 0, &cfg, &errors);
		if (r < 0) {
			log_err("%s", errors.n ? errors.v[0] : strerror(-r));
			strv_free(&errors);
			return 1;
		}
		strv_free(&errors);
		state_dir = cfg->state_dir;
	}
	r = inhibit_run(state_dir, 10000);
	config_free(cfg);
	return r < 0 ? 1 : 0;
}
