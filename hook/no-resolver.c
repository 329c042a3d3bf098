/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * no-resolver.c: libxml2 without a host name resolver, for the static vgpu-hook.
 *
 * libxml2.a's nanohttp and nanoftp (the fetching of http:// and ftp:// URLs) reference
 * getaddrinfo(), freeaddrinfo() and gethostbyname(). In a static program glibc implements
 * them through NSS, which dlopen()s libnss_*.so of the exact glibc version used for the
 * link, so the linker warns. The hook never reaches them: it parses the domain XML from
 * memory with XML_PARSE_NONET, which refuses every network URL before a name is resolved
 * (lib/domxml.c). Defined here, in the program, they keep glibc's resolver and NSS out of
 * the link altogether (no warning, nothing loaded at run time), as no-icu.c does for ICU.
 *
 * Each fails as glibc does when it cannot resolve at all: getaddrinfo() returns EAI_SYSTEM
 * with errno ENOSYS, gethostbyname() returns NULL with h_errno NO_RECOVERY and errno ENOSYS
 * (getaddrinfo(3), gethostbyname(3)). freeaddrinfo() can only be given what a successful
 * getaddrinfo() returned, which never happens here, so it frees nothing.
 */
#include <errno.h>
#include <netdb.h>
#include <stddef.h>

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	(void)node, (void)service, (void)hints;
	if (res)
		*res = NULL;
	errno = ENOSYS;
	return EAI_SYSTEM;
}

void freeaddrinfo(struct addrinfo *res)
{
	(void)res;
}

struct hostent *gethostbyname(const char *name)
{
	(void)name;
	h_errno = NO_RECOVERY;
	errno = ENOSYS;
	return NULL;
}
