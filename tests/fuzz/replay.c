/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * replay: run inputs through a fuzz target (fuzz/fuzz-NAME.c) without libFuzzer, so that
 * ctest runs the seeds and the regression inputs of tests/fixtures/fuzz through the same
 * oracles, with the project's compiler and under ASan+UBSan.
 *
 *   fuzz-replay-NAME [--sets FILE] [--ext SUFFIX] PATH...
 *
 * A PATH is a file, or a directory whose files are taken recursively in name order (with
 * --ext only those whose name ends in SUFFIX). With --sets, every input runs once per option
 * line of FILE (fuzz/patch.sets: lines starting with '#' are skipped, an empty one is a
 * set), the line and a newline put before it, as fuzz-patch reads its input.
 * Each run gets a buffer of the exact size of its input, so that ASan sees a read past the
 * end as it does under libFuzzer. A broken oracle aborts.
 * Exits 0 after running everything; 1 when a path cannot be read, no input was found, or
 * the target did not use an input (returned -1: a seed or option line it does not
 * understand is a mistake here).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

static struct strv sets;        /* option lines; empty: run inputs as they are */
static const char *ext = "";
static size_t n_inputs, n_runs;

static char current[8192];         /* the input being run, for fuzz_fail() and the sanitizers */

#if defined(__SANITIZE_ADDRESS__)
static void say_name(void)
{
	fprintf(stderr, "input: %s\n", current);
}
#endif

static int run(const char *path, const char *buf, size_t len)
{
	for (size_t i = 0; i < (sets.n ? sets.n : 1); i++) {
		size_t pre = sets.n ? strlen(sets.v[i]) + 1 : 0;
		char *in = malloc(pre + len ? pre + len : 1);

		if (!in) {
			fprintf(stderr, "replay: out of memory\n");
			return -1;
		}
		if (pre) {
			memcpy(in, sets.v[i], pre - 1);
			in[pre - 1] = '\n';
		}
		memcpy(in + pre, buf, len);
		snprintf(current, sizeof(current), "%s%s%s", path, sets.n ? " after the line " : "",
			 sets.n ? sets.v[i] : "");
		n_runs++;
		if (LLVMFuzzerTestOneInput((const uint8_t *)in, pre + len) != 0) {
			fprintf(stderr, "replay: %s%s%s: not used by the target\n", path,
				sets.n ? " with options " : "", sets.n ? sets.v[i] : "");
			free(in);
			return -1;
		}
		free(in);
	}
	return 0;
}

/* The whole file @path, newly allocated and NUL-terminated, into *@buf and *@len. */
static int slurp(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	size_t n = 0, cap = 0, got;

	if (!f)
		return -errno;
	for (;;) {
		if (cap - n < 4096) {
			char *q = realloc(p, cap = cap ? cap * 2 : 65536);

			if (!q) {
				free(p);
				fclose(f);
				return -ENOMEM;
			}
			p = q;
		}
		got = fread(p + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(p);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;
}

static int replay_file(const char *path)
{
	char *buf;
	size_t len;
	int r = slurp(path, &buf, &len);

	if (r < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(-r));
		return r;
	}
	n_inputs++;
	r = run(path, buf, len);
	free(buf);
	return r;
}

static bool wanted(const char *name)
{
	size_t n = strlen(name), e = strlen(ext);

	return name[0] != '.' && n >= e && strcmp(name + n - e, ext) == 0;
}

static int replay(const char *path, bool top)
{
	struct dirent **names;
	struct stat st;
	int n, r = 0;

	if (lstat(path, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (S_ISREG(st.st_mode))
		return top || wanted(strrchr(path, '/') ? strrchr(path, '/') + 1 : path)
			       ? replay_file(path) : 0;
	if (!S_ISDIR(st.st_mode))
		return 0;
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	for (int i = 0; i < n; i++) {
		char *sub;

		if (r == 0 && names[i]->d_name[0] != '.') {
			if (asprintf(&sub, "%s/%s", path, names[i]->d_name) < 0)
				r = -ENOMEM;
			else {
				r = replay(sub, false);
				free(sub);
			}
		}
		free(names[i]);
	}
	free(names);
	return r;
}

static int load_sets(const char *path)
{
	char *buf, *line;
	size_t len;
	int r = slurp(path, &buf, &len);

	if (r < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(-r));
		return r;
	}
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	/* Line by line, not strtok_r(), which would skip the empty line: it is a set. */
	for (line = buf; line;) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (line[0] != '#' && strv_add(&sets, line) < 0)
			r = -ENOMEM;
		line = nl ? nl + 1 : NULL;
	}
	free(buf);
	return r;
}

int main(int argc, char **argv)
{
	int i = 1;

	fuzz_input_name = current;
#if defined(__SANITIZE_ADDRESS__)
	__sanitizer_set_death_callback(say_name);
#endif

	for (; i + 1 < argc && argv[i][0] == '-' && argv[i][1] == '-'; i += 2) {
		if (strcmp(argv[i], "--sets") == 0) {
			if (load_sets(argv[i + 1]) < 0)
				return 1;
		} else if (strcmp(argv[i], "--ext") == 0) {
			ext = argv[i + 1];
		} else {
			break;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: %s [--sets FILE] [--ext SUFFIX] PATH...\n", argv[0]);
		return 1;
	}
	for (; i < argc; i++)
		if (replay(argv[i], true) < 0)
			return 1;
	printf("%s: %zu inputs, %zu runs, every oracle held\n", argv[0], n_inputs, n_runs);
	if (n_inputs == 0) {
		fprintf(stderr, "replay: no input found\n");
		return 1;
	}
	strv_free(&sets);
	return 0;
}
