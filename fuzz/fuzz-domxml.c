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
 *    the entry of that UUID;
 *  - domxml_parse reads what XPath reads in the whole tree of domxml_parse_doc: it
 *    succeeds exactly when the values XPath selects are valid, and then gives them. It
 *    builds a tree of only what it reads (lib/domxml.c), so this checks that tree against
 *    the document's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

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

/* string(@expr) at @node, newly allocated (xmlFree); NULL only on ENOMEM. */
static xmlChar *xp_string(xmlXPathContextPtr xp, xmlNodePtr node, const char *expr)
{
	xmlXPathObjectPtr o;
	xmlChar *s;

	xp->node = node;
	o = xmlXPathEvalExpression(BAD_CAST expr, xp);
	if (!o)
		return NULL;
	s = xmlXPathCastToString(o);
	xmlXPathFreeObject(o);
	return s;
}

/* The nodes @expr selects: a node set, owned by the caller (xmlXPathFreeObject). */
static xmlXPathObjectPtr xp_set(xmlXPathContextPtr xp, const char *expr)
{
	xmlXPathObjectPtr o;

	xp->node = NULL;
	o = xmlXPathEvalExpression(BAD_CAST expr, xp);
	FUZZ_ASSERT(o && o->type == XPATH_NODESET, "XPath %s", expr);
	return o;
}

static size_t set_len(const xmlXPathObject *o)
{
	return o->nodesetval ? (size_t)o->nodesetval->nodeNr : 0;
}

/* Whether the UUID @s (from XPath) is valid and, canonical, none of the @n in @seen, where
 * it is then put; @got is what domxml_parse gave in its place, or NULL. */
static bool ref_uuid(const xmlChar *s, char (*seen)[MDEV_UUID_LEN + 1], size_t n,
		     const char *got)
{
	if (mdev_uuid_canon((const char *)s, seen[n]) < 0)
		return false;
	for (size_t j = 0; j < n; j++)
		if (strcmp(seen[j], seen[n]) == 0)
			return false;
	FUZZ_ASSERT(!got || strcmp(got, seen[n]) == 0, "UUID '%s', XPath reads '%s'", got,
		    seen[n]);
	return true;
}

/* Room for the canonical UUIDs of the @n nodes of a set. */
static char (*uuids(size_t n))[MDEV_UUID_LEN + 1]
{
	char (*v)[MDEV_UUID_LEN + 1] = calloc(n ? n : 1, sizeof(*v));

	FUZZ_ASSERT(v, "calloc");
	return v;
}

/*
 * The reference: the values as the XPath expressions that domxml_parse once evaluated read
 * them from the whole tree of @buf, checked as domxml.h says. When @dom is not NULL
 * (domxml_parse succeeded), each value must be what it gave. Returns whether all of them
 * are valid, i.e. whether domxml_parse must succeed.
 */
static bool reference(const char *buf, size_t size, const struct domxml *dom)
{
	xmlDocPtr doc = NULL;
	xmlXPathContextPtr xp;
	xmlXPathObjectPtr set;
	xmlChar *s;
	char err[512], c[MDEV_UUID_LEN + 1], (*seen)[MDEV_UUID_LEN + 1];
	bool ok = true;

	FUZZ_ASSERT(domxml_parse_doc(buf, size, "fuzz", 0, &doc, err, sizeof(err)) == 0,
		    "domxml_parse_doc: %s", err);
	xp = xmlXPathNewContext(doc);
	FUZZ_ASSERT(xp && xmlXPathRegisterNs(xp, BAD_CAST "vgpu", BAD_CAST DOMXML_NS_VGPU) == 0,
		    "XPath context");

	s = xp_string(xp, NULL, "string(/domain/name)");
	FUZZ_ASSERT(s, "string(/domain/name)");
	ok = *s && !strchr((const char *)s, '\n');
	FUZZ_ASSERT(!dom || strcmp(dom->name, (const char *)s) == 0,
		    "name '%s', XPath reads '%s'", dom->name, s);
	xmlFree(s);

	s = xp_string(xp, NULL, "string(/domain/uuid)");
	FUZZ_ASSERT(s, "string(/domain/uuid)");
	if (*s) {
		ok = ok && mdev_uuid_canon((const char *)s, c) == 0;
		FUZZ_ASSERT(!dom || strcmp(dom->uuid, c) == 0, "<uuid> '%s', XPath reads '%s'",
			    dom->uuid, c);
	} else
		FUZZ_ASSERT(!dom || !dom->uuid[0], "<uuid> '%s', XPath reads none", dom->uuid);
	xmlFree(s);

	set = xp_set(xp, "/domain/devices/hostdev[@mode='subsystem'][@type='mdev']");
	FUZZ_ASSERT(!dom || dom->n_mdevs == set_len(set), "%zu mdevs, XPath selects %zu",
		    dom->n_mdevs, set_len(set));
	seen = uuids(set_len(set));
	for (size_t i = 0; ok && i < set_len(set); i++) {
		s = xp_string(xp, set->nodesetval->nodeTab[i], "string(source/address/@uuid)");
		FUZZ_ASSERT(s, "string(source/address/@uuid)");
		ok = ref_uuid(s, seen, i, dom ? dom->mdevs[i].uuid : NULL);
		xmlFree(s);
	}
	free(seen);
	xmlXPathFreeObject(set);

	set = xp_set(xp, "/domain/metadata/vgpu:vgpu/vgpu:mdev");
	FUZZ_ASSERT(!dom || dom->n_meta == set_len(set), "%zu metadata entries, XPath selects %zu",
		    dom->n_meta, set_len(set));
	seen = uuids(set_len(set));
	for (size_t i = 0; ok && i < set_len(set); i++) {
		static const char *const attr[] = { "string(@parent)", "string(@type)" };
		const struct domxml_meta *m = dom ? &dom->meta[i] : NULL;
		const char *got[] = { m ? m->parent : NULL, m ? m->type : NULL };

		s = xp_string(xp, set->nodesetval->nodeTab[i], "string(@uuid)");
		FUZZ_ASSERT(s, "string(@uuid)");
		ok = ref_uuid(s, seen, i, m ? m->uuid : NULL);
		xmlFree(s);
		for (size_t a = 0; ok && a < 2; a++) {
			s = xp_string(xp, set->nodesetval->nodeTab[i], attr[a]);
			FUZZ_ASSERT(s, "%s", attr[a]);
			ok = strlen((const char *)s) <= MDEV_NAME_MAX;
			FUZZ_ASSERT(!got[a] || strcmp(got[a], (const char *)s) == 0,
				    "metadata %zu: '%s', XPath reads '%s'", i, got[a], s);
			xmlFree(s);
		}
	}
	free(seen);
	xmlXPathFreeObject(set);
	xmlXPathFreeContext(xp);
	xmlFreeDoc(doc);
	return ok;
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
		/* The document was well-formed and allowed, and a value was wrong. */
		if (r == -EINVAL && check_doc_mode(buf, size, 0) == 0)
			FUZZ_ASSERT(!reference(buf, size, NULL),
				    "domxml_parse refused what XPath reads as valid: %s", err);
		return 0;
	}
	check_dom(dom);
	FUZZ_ASSERT(reference(buf, size, dom), "domxml_parse accepted what XPath reads as invalid");
	domxml_free(dom);
	return 0;
}
