/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-domxml: a domain XML as the hook reads it (domxml_parse), its mdevs and the lookup
 * of their metadata (domxml_meta_find). The input is the XML.
 *
 * Oracles:
 *  - domxml_parse and domxml_parse_doc (flags 0) agree: the first fails with the error of
 *    the second when that fails, and returns only the codes its header lists;
 *  - DOMXML_NS_STRICT only refuses more: what it accepts, flags 0 accepts;
 *  - a failure leaves *out NULL and one line in err; a parsed document has no DTD that
 *    declares anything and a <domain> root without a namespace, and with DOMXML_NS_STRICT
 *    no undeclared prefix (domxml.h MUST 3 to 5);
 *  - a result has a name of one line, canonical UUIDs (the domain's, every mdev's, every metadata
 *    entry's), no UUID twice among the mdevs or among the metadata entries, and bounded
 *    strings; domxml_meta_find finds every metadata entry and, for each mdev, nothing or
 *    the entry of that UUID.
 */
#include <errno.h>
#include <string.h>

#include <libxml/tree.h>

#include "domxml.h"
#include "fuzz.h"

/* Whether an element or attribute under @n has a prefix that no declaration binds. */
static bool undeclared_prefix(xmlNodePtr n)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!n->ns && strchr((const char *)n->name, ':'))
			return true;
		for (xmlAttrPtr a = n->properties; a; a = a->next)
			if (!a->ns && strchr((const char *)a->name, ':'))
				return true;
		if (undeclared_prefix(n->children))
			return true;
	}
	return false;
}

/* Returns domxml_parse_doc()'s result with @flags, after checking it. */
static int check_doc_mode(const char *buf, size_t size, unsigned flags)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	const xmlDtd *dtd;
	char err[512] = "";
	int r = domxml_parse_doc(buf, size, "fuzz", flags, &doc, err, sizeof(err));

	FUZZ_ASSERT(r == 0 || r == -EFBIG || r == -ENODATA || r == -EINVAL || r == -ENOMEM,
		    "domxml_parse_doc returned %d", r);
	if (r < 0) {
		FUZZ_ASSERT(!doc, "domxml_parse_doc failed and set *doc");
		FUZZ_ASSERT(r == -ENOMEM || fuzz_one_line(err), "error '%s'", err);
		return r;
	}
	root = xmlDocGetRootElement(doc);
	dtd = doc->intSubset;
	FUZZ_ASSERT(!doc->extSubset && (!dtd || (!dtd->ExternalID && !dtd->SystemID &&
		    !dtd->entities && !dtd->pentities && !dtd->elements && !dtd->attributes &&
		    !dtd->notations)), "a document with a DTD that declares something was accepted");
	FUZZ_ASSERT(root && !root->ns && xmlStrEqual(root->name, BAD_CAST "domain"),
		    "the root is not <domain>");
	FUZZ_ASSERT(!(flags & DOMXML_NS_STRICT) || !undeclared_prefix(root),
		    "a prefix without a declaration was accepted");
	xmlFreeDoc(doc);
	return 0;
}

static void check_doc(const char *buf, size_t size, int r)
{
	int r2 = check_doc_mode(buf, size, 0);
	int strict = check_doc_mode(buf, size, DOMXML_NS_STRICT);

	FUZZ_ASSERT(r2 == 0 || r == r2, "domxml_parse returned %d, domxml_parse_doc %d", r, r2);
	FUZZ_ASSERT(strict < 0 || r2 == 0 || r2 == -ENOMEM,
		    "DOMXML_NS_STRICT accepted what flags 0 refused (%d)", r2);
}

static void check_dom(const struct domxml *dom)
{
	FUZZ_ASSERT(dom->name && fuzz_one_line(dom->name), "name '%s'", dom->name);
	FUZZ_ASSERT(!dom->uuid[0] || fuzz_uuid_canonical(dom->uuid), "<uuid> '%s'", dom->uuid);
	FUZZ_ASSERT(dom->n_mdevs == 0 || dom->mdevs, "%zu mdevs and no array", dom->n_mdevs);
	FUZZ_ASSERT(dom->n_meta == 0 || dom->meta, "%zu entries and no array", dom->n_meta);

	for (size_t i = 0; i < dom->n_mdevs; i++) {
		const struct domxml_mdev *m = &dom->mdevs[i];
		const struct domxml_meta *meta = domxml_meta_find(dom, m->uuid);

		FUZZ_ASSERT(fuzz_uuid_canonical(m->uuid), "mdev %zu: UUID '%s'", i, m->uuid);
		for (size_t j = 0; j < i; j++)
			FUZZ_ASSERT(strcmp(dom->mdevs[j].uuid, m->uuid) != 0, "mdev %s twice",
				    m->uuid);
		FUZZ_ASSERT(!meta || strcmp(meta->uuid, m->uuid) == 0,
			    "domxml_meta_find(%s) gave the entry of %s", m->uuid, meta->uuid);
	}
	for (size_t i = 0; i < dom->n_meta; i++) {
		const struct domxml_meta *m = &dom->meta[i];

		FUZZ_ASSERT(fuzz_uuid_canonical(m->uuid), "metadata %zu: UUID '%s'", i, m->uuid);
		FUZZ_ASSERT(memchr(m->parent, '\0', sizeof(m->parent)) &&
			    memchr(m->type, '\0', sizeof(m->type)), "metadata %zu: unterminated", i);
		FUZZ_ASSERT(domxml_meta_find(dom, m->uuid) == m,
			    "domxml_meta_find(%s) does not give entry %zu", m->uuid, i);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct domxml *dom = NULL;
	char err[512] = "";
	int r;

	r = domxml_parse(buf, size, "fuzz", &dom, err, sizeof(err));
	FUZZ_ASSERT(r == 0 || r == -EFBIG || r == -ENODATA || r == -EINVAL || r == -ENOMEM,
		    "domxml_parse returned %d", r);
	check_doc(buf, size, r);
	if (r < 0) {
		FUZZ_ASSERT(!dom, "domxml_parse failed and set *out");
		FUZZ_ASSERT(r == -ENOMEM || fuzz_message(err), "error '%s'", err);
		return 0;
	}
	check_dom(dom);
	domxml_free(dom);
	return 0;
}
