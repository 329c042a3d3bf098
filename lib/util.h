/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util.h: small helpers shared by every module: bounded path building, bounded reads of
 * sysfs-style attribute files, and a growable string vector.
 *
 * All functions return 0 or a negative errno value; none prints or exits.
 */
#ifndef VGPU_UTIL_H
#define VGPU_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The size of a buffer that holds one message line whole (the hook's line on stderr, which
 * libvirt shows, and each buffer it is built in): room for a domain name twice (libvirt's
 * names are at most 251 bytes: it keeps each domain as NAME.xml), two paths as long as
 * the config allows (PATH_MAX / 2 each), UUIDs, a quoted value and the words.
 */
#define MSG_LINE_MAX 8192

/*
 * path_fmt: snprintf() into @buf (@len bytes, NUL included).
 * Returns 0, or -ENAMETOOLONG when the result would not fit (then @buf holds a truncated,
 * NUL-terminated string that must not be used as a path).
 */
int path_fmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * str_one_line: make the message @msg one line, in place: each control character in it (a
 * newline or tab of a value quoted from the XML or the config) becomes '?'. Every message
 * of this project is one line: the hook's line on stderr that libvirt shows, a syslog
 * record, a dry run's line. The sinks call it (log.h), once: a message is built as it
 * comes, quoting values as they are.
 */
void str_one_line(char *msg);

/* The old name, until lib/patch*.c and hook/report.c lose their last calls (issue 12). */
#define domxml_one_line(msg) str_one_line(msg)

/*
 * uuid_canonical: whether @s is a UUID written in its canonical form: 36 characters,
 * hyphenated, lowercase, as libuuid's uuid_unparse_lower() writes it and the kernel names
 * an mdev (%pUl). Such a string is safe as a file name.
 */
bool uuid_canonical(const char *s);

/*
 * str_copy: copy @src into @dst (@len bytes, NUL included).
 * Returns 0, or -E2BIG when @src does not fit (then @dst is the empty string).
 */
int str_copy(char *dst, size_t len, const char *src);

/*
 * attr_read: read the attribute file @path (a sysfs file or a state record) into @buf, at most
 * @len - 1 bytes, NUL-terminated, with one trailing newline removed. Opens with O_RDONLY |
 * O_CLOEXEC, plus O_NOFOLLOW when @nofollow is true.
 * Returns the number of bytes kept (>= 0), or:
 *   -errno from open(2)/read(2) (-ENOENT when the file does not exist,
 *          -ELOOP when @nofollow is set and @path is a symlink);
 *   -EFBIG when the file holds @len bytes or more;
 *   -EINVAL when the content holds a NUL byte.
 */
int attr_read(const char *path, char *buf, size_t len, bool nofollow);

/*
 * write_all: write all @len bytes of @data to @fd, retrying short writes and EINTR.
 * Returns 0 or -errno from write(2).
 */
int write_all(int fd, const void *data, size_t len);

/* sleep_ms: sleep @ms milliseconds, resuming after signals. */
void sleep_ms(unsigned ms);

/* A NULL-terminated, growable vector of owned strings. Zero-initialise before use. */
struct strv {
	char **v;   /* v[n] is NULL once anything was added; v itself is NULL while empty */
	size_t n;
	size_t cap;
};

/*
 * strv_add: append a copy of @s. Returns 0 or -ENOMEM.
 * strv_addn: append a copy of the first @n bytes of @s. Returns 0 or -ENOMEM.
 */
int strv_add(struct strv *sv, const char *s);
int strv_addn(struct strv *sv, const char *s, size_t n);

/* strv_contains: whether @s is one of the strings of @sv. */
bool strv_contains(const struct strv *sv, const char *s);

/* strv_sort: sort with strcmp (byte order, as libvirt and the kernel list). */
void strv_sort(struct strv *sv);

/* strv_join: the strings of @sv separated by @sep, newly allocated (caller frees), or NULL on
 * ENOMEM. An empty vector gives "". */
char *strv_join(const struct strv *sv, const char *sep);

/* strv_free: free every string and the vector; @sv is zeroed and may be reused. */
void strv_free(struct strv *sv);

#endif
