/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vgpu-hook: libvirt's QEMU hook for mdev vGPUs, and its host tool.
 *
 * libvirt runs it as `vgpu-hook NAME OP SUBOP EXTRA` with the domain XML on stdin and an
 * emptied environment (research/hook-anchors.md 1.1, 1.3). A domain may be called `--help`
 * or `--gpu` (libvirt refuses only '/' and a newline in a name), so the domain name is
 * never read as an option: four arguments whose OP is one of libvirt's operations, or
 * whose SUBOP is one of its sub-operations, are a hook call, and a hook call never writes
 * stdout. Four other arguments are read as options (a mistyped host-tool command gets its
 * usage error); when the first is not an option they are still a hook call, of an
 * operation a later libvirt may add, which does nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "doctor.h"
#include "hook.h"
#include "log.h"
#include "report.h"

#ifndef VGPU_CONFIG_PATH
#define VGPU_CONFIG_PATH "/etc/vgpu-hook/vgpu-hook.conf"
#endif
#ifndef VGPU_HOOKS_DIR
#define VGPU_HOOKS_DIR "/etc/libvirt/hooks"
#endif
#ifndef VGPU_HOOK_BIN
#define VGPU_HOOK_BIN "/usr/sbin/vgpu-hook"
#endif
#ifndef VGPU_LIBVIRT_QEMU_DIR
#define VGPU_LIBVIRT_QEMU_DIR "/etc/libvirt/qemu"
#endif
#ifndef VGPU_VERSION
#define VGPU_VERSION "unknown"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vgpu-hook NAME OP SUBOP EXTRA   (as libvirt runs it; domain XML on stdin)\n"
		"       vgpu-hook [--config FILE] [--dry-run] [--] NAME OP SUBOP EXTRA\n"
		"       vgpu-hook [--config FILE] --types | --status [FILE...] | --check-config | --cleanup\n"
		"       vgpu-hook [--config FILE] --reclaim\n"
		"       vgpu-hook [--config FILE] --forget UUID\n"
		"       vgpu-hook [--config FILE] --doctor [NAME [FILE]]\n"
		"       vgpu-hook --help | --version\n"
		"\n"
		"Creates a domain's mdev vGPUs on 'prepare begin' and removes the ones it created\n"
		"on 'release end'; every other operation does nothing. Four arguments whose OP\n"
		"is a libvirt operation are a hook call, whatever NAME is; after options, give\n"
		"a NAME that starts with '-' after '--'.\n"
		"\n"
		"  --dry-run       print what the call would do (XML on stdin); change nothing\n"
		"  --types         list every parent and mdev type with its free instances\n"
		"  --status        list the mdevs that exist and the domain each was created for,\n"
		"                  and whether each guest with a vGPU could start now (those\n"
		"                  in %s, or the domain XML FILEs given)\n"
		"  --check-config  validate the config file and report FILE:LINE errors\n"
		"  --cleanup       finish what releases left (vGPUs then in use) and drop stale\n"
		"                  ownership records\n"
		"  --reclaim       --cleanup, and remove each vGPU no process holds whose record\n"
		"                  is 5 minutes old: a leak, no guest runs or starts with it\n"
		"  --forget UUID   delete the ownership record of one vGPU; the device stays\n"
		"  --doctor        check, one line each, what this host needs to make vGPUs\n"
		"                  and say how to fix what is wrong; with NAME, also whether\n"
		"                  that guest could start now (its XML from FILE, '-' for\n"
		"                  stdin, or libvirt's %s/NAME.xml)\n"
		"  --config FILE   use FILE instead of %s\n"
		"                  (tests and demos; libvirt always uses the compiled-in path)\n",
		VGPU_LIBVIRT_QEMU_DIR, VGPU_LIBVIRT_QEMU_DIR, VGPU_CONFIG_PATH);
}

/* The hook must never write to stdout (for migrate and restore libvirt would take it as
 * the new domain definition), so stdout points nowhere. */
static void stdout_to_null(void)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		if (fd != STDOUT_FILENO)
			close(fd);
	}
}

static int run_hook(struct hook_env *env, char **args)
{
	char err[MSG_LINE_MAX];
	int status;

	status = hook_run(env, args[0], args[1], args[2], args[3], STDIN_FILENO, err,
			  sizeof(err));
	/* The one line libvirt shows, made one line by the sink (log_line). */
	if (status && !env->plan_out)
		log_line(stderr, "vgpu-hook: ", err);
	return status;
}

/* libvirt's QEMU hook operations and sub-operations (src/util/virhook.c:
 * VIR_ENUM_IMPL(virHookQemuOp) and virHookSubop; research/hook-anchors.md 1.1). */
static const char *const hook_ops[] = {
	"start", "stopped", "prepare", "release", "migrate", "started", "reconnect", "attach",
	"restore",
};
static const char *const hook_subops[] = { "-", "begin", "end" };

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* Whether @argc/@argv is libvirt calling, whatever the domain name (argv[1]) looks like. */
static bool is_hook_call(int argc, char **argv)
{
	return argc == 5 && (in_list(argv[2], hook_ops, ARRAY_SIZE(hook_ops)) ||
			     in_list(argv[3], hook_subops, ARRAY_SIZE(hook_subops)));
}

static int load_for_tool(const char *path, struct config **cfg)
{
	struct strv errors = { 0 };
	int r = config_load(path, 0, cfg, &errors);

	if (r < 0) {
		log_line(stderr, "vgpu-hook: ", errors.n ? errors.v[0] : strerror(-r));
		if (errors.n > 1)
			fprintf(stderr, "vgpu-hook: (more errors: vgpu-hook --check-config)\n");
	}
	strv_free(&errors);
	return r;
}

/*
 * --doctor [NAME [FILE]]: the host's checks, then, for a domain, the dry run of its
 * `prepare begin`. Exit 0 only when a guest with a vGPU could start now: no check failed,
 * and the domain's dry run succeeds (or, without a domain, some type has a free instance).
 */
static int doctor(const char *path, int argc, char **argv)
{
	struct doctor_env de = {
		.root = "", .proc_root = "/proc", .hooks_dir = VGPU_HOOKS_DIR, .hook_bin = VGPU_HOOK_BIN,
	};
	struct doctor_result res;
	struct config *cfg = NULL;
	struct hook_env env;
	char xml[4096];
	int status;

	if (load_for_tool(path, &cfg) < 0) {
		printf("FAIL  config: %s cannot be used (above); fix: vgpu-hook --check-config\n",
		       path);
		return 1;
	}
	doctor_host(&de, cfg, stdout, &res);
	config_free(cfg);
	if (argc == 0) {
		status = res.fails || !res.free_instances;
		printf("%s: %u failed, %u warnings, %u free vGPU instances\n",
		       status ? "no vGPU guest can start now" : "a vGPU guest can start now",
		       res.fails, res.warns, res.free_instances);
		return status;
	}
	if (argc == 2 && strcmp(argv[1], "-") == 0) {
		xml[0] = '\0';
	} else {
		if (argc == 2)
			snprintf(xml, sizeof(xml), "%s", argv[1]);
		else
			snprintf(xml, sizeof(xml), "%s/%s.xml", VGPU_LIBVIRT_QEMU_DIR, argv[0]);
		int fd = open(xml, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			printf("FAIL  domain: %s: %s; fix: virsh dumpxml %s | vgpu-hook --doctor %s -"
			       "\n", xml, strerror(errno), argv[0], argv[0]);
			return 1;
		}
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	fflush(stdout);
	char *args[] = { argv[0], (char *)"prepare", (char *)"begin", (char *)"-" };

	hook_env_init(&env, path);
	env.plan_out = stdout;
	status = run_hook(&env, args);
	printf("%s %s start now: %u failed, %u warnings\n", argv[0],
	       status || res.fails ? "cannot" : "can", res.fails, res.warns);
	return status || res.fails ? 1 : 0;
}

int main(int argc, char **argv)
{
	enum { MODE_NONE, MODE_DRY, MODE_TYPES, MODE_STATUS, MODE_CHECK, MODE_CLEANUP,
	       MODE_FORGET, MODE_DOCTOR, MODE_RECLAIM } mode = MODE_NONE;
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "types", no_argument, NULL, 't' },
		{ "status", no_argument, NULL, 's' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "cleanup", no_argument, NULL, 'L' },
		{ "reclaim", no_argument, NULL, 'R' },
		{ "forget", required_argument, NULL, 'F' },
		{ "doctor", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = VGPU_CONFIG_PATH, *forget = NULL;
	struct hook_env env;
	struct config *cfg = NULL;
	struct mdev_sysfs sysfs = { 0 };
	int c, status, r;

	if (is_hook_call(argc, argv)) {
		log_open("vgpu-hook", false);
		stdout_to_null();
		hook_env_init(&env, path);
		return run_hook(&env, argv + 1);
	}

	log_open("vgpu-hook", true);
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'n':
		case 't':
		case 's':
		case 'C':
		case 'L':
		case 'R':
		case 'F':
		case 'D':
			if (mode != MODE_NONE) {
				fprintf(stderr, "vgpu-hook: give one of --dry-run, --types, --status, "
					"--check-config, --cleanup, --reclaim, --forget, --doctor\n");
				return 2;
			}
			mode = c == 'n' ? MODE_DRY : c == 't' ? MODE_TYPES
			     : c == 's' ? MODE_STATUS : c == 'C' ? MODE_CHECK
			     : c == 'L' ? MODE_CLEANUP : c == 'R' ? MODE_RECLAIM
			     : c == 'F' ? MODE_FORGET : MODE_DOCTOR;
			if (c == 'F')
				forget = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("vgpu-hook %s\n", VGPU_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;

	switch (mode) {
	case MODE_NONE:
		if (argc != 4) {
			fprintf(stderr, "vgpu-hook: expected NAME OP SUBOP EXTRA, got %d "
				"argument%s\n", argc, argc == 1 ? "" : "s");
			usage(stderr);
			return 2;
		}
		log_open("vgpu-hook", false);   /* stderr: the one line, as under libvirt */
		stdout_to_null();
		hook_env_init(&env, path);
		return run_hook(&env, argv);
	case MODE_DRY:
		if (argc != 4) {
			fprintf(stderr, "vgpu-hook: --dry-run needs NAME OP SUBOP EXTRA\n");
			return 2;
		}
		hook_env_init(&env, path);
		env.plan_out = stdout;
		return run_hook(&env, argv);
	case MODE_CHECK:
		if (argc) {
			fprintf(stderr, "vgpu-hook: --check-config takes no argument; use "
				"--config FILE --check-config\n");
			return 2;
		}
		return report_check_config(path, 0, stdout);
	case MODE_DOCTOR:
		if (argc > 2) {
			fprintf(stderr, "vgpu-hook: --doctor takes at most NAME and FILE\n");
			return 2;
		}
		return doctor(path, argc, argv);
	case MODE_CLEANUP:
	case MODE_RECLAIM: {
		char err[MSG_LINE_MAX];

		if (argc) {
			fprintf(stderr, "vgpu-hook: unexpected argument '%s'\n", argv[0]);
			return 2;
		}
		hook_env_init(&env, path);
		if (mode == MODE_RECLAIM)
			env.reclaim_idle_s = HOOK_RECLAIM_IDLE_S;
		status = hook_cleanup(&env, stdout, err, sizeof(err));
		if (status)
			log_line(stderr, "vgpu-hook: ", err);
		return status;
	}
	case MODE_FORGET:
	case MODE_TYPES:
	case MODE_STATUS:
		if (argc && mode != MODE_STATUS) {
			fprintf(stderr, "vgpu-hook: unexpected argument '%s'\n", argv[0]);
			return 2;
		}
		if (load_for_tool(path, &cfg) < 0)
			return 1;
		sysfs.root = cfg->sysfs_root;
		status = mode == MODE_TYPES ? report_types(&sysfs, stdout)
		       : mode == MODE_STATUS ? report_status(&sysfs, cfg, stdout)
					     : report_forget(cfg, forget, stdout);
		/* And for each guest with a vGPU, given or defined in libvirt: could it start? */
		if (mode == MODE_STATUS &&
		    (r = report_guests(path, VGPU_LIBVIRT_QEMU_DIR, argv, (size_t)argc, stdout)) < 0)
			fprintf(stderr, "vgpu-hook: cannot read %s: %s\n", VGPU_LIBVIRT_QEMU_DIR,
				strerror(-r));
		config_free(cfg);
		return status;
	}
	return 2;
}
