// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sim-write [-n] PATH DATA: open PATH as vgpu-hook does (O_WRONLY|O_CLOEXEC|O_NOFOLLOW),
 * write DATA (plus a newline with -n) in one write(2), and print what the kernel said:
 * "OK", "ENOSPC", or "open:ENOENT" when the open failed. Exit 0 unless the usage is wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *name(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "EUNKNOWN";
}

int main(int argc, char **argv)
{
	const char *path, *data;
	char *buf;
	size_t len;
	ssize_t n;
	int nl = 0, fd;

	if (argc > 1 && !strcmp(argv[1], "-n")) {
		nl = 1;
		argv++;
		argc--;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: sim-write [-n] PATH DATA\n");
		return 2;
	}
	path = argv[1];
	data = argv[2];
	len = strlen(data);
	buf = malloc(len + 2);
	if (!buf)
		return 2;
	memcpy(buf, data, len);
	if (nl)
		buf[len++] = '\n';

	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		printf("open:%s\n", name(errno));
		goto out;
	}
	n = write(fd, buf, len);
	if (n < 0)
		printf("%s\n", name(errno));
	else if ((size_t)n != len)
		printf("SHORT:%zd\n", n);
	else
		printf("OK\n");
	close(fd);
out:
	free(buf);
	return 0;
}
