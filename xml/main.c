/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vgpu-xml: rewrite a libvirt domain XML so the guest uses an mdev vGPU (lib/patch.h does the
 * work), on a file, on stdin or on a domain through any libvirt connection.
 *
 * MUST:
 *  1. never leave a half-written file: --in-place writes a temporary file in the same
 *     directory, fsyncs it and renames it over the original, keeping its mode;
 *  2. fetch a domain with VIR_DOMAIN_XML_SECURE: without it, passwords are missing and the
 *     redefinition erases them;
 *  3. write nothing when the input is malformed or the rewrite fails.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "domxml.h"
#include "mdev.h"
#include "patch.h"
#include "report.h"
#include "util.h"

#ifndef VGPU_VERSION
#define VGPU_VERSION "unknown"
#endif

#define EXIT_USAGE 2

static const char *prog = "vgpu-xml";

struct args {
	struct patch_opts o;
	const char *file;
	const char *domain;
	const char *uri;
	unsigned long qemu_version;   /* --qemu-version, libvirt's encoding; 0: not given */
	bool check, in_place, dry_run, quiet, run_emulator;
};

extern char **environ;

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s [OPTIONS] FILE|-\n"
"       %s [OPTIONS] --domain NAME [--connect URI]\n"
"Rewrite a libvirt domain XML so the guest uses a mediated-device vGPU (Intel GVT-g).\n"
"\n"
"The vGPU:\n"
"      --add-vgpu[=UUID]   add an mdev hostdev (new UUID) unless the domain has one\n"
"      --parent=PARENT     with --type: record the vGPU's parent device for vgpu-hook\n"
"      --type=TYPE         with --parent: record the mdev type (see vgpu-hook --types)\n"
"      --remove-vgpu[=UUID] remove the vGPU (all mdevs without UUID), its override and\n"
"                          metadata\n"
"Display properties (as <qemu:override> properties of the vGPU):\n"
"      --opregion          x-igd-opregion=true\n"
"      --ramfb             ramfb=true and driver=vfio-pci-nohotplug (implies display on)\n"
"      --romfile=PATH      romfile=PATH (vbios_gvt_uefi.rom for UEFI guests)\n"
"      --resolution=WxH    xres and yres (implies display on)\n"
"      --display=on|off    display\n"
"      --native            use libvirt's display='on' and ramfb='on' where they exist\n"
"      --migrate-legacy    turn <qemu:commandline> -set device.hostdevN.P=V and overrides\n"
"                          on runtime aliases into overrides on the vGPU's user alias\n"
"Mode:\n"
"      --check             report problems, one per line; exit 1 if there are any\n"
"      --qemu-version=X.Y[.Z] the QEMU the domain runs on (else asked of libvirt with\n"
"                          --domain or --connect): notes what it makes redundant\n"
"      --run-emulator      with --check: run the domain's <emulator> --version to learn\n"
"                          it (runs a program the XML names: only for XML you trust)\n"
"  -i, --in-place          rewrite FILE instead of printing the result\n"
"      --domain=NAME       fetch, rewrite and redefine the libvirt domain NAME\n"
"  -c, --connect=URI       libvirt connection URI for --domain, or for --check to ask\n"
"                          it the QEMU version\n"
"  -n, --dry-run           with --domain: print the result instead of redefining\n"
"  -q, --quiet             do not report the changes on stderr\n"
"  -h, --help              show this help\n"
"  -V, --version           show the version\n"
"\n"
"Exit status: 0 success, 1 failure or problems found by --check, 2 usage error.\n",
		prog, prog);
}

/* "10.1" or "10.1.2" in libvirt's encoding, major * 1000000 + minor * 1000 + micro; 0 when
 * @s is not such a version. */
static unsigned long parse_version(const char *s)
{
	unsigned long v[3] = { 0, 0, 0 };
	const char *p = s;
	int i;

	for (i = 0; i < 3; i++) {
		char *end;

		if (*p < '0' || *p > '9')
			return 0;
		errno = 0;
		v[i] = strtoul(p, &end, 10);
		if (errno || v[i] > 999)
			return 0;
		p = end;
		if (*p != '.' || i == 2)
			break;
		p++;
	}
	if (i == 0 || *p != '\0' || v[0] == 0)
		return 0;
	return v[0] * 1000000 + v[1] * 1000 + v[2];
}

/* "1920x1080": two base-10 numbers from 1 to 16384. */
static int parse_resolution(const char *s, unsigned int *w, unsigned int *h)
{
	unsigned long v[2];
	const char *p = s;

	for (int i = 0; i < 2; i++) {
		char *end;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		errno = 0;
		v[i] = strtoul(p, &end, 10);
		if (errno || v[i] == 0 || v[i] > 16384 || *end != (i ? '\0' : 'x'))
			return -EINVAL;
		p = end + 1;
	}
	*w = (unsigned int)v[0];
	*h = (unsigned int)v[1];
	return 0;
}

enum {
	OPT_ADD = 256, OPT_PARENT, OPT_TYPE, OPT_REMOVE, OPT_OPREGION, OPT_RAMFB, OPT_ROMFILE,
	OPT_RESOLUTION, OPT_DISPLAY, OPT_NATIVE, OPT_MIGRATE, OPT_CHECK, OPT_DOMAIN,
	OPT_QEMU_VERSION, OPT_RUN_EMULATOR,
};

static const struct option options[] = {
	{ "add-vgpu", optional_argument, NULL, OPT_ADD },
	{ "parent", required_argument, NULL, OPT_PARENT },
	{ "type", required_argument, NULL, OPT_TYPE },
	{ "remove-vgpu", optional_argument, NULL, OPT_REMOVE },
	{ "opregion", no_argument, NULL, OPT_OPREGION },
	{ "ramfb", no_argument, NULL, OPT_RAMFB },
	{ "romfile", required_argument, NULL, OPT_ROMFILE },
	{ "resolution", required_argument, NULL, OPT_RESOLUTION },
	{ "display", required_argument, NULL, OPT_DISPLAY },
	{ "native", no_argument, NULL, OPT_NATIVE },
	{ "migrate-legacy", no_argument, NULL, OPT_MIGRATE },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "in-place", no_argument, NULL, 'i' },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "qemu-version", required_argument, NULL, OPT_QEMU_VERSION },
	{ "run-emulator", no_argument, NULL, OPT_RUN_EMULATOR },
	{ "connect", required_argument, NULL, 'c' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Returns 0, or EXIT_USAGE after printing why; -1 when --help/--version were handled. */
static int parse_args(int argc, char **argv, struct args *a)
{
	char err[256];
	bool edits;
	int c;

	while ((c = getopt_long(argc, argv, "ic:nqhV", options, NULL)) != -1) {
		switch (c) {
		case OPT_ADD:
			a->o.add_vgpu = true;
			a->o.uuid = optarg;
			break;
		case OPT_REMOVE:
			a->o.remove = true;
			a->o.uuid = optarg;
			break;
		case OPT_PARENT: a->o.parent = optarg; break;
		case OPT_TYPE: a->o.type = optarg; break;
		case OPT_OPREGION: a->o.opregion = true; break;
		case OPT_RAMFB: a->o.ramfb = true; break;
		case OPT_ROMFILE:
			if (!*optarg) {
				fprintf(stderr, "%s: --romfile needs a path\n", prog);
				return EXIT_USAGE;
			}
			a->o.romfile = optarg;
			break;
		case OPT_RESOLUTION:
			if (parse_resolution(optarg, &a->o.xres, &a->o.yres) < 0) {
				fprintf(stderr, "%s: --resolution '%s' is not WIDTHxHEIGHT in pixels, "
					"like 1920x1080\n", prog, optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_DISPLAY:
			if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
				fprintf(stderr, "%s: --display is on or off, not '%s'\n", prog,
					optarg);
				return EXIT_USAGE;
			}
			a->o.display = strcmp(optarg, "on") == 0 ? PATCH_ON : PATCH_OFF;
			break;
		case OPT_NATIVE: a->o.native = true; break;
		case OPT_MIGRATE: a->o.migrate_legacy = true; break;
		case OPT_CHECK: a->check = true; break;
		case 'i': a->in_place = true; break;
		case OPT_DOMAIN: a->domain = optarg; break;
		case OPT_QEMU_VERSION:
			if (!(a->qemu_version = parse_version(optarg))) {
				fprintf(stderr, "%s: --qemu-version '%s' is not a version like 10.1 "
					"or 7.2.19\n", prog, optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_RUN_EMULATOR: a->run_emulator = true; break;
		case 'c': a->uri = optarg; break;
		case 'n': a->dry_run = true; break;
		case 'q': a->quiet = true; break;
		case 'h':
			usage(stdout);
			return -1;
		case 'V':
			printf("%s %s\n", prog, VGPU_VERSION);
			return -1;
		default:
			fprintf(stderr, "Try '%s --help'.\n", prog);
			return EXIT_USAGE;
		}
	}

	edits = patch_opts_edits(&a->o) != 0;
	if (optind < argc)
		a->file = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "%s: too many arguments: '%s'\n", prog, argv[optind]);
		return EXIT_USAGE;
	}
	if (!a->file == !a->domain) {
		fprintf(stderr, "%s: give one FILE (or - for stdin) or --domain NAME\n", prog);
		return EXIT_USAGE;
	}
	if (a->uri && !a->domain && !a->check) {
		fprintf(stderr, "%s: --connect goes with --domain or --check\n", prog);
		return EXIT_USAGE;
	}
	if (a->run_emulator && !a->check) {
		fprintf(stderr, "%s: --run-emulator goes with --check\n", prog);
		return EXIT_USAGE;
	}
	if (!!a->qemu_version + a->run_emulator + !!(a->uri && !a->domain) > 1) {
		fprintf(stderr, "%s: give the QEMU version one way: --qemu-version, "
			"--run-emulator or --connect\n", prog);
		return EXIT_USAGE;
	}
	if (a->in_place && (!a->file || strcmp(a->file, "-") == 0 || a->check)) {
		fprintf(stderr, "%s: --in-place needs a FILE to rewrite\n", prog);
		return EXIT_USAGE;
	}
	if (a->dry_run && !a->domain) {
		fprintf(stderr, "%s: --dry-run goes with --domain (a FILE is printed anyway)\n",
			prog);
		return EXIT_USAGE;
	}
	if (a->check && edits) {
		fprintf(stderr, "%s: --check only reports; run it without other options\n", prog);
		return EXIT_USAGE;
	}
	if (!a->check && !edits) {
		fprintf(stderr, "%s: nothing to do: give --add-vgpu, a display option, "
			"--remove-vgpu, --migrate-legacy or --check (see --help)\n", prog);
		return EXIT_USAGE;
	}
	/* Every option value or combination patch_apply() would refuse is a usage error too:
	 * its checks are the only ones (a bad UUID, --parent without --type, ...). */
	if (patch_opts_check(&a->o, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return EXIT_USAGE;
	}
	return 0;
}

/* Without --type, list what this host offers so the user can pick (vgpu-hook --types). */
static void suggest_types(void)
{
	const char *root = getenv("VGPU_SYSFS_ROOT");
	struct mdev_sysfs s = { .root = root && *root ? root : "/sys" };
	struct report_type *types;
	size_t n;

	if (report_types_read(&s, &types, &n, NULL) < 0 || n == 0)
		return;
	fprintf(stderr, "%s: note: without --parent/--type, vgpu-hook picks the vGPU type from "
		"its config; this host offers:\n", prog);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  --parent=%s --type=%s  (%s%s%lu available)\n", types[i].parent,
			types[i].type, types[i].name, types[i].name[0] ? ", " : "",
			types[i].available);
	free(types);
}

static void report(const struct args *a, const char *what, const struct strv *changes)
{
	if (a->quiet)
		return;
	for (size_t i = 0; i < changes->n; i++)
		fprintf(stderr, "%s: %s: %s\n", prog, what, changes->v[i]);
	if (changes->n == 0)
		fprintf(stderr, "%s: %s: nothing to change\n", prog, what);
}

/* Replace @path (its target when a symlink) by @data atomically, keeping mode and owner
 * (file_replace, util.h). */
static int write_in_place(const char *path, const char *data, size_t len)
{
	char real[PATH_MAX], dir[PATH_MAX], base[PATH_MAX], tmp[PATH_MAX + 16];
	const char *name;
	struct stat st;
	int dfd, r;

	if (!realpath(path, real) || stat(real, &st) < 0)
		return -errno;
	if (str_copy(dir, sizeof(dir), real) < 0 || str_copy(base, sizeof(base), real) < 0)
		return -ENAMETOOLONG;
	name = basename(base);
	if ((r = path_fmt(tmp, sizeof(tmp), ".%s.XXXXXX", name)) < 0)
		return r;
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	r = file_replace(dfd, name, tmp, st.st_mode & 07777, &st, data, len);
	close(dfd);
	return r;
}

/*
 * The version of the QEMU at @path, from its "--version" ("QEMU emulator version 7.2.19
 * (Debian ...)"), in libvirt's encoding; 0 when it cannot be learnt, after saying why. Run
 * only when the user asks (--run-emulator): @path comes from the domain XML. No shell, stdin
 * and stderr on /dev/null, 5 s at most.
 */
static unsigned long emulator_version(const char *path)
{
	char *argv[] = { (char *)path, (char *)"--version", NULL }, buf[4096];
	posix_spawn_file_actions_t fa;
	struct timespec t0, t;
	size_t n = 0;
	unsigned long v = 0;
	int p[2], st, r;
	pid_t pid;
	const char *q;

	if (path[0] != '/') {
		fprintf(stderr, "%s: note: the <emulator> '%s' is not an absolute path: not run\n",
			prog, path);
		return 0;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return 0;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	r = posix_spawn(&pid, path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r) {
		close(p[0]);
		fprintf(stderr, "%s: note: cannot run %s --version: %s\n", prog, path,
			strerror(r));
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		ssize_t k;
		long ms;

		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = 5000 - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (ms <= 0 || poll(&pfd, 1, (int)ms) <= 0)
			break;
		k = read(p[0], buf + n, sizeof(buf) - 1 - n);
		if (k <= 0)
			break;
		n += (size_t)k;
		if (n == sizeof(buf) - 1)
			break;
	}
	close(p[0]);
	kill(pid, SIGKILL);   /* done or too slow: it has nothing more to say */
	waitpid(pid, &st, 0);
	buf[n] = '\0';
	if ((q = strstr(buf, "QEMU emulator version "))) {
		char ver[32];

		q += strlen("QEMU emulator version ");
		snprintf(ver, sizeof(ver), "%.*s", (int)strspn(q, "0123456789."), q);
		v = parse_version(ver);
	}
	if (!v)
		fprintf(stderr, "%s: note: %s --version does not say \"QEMU emulator version X.Y\"\n",
			prog, path);
	return v;
}

/* The <emulator> of the domain @pd, or NULL. */
static char *emulator_of(struct patch_doc *pd)
{
	xmlNodePtr root = xmlDocGetRootElement(patch_doc_xml(pd));

	for (xmlNodePtr d = root->children; d; d = d->next) {
		if (d->type != XML_ELEMENT_NODE || d->ns || !xmlStrEqual(d->name, BAD_CAST "devices"))
			continue;
		for (xmlNodePtr e = d->children; e; e = e->next)
			if (e->type == XML_ELEMENT_NODE && !e->ns &&
			    xmlStrEqual(e->name, BAD_CAST "emulator"))
				return (char *)xmlNodeGetContent(e);
	}
	return NULL;
}

static void print_notes(const char *what, const struct strv *notes)
{
	for (size_t i = 0; i < notes->n; i++)   /* what was asked for and not done: even -q */
		fprintf(stderr, "%s: %s: note: %s\n", prog, what, notes->v[i]);
}

/* Parse, then check or patch. On success *@out is the new XML (or NULL when unchanged or
 * checking) and the return value the exit status. @qemu_version: the QEMU the domain runs
 * on, 0 when unknown. */
static int transform(const struct args *a, unsigned long qemu_version, const char *what,
		     const char *buf, size_t len, char **out, size_t *outlen)
{
	const char *root = getenv("VGPU_SYSFS_ROOT");
	struct patch_doc *pd = NULL;
	struct strv list = { 0 }, notes = { 0 }, hnotes = { 0 };
	struct patch_host host = { .sysfs_root = root && *root ? root : "/sys",
				   .qemu_version = qemu_version, .notes = &hnotes };
	struct patch_opts o = a->o;
	char err[512] = "";
	int r, status = EXIT_FAILURE;

	*out = NULL;
	r = patch_doc_parse(buf, len, what, &pd, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", prog, err[0] ? err : strerror(-r));
		goto out;
	}
	if (a->check) {
		if (a->run_emulator) {
			char *em = emulator_of(pd);

			if (em)
				host.qemu_version = emulator_version(em);
			else
				fprintf(stderr, "%s: %s: note: no <emulator> to run\n", prog, what);
			xmlFree(em);
		}
		if ((r = patch_check(pd, &host, &list)) < 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(-r));
			goto out;
		}
		for (size_t i = 0; i < list.n; i++)
			printf("%s: %s\n", what, list.v[i]);
		print_notes(what, &hnotes);
		if (list.n == 0 && !a->quiet)
			fprintf(stderr, "%s: %s: no problems found\n", prog, what);
		status = list.n ? EXIT_FAILURE : EXIT_SUCCESS;
		goto out;
	}
	o.notes = &notes;
	r = patch_apply(pd, &o, &list, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, what, err[0] ? err : strerror(-r));
		goto out;
	}
	report(a, what, &list);
	print_notes(what, &notes);
	/* What the QEMU it targets makes redundant or impossible in the result. */
	if (qemu_version) {
		struct strv findings = { 0 };

		r = patch_check(pd, &host, &findings);
		strv_free(&findings);
		if (r < 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(-r));
			goto out;
		}
		print_notes(what, &hnotes);
	}
	if ((list.n || !a->in_place) && (r = patch_doc_dump(pd, out, outlen)) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(-r));
		goto out;
	}
	status = EXIT_SUCCESS;
out:
	strv_free(&hnotes);
	strv_free(&notes);
	strv_free(&list);
	patch_doc_free(pd);
	return status;
}

static int uri_qemu_version(const char *uri, unsigned long *v);

static int run_file(const struct args *a)
{
	bool in = strcmp(a->file, "-") == 0;
	const char *what = in ? "stdin" : a->file;
	unsigned long qemu_version = a->qemu_version;
	char *buf = NULL, *out = NULL;
	size_t len, outlen;
	int fd, r, status = EXIT_FAILURE;

	fd = in ? STDIN_FILENO : open(a->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot open %s: %s\n", prog, a->file, strerror(errno));
		return EXIT_FAILURE;
	}
	r = domxml_read_fd(fd, DOMXML_MAX_SIZE, &buf, &len);
	if (!in)
		close(fd);
	if (r < 0) {
		fprintf(stderr, "%s: cannot read %s: %s\n", prog, what,
			r == -EFBIG ? "larger than 16 MiB, not a domain XML" : strerror(-r));
		return EXIT_FAILURE;
	}
	/* --check --connect: only to learn the QEMU version */
	if (a->uri && uri_qemu_version(a->uri, &qemu_version) < 0) {
		free(buf);
		return EXIT_FAILURE;
	}
	status = transform(a, qemu_version, what, buf, len, &out, &outlen);
	if (status != EXIT_SUCCESS || !out)
		goto out;
	if (a->in_place) {
		if ((r = write_in_place(a->file, out, outlen)) < 0) {
			fprintf(stderr, "%s: cannot rewrite %s: %s; it was left unchanged\n", prog,
				a->file, strerror(-r));
			status = EXIT_FAILURE;
		}
	} else if (fwrite(out, 1, outlen, stdout) != outlen || fflush(stdout) != 0) {
		fprintf(stderr, "%s: cannot write the result: %s\n", prog, strerror(errno));
		status = EXIT_FAILURE;
	}
out:
	free(out);
	free(buf);
	return status;
}

/*
 * libvirt, loaded only for --domain. Linked, it made every FILE edit map libvirt and the
 * 46 libraries it needs: 5.3 of the 7 ms a call took (docs/performance.md). kmod loads its
 * compression libraries the same way, only for a module that needs them. These are
 * libvirt's stable public symbols, all there since 1.2.12; the types come from its headers.
 */
static struct {
	__typeof__(virSetErrorFunc) *SetErrorFunc;
	__typeof__(virConnectOpenAuth) *ConnectOpenAuth;
	__typeof__(virGetLastErrorMessage) *GetLastErrorMessage;
	__typeof__(virDomainLookupByName) *DomainLookupByName;
	__typeof__(virDomainGetXMLDesc) *DomainGetXMLDesc;
	__typeof__(virDomainDefineXMLFlags) *DomainDefineXMLFlags;
	__typeof__(virDomainIsActive) *DomainIsActive;
	__typeof__(virDomainFree) *DomainFree;
	__typeof__(virConnectClose) *ConnectClose;
	__typeof__(virConnectGetType) *ConnectGetType;
	__typeof__(virConnectGetVersion) *ConnectGetVersion;
	virConnectAuthPtr *ConnectAuthPtrDefault;
} vir;

#define LIBVIRT_SONAME "libvirt.so.0"

static int load_libvirt(void)
{
	void *h = dlopen(LIBVIRT_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		fprintf(stderr, "%s: --domain needs libvirt (%s): %s\n", prog, LIBVIRT_SONAME,
			dlerror());
		return -1;
	}
#define VIR_SYM(field)								\
	do {									\
		vir.field = (__typeof__(vir.field))dlsym(h, "vir" #field);	\
		if (!vir.field) {						\
			fprintf(stderr, "%s: %s has no vir" #field "; --domain needs "	\
				"libvirt 1.2.12 or later\n", prog, LIBVIRT_SONAME);	\
			return -1;						\
		}								\
	} while (0)
	VIR_SYM(SetErrorFunc);
	VIR_SYM(ConnectOpenAuth);
	VIR_SYM(GetLastErrorMessage);
	VIR_SYM(DomainLookupByName);
	VIR_SYM(DomainGetXMLDesc);
	VIR_SYM(DomainDefineXMLFlags);
	VIR_SYM(DomainIsActive);
	VIR_SYM(DomainFree);
	VIR_SYM(ConnectClose);
	VIR_SYM(ConnectGetType);
	VIR_SYM(ConnectGetVersion);
	VIR_SYM(ConnectAuthPtrDefault);
#undef VIR_SYM
	return 0;
}

/* libvirt prints every error by default; we print one line of our own instead. */
static void quiet_libvirt(void *opaque, virErrorPtr e)
{
	(void)opaque;
	(void)e;
}

/*
 * The QEMU version behind @conn: virConnectGetVersion() is the hypervisor's version,
 * major * 1000000 + minor * 1000 + micro; for the QEMU driver (virConnectGetType() "QEMU")
 * that of the host's default QEMU binary (libvirt's qemuConnectGetVersion():
 * virQEMUCapsGetDefaultVersion()). 0 for another driver or when libvirt cannot say.
 */
static unsigned long libvirt_qemu_version(virConnectPtr conn)
{
	const char *type = vir.ConnectGetType(conn);
	unsigned long v = 0;

	if (!type || strcmp(type, "QEMU") != 0 || vir.ConnectGetVersion(conn, &v) < 0)
		return 0;
	return v;
}

static virConnectPtr open_conn(const char *uri)
{
	virConnectPtr conn;

	if (load_libvirt() < 0)
		return NULL;
	vir.SetErrorFunc(NULL, quiet_libvirt);
	conn = vir.ConnectOpenAuth(uri, *vir.ConnectAuthPtrDefault, 0);
	if (!conn)
		fprintf(stderr, "%s: cannot connect to %s: %s\n", prog,
			uri ? uri : "the default libvirt URI", vir.GetLastErrorMessage());
	return conn;
}

/* The QEMU version behind @uri into *@v (0: not the QEMU driver). Returns 0, or -1 after
 * saying why the connection failed. */
static int uri_qemu_version(const char *uri, unsigned long *v)
{
	virConnectPtr conn = open_conn(uri);

	if (!conn)
		return -1;
	*v = libvirt_qemu_version(conn);
	vir.ConnectClose(conn);
	return 0;
}

static int run_domain(const struct args *a)
{
	virConnectPtr conn = NULL;
	virDomainPtr dom = NULL, def = NULL;
	char *xml = NULL, *out = NULL, what[300];
	size_t outlen;
	int status = EXIT_FAILURE;

	snprintf(what, sizeof(what), "domain %s", a->domain);
	if (!(conn = open_conn(a->uri)))
		goto out;
	dom = vir.DomainLookupByName(conn, a->domain);
	if (!dom) {
		fprintf(stderr, "%s: %s: %s\n", prog, what, vir.GetLastErrorMessage());
		goto out;
	}
	xml = vir.DomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
	if (!xml) {
		fprintf(stderr, "%s: %s: cannot read its definition: %s\n", prog, what,
			vir.GetLastErrorMessage());
		goto out;
	}
	status = transform(a, a->qemu_version ? a->qemu_version : libvirt_qemu_version(conn),
			   what, xml, strlen(xml), &out, &outlen);
	if (status != EXIT_SUCCESS || !out || strcmp(out, xml) == 0)
		goto out;
	if (a->dry_run) {
		fwrite(out, 1, outlen, stdout);
		goto out;
	}
	def = vir.DomainDefineXMLFlags(conn, out, VIR_DOMAIN_DEFINE_VALIDATE);
	if (!def) {
		fprintf(stderr, "%s: %s: libvirt refused the new definition, nothing was changed: "
			"%s\n", prog, what, vir.GetLastErrorMessage());
		status = EXIT_FAILURE;
		goto out;
	}
	if (!a->quiet) {
		fprintf(stderr, "%s: %s: definition updated\n", prog, what);
		if (vir.DomainIsActive(def) == 1)
			fprintf(stderr, "%s: %s: the running guest sees the change at its next cold "
				"boot (shut it down, then start it)\n", prog, what);
	}
out:
	free(out);
	free(xml);
	if (def)
		vir.DomainFree(def);
	if (dom)
		vir.DomainFree(dom);
	if (conn)
		vir.ConnectClose(conn);
	return status;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	int r;

	r = parse_args(argc, argv, &a);
	if (r)
		return r < 0 ? EXIT_SUCCESS : r;
	if (a.o.add_vgpu && !a.o.type && !a.quiet)
		suggest_types();
	return a.domain ? run_domain(&a) : run_file(&a);
}
