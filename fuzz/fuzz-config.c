/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-config: the config parser (config_parse, the parser of config_load without the owner
 * checks). The input is the config text.
 *
 * Oracles:
 *  - a failure is -EINVAL with at least one error, a success has none (config.h: a file with
 *    any error is not used); every error is one line naming the file;
 *  - MUST 2: a text with a NUL byte, a line over 198 characters (1024 for a section header,
 *    MUST 3), or a line indented by any blank that is neither blank nor a comment is
 *    refused;
 *  - MUST 3: every value of a parsed config is valid: paths absolute without "..", parent
 *    "auto" or a valid name, 1 to 16 distinct valid types, remove_retries 0..100 or unset,
 *    domain names distinct and accepted by config_domain_name_ok();
 *  - every section name of the result is in the text as written, followed by its ']': a
 *    section header is never cut short;
 *  - the result written back as a config parses again to the same settings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "mdev.h"

#define LINE_MAX_CHARS 198   /* config.h MUST 2 */
#define HEADER_MAX_CHARS 1024   /* config.h MUST 3 */
#define TYPES_MAX 16
#define BLANKS " \t\v\f\r"  /* what indents a line for inih (isspace) */

static int parse(const char *text, size_t size, struct config **cfg, struct strv *errors)
{
	FILE *f = size ? fmemopen((void *)text, size, "r") : fopen("/dev/null", "r");
	int r;

	FUZZ_ASSERT(f, "cannot open the text as a stream");
	r = config_parse(f, "fuzz.conf", cfg, errors);
	fclose(f);
	return r;
}

/* The length of the run of characters of @set in @s from @i to @end. */
static size_t span(const char *s, size_t i, size_t end, const char *set)
{
	size_t n = 0;

	while (i + n < end && s[i + n] && strchr(set, s[i + n]))
		n++;
	return n;
}

/* What MUST 2 refuses, decided from the text alone. */
static bool must_refuse(const char *text, size_t size)
{
	if (memchr(text, '\0', size))
		return true;
	for (size_t start = 0; start < size;) {
		const char *nl = memchr(text + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - text) : size;
		size_t blanks = span(text, start, end, BLANKS);
		size_t bom = start == 0 && end >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
		bool header = start + bom < end && text[start + bom] == '[';

		if (end - start > (header ? HEADER_MAX_CHARS : LINE_MAX_CHARS))
			return true;
		/* Indented, not blank, and not a comment. */
		if (blanks && blanks < end - start && text[start + blanks] != ';' &&
		    text[start + blanks] != '#')
			return true;
		start = end + 1;
	}
	return false;
}

static void check_section(const struct config_section *sec, const char *text, size_t size)
{
	const char *what = sec->domain ? sec->domain : "defaults";

	FUZZ_ASSERT(!sec->parent[0] || strcmp(sec->parent, "auto") == 0 ||
		    mdev_parent_valid(sec->parent), "[%s] parent '%s'", what, sec->parent);
	FUZZ_ASSERT(sec->types.n <= TYPES_MAX, "[%s] %zu types", what, sec->types.n);
	for (size_t i = 0; i < sec->types.n; i++) {
		FUZZ_ASSERT(mdev_type_valid(sec->types.v[i]), "[%s] type '%s'", what,
			    sec->types.v[i]);
		for (size_t j = 0; j < i; j++)
			FUZZ_ASSERT(strcmp(sec->types.v[i], sec->types.v[j]) != 0,
				    "[%s] type %s twice", what, sec->types.v[i]);
	}
	FUZZ_ASSERT(sec->remove_retries >= -1 && sec->remove_retries <= CONFIG_REMOVE_RETRIES_MAX,
		    "[%s] remove_retries %d", what, sec->remove_retries);
	if (sec->domain) {
		size_t n = strlen(sec->domain);
		bool found = false;

		FUZZ_ASSERT(n > 0, "a [domain] without a name");
		for (const char *p = text; !found && p < text + size; p++) {
			p = memmem(p, size - (size_t)(p - text), sec->domain, n);
			if (!p)
				break;
			found = (size_t)(p - text) + n < size && p[n] == ']';
		}
		FUZZ_ASSERT(found, "[domain %s] is not in the text as a section name", sec->domain);
	}
}

static bool path_valid(const char *p)
{
	if (p[0] != '/')
		return false;
	for (const char *q = p; (q = strstr(q, "..")); q += 2)
		if (q[-1] == '/' && (q[2] == '/' || q[2] == '\0'))
			return false;
	return true;
}

static void write_section(FILE *f, const struct config_section *sec)
{
	if (sec->domain)
		fprintf(f, "[domain %s]\n", sec->domain);
	if (sec->parent[0])
		fprintf(f, "parent=%s\n", sec->parent);
	if (sec->types.n) {
		fputs("type=", f);
		for (size_t i = 0; i < sec->types.n; i++)
			fprintf(f, "%s%s", i ? " " : "", sec->types.v[i]);
		fputc('\n', f);
	}
	if (sec->remove_retries >= 0)
		fprintf(f, "remove_retries=%d\n", sec->remove_retries);
}

static bool same_section(const struct config_section *a, const struct config_section *b)
{
	if (!a->domain != !b->domain || (a->domain && strcmp(a->domain, b->domain) != 0) ||
	    strcmp(a->parent, b->parent) != 0 || a->types.n != b->types.n ||
	    a->remove_retries != b->remove_retries)
		return false;
	for (size_t i = 0; i < a->types.n; i++)
		if (strcmp(a->types.v[i], b->types.v[i]) != 0)
			return false;
	return true;
}

/* Write @cfg back as a config (the shortest spelling of each line, so no line grows) and
 * parse it again: the same settings must come back. */
static void check_roundtrip(const struct config *cfg)
{
	struct strv errors = { 0 };
	struct config *again;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	FUZZ_ASSERT(f, "open_memstream failed");
	fprintf(f, "[defaults]\nsysfs_root=%s\nstate_dir=%s\n", cfg->sysfs_root, cfg->state_dir);
	write_section(f, &cfg->defaults);
	for (size_t i = 0; i < cfg->n_domains; i++)
		write_section(f, &cfg->domains[i]);
	FUZZ_ASSERT(fclose(f) == 0, "writing failed");

	FUZZ_ASSERT(parse(text, len, &again, &errors) == 0, "written back, it does not parse: "
		    "%s\n%s", errors.n ? errors.v[0] : "", text);
	FUZZ_ASSERT(strcmp(again->sysfs_root, cfg->sysfs_root) == 0 &&
		    strcmp(again->state_dir, cfg->state_dir) == 0 &&
		    same_section(&again->defaults, &cfg->defaults) &&
		    again->n_domains == cfg->n_domains, "written back, it differs:\n%s", text);
	for (size_t i = 0; i < cfg->n_domains; i++)
		FUZZ_ASSERT(same_section(&again->domains[i], &cfg->domains[i]),
			    "written back, [domain %s] differs:\n%s", cfg->domains[i].domain, text);
	config_free(again);
	strv_free(&errors);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct strv errors = { 0 };
	struct config *cfg = NULL;
	int r = parse(text, size, &cfg, &errors);

	for (size_t i = 0; i < errors.n; i++)
		FUZZ_ASSERT(fuzz_one_line(errors.v[i]) &&
			    strncmp(errors.v[i], "fuzz.conf:", 10) == 0, "error '%s'", errors.v[i]);
	if (r < 0) {
		FUZZ_ASSERT(r == -EINVAL || r == -ENOMEM, "config_parse returned %d", r);
		FUZZ_ASSERT(!cfg, "config_parse failed and set *out");
		FUZZ_ASSERT(errors.n > 0 || r == -ENOMEM, "refused without an error");
		strv_free(&errors);
		return 0;
	}
	FUZZ_ASSERT(errors.n == 0, "parsed with %zu errors: %s", errors.n, errors.v[0]);
	FUZZ_ASSERT(!must_refuse(text, size), "parsed a text that MUST 2 refuses");
	FUZZ_ASSERT(cfg->found && strcmp(cfg->path, "fuzz.conf") == 0, "path or found");
	FUZZ_ASSERT(path_valid(cfg->sysfs_root) && path_valid(cfg->state_dir),
		    "paths '%s' '%s'", cfg->sysfs_root, cfg->state_dir);
	FUZZ_ASSERT(!cfg->defaults.domain, "[defaults] has a domain name");
	check_section(&cfg->defaults, text, size);
	for (size_t i = 0; i < cfg->n_domains; i++) {
		check_section(&cfg->domains[i], text, size);
		FUZZ_ASSERT(cfg->domains[i].domain, "[domain] section %zu has no name", i);
		FUZZ_ASSERT(config_domain_name_ok(cfg->domains[i].domain),
			    "[domain %s] loaded, but config_domain_name_ok() refuses it",
			    cfg->domains[i].domain);
		FUZZ_ASSERT(config_domain(cfg, cfg->domains[i].domain) == &cfg->domains[i],
			    "[domain %s] twice", cfg->domains[i].domain);
	}
	check_roundtrip(cfg);
	config_free(cfg);
	strv_free(&errors);
	return 0;
}
