/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "config-ini.h"
#include "config.h"

#define CONFIG_TYPES_MAX 16

struct parse_state {
	struct config *cfg;
	FILE *f;
	unsigned line;                /* of the header or key being read */
	unsigned nerr;
	struct strv *errors;
	bool in_section;              /* a section header was read */
	struct config_section *sec;   /* the current section; NULL after a bad header */
	size_t cap_domains;           /* room in cfg->domains */
};

static void perr(struct parse_state *ps, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void perr(struct parse_state *ps, unsigned line, const char *fmt, ...)
{
	char msg[512], full[PATH_MAX + 600];
	va_list ap;

	ps->nerr++;
	if (!ps->errors)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(full, sizeof(full), "%s:%u: %s", ps->cfg->path, line, msg);
	else
		snprintf(full, sizeof(full), "%s: %s", ps->cfg->path, msg);
	strv_add(ps->errors, full);
}

bool config_domain_name_ok(const char *name)
{
	size_t len = strlen(name);
	char header[CONFIG_DOMAIN_NAME_MAX + 2];

	if (!len || len > CONFIG_DOMAIN_NAME_MAX || strchr(name, '\n') ||
	    isspace((unsigned char)name[0]) || isspace((unsigned char)name[len - 1]))
		return false;
	snprintf(header, sizeof(header), "%s]", name);
	return config_ini_header_end(header) == (ssize_t)len;
}

static struct config_section *section_for(struct parse_state *ps, const char *section);

/*
 * The section header `[@s]` at @line (config-ini.h): sets ps->sec, or reports why not, and
 * then the keys that follow are skipped. Returns 0 or -ENOMEM.
 */
static int on_section(void *opaque, unsigned line, const char *s)
{
	struct parse_state *ps = opaque;
	const char *name;

	ps->line = line;
	ps->in_section = true;
	ps->sec = NULL;
	if (strcmp(s, "defaults") == 0) {
		ps->sec = &ps->cfg->defaults;
		return 0;
	}
	if (strncmp(s, "domain ", 7) != 0) {
		perr(ps, ps->line, "unknown section [%.64s]: use [defaults] or [domain NAME]", s);
		return 0;
	}
	name = s + 7;
	if (!*name) {
		perr(ps, ps->line, "[domain] needs a domain name: [domain NAME]");
		return 0;
	}
	if (!config_domain_name_ok(name)) {
		perr(ps, ps->line, "[domain %.64s%s]: a domain name that %s cannot be a section; put "
		     "parent and type in the domain's <metadata> (vgpu-xml --parent --type)",
		     name, strlen(name) > 64 ? "..." : "",
		     strlen(name) > CONFIG_DOMAIN_NAME_MAX ? "is longer than 255 bytes" :
		     "begins or ends with a blank");
		return 0;
	}
	ps->sec = section_for(ps, name);
	return ps->sec ? 0 : -ENOMEM;
}

/* An absolute path of sane length with no ".." component. */
static bool path_ok(const char *v)
{
	if (v[0] != '/' || strlen(v) >= PATH_MAX / 2)
		return false;
	for (const char *p = v; (p = strstr(p, "..")); p += 2)
		if (p[-1] == '/' && (p[2] == '/' || p[2] == '\0'))
			return false;
	return true;
}

static int set_path(struct parse_state *ps, char **dst, const char *name, const char *v)
{
	char *copy;

	if (ps->sec != &ps->cfg->defaults) {
		perr(ps, ps->line, "%s is host-wide: set it in [defaults]", name);
		return 0;
	}
	if (!path_ok(v)) {
		perr(ps, ps->line, "%s '%.64s' is not an absolute path without '..'", name, v);
		return 0;
	}
	copy = strdup(v);
	if (!copy)
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

static int set_types(struct parse_state *ps, struct config_section *sec, const char *v)
{
	const char *p = v;

	while (*p) {
		size_t n;
		char name[MDEV_NAME_MAX + 2];

		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (!n)
			break;
		snprintf(name, sizeof(name), "%.*s", (int)(n > MDEV_NAME_MAX ? MDEV_NAME_MAX + 1 : n),
			 p);
		if (n > MDEV_NAME_MAX || !mdev_type_valid(name)) {
			perr(ps, ps->line, "type '%.*s' is not an mdev type name ([A-Za-z0-9_-], "
			     "at most %d)", (int)(n > 64 ? 64 : n), p, MDEV_NAME_MAX);
			return 0;
		}
		if (strv_contains(&sec->types, name)) {
			perr(ps, ps->line, "type '%s' is listed twice", name);
			return 0;
		}
		if (sec->types.n == CONFIG_TYPES_MAX) {
			perr(ps, ps->line, "more than %d types", CONFIG_TYPES_MAX);
			return 0;
		}
		if (strv_add(&sec->types, name) < 0)
			return -ENOMEM;
		p += n;
	}
	if (!sec->types.n)
		perr(ps, ps->line, "type is empty");
	return 0;
}

/* The [domain @name] section, added when new; NULL on ENOMEM (then nothing is added). */
static struct config_section *section_for(struct parse_state *ps, const char *name)
{
	struct config *cfg = ps->cfg;
	struct config_section *d;
	char *copy;

	for (size_t i = 0; i < cfg->n_domains; i++)
		if (strcmp(cfg->domains[i].domain, name) == 0)
			return &cfg->domains[i];
	copy = strdup(name);
	d = copy ? ARRAY_ADD(cfg->domains, cfg->n_domains, ps->cap_domains) : NULL;
	if (!d) {
		free(copy);
		return NULL;
	}
	d->domain = copy;
	d->remove_retries = -1;
	d->line = ps->line;
	return d;
}

/* The key @name = @value at @line (config-ini.h). Returns 0 or -ENOMEM. */
static int on_key(void *opaque, unsigned line, const char *name, const char *value)
{
	struct parse_state *ps = opaque;
	struct config_section *sec = ps->sec;
	int r = 0;

	ps->line = line;
	if (!ps->in_section) {
		perr(ps, ps->line, "'%.64s' is outside any section: start with [defaults]", name);
		return 0;
	}
	if (!sec)
		return 0;   /* its header was bad, and said so */

	if (strcmp(name, "sysfs_root") == 0) {
		r = set_path(ps, &ps->cfg->sysfs_root, name, value);
	} else if (strcmp(name, "state_dir") == 0) {
		r = set_path(ps, &ps->cfg->state_dir, name, value);
	} else if (strcmp(name, "parent") == 0) {
		if (sec->parent[0])
			perr(ps, ps->line, "parent is set twice in this section");
		else if (strcmp(value, "auto") != 0 && !mdev_parent_valid(value))
			perr(ps, ps->line, "parent '%.64s' is neither auto nor a device name "
			     "such as 0000:00:02.0", value);
		else
			str_copy(sec->parent, sizeof(sec->parent), value);
	} else if (strcmp(name, "type") == 0) {
		if (sec->types.n)
			perr(ps, ps->line, "type is set twice in this section");
		else
			r = set_types(ps, sec, value);
	} else if (strcmp(name, "remove_retries") == 0) {
		char *end;
		long n;

		errno = 0;
		n = strtol(value, &end, 10);
		if (errno || end == value || *end || n < 0 || n > CONFIG_REMOVE_RETRIES_MAX)
			perr(ps, ps->line, "remove_retries '%.64s' is not a number from 0 to %d",
			     value, CONFIG_REMOVE_RETRIES_MAX);
		else
			sec->remove_retries = (int)n;
	} else if (strcmp(name, "release_timeout") == 0) {
		char *end;
		long n;

		errno = 0;
		n = strtol(value, &end, 10);
		if (sec != &ps->cfg->defaults)
			perr(ps, ps->line, "release_timeout is host-wide: set it in [defaults]");
		else if (errno || end == value || *end || n < 1 || n > CONFIG_RELEASE_TIMEOUT_MAX)
			perr(ps, ps->line, "release_timeout '%.64s' is not a number of seconds "
			     "from 1 to %d", value, CONFIG_RELEASE_TIMEOUT_MAX);
		else
			ps->cfg->release_timeout = (int)n;
	} else {
		perr(ps, ps->line, "unknown key '%.64s' (known: sysfs_root, state_dir, parent, "
		     "type, remove_retries, release_timeout)", name);
	}
	return r;
}

/* A line config-ini.c refused. */
static void on_error(void *opaque, unsigned line, const char *msg)
{
	perr(opaque, line, "%s", msg);
}

struct config *config_defaults(void)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->defaults.remove_retries = -1;
	cfg->release_timeout = CONFIG_DEFAULT_RELEASE_TIMEOUT;
	cfg->sysfs_root = strdup(CONFIG_DEFAULT_SYSFS_ROOT);
	cfg->state_dir = strdup(CONFIG_DEFAULT_STATE_DIR);
	if (!cfg->sysfs_root || !cfg->state_dir) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* The defaults, named @path in messages; NULL on ENOMEM. */
static struct config *config_new(const char *path)
{
	struct config *cfg = config_defaults();

	if (cfg && !(cfg->path = strdup(path))) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* Parse ps->f into ps->cfg. Returns 0, -EINVAL (every error is in ps->errors), -ENOMEM
 * (never a configuration that lacks what did not fit) or -errno of reading. */
static int parse(struct parse_state *ps)
{
	static const struct config_ini_handler handler = {
		.section = on_section, .key = on_key, .error = on_error,
	};
	int r;

	ps->cfg->found = true;
	r = config_ini_parse(ps->f, &handler, ps);
	if (r == -ENOMEM) {
		perr(ps, 0, "out of memory");
		return r;
	}
	if (r < 0) {
		perr(ps, 0, "read error: %s", strerror(-r));
		return r;
	}
	return ps->nerr ? -EINVAL : 0;
}

int config_parse(FILE *f, const char *path, struct config **out, struct strv *errors)
{
	struct parse_state ps = { .f = f, .errors = errors };
	int r;

	*out = NULL;
	ps.cfg = config_new(path);
	if (!ps.cfg)
		return -ENOMEM;
	r = parse(&ps);
	if (r < 0) {
		config_free(ps.cfg);
		return r;
	}
	*out = ps.cfg;
	return 0;
}

int config_load(const char *path, uid_t owner, struct config **out, struct strv *errors)
{
	struct parse_state ps = { .errors = errors };
	struct config *cfg;
	struct stat st;
	int fd, r;

	*out = NULL;
	cfg = config_new(path);
	if (!cfg)
		return -ENOMEM;
	ps.cfg = cfg;

	/* O_NONBLOCK: opening a FIFO would wait for a writer; it is refused below instead.
	 * On the regular file that is read, the flag changes nothing. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT) {
			*out = cfg;
			return 0;
		}
		perr(&ps, 0, "cannot open: %s", strerror(-r));
		goto fail;
	}
	/* Checked on the descriptor that is read (MUST 1). */
	if (fstat(fd, &st) < 0) {
		r = -errno;
		perr(&ps, 0, "cannot stat: %s", strerror(-r));
		close(fd);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		perr(&ps, 0, "not a regular file");
		close(fd);
		r = -EINVAL;
		goto fail;
	}
	if (st.st_uid != owner || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		perr(&ps, 0, "refusing a config that is %s: it must be owned by uid %u and "
		     "writable only by it (chown %u %s; chmod go-w %s)",
		     st.st_uid != owner ? "owned by another user" : "writable by group or other",
		     (unsigned)owner, (unsigned)owner, path, path);
		close(fd);
		r = -EPERM;
		goto fail;
	}
	ps.f = fdopen(fd, "r");
	if (!ps.f) {
		r = -errno;
		close(fd);
		goto fail;
	}
	r = parse(&ps);
	fclose(ps.f);
	if (r < 0)
		goto fail;
	*out = cfg;
	return 0;
fail:
	config_free(cfg);
	return r < 0 ? r : -EINVAL;
}

static void section_free(struct config_section *sec)
{
	free(sec->domain);
	strv_free(&sec->types);
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	section_free(&cfg->defaults);
	for (size_t i = 0; i < cfg->n_domains; i++)
		section_free(&cfg->domains[i]);
	free(cfg->domains);
	free(cfg->path);
	free(cfg->sysfs_root);
	free(cfg->state_dir);
	free(cfg);
}

const struct config_section *config_domain(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_domains; i++)
		if (strcmp(cfg->domains[i].domain, name) == 0)
			return &cfg->domains[i];
	return NULL;
}

int config_remove_retries(const struct config *cfg, const char *name)
{
	const struct config_section *d = config_domain(cfg, name);

	if (d && d->remove_retries >= 0)
		return d->remove_retries;
	if (cfg->defaults.remove_retries >= 0)
		return cfg->defaults.remove_retries;
	return CONFIG_DEFAULT_REMOVE_RETRIES;
}
