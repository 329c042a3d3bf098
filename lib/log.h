/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * log.h: the one diagnostic sink of every program: syslog (facility daemon) plus stderr
 * where a person is watching. lib/ never writes to stdout: for the libvirt `migrate` and
 * `restore` operations, a hook's stdout replaces the domain definition
 * (research/hook-anchors.md, section 1.3).
 *
 * Every message is one line, made so here, where it leaves the program, and nowhere else:
 * log_msg() and log_line() turn each control character into '?' (str_one_line), so a
 * message may quote a value from the XML or the config as it is.
 */
#ifndef VGPU_LOG_H
#define VGPU_LOG_H

#include <stdbool.h>
#include <stdio.h>
#include <syslog.h>

#include "util.h"

/* A replacement sink, for tests: receives each formatted message (no newline). */
typedef void (*log_fn)(void *opaque, int priority, const char *msg);

/*
 * log_open: open syslog with @ident (not copied: must outlive the process's logging),
 * LOG_PID and facility LOG_DAEMON. When @to_stderr is true, messages of priority LOG_INFO
 * and more urgent are also written to stderr as "@ident: message".
 */
void log_open(const char *ident, bool to_stderr);

/* log_set_fn: send every message to @fn instead of syslog and stderr; NULL restores them. */
void log_set_fn(log_fn fn, void *opaque);

/* log_msg: format and emit one message, of at most MSG_LINE_MAX - 1 bytes, made one line;
 * @priority is a syslog priority (LOG_ERR...). */
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* log_quiet: log_msg() to syslog (or the log_set_fn() sink) and never to stderr: for a
 * message that its caller writes to its own output as well, a host tool's report line. */
void log_quiet(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * log_line: write @prefix, then @msg made one line, then a newline, to @f: the hook's line
 * on stderr, a dry run's line, a host tool's error. A @msg that fills a MSG_LINE_MAX buffer
 * (it was cut) ends in "..." instead of in the middle of a word.
 */
void log_line(FILE *f, const char *prefix, const char *msg);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
