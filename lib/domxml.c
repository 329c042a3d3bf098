/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int domxml_parse_doc(const char *buf, size_t len, const char *what, xmlDocPtr *doc,
		     char *err, size_t errlen)
{
	xmlParserCtxtPtr ctxt;
	xmlNodePtr root;
	xmlDocPtr d;
	size_t blanks = 0;
	const char *nul;

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
	/* Refused before parsing, so no entity declaration is ever processed (rule 3). */
	if (memmem(buf, len, "<!DOCTYPE", 9)) {
		snprintf(err, errlen, "%s: a DOCTYPE is not allowed in a domain XML", what);
		return -EINVAL;
	}

	xmlInitParser();
	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return -ENOMEM;
	d = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL,
			      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
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
	if (!ctxt->nsWellFormed) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);

		set_err(err, errlen, what, e ? e->line : 0,
			e && e->message ? e->message : "namespace error");
		xmlFreeParserCtxt(ctxt);
		goto invalid;
	}
	xmlFreeParserCtxt(ctxt);

	if (d->intSubset || d->extSubset) {
		snprintf(err, errlen, "%s: a DOCTYPE is not allowed in a domain XML", what);
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

/* Copy @val into @dst (@len bytes) or explain in @err why it does not fit. */
static int copy_value(char *dst, size_t len, const char *val, char *err, size_t errlen,
		      const char *what, const char *where)
{
	if (str_copy(dst, len, val) < 0) {
		snprintf(err, errlen, "%s: %s: value is longer than %zu characters", what, where,
			 len - 1);
		return -EINVAL;
	}
	return 0;
}

static int canon_uuid(const char *val, char out[MDEV_UUID_LEN + 1], char *err, size_t errlen,
		      const char *what, const char *where)
{
	if (mdev_uuid_canon(val, out) < 0) {
		snprintf(err, errlen, "%s: %s: '%.64s' is not a UUID", what, where, val);
		domxml_one_line(err);
		return -EINVAL;
	}
	return 0;
}

static int get_mdevs(xmlXPathContextPtr xp, struct domxml *dom, char *err, size_t errlen,
		     const char *what)
{
	xmlXPathObjectPtr obj;
	int r = 0;

	obj = xmlXPathEvalExpression(
		BAD_CAST "/domain/devices/hostdev[@mode='subsystem'][@type='mdev']", xp);
	if (!obj)
		return -ENOMEM;
	if (!obj->nodesetval || obj->nodesetval->nodeNr == 0)
		goto out;

	dom->mdevs = calloc((size_t)obj->nodesetval->nodeNr, sizeof(*dom->mdevs));
	if (!dom->mdevs) {
		r = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < obj->nodesetval->nodeNr; i++) {
		xmlNodePtr node = obj->nodesetval->nodeTab[i];
		struct domxml_mdev *m = &dom->mdevs[i];
		char where[64], *uuid, *model, *alias;

		snprintf(where, sizeof(where), "mdev hostdev %d", i + 1);
		uuid = xp_string(xp, node, "string(source/address/@uuid)");
		model = xp_string(xp, node, "string(@model)");
		alias = xp_string(xp, node, "string(alias/@name)");
		if (!uuid || !model || !alias)
			r = -ENOMEM;
		else if (!*uuid) {
			snprintf(err, errlen, "%s: %s has no source/address/@uuid", what, where);
			r = -EINVAL;
		} else if ((r = canon_uuid(uuid, m->uuid, err, errlen, what, where)) == 0 &&
			   (r = copy_value(m->model, sizeof(m->model), model, err, errlen, what,
					   where)) == 0)
			r = copy_value(m->alias, sizeof(m->alias), alias, err, errlen, what, where);
		free(uuid);
		free(model);
		free(alias);
		if (r < 0)
			goto out;
		for (size_t j = 0; j < dom->n_mdevs; j++) {
			if (strcmp(dom->mdevs[j].uuid, m->uuid) == 0) {
				snprintf(err, errlen, "%s: mdev %s is listed twice", what, m->uuid);
				r = -EINVAL;
				goto out;
			}
		}
		dom->n_mdevs++;
	}
out:
	xmlXPathFreeObject(obj);
	return r;
}

static int get_meta(xmlXPathContextPtr xp, struct domxml *dom, char *err, size_t errlen,
		    const char *what)
{
	xmlXPathObjectPtr obj;
	int r = 0;

	obj = xmlXPathEvalExpression(BAD_CAST "/domain/metadata/vgpu:vgpu/vgpu:mdev", xp);
	if (!obj)
		return -ENOMEM;
	if (!obj->nodesetval || obj->nodesetval->nodeNr == 0)
		goto out;

	dom->meta = calloc((size_t)obj->nodesetval->nodeNr, sizeof(*dom->meta));
	if (!dom->meta) {
		r = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < obj->nodesetval->nodeNr; i++) {
		xmlNodePtr node = obj->nodesetval->nodeTab[i];
		struct domxml_meta *m = &dom->meta[i];
		char where[64], *uuid, *parent, *type;

		snprintf(where, sizeof(where), "metadata vgpu:mdev %d", i + 1);
		uuid = xp_string(xp, node, "string(@uuid)");
		parent = xp_string(xp, node, "string(@parent)");
		type = xp_string(xp, node, "string(@type)");
		if (!uuid || !parent || !type)
			r = -ENOMEM;
		else if ((r = canon_uuid(uuid, m->uuid, err, errlen, what, where)) == 0 &&
			 (r = copy_value(m->parent, sizeof(m->parent), parent, err, errlen, what,
					 where)) == 0)
			r = copy_value(m->type, sizeof(m->type), type, err, errlen, what, where);
		free(uuid);
		free(parent);
		free(type);
		if (r < 0)
			goto out;
		if (domxml_meta_find(dom, m->uuid)) {
			snprintf(err, errlen, "%s: metadata names mdev %s twice", what, m->uuid);
			r = -EINVAL;
			goto out;
		}
		dom->n_meta++;
	}
out:
	xmlXPathFreeObject(obj);
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
	r = domxml_parse_doc(buf, len, what, &doc, err, errlen);
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

void domxml_one_line(char *msg)
{
	for (unsigned char *p = (unsigned char *)msg; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
}
