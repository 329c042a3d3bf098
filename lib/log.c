/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static const char *log_ident = "vgpu-hook";
static bool log_stderr;
static log_fn log_hook;
static void *log_hook_opaque;

void log_open(const char *ident, bool to_stderr)
{
	log_ident = ident;
	log_stderr = to_stderr;
	openlog(ident, LOG_PID, LOG_DAEMON);
}

void log_set_fn(log_fn fn, void *opaque)
{
	log_hook = fn;
	log_hook_opaque = opaque;
}

static void log_v(int priority, bool echo, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void log_v(int priority, bool echo, const char *fmt, va_list ap)
{
	char msg[MSG_LINE_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	str_one_line(msg);

	if (log_hook) {
		log_hook(log_hook_opaque, priority, msg);
		return;
	}
	syslog(priority, "%s", msg);
	if (echo && log_stderr && priority <= LOG_INFO)
		fprintf(stderr, "%s: %s\n", log_ident, msg);
}

void log_msg(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(priority, true, fmt, ap);
	va_end(ap);
}

void log_quiet(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(priority, false, fmt, ap);
	va_end(ap);
}

void log_line(FILE *f, const char *prefix, const char *msg)
{
	char line[MSG_LINE_MAX];
	size_t len;

	snprintf(line, sizeof(line), "%s", msg);
	str_one_line(line);
	len = strlen(line);
	if (len == sizeof(line) - 1)
		memcpy(line + len - 3, "...", 3);
	fprintf(f, "%s%s\n", prefix, line);
}
