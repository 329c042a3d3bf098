/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * domxml.h: reading an untrusted libvirt domain XML.
 *
 * MUST, for every document this project reads:
 *  1. be at most DOMXML_MAX_SIZE bytes; larger input is refused before parsing;
 *  2. be parsed with XML_PARSE_NONET and without XML_PARSE_NOENT, XML_PARSE_DTDLOAD or
 *     XML_PARSE_HUGE: no entity is substituted, nothing is fetched;
 *  3. have no DOCTYPE at all (libvirt never writes one): a document with an internal or
 *     external DTD subset is refused, so no entity declaration can be used;
 *  4. have <domain> as its root element;
 *  5. be namespace-well-formed: every prefix declared (libvirt writes every declaration;
 *     libxml2 would keep an element of an undeclared prefix in no namespace, and a
 *     declaration added by a rewrite would capture it).
 * libxml2 prints nothing: errors come back as one line "WHAT:LINE: message".
 *
 * What libvirt passes to a hook (research/hook-anchors.md section 1.2): the live definition,
 * mdev UUIDs already canonical, no <alias> at `prepare`, no id attribute at `release`.
 */
#ifndef VGPU_DOMXML_H
#define VGPU_DOMXML_H

#include <stddef.h>

#include <libxml/tree.h>

#include "mdev.h"

#define DOMXML_MAX_SIZE (16u << 20)   /* 16 MiB: far above any real domain XML */
#define DOMXML_NS_VGPU "urn:vgpu-hook:1"  /* namespace of our <metadata> entry */

/*
 * domxml_read_fd: read all of @fd (a pipe, a file, stdin) into a new buffer.
 * On success *@buf (NUL-terminated, owned by the caller, free(3)) and *@len are set; an
 * empty input gives *@len == 0.
 * Returns 0; -EFBIG when the input exceeds @cap bytes (reading stops there); -ENOMEM;
 * -errno of read(2).
 */
int domxml_read_fd(int fd, size_t cap, char **buf, size_t *len);

/*
 * domxml_parse_doc: parse @buf (@len bytes) under the rules above.
 * @what names the input in messages ("stdin", a file name).
 * On success *@doc is owned by the caller (xmlFreeDoc). On failure @err (@errlen bytes)
 * holds one line such as "stdin:3: Opening and ending tag mismatch: devices and domain".
 * Returns 0; -EFBIG (over DOMXML_MAX_SIZE); -ENODATA (empty input); -EINVAL (not
 * well-formed, an undeclared namespace prefix, invalid encoding, a DTD, or a root other
 * than <domain>); -ENOMEM.
 */
int domxml_parse_doc(const char *buf, size_t len, const char *what, xmlDocPtr *doc,
		     char *err, size_t errlen);

/* One hostdev[@mode='subsystem'][@type='mdev'] of the domain. */
struct domxml_mdev {
	char uuid[MDEV_UUID_LEN + 1];  /* source/address/@uuid, canonicalised */
	char model[16];                /* @model ("vfio-pci"...), or "" when absent */
	char alias[64];                /* alias/@name, or "" */
};

/* One <vgpu:mdev uuid= parent= type=/> of this project's <metadata> entry; the values are
 * copied as written (bounded, not yet validated: plan.h validates them). */
struct domxml_meta {
	char uuid[MDEV_UUID_LEN + 1];  /* canonicalised */
	char parent[MDEV_NAME_MAX + 1];
	char type[MDEV_NAME_MAX + 1];
};

struct domxml {
	char *name;                    /* <name>, owned */
	char uuid[MDEV_UUID_LEN + 1];  /* <uuid> canonicalised, or "" when absent */
	struct domxml_mdev *mdevs;     /* in document order, owned */
	size_t n_mdevs;
	struct domxml_meta *meta;      /* owned */
	size_t n_meta;
};

/*
 * domxml_parse: parse a domain XML and extract what the hook needs.
 * On success *@out is owned by the caller (domxml_free). On failure @err holds one line
 * naming what is wrong, e.g. "stdin: hostdev 2 (mdev): source/address/@uuid 'x' is not a
 * UUID".
 * Returns 0; the errors of domxml_parse_doc(); -EINVAL also when <name> is missing or holds
 * a newline (which libvirt refuses), an mdev hostdev has no or an invalid UUID, the same
 * UUID is used twice, or a metadata value is missing, not a UUID or longer than its field;
 * -ENOMEM.
 */
int domxml_parse(const char *buf, size_t len, const char *what, struct domxml **out,
		 char *err, size_t errlen);

/* domxml_free: free @dom and all it owns; NULL is fine. */
void domxml_free(struct domxml *dom);

/*
 * domxml_one_line: make the message @msg one line, in place: each control character in it
 * (a newline or tab of a value quoted from the XML) becomes '?'. Every message of this
 * project is one line: the hook's line on stderr that libvirt shows, a syslog record, a
 * finding of vgpu-xml --check.
 */
void domxml_one_line(char *msg);

/* domxml_meta_find: the metadata entry for mdev @uuid (canonical), or NULL. */
const struct domxml_meta *domxml_meta_find(const struct domxml *dom, const char *uuid);

#endif
