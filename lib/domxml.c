/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>

#include "domxml.h"

int domxml_read_fd(int fd, size_t cap, char **buf, size_t *len)
{
	size_t size = 0, alloc = 0;
	char *data = NULL;
	int r;

	for (;;) {
		ssize_t n;

		if (alloc - size < 2) {
			/* One byte more than the cap, to tell "exactly cap" from "more". */
			size_t want = alloc ? alloc * 2 : 16384;
			char *p;

			if (want > cap + 2)
				want = cap + 2;
			if (want <= alloc) {
				r = -EFBIG;
				goto fail;
			}
			p = realloc(data, want);
			if (!p) {
				r = -ENOMEM;
				goto fail;
			}
			data = p;
			alloc = want;
		}
		n = read(fd, data + size, alloc - size - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto fail;
		}
		if (n == 0)
			break;
		size += (size_t)n;
		if (size > cap) {
			r = -EFBIG;
			goto fail;
		}
	}
	if (!data) {
		data = malloc(1);
		if (!data)
			return -ENOMEM;
	}
	data[size] = '\0';
	*buf = data;
	*len = size;
	return 0;
fail:
	free(data);
	return r;
}

/* A libxml2 message ends with a newline and may span lines: keep the first line. */
static void set_err(char *err, size_t errlen, const char *what, int line, const char *msg)
{
	size_t n = strcspn(msg, "\n");

	if (line > 0)
		snprintf(err, errlen, "%s:%d: %.*s", what, line, (int)n, msg);
	else
		snprintf(err, errlen, "%s: %.*s", what, (int)n, msg);
}

/*
 * The DTD guard (MUST 3). libxml2 reports each part of a DOCTYPE to a SAX callback as it
 * reads it: the name and external ID first, then each declaration of the internal subset.
 * These callbacks refuse, and stop the parser, at the first part that could define or
 * fetch anything, so no declaration is ever stored and no entity can be referenced, let
 * alone substituted or loaded. The check of the finished document's DTD in
 * dtd_declares() is the second line.
 */
struct dtd_guard {
	const char *refused;   /* what was refused ("declares an entity"), or NULL */
	int line;
};

/*
 * The tree of what domxml_parse() reads, and nothing more. The parser reads and checks the
 * whole document either way; these SAX callbacks decide which of what it reports becomes a
 * node. An element is kept when it lies on one of the paths the walk below follows, and
 * then libxml2's own handler (xmlSAX2StartElementNs) builds it with its attributes, as for
 * any tree: namespaces, attribute values and the string value of a kept node are libxml2's.
 * Any other element and everything inside it gets no node. Since every ancestor of a kept
 * element is kept, its namespace declarations are all in the tree. Text is kept only within
 * /domain/name and /domain/uuid, the two elements whose string value is read; comments and
 * processing instructions, which no string value includes, are never kept.
 *
 * The paths, as XPath selects them: /domain/name and /domain/uuid with all inside them,
 * /domain/devices/hostdev/source/address, /domain/metadata/vgpu:vgpu/vgpu:mdev. An
 * unprefixed step selects an element in no namespace, which SAX reports with no URI and
 * no prefix (an undeclared prefix comes with the prefix and no URI, and is kept in the
 * element's name, "p:name", by xmlSAX2StartElementNs); "vgpu:" selects the URI
 * DOMXML_NS_VGPU, whatever the prefix.
 */
enum kept {
	KEPT_NONE,       /* the document: no element yet */
	KEPT_ROOT,       /* the root element, whatever its name (parse_doc() checks it) */
	KEPT_TEXT,       /* /domain/name or /domain/uuid, or within it */
	KEPT_DEVICES,
	KEPT_HOSTDEV,
	KEPT_SOURCE,
	KEPT_ADDRESS,
	KEPT_METADATA,
	KEPT_VGPU,
	KEPT_MDEV,
};

/* What the parser's callbacks keep, at ctxt->_private: the guard's verdict and, for
 * domxml_parse(), where the parse is in the tree of what it reads (above). */
struct parse_state {
	struct dtd_guard guard;
	enum kept kept;           /* what the innermost kept element is */
	size_t text_depth;        /* how deep within /domain/name or /domain/uuid */
	size_t skip_depth;        /* how deep within an element that is not kept, or 0 */
};

static void dtd_refuse(void *ctx, const char *what)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct dtd_guard *g = &((struct parse_state *)ctxt->_private)->guard;

	if (!g->refused) {
		g->refused = what;
		g->line = ctxt->input ? ctxt->input->line : 0;
	}
	xmlStopParser(ctxt);
}

static void guard_internal_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
				  const xmlChar *system_id)
{
	if (external_id || system_id)
		dtd_refuse(ctx, "names an external DTD (SYSTEM or PUBLIC)");
	else
		xmlSAX2InternalSubset(ctx, name, NULL, NULL);
}

static void guard_external_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
				  const xmlChar *system_id)
{
	(void)name;
	/* Called once the internal subset is read; only an external ID would load anything. */
	if (external_id || system_id)
		dtd_refuse(ctx, "names an external DTD (SYSTEM or PUBLIC)");
}

static void guard_entity(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
			 const xmlChar *system_id, xmlChar *content)
{
	(void)name, (void)type, (void)public_id, (void)system_id, (void)content;
	dtd_refuse(ctx, "declares an entity");
}

static void guard_unparsed_entity(void *ctx, const xmlChar *name, const xmlChar *public_id,
				  const xmlChar *system_id, const xmlChar *notation)
{
	(void)name, (void)public_id, (void)system_id, (void)notation;
	dtd_refuse(ctx, "declares an entity");
}

static void guard_notation(void *ctx, const xmlChar *name, const xmlChar *public_id,
			   const xmlChar *system_id)
{
	(void)name, (void)public_id, (void)system_id;
	dtd_refuse(ctx, "declares a notation");
}

static void guard_attribute(void *ctx, const xmlChar *elem, const xmlChar *fullname, int type,
			    int def, const xmlChar *default_value, xmlEnumerationPtr tree)
{
	(void)elem, (void)fullname, (void)type, (void)def, (void)default_value;
	xmlFreeEnumeration(tree);   /* the callback owns it */
	dtd_refuse(ctx, "declares an attribute list");
}

static void guard_element(void *ctx, const xmlChar *name, int type,
			  xmlElementContentPtr content)
{
	(void)name, (void)type, (void)content;
	dtd_refuse(ctx, "declares an element");
}

static xmlEntityPtr guard_parameter_entity(void *ctx, const xmlChar *name)
{
	(void)name;
	dtd_refuse(ctx, "references a parameter entity");
	return NULL;
}

static xmlParserInputPtr guard_resolve(void *ctx, const xmlChar *public_id,
				       const xmlChar *system_id)
{
	(void)public_id, (void)system_id;
	dtd_refuse(ctx, "names an external resource");
	return NULL;
}

/* What the child element (@localname, @prefix, @uri) of the innermost kept element @parent
 * is, or KEPT_NONE when it is not kept. */
static enum kept kept_child(enum kept parent, const xmlChar *localname,
			    const xmlChar *prefix, const xmlChar *uri)
{
	const char *name = (const char *)localname;
	bool plain = !prefix && !uri;
	bool vgpu = uri && xmlStrEqual(uri, BAD_CAST DOMXML_NS_VGPU);

	switch (parent) {
	case KEPT_NONE:
		return KEPT_ROOT;
	case KEPT_ROOT:
		if (!plain)
			return KEPT_NONE;
		if (strcmp(name, "name") == 0 || strcmp(name, "uuid") == 0)
			return KEPT_TEXT;
		if (strcmp(name, "devices") == 0)
			return KEPT_DEVICES;
		return strcmp(name, "metadata") == 0 ? KEPT_METADATA : KEPT_NONE;
	case KEPT_TEXT:
		return KEPT_TEXT;
	case KEPT_DEVICES:
		return plain && strcmp(name, "hostdev") == 0 ? KEPT_HOSTDEV : KEPT_NONE;
	case KEPT_HOSTDEV:
		return plain && strcmp(name, "source") == 0 ? KEPT_SOURCE : KEPT_NONE;
	case KEPT_SOURCE:
		return plain && strcmp(name, "address") == 0 ? KEPT_ADDRESS : KEPT_NONE;
	case KEPT_METADATA:
		return vgpu && strcmp(name, "vgpu") == 0 ? KEPT_VGPU : KEPT_NONE;
	case KEPT_VGPU:
		return vgpu && strcmp(name, "mdev") == 0 ? KEPT_MDEV : KEPT_NONE;
	case KEPT_ADDRESS:
	case KEPT_MDEV:
		break;
	}
	return KEPT_NONE;
}

/* The kept element around the innermost kept element @k, which is ended; @text_depth is
 * what is left of the depth within /domain/name or /domain/uuid. */
static enum kept kept_parent(enum kept k, size_t text_depth)
{
	switch (k) {
	case KEPT_TEXT:
		return text_depth ? KEPT_TEXT : KEPT_ROOT;
	case KEPT_ADDRESS:
		return KEPT_SOURCE;
	case KEPT_SOURCE:
		return KEPT_HOSTDEV;
	case KEPT_HOSTDEV:
		return KEPT_DEVICES;
	case KEPT_MDEV:
		return KEPT_VGPU;
	case KEPT_VGPU:
		return KEPT_METADATA;
	case KEPT_DEVICES:
	case KEPT_METADATA:
		return KEPT_ROOT;
	case KEPT_ROOT:
	case KEPT_NONE:
		break;
	}
	return KEPT_NONE;
}

static void values_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
			 const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
			 int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	struct parse_state *st = ((xmlParserCtxtPtr)ctx)->_private;
	enum kept k;

	if (st->skip_depth) {
		st->skip_depth++;
		return;
	}
	k = kept_child(st->kept, localname, prefix, uri);
	if (k == KEPT_NONE) {
		st->skip_depth = 1;
		return;
	}
	st->kept = k;
	if (k == KEPT_TEXT)
		st->text_depth++;
	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces,
			      nb_attributes, nb_defaulted, attributes);
}

static void values_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		       const xmlChar *uri)
{
	struct parse_state *st = ((xmlParserCtxtPtr)ctx)->_private;

	if (st->skip_depth) {
		st->skip_depth--;
		return;
	}
	if (st->kept == KEPT_TEXT)
		st->text_depth--;
	st->kept = kept_parent(st->kept, st->text_depth);
	xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

/* Within /domain/name or /domain/uuid every element is kept, so no skipped one is open. */
static void values_characters(void *ctx, const xmlChar *ch, int len)
{
	if (((struct parse_state *)((xmlParserCtxtPtr)ctx)->_private)->text_depth)
		xmlSAX2Characters(ctx, ch, len);
}

static void values_cdata(void *ctx, const xmlChar *ch, int len)
{
	if (((struct parse_state *)((xmlParserCtxtPtr)ctx)->_private)->text_depth)
		xmlSAX2CDataBlock(ctx, ch, len);
}

/* What the parsed document's DTD defines, as libxml2 holds it, or NULL when nothing. */
static const char *dtd_declares(const xmlDoc *d)
{
	const xmlDtd *dtd = d->intSubset;

	if (d->extSubset)
		return "names an external DTD (SYSTEM or PUBLIC)";
	if (!dtd)
		return NULL;
	if (dtd->ExternalID || dtd->SystemID)
		return "names an external DTD (SYSTEM or PUBLIC)";
	if (dtd->entities || dtd->pentities)
		return "declares an entity";
	if (dtd->elements)
		return "declares an element";
	if (dtd->attributes)
		return "declares an attribute list";
	if (dtd->notations)
		return "declares a notation";
	return NULL;
}

/*
 * domxml_parse_doc(), and for domxml_parse() with @values_only: the tree of what it reads
 * and nothing more (the callbacks above), a few dozen nodes where the whole document has
 * hundreds, and a short text kept in its node (XML_PARSE_COMPACT) instead of in a string of
 * its own. The parse is the same, with the same errors: only what the tree keeps of it
 * differs.
 */
static int parse_doc(const char *buf, size_t len, const char *what, unsigned flags,
		     bool values_only, xmlDocPtr *doc, char *err, size_t errlen)
{
	struct parse_state st = { { NULL, 0 }, KEPT_NONE, 0, 0 };
	xmlParserCtxtPtr ctxt;
	xmlNodePtr root;
	xmlDocPtr d;
	size_t blanks = 0;
	const char *nul, *declares;

	*doc = NULL;
	if (len > DOMXML_MAX_SIZE) {
		snprintf(err, errlen, "%s: domain XML is larger than %u MiB", what,
			 DOMXML_MAX_SIZE >> 20);
		return -EFBIG;
	}
	/* Bounded by @len: @buf need not be NUL-terminated. */
	while (blanks < len && buf[blanks] && strchr(" \t\r\n", buf[blanks]))
		blanks++;
	if (blanks == len) {
		snprintf(err, errlen, "%s: no domain XML (empty input)", what);
		return -ENODATA;
	}
	/*
	 * XML has no NUL character, and libxml2 stops at one, ignoring whatever follows: a
	 * well-formed domain, a NUL and anything else would be taken for the domain alone.
	 * This refuses UTF-16 and UCS-4 too, which libvirt never writes.
	 */
	nul = memchr(buf, '\0', len);
	if (nul) {
		snprintf(err, errlen, "%s: a NUL byte (offset %zu) is not allowed in a domain XML",
			 what, (size_t)(nul - buf));
		return -EINVAL;
	}

	xmlInitParser();
	ctxt = xmlNewParserCtxt();
	if (!ctxt || !ctxt->sax) {
		xmlFreeParserCtxt(ctxt);
		return -ENOMEM;
	}
	/* The context's own copy of the SAX2 handlers: nothing global is changed. */
	ctxt->_private = &st;
	ctxt->sax->internalSubset = guard_internal_subset;
	ctxt->sax->externalSubset = guard_external_subset;
	ctxt->sax->entityDecl = guard_entity;
	ctxt->sax->unparsedEntityDecl = guard_unparsed_entity;
	ctxt->sax->notationDecl = guard_notation;
	ctxt->sax->attributeDecl = guard_attribute;
	ctxt->sax->elementDecl = guard_element;
	ctxt->sax->getParameterEntity = guard_parameter_entity;
	ctxt->sax->resolveEntity = guard_resolve;
	if (values_only) {
		ctxt->sax->startElementNs = values_start;
		ctxt->sax->endElementNs = values_end;
		ctxt->sax->characters = values_characters;
		ctxt->sax->ignorableWhitespace = values_characters;
		ctxt->sax->cdataBlock = values_cdata;
		/* No node for them: libxml2 calls no handler that is NULL. */
		ctxt->sax->comment = NULL;
		ctxt->sax->processingInstruction = NULL;
	}
	d = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL,
			      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
			      (values_only ? XML_PARSE_COMPACT : 0));
	if (st.guard.refused) {
		char msg[128];

		/* Stopped by the guard: whatever was built is partial. */
		snprintf(msg, sizeof(msg), "a DOCTYPE is not allowed in a domain XML when it %s",
			 st.guard.refused);
		set_err(err, errlen, what, st.guard.line, msg);
		xmlFreeDoc(d);
		xmlFreeParserCtxt(ctxt);
		return -EINVAL;
	}
	if (!d) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);

		if (e && e->code == XML_ERR_NO_MEMORY) {
			xmlFreeParserCtxt(ctxt);
			return -ENOMEM;
		}
		set_err(err, errlen, what, e ? e->line : 0,
			e && e->message ? e->message : "not well-formed XML");
		xmlFreeParserCtxt(ctxt);
		return -EINVAL;
	}
	/* libxml2 keeps an element of an undeclared prefix, in no namespace: a declaration
	 * added by a rewrite would capture it (MUST 5). */
	if ((flags & DOMXML_NS_STRICT) && !ctxt->nsWellFormed) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);

		set_err(err, errlen, what, e ? e->line : 0,
			e && e->message ? e->message : "namespace error");
		xmlFreeParserCtxt(ctxt);
		goto invalid;
	}
	xmlFreeParserCtxt(ctxt);

	declares = dtd_declares(d);
	if (declares) {
		snprintf(err, errlen, "%s: a DOCTYPE is not allowed in a domain XML when it %s",
			 what, declares);
		goto invalid;
	}
	root = xmlDocGetRootElement(d);
	if (!root || root->ns || !xmlStrEqual(root->name, BAD_CAST "domain")) {
		snprintf(err, errlen, "%s: the root element is <%s>, not <domain>", what,
			 root ? (const char *)root->name : "");
		goto invalid;
	}
	*doc = d;
	return 0;
invalid:
	xmlFreeDoc(d);
	return -EINVAL;
}

int domxml_parse_doc(const char *buf, size_t len, const char *what, unsigned flags,
		     xmlDocPtr *doc, char *err, size_t errlen)
{
	return parse_doc(buf, len, what, flags, false, doc, err, errlen);
}

/*
 * The hook reads a handful of values at fixed paths, so it walks the tree for them rather
 * than compiling and evaluating an XPath expression for each: that was a quarter of a
 * prepare's instructions (docs/performance.md). Each helper selects what the XPath step in
 * its comment selects, as libxml2 2.9's xmlXPathNodeCollectAndTest() tests names, in
 * document order, and gives the string value as xmlXPathCastNodeToString() does.
 */

/* The next child element of @node after @prev (NULL: the first) named @name, in namespace
 * @ns or, when @ns is NULL, in none: the XPath step "name", or "p:name" with p bound to
 * @ns. */
static xmlNodePtr child_next(const xmlNode *node, const xmlNode *prev, const char *name,
			     const char *ns)
{
	for (xmlNodePtr c = prev ? prev->next : node->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST name) &&
		    (ns ? c->ns && xmlStrEqual(c->ns->href, BAD_CAST ns) : !c->ns))
			return c;
	return NULL;
}

/* The attribute @name of @node in no namespace, or NULL: the XPath step "@name". */
static xmlAttrPtr attr_get(const xmlNode *node, const char *name)
{
	for (xmlAttrPtr a = node->properties; a; a = a->next)
		if (xmlStrEqual(a->name, BAD_CAST name) && (!a->ns || !a->ns->prefix))
			return a;
	return NULL;
}

/* The string value of @node (an element or attribute; NULL gives ""), newly allocated
 * (caller frees, xmlFree), or NULL on ENOMEM: XPath's string(). */
static xmlChar *node_string(const xmlNode *node)
{
	xmlChar *s = node ? xmlNodeGetContent(node) : NULL;

	return s ? s : xmlStrdup(BAD_CAST "");
}

/* Whether @node has the attribute @name with the value @value, "[@name='value']": 1 or 0,
 * or -ENOMEM. */
static int attr_is(const xmlNode *node, const char *name, const char *value)
{
	xmlAttrPtr a = attr_get(node, name);
	xmlChar *s;
	int yes;

	if (!a)
		return 0;
	/* A parsed attribute's value is one text node (the DTD guard leaves no entity to keep
	 * as a reference): compared in place, without a copy. */
	if (a->children && !a->children->next && a->children->type == XML_TEXT_NODE)
		return xmlStrEqual(a->children->content, BAD_CAST value);
	s = node_string((xmlNodePtr)a);
	if (!s)
		return -ENOMEM;
	yes = xmlStrEqual(s, BAD_CAST value);
	xmlFree(s);
	return yes;
}

/* The string value of @attr of @node, newly allocated (xmlFree), or NULL on ENOMEM:
 * string(@attr), "" when there is none. */
static xmlChar *attr_string(const xmlNode *node, const char *attr)
{
	return node_string((const xmlNode *)attr_get(node, attr));
}

/* string(source/address/@uuid) of the hostdev @node: the first such attribute in document
 * order, newly allocated (xmlFree), or NULL on ENOMEM. */
static xmlChar *hostdev_uuid(const xmlNode *node)
{
	for (xmlNodePtr src = child_next(node, NULL, "source", NULL); src;
	     src = child_next(node, src, "source", NULL))
		for (xmlNodePtr addr = child_next(src, NULL, "address", NULL); addr;
		     addr = child_next(src, addr, "address", NULL))
			if (attr_get(addr, "uuid"))
				return attr_string(addr, "uuid");
	return node_string(NULL);
}

/* Copy @val, attribute @attr of @where, into @dst (@len bytes) or explain in @err why it
 * does not fit. */
static int copy_value(char *dst, size_t len, const char *val, char *err, size_t errlen,
		      const char *what, const char *where, const char *attr)
{
	if (str_copy(dst, len, val) < 0) {
		snprintf(err, errlen, "%s: %s: %s is longer than %zu characters", what, where,
			 attr, len - 1);
		return -EINVAL;
	}
	return 0;
}

static int canon_uuid(const char *val, char out[MDEV_UUID_LEN + 1], char *err, size_t errlen,
		      const char *what, const char *where)
{
	if (mdev_uuid_canon(val, out) < 0) {
		snprintf(err, errlen, "%s: %s: '%.64s' is not a UUID", what, where, val);
		return -EINVAL;
	}
	return 0;
}

/* The elements a location path selects, in document order. */
struct nodeset {
	xmlNodePtr *v;   /* owned; the nodes belong to the document */
	size_t n, alloc;
};

/* One step "name" (@ns NULL) or "p:name" (p bound to @ns) of a location path. */
struct step {
	const char *name, *ns;
};

/* Append to @set the elements that the child-axis location path @steps (@n steps) selects
 * from @node and that @keep (NULL: every one; it returns 1, 0 or -ENOMEM) accepts, in
 * document order. Returns 0 or -ENOMEM. */
static int select_path(const xmlNode *node, const struct step *steps, size_t n,
		       int (*keep)(const xmlNode *), struct nodeset *set)
{
	if (n == 0) {
		int r = keep ? keep(node) : 1;

		if (r <= 0)
			return r;
		if (set->n == set->alloc) {
			size_t want = set->alloc ? set->alloc * 2 : 8;
			xmlNodePtr *v = reallocarray(set->v, want, sizeof(*v));

			if (!v)
				return -ENOMEM;
			set->v = v;
			set->alloc = want;
		}
		set->v[set->n++] = (xmlNodePtr)node;
		return 0;
	}
	for (xmlNodePtr c = child_next(node, NULL, steps->name, steps->ns); c;
	     c = child_next(node, c, steps->name, steps->ns)) {
		int r = select_path(c, steps + 1, n - 1, keep, set);

		if (r < 0)
			return r;
	}
	return 0;
}

/* [@mode='subsystem'][@type='mdev']: 1 or 0, or -ENOMEM. */
static int is_mdev_hostdev(const xmlNode *node)
{
	int r = attr_is(node, "mode", "subsystem");

	return r <= 0 ? r : attr_is(node, "type", "mdev");
}

/* One kind of entry domxml_parse() collects, each beginning with its canonical UUID. */
struct entries {
	const char *where;           /* names entry i (from 1) in messages */
	const char *twice_pre, *twice_post;   /* around the UUID of "listed twice" */
	size_t size;                 /* of one entry */
	/* Read @node into @entry; @where names it. Returns 0 or -errno (@err set). */
	int (*read)(const xmlNode *node, void *entry, char *err, size_t errlen,
		    const char *what, const char *where);
};

/*
 * Read each element of @set into *@v, a new array of *@n entries described by @e; a UUID
 * found twice is refused. On failure *@v holds the entries read so far (the caller frees
 * it). Returns 0 or -errno (@err set but on ENOMEM).
 */
static int get_entries(const struct nodeset *set, const struct entries *e, void **v,
		       size_t *n, char *err, size_t errlen, const char *what)
{
	*v = NULL;
	*n = 0;
	if (set->n == 0)
		return 0;
	*v = calloc(set->n, e->size);
	if (!*v)
		return -ENOMEM;
	for (size_t i = 0; i < set->n; i++) {
		char *entry = (char *)*v + i * e->size, where[64];
		int r;

		snprintf(where, sizeof(where), "%s %zu", e->where, i + 1);
		r = e->read(set->v[i], entry, err, errlen, what, where);
		if (r < 0)
			return r;
		for (size_t j = 0; j < *n; j++) {
			if (strcmp((char *)*v + j * e->size, entry) == 0) {
				snprintf(err, errlen, "%s: %s%s%s", what, e->twice_pre, entry,
					 e->twice_post);
				return -EINVAL;
			}
		}
		(*n)++;
	}
	return 0;
}

static int read_mdev(const xmlNode *node, void *entry, char *err, size_t errlen,
		     const char *what, const char *where)
{
	struct domxml_mdev *m = entry;
	xmlChar *uuid;
	int r;

	/* Only the UUID: the hook uses nothing else of the hostdev, and a field it does not
	 * use must not refuse a guest. libvirt checks model itself, against the device the
	 * hook made: virMediatedDeviceCheckModel() (src/util/virmdev.c) compares it with the
	 * device's mdev_type/device_api. */
	uuid = hostdev_uuid(node);
	if (!uuid)
		r = -ENOMEM;
	else if (!*uuid) {
		snprintf(err, errlen, "%s: %s has no source/address/@uuid", what, where);
		r = -EINVAL;
	} else
		r = canon_uuid((const char *)uuid, m->uuid, err, errlen, what, where);
	xmlFree(uuid);
	return r;
}

static int read_meta(const xmlNode *node, void *entry, char *err, size_t errlen,
		     const char *what, const char *where)
{
	struct domxml_meta *m = entry;
	xmlChar *uuid, *parent, *type;
	int r;

	uuid = attr_string(node, "uuid");
	parent = attr_string(node, "parent");
	type = attr_string(node, "type");
	if (!uuid || !parent || !type)
		r = -ENOMEM;
	else if ((r = canon_uuid((const char *)uuid, m->uuid, err, errlen, what, where)) == 0 &&
		 (r = copy_value(m->parent, sizeof(m->parent), (const char *)parent, err, errlen,
				 what, where, "parent")) == 0)
		r = copy_value(m->type, sizeof(m->type), (const char *)type, err, errlen, what,
			       where, "type");
	xmlFree(uuid);
	xmlFree(parent);
	xmlFree(type);
	return r;
}

static int get_mdevs(const xmlNode *root, struct domxml *dom, char *err, size_t errlen,
		     const char *what)
{
	/* /domain/devices/hostdev[@mode='subsystem'][@type='mdev'] */
	static const struct step path[] = { { "devices", NULL }, { "hostdev", NULL } };
	static const struct entries e = {
		"mdev hostdev", "mdev ", " is listed twice", sizeof(struct domxml_mdev), read_mdev,
	};
	struct nodeset set = { 0 };
	void *v = NULL;
	int r;

	r = select_path(root, path, 2, is_mdev_hostdev, &set);
	if (r == 0)
		r = get_entries(&set, &e, &v, &dom->n_mdevs, err, errlen, what);
	dom->mdevs = v;
	free(set.v);
	return r;
}

static int get_meta(const xmlNode *root, struct domxml *dom, char *err, size_t errlen,
		    const char *what)
{
	/* /domain/metadata/vgpu:vgpu/vgpu:mdev */
	static const struct step path[] = {
		{ "metadata", NULL }, { "vgpu", DOMXML_NS_VGPU }, { "mdev", DOMXML_NS_VGPU } };
	static const struct entries e = {
		"metadata vgpu:mdev", "metadata names mdev ", " twice",
		sizeof(struct domxml_meta), read_meta,
	};
	struct nodeset set = { 0 };
	void *v = NULL;
	int r;

	r = select_path(root, path, 3, NULL, &set);
	if (r == 0)
		r = get_entries(&set, &e, &v, &dom->n_meta, err, errlen, what);
	dom->meta = v;
	free(set.v);
	return r;
}

int domxml_parse(const char *buf, size_t len, const char *what, struct domxml **out,
		 char *err, size_t errlen)
{
	struct domxml *dom = NULL;
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	xmlChar *s = NULL;
	int r;

	*out = NULL;
	r = parse_doc(buf, len, what, 0, true, &doc, err, errlen);
	if (r < 0)
		return r;
	root = xmlDocGetRootElement(doc);   /* <domain>, in no namespace (domxml_parse_doc) */

	r = -ENOMEM;
	dom = calloc(1, sizeof(*dom));
	if (!dom)
		goto fail;
	/* string(/domain/name) */
	s = node_string(child_next(root, NULL, "name", NULL));
	if (!s || !(dom->name = strdup((const char *)s)))
		goto fail;
	if (!*dom->name) {
		snprintf(err, errlen, "%s: the domain has no <name>", what);
		r = -EINVAL;
		goto fail;
	}
	/* libvirt refuses such a name (virXMLCheckIllegalChars), and every line this project
	 * writes, to syslog, stderr or a record, may hold the name. */
	if (strchr(dom->name, '\n')) {
		snprintf(err, errlen, "%s: the domain's <name> holds a newline", what);
		r = -EINVAL;
		goto fail;
	}
	xmlFree(s);
	/* string(/domain/uuid) */
	s = node_string(child_next(root, NULL, "uuid", NULL));
	if (!s)
		goto fail;
	if (*s && (r = canon_uuid((const char *)s, dom->uuid, err, errlen, what, "<uuid>")) < 0)
		goto fail;

	r = get_mdevs(root, dom, err, errlen, what);
	if (r == 0)
		r = get_meta(root, dom, err, errlen, what);
	if (r < 0)
		goto fail;

	*out = dom;
	dom = NULL;
fail:
	xmlFree(s);
	domxml_free(dom);
	xmlFreeDoc(doc);
	return r;
}

void domxml_free(struct domxml *dom)
{
	if (!dom)
		return;
	free(dom->name);
	free(dom->mdevs);
	free(dom->meta);
	free(dom);
}

const struct domxml_meta *domxml_meta_find(const struct domxml *dom, const char *uuid)
{
	for (size_t i = 0; i < dom->n_meta; i++)
		if (strcmp(dom->meta[i].uuid, uuid) == 0)
			return &dom->meta[i];
	return NULL;
}
