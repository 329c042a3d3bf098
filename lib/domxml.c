/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

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

static void dtd_refuse(void *ctx, const char *what)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct dtd_guard *g = ctxt->_private;

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

int domxml_parse_doc(const char *buf, size_t len, const char *what, unsigned flags,
		     xmlDocPtr *doc, char *err, size_t errlen)
{
	struct dtd_guard guard = { NULL, 0 };
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
	ctxt->_private = &guard;
	ctxt->sax->internalSubset = guard_internal_subset;
	ctxt->sax->externalSubset = guard_external_subset;
	ctxt->sax->entityDecl = guard_entity;
	ctxt->sax->unparsedEntityDecl = guard_unparsed_entity;
	ctxt->sax->notationDecl = guard_notation;
	ctxt->sax->attributeDecl = guard_attribute;
	ctxt->sax->elementDecl = guard_element;
	ctxt->sax->getParameterEntity = guard_parameter_entity;
	ctxt->sax->resolveEntity = guard_resolve;
	d = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL,
			      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (guard.refused) {
		char msg[128];

		/* Stopped by the guard: whatever was built is partial. */
		snprintf(msg, sizeof(msg), "a DOCTYPE is not allowed in a domain XML when it %s",
			 guard.refused);
		set_err(err, errlen, what, guard.line, msg);
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

/* The string value of @expr evaluated at @node, newly allocated (caller frees), or NULL on
 * ENOMEM. An expression that selects nothing gives "". */
static char *xp_string(xmlXPathContextPtr xp, xmlNodePtr node, const char *expr)
{
	xmlXPathObjectPtr obj;
	xmlNodePtr saved = xp->node;
	xmlChar *s;
	char *out;

	xp->node = node;
	obj = xmlXPathEvalExpression(BAD_CAST expr, xp);
	xp->node = saved;
	if (!obj)
		return NULL;
	s = xmlXPathCastToString(obj);
	xmlXPathFreeObject(obj);
	if (!s)
		return NULL;
	out = strdup((const char *)s);
	xmlFree(s);
	return out;
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

/* One kind of entry domxml_parse() collects, each beginning with its canonical UUID. */
struct entries {
	const char *where;           /* names entry i (from 1) in messages */
	const char *twice_pre, *twice_post;   /* around the UUID of "listed twice" */
	size_t size;                 /* of one entry */
	/* Read @node into @entry; @where names it. Returns 0 or -errno (@err set). */
	int (*read)(xmlXPathContextPtr xp, xmlNodePtr node, void *entry, char *err,
		    size_t errlen, const char *what, const char *where);
};

/*
 * Read each node of @obj (the result of an XPath query, freed here) into *@v, a new array
 * of *@n entries described by @e; a UUID found twice is refused. On failure *@v holds the
 * entries read so far (the caller frees it). Returns 0 or -errno (@err set but on ENOMEM).
 */
static int get_entries(xmlXPathContextPtr xp, xmlXPathObjectPtr obj, const struct entries *e,
		       void **v, size_t *n, char *err, size_t errlen, const char *what)
{
	int r = 0;

	*v = NULL;
	*n = 0;
	if (!obj)
		return -ENOMEM;
	if (!obj->nodesetval || obj->nodesetval->nodeNr == 0)
		goto out;
	*v = calloc((size_t)obj->nodesetval->nodeNr, e->size);
	if (!*v) {
		r = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < obj->nodesetval->nodeNr; i++) {
		char *entry = (char *)*v + (size_t)i * e->size, where[64];

		snprintf(where, sizeof(where), "%s %d", e->where, i + 1);
		r = e->read(xp, obj->nodesetval->nodeTab[i], entry, err, errlen, what, where);
		if (r < 0)
			goto out;
		for (size_t j = 0; j < *n; j++) {
			if (strcmp((char *)*v + j * e->size, entry) == 0) {
				snprintf(err, errlen, "%s: %s%s%s", what, e->twice_pre, entry,
					 e->twice_post);
				r = -EINVAL;
				goto out;
			}
		}
		(*n)++;
	}
out:
	xmlXPathFreeObject(obj);
	return r;
}

static int read_mdev(xmlXPathContextPtr xp, xmlNodePtr node, void *entry, char *err,
		     size_t errlen, const char *what, const char *where)
{
	struct domxml_mdev *m = entry;
	char *uuid;
	int r;

	/* Only the UUID: the hook uses nothing else of the hostdev, and a field it does not
	 * use must not refuse a guest. libvirt checks model itself, against the device the
	 * hook made: virMediatedDeviceCheckModel() (src/util/virmdev.c) compares it with the
	 * device's mdev_type/device_api. */
	uuid = xp_string(xp, node, "string(source/address/@uuid)");
	if (!uuid)
		r = -ENOMEM;
	else if (!*uuid) {
		snprintf(err, errlen, "%s: %s has no source/address/@uuid", what, where);
		r = -EINVAL;
	} else
		r = canon_uuid(uuid, m->uuid, err, errlen, what, where);
	free(uuid);
	return r;
}

static int read_meta(xmlXPathContextPtr xp, xmlNodePtr node, void *entry, char *err,
		     size_t errlen, const char *what, const char *where)
{
	struct domxml_meta *m = entry;
	char *uuid, *parent, *type;
	int r;

	uuid = xp_string(xp, node, "string(@uuid)");
	parent = xp_string(xp, node, "string(@parent)");
	type = xp_string(xp, node, "string(@type)");
	if (!uuid || !parent || !type)
		r = -ENOMEM;
	else if ((r = canon_uuid(uuid, m->uuid, err, errlen, what, where)) == 0 &&
		 (r = copy_value(m->parent, sizeof(m->parent), parent, err, errlen, what,
				 where, "parent")) == 0)
		r = copy_value(m->type, sizeof(m->type), type, err, errlen, what, where, "type");
	free(uuid);
	free(parent);
	free(type);
	return r;
}

static int get_mdevs(xmlXPathContextPtr xp, struct domxml *dom, char *err, size_t errlen,
		     const char *what)
{
	static const struct entries e = {
		"mdev hostdev", "mdev ", " is listed twice", sizeof(struct domxml_mdev), read_mdev,
	};
	xmlXPathObjectPtr obj;
	void *v;
	int r;

	obj = xmlXPathEvalExpression(
		BAD_CAST "/domain/devices/hostdev[@mode='subsystem'][@type='mdev']", xp);
	r = get_entries(xp, obj, &e, &v, &dom->n_mdevs, err, errlen, what);
	dom->mdevs = v;
	return r;
}

static int get_meta(xmlXPathContextPtr xp, struct domxml *dom, char *err, size_t errlen,
		    const char *what)
{
	static const struct entries e = {
		"metadata vgpu:mdev", "metadata names mdev ", " twice",
		sizeof(struct domxml_meta), read_meta,
	};
	xmlXPathObjectPtr obj;
	void *v;
	int r;

	obj = xmlXPathEvalExpression(BAD_CAST "/domain/metadata/vgpu:vgpu/vgpu:mdev", xp);
	r = get_entries(xp, obj, &e, &v, &dom->n_meta, err, errlen, what);
	dom->meta = v;
	return r;
}

int domxml_parse(const char *buf, size_t len, const char *what, struct domxml **out,
		 char *err, size_t errlen)
{
	xmlXPathContextPtr xp = NULL;
	struct domxml *dom = NULL;
	xmlDocPtr doc = NULL;
	char *s = NULL;
	int r;

	*out = NULL;
	r = domxml_parse_doc(buf, len, what, 0, &doc, err, errlen);
	if (r < 0)
		return r;

	r = -ENOMEM;
	dom = calloc(1, sizeof(*dom));
	xp = xmlXPathNewContext(doc);
	if (!dom || !xp || xmlXPathRegisterNs(xp, BAD_CAST "vgpu", BAD_CAST DOMXML_NS_VGPU) < 0)
		goto fail;

	dom->name = xp_string(xp, xmlDocGetRootElement(doc), "string(/domain/name)");
	if (!dom->name)
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
	s = xp_string(xp, xmlDocGetRootElement(doc), "string(/domain/uuid)");
	if (!s)
		goto fail;
	if (*s && (r = canon_uuid(s, dom->uuid, err, errlen, what, "<uuid>")) < 0)
		goto fail;

	r = get_mdevs(xp, dom, err, errlen, what);
	if (r == 0)
		r = get_meta(xp, dom, err, errlen, what);
	if (r < 0)
		goto fail;

	*out = dom;
	dom = NULL;
fail:
	free(s);
	domxml_free(dom);
	xmlXPathFreeContext(xp);
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
