/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util.h: small helpers shared by every module: bounded path building, bounded reads of
 * sysfs-style attribute files, the atomic replace of a file, and a growable string vector.
 *
 * All functions return 0 or a negative errno value; none prints or exits.
 */
#ifndef VGPU_UTIL_H
#define VGPU_UTIL_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct stat;

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
 * opendir_at: opendir(3) of @name relative to the directory open at @dirfd ("." for that
 * directory itself, listed from the start), with its own descriptor (O_DIRECTORY,
 * O_CLOEXEC; @dirfd stays open and is not moved). Returns the stream, closed with
 * closedir(3), or NULL with errno set by openat(2) or fdopendir(3); nothing is left open.
 */
DIR *opendir_at(int dirfd, const char *name);

/*
 * write_all: write all @len bytes of @data to @fd, retrying short writes and EINTR.
 * Returns 0 or -errno from write(2).
 */
int write_all(int fd, const void *data, size_t len);

/*
 * file_replace: replace the file @name of the directory @dirfd (an open descriptor of it)
 * with the @len bytes of @data, so that @name holds the old content or the new, never a
 * part of either, even across a crash or a kill. The steps, each on @dirfd:
 *  1. the temporary file @tmp (a name in the same directory, so that the rename is atomic)
 *     is created with O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC. When @tmp ends in "XXXXXX",
 *     those six characters are replaced, in @tmp itself, by random ones (getrandom(2)) until
 *     a free name is found (100 tries), as mkostemp(3) does; otherwise a file @tmp left by
 *     an earlier call that was killed is removed first, so the caller must own that name
 *     (hold the lock that guards it);
 *  2. it gets the mode @mode (fchmod(2), so the umask does not narrow it) and, when @owner is
 *     given and the process runs as root (only root can give a file away), the uid and gid
 *     of @owner (fchown(2));
 *  3. @data is written to it, it is fsync(2)ed and closed;
 *  4. it is renamed over @name (renameat(2)), and @dirfd is fsync(2)ed so that the rename
 *     is on disk too.
 * @name may be a symlink: the link itself is replaced (resolve it first to replace its
 * target).
 * Returns 0 or the -errno of the step that failed: of steps 1 to 4 up to the rename (then
 * @tmp is removed again and @name is as it was; -EEXIST when no random name was free), or of
 * the directory's fsync(2) (then @name holds the new content, but a crash may yet bring back
 * the old).
 */
int file_replace(int dirfd, const char *name, char *tmp, mode_t mode, const struct stat *owner,
		 const void *data, size_t len);

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
