/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mdev.h"

const char *fuzz_input_name;

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: oracle broken: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (fuzz_input_name)
		fprintf(stderr, "input: %s\n", fuzz_input_name);
	abort();
}

bool fuzz_one_line(const char *s)
{
	return s[0] && !strchr(s, '\n');
}

bool fuzz_message(const char *s)
{
	char line[MSG_LINE_MAX];

	snprintf(line, sizeof(line), "%s", s);
	str_one_line(line);
	for (const unsigned char *p = (const unsigned char *)line; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return fuzz_one_line(line);
}

bool fuzz_uuid_canonical(const char *s)
{
	char c[MDEV_UUID_LEN + 1];

	return mdev_uuid_canon(s, c) == 0 && strcmp(c, s) == 0;
}
