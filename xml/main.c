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
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "domxml.h"
#include "mdev.h"
#include "patch.h"
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
	bool check, in_place, dry_run, quiet;
};

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
"  -i, --in-place          rewrite FILE instead of printing the result\n"
"      --domain=NAME       fetch, rewrite and redefine the libvirt domain NAME\n"
"  -c, --connect=URI       libvirt connection URI for --domain\n"
"  -n, --dry-run           with --domain: print the result instead of redefining\n"
"  -q, --quiet             do not report the changes on stderr\n"
"  -h, --help              show this help\n"
"  -V, --version           show the version\n"
"\n"
"Exit status: 0 success, 1 failure or problems found by --check, 2 usage error.\n",
		prog, prog);
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

	edits = a->o.add_vgpu || a->o.remove || a->o.parent || a->o.type || a->o.opregion ||
		a->o.ramfb || a->o.romfile || a->o.xres || a->o.display || a->o.migrate_legacy;
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
	if (a->uri && !a->domain) {
		fprintf(stderr, "%s: --connect goes with --domain\n", prog);
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
	if (a->o.remove && edits && (a->o.add_vgpu || a->o.parent || a->o.type ||
				     a->o.opregion || a->o.ramfb || a->o.romfile || a->o.xres ||
				     a->o.display || a->o.migrate_legacy)) {
		fprintf(stderr, "%s: --remove-vgpu goes with no other change\n", prog);
		return EXIT_USAGE;
	}
	if (!a->o.parent != !a->o.type) {
		fprintf(stderr, "%s: --parent and --type go together\n", prog);
		return EXIT_USAGE;
	}
	if (a->o.display == PATCH_OFF && (a->o.ramfb || a->o.xres)) {
		fprintf(stderr, "%s: --ramfb and --resolution need the display on, not "
			"--display=off\n", prog);
		return EXIT_USAGE;
	}
	/* Every option value patch_apply() would refuse is a usage error too. */
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
	struct strv parents = { 0 };

	if (mdev_list_parents(&s, &parents) < 0 || parents.n == 0)
		goto out;
	fprintf(stderr, "%s: note: without --parent/--type, vgpu-hook picks the vGPU type from "
		"its config; this host offers:\n", prog);
	for (size_t i = 0; i < parents.n; i++) {
		struct strv types = { 0 };

		if (mdev_list_types(&s, parents.v[i], &types) < 0)
			continue;
		for (size_t k = 0; k < types.n; k++) {
			struct mdev_type_info info;

			if (mdev_type_read(&s, parents.v[i], types.v[k], &info) < 0)
				continue;
			fprintf(stderr, "  --parent=%s --type=%s  (%s%s%lu available)\n",
				parents.v[i], types.v[k], info.name, info.name[0] ? ", " : "",
				info.available);
		}
		strv_free(&types);
	}
out:
	strv_free(&parents);
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

/* Replace @path (its target when a symlink) by @data atomically, keeping mode and owner. */
static int write_in_place(const char *path, const char *data, size_t len)
{
	char real[PATH_MAX], dir[PATH_MAX], base[PATH_MAX], tmp[PATH_MAX + 16];
	struct stat st;
	int fd = -1, dfd, r;

	if (!realpath(path, real) || stat(real, &st) < 0)
		return -errno;
	if (str_copy(dir, sizeof(dir), real) < 0 || str_copy(base, sizeof(base), real) < 0)
		return -ENAMETOOLONG;
	if ((r = path_fmt(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dirname(dir), basename(base))) < 0)
		return r;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, st.st_mode & 07777) < 0 ||
	    (geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) < 0)) {
		r = -errno;
		goto fail;
	}
	if ((r = write_all(fd, data, len)) < 0)
		goto fail;
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		r = -errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, real) < 0) {
		r = -errno;
		goto fail;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

/* Parse, then check or patch. On success *@out is the new XML (or NULL when unchanged or
 * checking) and the return value the exit status. */
static int transform(const struct args *a, const char *what, const char *buf, size_t len,
		     char **out, size_t *outlen)
{
	struct patch_doc *pd = NULL;
	struct strv list = { 0 }, notes = { 0 };
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
		if ((r = patch_check(pd, &list)) < 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(-r));
			goto out;
		}
		for (size_t i = 0; i < list.n; i++)
			printf("%s: %s\n", what, list.v[i]);
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
	for (size_t i = 0; i < notes.n; i++)   /* what was asked for and not done: even -q */
		fprintf(stderr, "%s: %s: note: %s\n", prog, what, notes.v[i]);
	if ((list.n || !a->in_place) && (r = patch_doc_dump(pd, out, outlen)) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(-r));
		goto out;
	}
	status = EXIT_SUCCESS;
out:
	strv_free(&notes);
	strv_free(&list);
	patch_doc_free(pd);
	return status;
}

static int run_file(const struct args *a)
{
	bool in = strcmp(a->file, "-") == 0;
	const char *what = in ? "stdin" : a->file;
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
	status = transform(a, what, buf, len, &out, &outlen);
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

static int run_domain(const struct args *a)
{
	virConnectPtr conn = NULL;
	virDomainPtr dom = NULL, def = NULL;
	char *xml = NULL, *out = NULL, what[300];
	size_t outlen;
	int status = EXIT_FAILURE;

	if (load_libvirt() < 0)
		return EXIT_FAILURE;
	vir.SetErrorFunc(NULL, quiet_libvirt);
	snprintf(what, sizeof(what), "domain %s", a->domain);
	conn = vir.ConnectOpenAuth(a->uri, *vir.ConnectAuthPtrDefault, 0);
	if (!conn) {
		fprintf(stderr, "%s: cannot connect to %s: %s\n", prog,
			a->uri ? a->uri : "the default libvirt URI", vir.GetLastErrorMessage());
		goto out;
	}
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
	status = transform(a, what, xml, strlen(xml), &out, &outlen);
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
