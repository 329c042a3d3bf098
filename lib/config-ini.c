/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <ini.h>

#include "config-ini.h"

struct reader {
	FILE *f;
	const struct config_ini_handler *h;
	void *opaque;
	unsigned line;
	bool oom;                               /* a callback ran out of memory */
	char buf[CONFIG_INI_HEADER_MAX + 1];    /* the current physical line */
};

static void refuse(struct reader *rd, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void refuse(struct reader *rd, unsigned line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rd->h->error(rd->opaque, line, msg);
}

/* The length of the blanks that start @s, as inih skips them (isspace: " \t\v\f\r"). */
static size_t blanks(const char *s)
{
	size_t n = 0;

	while (s[n] && isspace((unsigned char)s[n]))
		n++;
	return n;
}

ssize_t config_ini_header_end(const char *s)
{
	ssize_t end = -1;

	for (const char *p = s; (p = strchr(p, ']')); p++) {
		const char *rest = p + 1 + blanks(p + 1);

		if (*rest && *rest != ';' && *rest != '#')
			continue;
		if (end >= 0)
			return -2;
		end = p - s;
	}
	return end;
}

/* The section header @s (a physical line, trailing blanks removed, starting with '['). */
static void header(struct reader *rd, char *s)
{
	ssize_t end = config_ini_header_end(s + 1);

	if (end == -1) {
		refuse(rd, rd->line, "syntax error: a section header ends with ']'");
		return;
	}
	if (end == -2) {
		refuse(rd, rd->line, "ambiguous section header: more than one ']' could end it; "
		       "put a comment on a line of its own");
		return;
	}
	s[1 + end] = '\0';
	if (rd->h->section(rd->opaque, rd->line, s + 1) < 0)
		rd->oom = true;
}

/*
 * inih's line reader: one physical line per call, refusing what inih would read otherwise
 * (MUST 1 to 4). A header is read here and inih gets an empty line, as it does for every
 * refused line (the refusal is already the caller's).
 */
static char *read_line(char *str, int num, void *stream)
{
	struct reader *rd = stream;
	size_t len = 0, max = (size_t)num - 2, lead, phys;
	bool nul = false, toolong = false;
	char *s = rd->buf;
	int c;

	c = getc(rd->f);
	if (c == EOF)
		return NULL;
	rd->line++;
	for (; c != EOF && c != '\n'; c = getc(rd->f)) {
		if (c == '\0')
			nul = true;
		else if (len < CONFIG_INI_HEADER_MAX)
			s[len++] = (char)c;
		else
			toolong = true;
	}
	s[len] = '\0';
	phys = len;
	/* inih skips a UTF-8 BOM on the first line, and the blanks that end a line. */
	if (rd->line == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		len -= 3;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	lead = blanks(s);
	str[0] = '\0';
	if (nul) {
		refuse(rd, rd->line, "NUL byte in line");
	} else if (s[0] == '[' && !toolong) {
		header(rd, s);
	} else if (toolong || phys > max) {
		refuse(rd, rd->line, "line longer than %zu characters", s[0] == '[' ?
		       (size_t)CONFIG_INI_HEADER_MAX : max);
	} else if (lead && s[lead] && !strchr(";#", s[lead])) {
		/* inih would append it to the previous value, Python-style: say so instead. A
		 * vertical tab, form feed or carriage return indents as a space does. */
		refuse(rd, rd->line, "indented line: continuation lines are not supported");
	} else {
		memcpy(str, s, len + 1);
	}
	strcat(str, "\n");
	return str;
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct reader *rd = user;

	(void)section;   /* always "": read_line() reads the headers */
	if (rd->h->key(rd->opaque, rd->line, name, value) < 0)
		rd->oom = true;
	return 1;
}

int config_ini_parse(FILE *f, const struct config_ini_handler *h, void *opaque)
{
	struct reader rd = { .f = f, .h = h, .opaque = opaque };
	int r;

	r = ini_parse_stream(read_line, &rd, on_pair, &rd);
	if (rd.oom || r == -2)
		return -ENOMEM;
	if (ferror(f))
		return errno ? -errno : -EIO;
	if (r > 0)
		refuse(&rd, (unsigned)r, "syntax error: expected [section], key = value or a "
		       "comment");
	return 0;
}
