// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * state.c: the instances that exist, the kernel's checks on create and remove writes,
 * fault injection, and the text of the control and state files.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "sim.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define MAX_FAULT_COUNT 1000000u
#define MAX_DELAY_MS 600000u    /* ten minutes: enough to stand for a hung remove */

static const struct {
	const char *name;
	int err;
} errnos[] = {
#define E(x) { #x, x }
	E(EPERM), E(ENOENT), E(EINTR), E(EIO), E(ENXIO), E(E2BIG), E(EAGAIN), E(ENOMEM),
	E(EACCES), E(EFAULT), E(EBUSY), E(EEXIST), E(ENODEV), E(EINVAL), E(ENOSPC), E(EROFS),
	E(EDEADLK), E(ENOSYS), E(ETIMEDOUT), E(EUSERS), E(ECANCELED), E(EOPNOTSUPP),
#undef E
};

static const char *const op_names[SIM_NR_OPS] = { "create", "remove", "lookup" };

int sim_errno_parse(const char *name)
{
	unsigned long n;
	char *end;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(errnos); i++)
		if (!strcmp(name, errnos[i].name))
			return errnos[i].err;
	if (!isdigit((unsigned char)*name))
		return -EINVAL;
	errno = 0;
	n = strtoul(name, &end, 10);
	if (errno || *end || n == 0 || n > 4095)
		return -EINVAL;
	return (int)n;
}

const char *sim_errno_name(int err)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(errnos); i++)
		if (errnos[i].err == err)
			return errnos[i].name;
	return NULL;
}

int sim_find_parent(const struct sim *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->nparents; i++)
		if (!strcmp(s->parents[i].name, name))
			return (int)i;
	return -ENOENT;
}

int sim_find_type(const struct sim *s, unsigned int p, const char *dir)
{
	const struct sim_parent *par = &s->parents[p];
	unsigned int i;

	for (i = 0; i < par->ntypes; i++)
		if (!strcmp(par->types[i].dir, dir))
			return (int)i;
	return -ENOENT;
}

int sim_find_mdev(const struct sim *s, const char *uuid)
{
	unsigned int i;

	for (i = 0; i < SIM_MAX_MDEVS; i++)
		if (s->mdevs[i].stage != SIM_FREE && !strcmp(s->mdevs[i].uuid, uuid))
			return (int)i;
	return -ENOENT;
}

/* Whether instance @m has been probed and not yet fully removed: it has a VFIO device. */
static bool has_vfio(const struct sim_mdev *m)
{
	return m->stage == SIM_LIVE || m->stage == SIM_REMOVING;
}

int sim_find_group(const struct sim *s, unsigned int group)
{
	unsigned int i;

	for (i = 0; i < SIM_MAX_MDEVS; i++)
		if (has_vfio(&s->mdevs[i]) && s->mdevs[i].iommu_group == group)
			return (int)i;
	return -ENOENT;
}

/* The lowest free group number, as the kernel's ida hands them out. */
static unsigned int group_alloc(const struct sim *s)
{
	unsigned int g = s->iommu_group_base;

	while (sim_find_group(s, g) >= 0)
		g++;
	return g;
}

/* The lowest free vfio-dev index (vfio_init_device(): ida_alloc_max on vfio.device_ida). */
static unsigned int vfio_index_alloc(const struct sim *s)
{
	unsigned int v = 0, i;

	for (;;) {
		for (i = 0; i < SIM_MAX_MDEVS; i++)
			if (has_vfio(&s->mdevs[i]) && s->mdevs[i].vfio_index == v)
				break;
		if (i == SIM_MAX_MDEVS)
			return v;
		v++;
	}
}

/* Frees instance @m and gives back what its stage holds. */
static void mdev_free(struct sim *s, struct sim_mdev *m)
{
	struct sim_parent *par = &s->parents[m->parent];

	if (has_vfio(m))
		sim_uncharge(par, m->type, m->vgpu_id);
	sim_core_uncharge(par);
	m->stage = SIM_FREE;
	m->vfio_open = false;
}

/* Takes the next injected fault of @op on instance @uuid, if any: its -errno, else 0. */
static int fault_take(struct sim *s, enum sim_op op, const char *uuid)
{
	struct sim_fault *f = &s->faults[op];

	if (!f->count || (f->uuid[0] && strcmp(f->uuid, uuid)))
		return 0;
	f->count--;
	return -f->err;
}

int sim_create_add(struct sim *s, unsigned int p, unsigned int t, const char *buf, size_t len,
		   unsigned int *idx)
{
	char str[SIM_UUID_LEN + 2];
	char canon[SIM_UUID_LEN + 1];
	struct sim_mdev *m = NULL;
	unsigned int i;
	uuid_t u;
	int ret;

	/* create_store(): the count must be 36 or 37; kstrndup() then stops at a NUL byte. */
	if (len != SIM_UUID_LEN && len != SIM_UUID_LEN + 1)
		return -EINVAL;
	memcpy(str, buf, len);
	str[len] = '\0';
	/* guid_parse() looks at 36 characters only: a 37th, newline or not, is ignored. */
	str[SIM_UUID_LEN] = '\0';
	if (strlen(str) != SIM_UUID_LEN || uuid_parse(str, u))
		return -EINVAL;
	uuid_unparse_lower(u, canon);

	/* mdev_device_create(): duplicates are checked on every parent, then the core's count. */
	if (sim_find_mdev(s, canon) >= 0)
		return -EEXIST;
	for (i = 0; i < SIM_MAX_MDEVS; i++) {
		if (s->mdevs[i].stage == SIM_FREE) {
			m = &s->mdevs[i];
			break;
		}
	}
	if (!m)
		return -ENOMEM;
	ret = sim_core_charge(&s->parents[p]);
	if (ret)
		return ret;

	/* device_add(): on the bus, with its remove attribute; no driver yet. */
	memset(m, 0, sizeof(*m));
	memcpy(m->uuid, canon, sizeof(m->uuid));
	m->parent = p;
	m->type = t;
	m->serial = ++s->next_serial;
	m->stage = SIM_ADDED;
	*idx = i;
	return 0;
}

int sim_create_probe(struct sim *s, unsigned int idx, unsigned long serial)
{
	struct sim_mdev *m = &s->mdevs[idx];
	unsigned int id;
	int ret;

	if (m->stage != SIM_ADDED || m->serial != serial)
		return -ENODEV;
	/* device_driver_attach(): the driver's probe, where an injected fault also fails. */
	ret = fault_take(s, SIM_CREATE, m->uuid);
	if (!ret)
		ret = sim_charge(&s->parents[m->parent], m->type, &id);
	if (ret) {
		mdev_free(s, m);
		return ret;
	}
	/* The probe registers the VFIO device (its IOMMU group, vfio-dev/vfio<N>); then
	 * mdev_create_sysfs_files() links it to its type. */
	m->vgpu_id = id;
	m->iommu_group = group_alloc(s);
	m->vfio_index = vfio_index_alloc(s);
	m->stage = SIM_LIVE;
	return 0;
}

int sim_create(struct sim *s, unsigned int p, unsigned int t, const char *buf, size_t len)
{
	unsigned int m;
	int ret;

	ret = sim_create_add(s, p, t, buf, len, &m);
	if (ret)
		return ret;
	return sim_create_probe(s, m, s->mdevs[m].serial);
}

/* kstrtoul(buf, 0, ...) as remove_store() uses it: 0x hex, 0 octal, one trailing newline. */
static int parse_kstrtoul(const char *str, unsigned long *res)
{
	unsigned long v = 0;
	unsigned int base = 10, digits = 0;

	if (*str == '+')
		str++;
	if (str[0] == '0') {
		if (tolower((unsigned char)str[1]) == 'x' && isxdigit((unsigned char)str[2])) {
			base = 16;
			str += 2;
		} else {
			base = 8;
		}
	}
	for (;; str++, digits++) {
		unsigned int d;

		if (isdigit((unsigned char)*str))
			d = (unsigned int)(*str - '0');
		else if (isxdigit((unsigned char)*str))
			d = (unsigned int)(tolower((unsigned char)*str) - 'a' + 10);
		else
			break;
		if (d >= base)
			break;
		if (v > (ULONG_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	if (!digits)
		return -EINVAL;
	if (*str == '\n')
		str++;
	if (*str)
		return -EINVAL;
	*res = v;
	return 0;
}

int sim_remove(struct sim *s, const char *uuid, const char *buf, size_t len)
{
	char str[32];
	struct sim_mdev *m;
	unsigned long val;
	int i, ret;

	/* A remove file that is gone (with its device, or before it) is a deactivated node. */
	i = sim_find_mdev(s, uuid);
	if (i < 0)
		return -ENODEV;
	m = &s->mdevs[i];
	if (m->stage == SIM_REMOVING || m->no_remove)
		return -ENODEV;

	/* kernfs hands the store a NUL-terminated copy; longer input is no number anyway. */
	if (len >= sizeof(str))
		return -EINVAL;
	memcpy(str, buf, len);
	str[len] = '\0';
	if (parse_kstrtoul(str, &val))
		return -EINVAL;
	if (!val)
		return 0;
	ret = fault_take(s, SIM_REMOVE, m->uuid);
	if (ret)
		return ret;

	/* remove_store() takes its own attribute away first (device_remove_file_self()); then
	 * mdev_device_remove() refuses a device whose create has not finished. */
	if (m->stage == SIM_ADDED) {
		m->no_remove = true;
		return -EAGAIN;
	}
	/* mdev_device_remove_common(): off its type and the bus at once, then the driver's
	 * remove waits in vfio_unregister_group_dev() until the holder lets go. */
	if (m->vfio_open) {
		m->stage = SIM_REMOVING;
		return SIM_REMOVE_BLOCKED;
	}
	mdev_free(s, m);
	return 0;
}

bool sim_remove_waiting(const struct sim *s, unsigned int m, unsigned long serial)
{
	return s->mdevs[m].serial == serial && s->mdevs[m].stage == SIM_REMOVING;
}

int sim_lookup(struct sim *s, const char *uuid)
{
	return fault_take(s, SIM_LOOKUP, uuid);
}

void sim_remove_all(struct sim *s)
{
	unsigned int i;

	for (i = 0; i < SIM_MAX_MDEVS; i++)
		if (s->mdevs[i].stage != SIM_FREE)
			mdev_free(s, &s->mdevs[i]);
}

/*
 * vfio-open and vfio-close of instance @uuid: a process opening its VFIO group and device
 * (as QEMU does), and closing them. A close lets a waiting remove finish.
 */
static int vfio_hold(struct sim *s, const char *uuid, bool open)
{
	struct sim_mdev *m;
	int i;

	i = sim_find_mdev(s, uuid);
	if (i < 0 || !has_vfio(&s->mdevs[i]))
		return -ENOENT;
	m = &s->mdevs[i];
	if (open) {
		/* vfio_group_fops_open(): a group is opened by one file at a time. */
		if (m->vfio_open)
			return -EBUSY;
		if (s->cannot_block)
			return -EOPNOTSUPP;
		m->vfio_open = true;
		return 0;
	}
	if (!m->vfio_open)
		return -EINVAL;
	m->vfio_open = false;
	if (m->stage == SIM_REMOVING)
		mdev_free(s, m);
	return 0;
}

static int parse_op(const char *word)
{
	int op;

	for (op = 0; op < SIM_NR_OPS; op++)
		if (word && !strcmp(word, op_names[op]))
			return op;
	return -EINVAL;
}

static int parse_uint(const char *word, unsigned int max, unsigned int *res)
{
	unsigned long n;
	char *end;

	if (!word || !isdigit((unsigned char)*word))
		return -EINVAL;
	errno = 0;
	n = strtoul(word, &end, 10);
	if (errno || *end || n > max)
		return -EINVAL;
	*res = (unsigned int)n;
	return 0;
}

/* An optional instance filter: @word NULL gives "", else it must be a UUID (any case). */
static int parse_uuid_filter(const char *word, char *out)
{
	uuid_t u;

	out[0] = '\0';
	if (!word)
		return 0;
	if (strlen(word) != SIM_UUID_LEN || uuid_parse(word, u))
		return -EINVAL;
	uuid_unparse_lower(u, out);
	return 0;
}

/* One control line, already split into at most 5 words; @w[n] is NULL past the end. */
static int control_line(struct sim *s, char **w)
{
	char uuid[SIM_UUID_LEN + 1];
	unsigned int n;
	int op, err;

	if (!w[0] || w[0][0] == '#')
		return 0;
	if ((!strcmp(w[0], "vfio-open") || !strcmp(w[0], "vfio-close")) && w[1] && !w[2]) {
		if (parse_uuid_filter(w[1], uuid))
			return -EINVAL;
		return vfio_hold(s, uuid, w[0][5] == 'o');
	}
	if (!strcmp(w[0], "delay") && w[1] && !strcmp(w[1], "probe") && !w[3])
		return parse_uint(w[2], MAX_DELAY_MS, &s->probe_delay_ms);
	if (!strcmp(w[0], "reset") && !w[1]) {
		memset(s->faults, 0, sizeof(s->faults));
		s->probe_delay_ms = 0;
		return 0;
	}
	if (!strcmp(w[0], "remove-all") && !w[1]) {
		sim_remove_all(s);
		return 0;
	}
	op = parse_op(w[1]);
	if (op < 0)
		return -EINVAL;
	if (!strcmp(w[0], "fail")) {
		if (parse_uint(w[2], MAX_FAULT_COUNT, &n) || !w[3] ||
		    parse_uuid_filter(w[4], uuid))
			return -EINVAL;
		err = sim_errno_parse(w[3]);
		if (err < 0)
			return -EINVAL;
	} else if (!strcmp(w[0], "busy") && !w[4]) {
		if (parse_uint(w[2], MAX_FAULT_COUNT, &n) || parse_uuid_filter(w[3], uuid))
			return -EINVAL;
		err = EBUSY;
	} else if (!strcmp(w[0], "delay") && !w[3] && op != SIM_LOOKUP) {
		if (parse_uint(w[2], MAX_DELAY_MS, &n))
			return -EINVAL;
		s->faults[op].delay_ms = n;
		return 0;
	} else {
		return -EINVAL;
	}
	s->faults[op].count = n;
	s->faults[op].err = n ? err : 0;
	memcpy(s->faults[op].uuid, n ? uuid : "", n ? sizeof(uuid) : 1);
	return 0;
}

int sim_control(struct sim *s, const char *buf, size_t len, unsigned int *bad)
{
	struct sim *scratch;
	char *copy, *line, *next;
	unsigned int lineno = 0;
	int ret = 0;

	/* All or nothing: run the lines on a copy, keep it only if every line was valid. */
	scratch = malloc(sizeof(*scratch));
	copy = malloc(len + 1);
	if (!scratch || !copy) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(scratch, s, sizeof(*s));
	memcpy(copy, buf, len);
	copy[len] = '\0';
	if (strlen(copy) != len) {
		ret = -EINVAL;
		lineno = 1;
		goto out;
	}

	for (line = copy; line; line = next) {
		char *w[7] = { NULL };
		char *save = NULL;
		unsigned int i;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		w[0] = strtok_r(line, " \t\r", &save);
		for (i = 1; w[i - 1] && i < ARRAY_SIZE(w) - 1; i++)
			w[i] = strtok_r(NULL, " \t\r", &save);
		ret = w[ARRAY_SIZE(w) - 2] ? -EINVAL : control_line(scratch, w);
		if (ret)
			goto out;
	}
	memcpy(s, scratch, sizeof(*s));
out:
	if (ret && bad)
		*bad = lineno ? lineno : 1;
	free(copy);
	free(scratch);
	return ret;
}

static int mdev_cmp(const void *a, const void *b)
{
	const struct sim_mdev *const *x = a, *const *y = b;

	return strcmp((*x)->uuid, (*y)->uuid);
}

/* The instances in a stage other than SIM_FREE into @sorted, by UUID: how many. */
static unsigned int mdevs_sorted(const struct sim *s, const struct sim_mdev **sorted)
{
	unsigned int i, n = 0;

	for (i = 0; i < SIM_MAX_MDEVS; i++)
		if (s->mdevs[i].stage != SIM_FREE)
			sorted[n++] = &s->mdevs[i];
	qsort(sorted, n, sizeof(sorted[0]), mdev_cmp);
	return n;
}

int sim_dump_control(const struct sim *s, FILE *f)
{
	const struct sim_mdev *sorted[SIM_MAX_MDEVS];
	unsigned int i, nm;
	int op, n = 0;

	for (op = 0; op < SIM_NR_OPS && n >= 0; op++) {
		const struct sim_fault *fa = &s->faults[op];
		const char *name = sim_errno_name(fa->err);

		if (fa->count && name)
			n = fprintf(f, "fail %s %u %s", op_names[op], fa->count, name);
		else if (fa->count)
			n = fprintf(f, "fail %s %u %d", op_names[op], fa->count, fa->err);
		if (n >= 0 && fa->count)
			n = fprintf(f, "%s%s\n", fa->uuid[0] ? " " : "", fa->uuid);
		if (n >= 0 && fa->delay_ms)
			n = fprintf(f, "delay %s %u\n", op_names[op], fa->delay_ms);
	}
	if (n >= 0 && s->probe_delay_ms)
		n = fprintf(f, "delay probe %u\n", s->probe_delay_ms);
	nm = mdevs_sorted(s, sorted);
	for (i = 0; i < nm && n >= 0; i++)
		if (sorted[i]->vfio_open)
			n = fprintf(f, "vfio-open %s\n", sorted[i]->uuid);
	return n < 0 ? -EIO : 0;
}

static unsigned int parent_instances(const struct sim *s, unsigned int p)
{
	unsigned int i, n = 0;

	for (i = 0; i < SIM_MAX_MDEVS; i++)
		if (s->mdevs[i].stage != SIM_FREE && s->mdevs[i].parent == p)
			n++;
	return n;
}

int sim_dump_state(const struct sim *s, FILE *f)
{
	const struct sim_mdev *sorted[SIM_MAX_MDEVS];
	unsigned int p, t, i, n = 0;
	int ret = 0;

	for (p = 0; p < s->nparents && ret >= 0; p++) {
		const struct sim_parent *par = &s->parents[p];

		if (par->driver == SIM_GVT)
			ret = fprintf(f, "parent %s driver=%s low_gm_free_mb=%u high_gm_free_mb=%u "
				      "fences_free=%u instances=%u\n", par->name, par->drv,
				      par->low_mb - GVT_HOST_LOW_MB - par->used_low_mb,
				      par->high_mb - GVT_HOST_HIGH_MB - par->used_high_mb,
				      par->fences - GVT_HOST_FENCES - par->used_fences,
				      parent_instances(s, p));
		else if (par->driver == SIM_MDPY)
			ret = fprintf(f, "parent %s driver=%s instances_free=%u instances=%u\n",
				      par->name, par->drv,
				      par->max_instances - par->used_instances,
				      parent_instances(s, p));
		else
			ret = fprintf(f, "parent %s driver=%s %s_free=%u instances=%u\n",
				      par->name, par->drv,
				      par->driver == SIM_MBOCHS ? "mbytes" : "ports",
				      par->pool - par->used_pool, parent_instances(s, p));
		for (t = 0; t < par->ntypes && ret >= 0; t++)
			ret = fprintf(f, "type %s %s available_instances=%u\n", par->name,
				      par->types[t].dir, sim_available(s, p, t));
	}

	/* Sorted by UUID, so that the same set of devices always reads the same. */
	n = mdevs_sorted(s, sorted);
	for (i = 0; i < n && ret >= 0; i++) {
		const struct sim_mdev *m = sorted[i];
		const struct sim_parent *par = &s->parents[m->parent];

		ret = fprintf(f, "mdev %s parent=%s type=%s%s%s%s\n", m->uuid, par->name,
			      par->types[m->type].dir,
			      m->stage == SIM_ADDED ? " probing" :
			      m->stage == SIM_REMOVING ? " removing" : "",
			      m->vfio_open ? " vfio-open" : "",
			      m->no_remove ? " no-remove" : "");
	}
	return ret < 0 ? -EIO : 0;
}
