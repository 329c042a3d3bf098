/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * config-ini.h: the adapter between libinih and the config (config.h). It feeds inih one
 * physical line at a time, reads section headers itself, and hands the caller each header
 * and each `key = value` with its line number; what the values mean is the caller's.
 *
 * inih (r55 and later, INI_MAX_LINE 200, INI_ALLOW_MULTILINE, inline ';' comments) reads
 * some text other than as written, silently. The adapter MUST refuse, as an error of its
 * line passed to the caller and never as a header or a key:
 *  1. a NUL byte in a line (inih ends the line there);
 *  2. a line longer than inih's buffer, INI_MAX_LINE - 2 = 198 characters (inih splits it
 *     into two), or a section header longer than CONFIG_INI_HEADER_MAX (1024);
 *  3. a line indented by any blank inih skips (isspace: space, tab, vertical tab, form
 *     feed, carriage return) that is not a comment: inih appends it to the previous value;
 *  4. a section header without a ']' that ends it, or with more than one that could (a ']'
 *     followed by nothing, or by blanks and ';' or '#'): inih ends a name at its first ']'
 *     and at its 49th character, so `[domain vm[1]]` would be "vm[1";
 *  5. any line inih itself cannot read (no '=' or ':' in it): "syntax error".
 * And it MUST NOT fail open: when memory runs out (a callback's -ENOMEM, or inih's), the
 * parse returns -ENOMEM, never 0, so that no section or key is dropped from a file that
 * is then used.
 */
#ifndef VGPU_CONFIG_INI_H
#define VGPU_CONFIG_INI_H

#include <stdio.h>
#include <sys/types.h>

#define CONFIG_INI_HEADER_MAX 1024   /* the longest section header line */

/* What the adapter hands over; @opaque is config_ini_parse()'s. */
struct config_ini_handler {
	/* The header `[NAME]` at @line: NAME as written, between the '[' and the one ']'
	 * that ends it. Returns 0, or -ENOMEM (the parse stops counting on the text). */
	int (*section)(void *opaque, unsigned line, const char *name);
	/* `KEY = VALUE` at @line, blanks around both removed (by inih), an inline comment
	 * dropped. Returns 0 or -ENOMEM. */
	int (*key)(void *opaque, unsigned line, const char *key, const char *value);
	/* A line refused (MUST 1 to 5): @msg is one line such as "NUL byte in line". */
	void (*error)(void *opaque, unsigned line, const char *msg);
};

/*
 * config_ini_parse: read all of @f (not closed) and call @h for each header, key and
 * refused line, in order.
 * Returns 0 (refusals, if any, went to @h->error: the caller counts them); -ENOMEM (a
 * callback's or inih's: what was handed over is incomplete); -EIO or -errno when reading
 * @f fails.
 */
int config_ini_parse(FILE *f, const struct config_ini_handler *h, void *opaque);

/*
 * config_ini_header_end: in @s, the text after a header's '[', the offset of the ']' that
 * ends the header (MUST 4). Returns it, or -1 when there is none, -2 when more than one
 * could be.
 */
ssize_t config_ini_header_end(const char *s);

#endif
