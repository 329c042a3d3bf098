/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * domxml.h: reading an untrusted libvirt domain XML.
 *
 * MUST, for every document this project reads:
 *  1. be at most DOMXML_MAX_SIZE bytes; larger input is refused before parsing;
 *  2. be parsed with XML_PARSE_NONET and without XML_PARSE_NOENT, XML_PARSE_DTDLOAD or
 *     XML_PARSE_HUGE: no entity is substituted, nothing is fetched;
 *  3. have no DTD that declares or fetches anything: a DOCTYPE with an external ID (SYSTEM
 *     or PUBLIC), or whose internal subset declares an entity, element, attribute list or
 *     notation or references a parameter entity, is refused at that point of the parse, so
 *     no declaration is stored and no entity is substituted or loaded. `<!DOCTYPE domain>`
 *     and `<!DOCTYPE domain []>` declare nothing and are accepted, as libvirt accepts them
 *     (virXMLParseHelper in src/util/virxml.c parses with XML_PARSE_NONET |
 *     XML_PARSE_NOWARNING and checks no DOCTYPE); bytes that only look like a DOCTYPE, in a
 *     comment or a CDATA section, are content like any other;
 *  4. have <domain> as its root element;
 *  5. with DOMXML_NS_STRICT only, be namespace-well-formed: every prefix declared. libvirt
 *     itself keeps an element of an undeclared prefix in another application's metadata,
 *     in no namespace, and the hook reads nothing from it (its own metadata is found by
 *     namespace URI); but a declaration added by a rewrite (vgpu-xml) would capture it.
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

/* domxml_parse_doc() flag: refuse an undeclared namespace prefix (MUST 5), for a document
 * that is written back. */
#define DOMXML_NS_STRICT 0x1u

/*
 * domxml_parse_doc: parse @buf (@len bytes) under the rules above; @flags is 0 (the hook,
 * which only reads) or DOMXML_NS_STRICT (vgpu-xml, which writes the document back).
 * @what names the input in messages ("stdin", a file name).
 * On success *@doc is owned by the caller (xmlFreeDoc). On failure @err (@errlen bytes)
 * holds one line such as "stdin:3: Opening and ending tag mismatch: devices and domain"
 * or "stdin:1: a DOCTYPE is not allowed in a domain XML when it declares an entity".
 * Returns 0; -EFBIG (over DOMXML_MAX_SIZE); -ENODATA (empty input); -EINVAL (not
 * well-formed, an undeclared namespace prefix with DOMXML_NS_STRICT, invalid encoding, a
 * DTD that declares or fetches anything (MUST 3), or a root other than <domain>); -ENOMEM.
 */
int domxml_parse_doc(const char *buf, size_t len, const char *what, unsigned flags,
		     xmlDocPtr *doc, char *err, size_t errlen);

/* One hostdev[@mode='subsystem'][@type='mdev'] of the domain: only what the hook uses. */
struct domxml_mdev {
	char uuid[MDEV_UUID_LEN + 1];  /* source/address/@uuid, canonicalised */
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
