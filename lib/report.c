/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domxml.h"
#include "hook.h"

#include "log.h"
#include "owner.h"
#include "report.h"

/* "low_gm_size: 128MB\nfence: 4\n" -> "low_gm_size 128MB, fence 4" (GVT-g's format,
 * kvmgt.c); other drivers' free text is kept, its newlines turned into ", ". */
void report_flatten(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (const char *p = in; *p && o + 3 < len; p++) {
		if (*p == '\n') {
			if (p[1])
				out[o++] = ',', out[o++] = ' ';
		} else if (*p == ':' && p[1] == ' ') {
			out[o++] = ' ';
			p++;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

int report_types_read(const struct mdev_sysfs *s, struct report_type **out, size_t *nout,
		      FILE *errs)
{
	struct strv parents = { 0 };
	struct report_type *rows = NULL;
	size_t n = 0, cap = 0;
	int r;

	*out = NULL;
	*nout = 0;
	r = mdev_list_parents(s, &parents);
	if (r < 0) {
		if (errs)
			fprintf(errs, "vgpu-hook: cannot list mdev parents under %s: %s\n", s->root,
				strerror(-r));
		goto out;
	}
	if (!parents.n) {
		r = -ENODEV;
		goto out;
	}
	for (size_t i = 0; i < parents.n; i++) {
		struct strv types = { 0 };

		r = mdev_list_types(s, parents.v[i], &types);
		for (size_t t = 0; r == 0 && t < types.n; t++) {
			struct mdev_type_info info;
			struct report_type *row;

			r = mdev_type_read(s, parents.v[i], types.v[t], &info);
			if (r < 0) {
				if (errs)
					fprintf(errs, "vgpu-hook: %s %s: %s\n", parents.v[i],
						types.v[t], strerror(-r));
				r = 0;
				continue;
			}
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				row = realloc(rows, cap * sizeof(*rows));
				if (!row) {
					r = -ENOMEM;
					break;
				}
				rows = row;
			}
			row = &rows[n++];
			snprintf(row->parent, sizeof(row->parent), "%s", parents.v[i]);
			snprintf(row->type, sizeof(row->type), "%s", types.v[t]);
			row->available = info.available;
			snprintf(row->api, sizeof(row->api), "%s", info.device_api);
			snprintf(row->name, sizeof(row->name), "%s", info.name);
			report_flatten(info.description, row->desc, sizeof(row->desc));
		}
		strv_free(&types);
		if (r < 0) {
			if (errs)
				fprintf(errs, "vgpu-hook: %s: %s\n", parents.v[i], strerror(-r));
			goto out;
		}
	}
out:
	strv_free(&parents);
	if (r < 0) {
		free(rows);
		return r;
	}
	*out = rows;
	*nout = n;
	return 0;
}

/* The NAME column: the type's name attribute, "-" when it has none. */
static const char *name_col(const struct report_type *t)
{
	return t->name[0] ? t->name : "-";
}

int report_types(const struct mdev_sysfs *s, FILE *out)
{
	struct report_type *rows;
	size_t n;
	int w[5] = { 6, 4, 4, 3, 4 }, r;

	r = report_types_read(s, &rows, &n, stderr);
	if (r == -ENODEV)
		fprintf(stderr, "vgpu-hook: no mdev parent under %s: load the mdev driver of "
			"the device (Intel GVT-g: boot with i915.enable_gvt=1 and modprobe kvmgt; "
			"NVIDIA: its vGPU host driver; s390: vfio_ccw or vfio_ap)\n", s->root);
	if (r < 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		int len[5] = { (int)strlen(rows[i].parent), (int)strlen(rows[i].type),
			       snprintf(NULL, 0, "%lu", rows[i].available),
			       (int)strlen(rows[i].api), (int)strlen(name_col(&rows[i])) };

		for (int c = 0; c < 5; c++)
			if (len[c] > w[c])
				w[c] = len[c];
	}
	fprintf(out, "%-*s  %-*s  %*s  %-*s  %-*s  %s\n", w[0], "PARENT", w[1], "TYPE", w[2],
		"FREE", w[3], "API", w[4], "NAME", "DESCRIPTION");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%-*s  %-*s  %*lu  %-*s  %-*s  %s\n", w[0], rows[i].parent, w[1],
			rows[i].type, w[2], rows[i].available, w[3], rows[i].api, w[4],
			name_col(&rows[i]), rows[i].desc);
	free(rows);
	return 0;
}

int report_status(const struct mdev_sysfs *s, const struct config *cfg, FILE *out)
{
	struct owner_store st = { .dirfd = -1, .lockfd = -1 };
	struct owner_record *recs = NULL;
	struct strv uuids = { 0 };
	size_t n = 0;
	int status = 1, r;

	r = mdev_list_devices(s, &uuids);
	if (r < 0) {
		fprintf(stderr, "vgpu-hook: cannot list %s/bus/mdev/devices: %s\n", s->root,
			strerror(-r));
		goto out;
	}
	r = owner_open(cfg->state_dir, false, &st);
	if (r == 0)
		r = owner_list(&st, &recs, &n);
	if (r < 0 && r != -ENOENT) {
		fprintf(stderr, "vgpu-hook: state directory %s: %s\n", cfg->state_dir,
			strerror(-r));
		goto out;
	}
	fprintf(out, "%-36s  %-14s  %-20s  %s\n", "UUID", "PARENT", "TYPE", "DOMAIN");
	for (size_t i = 0; i < uuids.n; i++) {
		struct mdev_device dev;
		const char *owner = "- (not created by vgpu-hook)", *note = "";

		if (mdev_device_find(s, uuids.v[i], &dev) < 0) {
			snprintf(dev.parent, sizeof(dev.parent), "?");
			snprintf(dev.type, sizeof(dev.type), "?");
		}
		for (size_t k = 0; k < n; k++)
			if (strcmp(recs[k].mdev, uuids.v[i]) == 0) {
				owner = recs[k].domain;
				if (recs[k].ino && dev.ino && recs[k].ino != dev.ino)
					note = " (stale record: this device was created again since, "
					       "not by vgpu-hook; vgpu-hook --cleanup drops it)";
				else if (recs[k].pending)
					note = " (left by its release: in use then; vgpu-hook "
					       "--cleanup removes it once let go)";
			}
		fprintf(out, "%-36s  %-14s  %-20s  %s%s\n", uuids.v[i], dev.parent, dev.type, owner,
			note);
	}
	for (size_t k = 0; k < n; k++)
		if (!strv_contains(&uuids, recs[k].mdev))
			fprintf(out, "%-36s  %-14s  %-20s  %s (recorded, device gone: the next "
				"release of the domain drops the record)\n", recs[k].mdev,
				recs[k].parent, recs[k].type, recs[k].domain);
	status = 0;
out:
	free(recs);
	owner_close(&st);
	strv_free(&uuids);
	return status;
}

int report_forget(const struct config *cfg, const char *uuid, FILE *out)
{
	struct owner_store st = { .dirfd = -1, .lockfd = -1 };
	struct owner_record rec;
	char canon[MDEV_UUID_LEN + 1];
	int status = 1, r;

	if (mdev_uuid_canon(uuid, canon) < 0) {
		fprintf(stderr, "vgpu-hook: --forget: '%.64s' is not a UUID\n", uuid);
		return 1;
	}
	r = owner_open(cfg->state_dir, false, &st);
	if (r == 0)
		r = owner_lock(&st, HOOK_LOCK_TIMEOUT_MS);
	if (r < 0) {
		fprintf(stderr, "vgpu-hook: state directory %s: %s\n", cfg->state_dir,
			r == -ENOENT ? "nothing is recorded" : strerror(-r));
		goto out;
	}
	r = owner_get(&st, canon, &rec);
	if (r < 0) {
		fprintf(stderr, "vgpu-hook: vGPU %s: %s\n", canon,
			r == -ENOENT ? "no record: nothing to forget" : strerror(-r));
		goto out;
	}
	if (owner_remover_active(&st, canon)) {
		fprintf(stderr, "vgpu-hook: vGPU %s: a remove of it is still running in the "
			"background; it clears the record when done\n", canon);
		goto out;
	}
	r = owner_del(&st, canon);
	if (r < 0) {
		fprintf(stderr, "vgpu-hook: vGPU %s: cannot delete its record: %s\n", canon,
			strerror(-r));
		goto out;
	}
	log_info("forgot the record of vGPU %s (%s on %s, domain %s)", canon, rec.type,
		 rec.parent, rec.domain);
	fprintf(out, "vGPU %s: forgot its record (%s on %s, made for domain %s); the device, if "
		"any, is left alone: echo 1 > %s/bus/mdev/devices/%s/remove removes it\n", canon,
		rec.type, rec.parent, rec.domain, cfg->sysfs_root, canon);
	status = 0;
out:
	owner_close(&st);
	return status;
}

int report_check_config(const char *path, uid_t owner, FILE *out)
{
	struct strv errors = { 0 };
	struct config *cfg = NULL;
	int r;

	r = config_load(path, owner, &cfg, &errors);
	if (r < 0) {
		for (size_t i = 0; i < errors.n; i++)
			fprintf(stderr, "%s\n", errors.v[i]);
		if (!errors.n)
			fprintf(stderr, "%s: %s\n", path, strerror(-r));
		strv_free(&errors);
		return 1;
	}
	if (!cfg->found)
		fprintf(out, "%s: not found; the defaults apply (sysfs_root %s, state_dir %s, "
			"parent and type only from each domain's metadata)\n", path,
			cfg->sysfs_root, cfg->state_dir);
	else
		fprintf(out, "%s: OK: sysfs_root %s, state_dir %s, %zu [domain] section%s\n",
			path, cfg->sysfs_root, cfg->state_dir, cfg->n_domains,
			cfg->n_domains == 1 ? "" : "s");
	config_free(cfg);
	strv_free(&errors);
	return 0;
}

static int xml_name(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 4 && strcmp(e->d_name + n - 4, ".xml") == 0;
}

/* How many lines of @plan say @what. */
static size_t count_lines(const char *plan, const char *what)
{
	size_t n = 0;

	for (const char *p = plan; p && (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

const char *report_can_start(int status, const char *err, const char *plan, char *buf,
			     size_t len)
{
	if (status) {
		snprintf(buf, len, "no: %s", err);
		return buf;
	}
	if (count_lines(plan, "would create") == 0)
		return "yes, its vGPUs exist (it runs, or they were made for it)";
	return "yes";
}

int report_guests(const char *config_path, const char *dir, char *const *files, size_t nf,
		  FILE *out)
{
	struct dirent **names = NULL;
	int n = nf ? (int)nf : scandir(dir, &names, xml_name, alphasort), bad = 0, w = 5;
	bool header = false;

	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	for (int i = 0; !nf && i < n; i++)
		if ((int)strlen(names[i]->d_name) - 4 > w)
			w = (int)strlen(names[i]->d_name) - 4;
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX], err[MSG_LINE_MAX] = "", cell[MSG_LINE_MAX + 8], *buf = NULL,
		     *plan = NULL;
		const char *label = nf ? files[i] : names[i]->d_name;
		struct domxml *dom = NULL;
		struct hook_env env;
		size_t len = 0, planlen = 0;
		int fd = -1, status;

		if (nf)
			status = path_fmt(path, sizeof(path), "%s", files[i]);
		else
			status = path_fmt(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		/* A file named here may be a link (a person's choice); in libvirt's directory, no. */
		if (status < 0 || (fd = open(path, O_RDONLY | O_CLOEXEC | (nf ? 0 : O_NOFOLLOW))) < 0) {
			if (!header) {
				fprintf(out, "\n%-*s  VGPUS  CAN START NOW\n", w, "GUEST");
				header = true;
			}
			fprintf(out, "%-*s  ?      no: cannot open %s: %s\n", w, label, path,
				strerror(status < 0 ? -status : errno));
			bad++;
			continue;
		}
		status = domxml_read_fd(fd, DOMXML_MAX_SIZE, &buf, &len);
		if (status == 0)
			status = domxml_parse(buf, len, path, &dom, err, sizeof(err));
		if (status == 0 && !dom->n_mdevs) {
			domxml_free(dom);
			free(buf);
			close(fd);
			continue;
		}
		if (!header) {
			fprintf(out, "\n%-*s  VGPUS  CAN START NOW\n", w, "GUEST");
			header = true;
		}
		if (status < 0) {
			str_one_line(err);
			fprintf(out, "%-*s  ?      no: %s\n", w, label, *err ? err : strerror(-status));
			bad++;
			goto next;
		}
		lseek(fd, 0, SEEK_SET);
		hook_env_init(&env, config_path);
		FILE *f = open_memstream(&plan, &planlen);

		if (!f) {
			/* Never without it: a NULL plan_out makes hook_run() a real run. */
			fprintf(out, "%-*s  %-5zu  no: %s\n", w, dom->name, dom->n_mdevs,
				strerror(errno));
			bad++;
			goto next;
		}
		env.plan_out = f;
		status = hook_run(&env, dom->name, "prepare", "begin", "-", fd, err, sizeof(err));
		fclose(f);
		if (status) {
			str_one_line(err);
			bad++;
		}
		fprintf(out, "%-*s  %-5zu  %s\n", w, dom->name, dom->n_mdevs,
			report_can_start(status, err, plan, cell, sizeof(cell)));
		free(plan);
next:
		domxml_free(dom);
		free(buf);
		close(fd);
	}
	for (int i = 0; !nf && i < n; i++)
		free(names[i]);
	free(names);
	return bad;
}
