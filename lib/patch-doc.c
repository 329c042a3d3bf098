/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * patch-doc.c: the byte-preserving writer of vgpuxml: a domain XML parsed with its
 * source text kept, and written back from that text wherever the tree did not change
 * (patch_doc_parse, patch_doc_dump: patch.h; MUST 5 there).
 *
 * Writing back what was read. libxml2 forgets the quote characters, the attribute layout and
 * the character references of the source, so a document written by xmlNodeDump() differs
 * from a libvirt dump on nearly every line. Instead, the source text of the root element is
 * cut into tokens (start tags with their attributes, end tags, text, comments, PIs, CDATA),
 * matched one to one with the tree in document order, and each token is hung on its node's
 * _private. patch_doc_dump() writes a node's token where the node did not change. When the
 * tokens do not match the tree (which would be a bug here), every node is formatted instead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domxml.h"
#include "patch-int.h"

/* ---- output buffer ---- */

struct obuf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void put(struct obuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->cap - b->n < n + 1) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap - b->n < n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void puts_(struct obuf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* Escape @s for text content, or for an attribute value quoted with @quote (0: text). */
static void put_escaped(struct obuf *b, const char *s, char quote)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': puts_(b, "&amp;"); break;
		case '<': puts_(b, "&lt;"); break;
		case '>': puts_(b, "&gt;"); break;
		case '\r': puts_(b, "&#13;"); break;
		case '"': puts_(b, quote == '"' ? "&quot;" : "\""); break;
		case '\'': puts_(b, quote == '\'' ? "&apos;" : "'"); break;
		case '\n': puts_(b, quote ? "&#10;" : "\n"); break;
		case '\t': puts_(b, quote ? "&#9;" : "\t"); break;
		default: put(b, s, 1); break;
		}
	}
}

/* Escape @s for text content; each newline is written as the document's line ending (the
 * parser turned every CRLF of the source into LF, XML 1.0 §2.11). */
static void put_text(struct obuf *b, const struct patch_doc *pd, const char *s)
{
	for (const char *nl; (nl = strchr(s, '\n')); s = nl + 1) {
		char *part = strndup(s, (size_t)(nl - s));

		if (!part) {
			b->oom = true;
			return;
		}
		put_escaped(b, part, 0);
		free(part);
		puts_(b, pd->crlf ? "\r\n" : "\n");
	}
	put_escaped(b, s, 0);
}

/* ---- tokens ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static struct tok *tok_add(struct patch_doc *pd, size_t *cap, enum tok_kind kind, size_t off,
			   size_t len)
{
	struct tok *t;

	if (pd->ntoks == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;

		t = realloc(pd->toks, ncap * sizeof(*t));
		if (!t)
			return NULL;
		pd->toks = t;
		*cap = ncap;
	}
	t = &pd->toks[pd->ntoks++];
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->off = off;
	t->len = len;
	return t;
}

/* Cut a start tag beginning at @p into name and attribute segments. Returns the offset just
 * past it, 0 when malformed (the parser accepted the document, so this is a bug), or
 * (size_t)-1 on ENOMEM. */
static size_t lex_stag(const char *s, size_t p, size_t end, struct tok *t)
{
	size_t i = p + 1, cap = 0;

	while (i < end && !is_blank(s[i]) && s[i] != '/' && s[i] != '>')
		i++;
	t->name_end = i;
	for (;;) {
		size_t start = i, nstart, nend;
		struct seg *sg;

		while (i < end && is_blank(s[i]))
			i++;
		if (i >= end)
			return 0;
		if (s[i] == '>' || (s[i] == '/' && i + 1 < end && s[i + 1] == '>')) {
			t->tail = start;
			t->empty = s[i] == '/';
			i += t->empty ? 2 : 1;
			t->len = i - p;
			return i;
		}
		nstart = i;
		while (i < end && s[i] != '=' && !is_blank(s[i]))
			i++;
		nend = i;
		while (i < end && is_blank(s[i]))
			i++;
		if (i >= end || s[i] != '=')
			return 0;
		i++;
		while (i < end && is_blank(s[i]))
			i++;
		if (i >= end || (s[i] != '\'' && s[i] != '"'))
			return 0;
		{
			const char *q = memchr(s + i + 1, s[i], end - i - 1);

			if (!q)
				return 0;
			if (t->nsegs == cap) {
				size_t ncap = cap ? cap * 2 : 4;

				sg = realloc(t->segs, ncap * sizeof(*sg));
				if (!sg)
					return (size_t)-1;
				t->segs = sg;
				cap = ncap;
			}
			sg = &t->segs[t->nsegs++];
			memset(sg, 0, sizeof(*sg));
			sg->off = start;
			sg->quote = s[i];
			i = (size_t)(q - s) + 1;
			sg->len = i - start;
			sg->qname = strndup(s + nstart, nend - nstart);
			if (!sg->qname)
				return (size_t)-1;
		}
	}
}

/* Find @needle from @p; returns the offset just past it, or 0. */
static size_t skip_past(const char *s, size_t p, size_t end, const char *needle)
{
	const char *q = memmem(s + p, end - p, needle, strlen(needle));

	return q ? (size_t)(q - s) + strlen(needle) : 0;
}

/* Skip the rest of a DOCTYPE from @p (just past "<!DOCTYPE"): a name, then an internal
 * subset of only blanks, comments and PIs, as domxml lets through. Returns the offset just
 * past its '>', or 0 when it is anything else. */
static size_t skip_doctype(const char *s, size_t p, size_t end)
{
	while (p < end && s[p] != '[' && s[p] != '>' && s[p] != '\'' && s[p] != '"')
		p++;
	if (p < end && s[p] == '[') {
		for (p++; p < end && s[p] != ']';) {
			if (is_blank(s[p]))
				p++;
			else if (strncmp(s + p, "<!--", 4) == 0)
				p = skip_past(s, p + 4, end, "-->");
			else if (strncmp(s + p, "<?", 2) == 0)
				p = skip_past(s, p + 2, end, "?>");
			else
				return 0;
			if (!p)
				return 0;
		}
		for (p++; p < end && is_blank(s[p]);)
			p++;
	}
	return p < end && s[p] == '>' ? p + 1 : 0;
}

/* Tokenise the root element. Returns 0, -EINVAL (not understood: format instead), -ENOMEM. */
static int lex(struct patch_doc *pd)
{
	const char *s = pd->src;
	size_t p = 0, end = pd->len, cap = 0, depth = 0;

	/* The prologue: an XML declaration, comments, PIs, blanks, and a DOCTYPE that declares
	 * nothing (domxml.h MUST 3), copied as they are. */
	while (p < end) {
		if (s[p] != '<') {
			p++;
		} else if (strncmp(s + p, "<!DOCTYPE", 9) == 0) {
			if (!(p = skip_doctype(s, p + 9, end)))
				return -EINVAL;
		} else if (strncmp(s + p, "<!--", 4) == 0) {
			if (!(p = skip_past(s, p + 4, end, "-->")))
				return -EINVAL;
		} else if (strncmp(s + p, "<?", 2) == 0) {
			if (!(p = skip_past(s, p + 2, end, "?>")))
				return -EINVAL;
		} else {
			break;
		}
	}
	pd->root_off = p;
	while (p < end) {
		struct tok *t;
		size_t q;

		if (s[p] != '<') {
			const char *lt = memchr(s + p, '<', end - p);

			q = lt ? (size_t)(lt - s) : end;
			if (!tok_add(pd, &cap, TOK_TEXT, p, q - p))
				return -ENOMEM;
			p = q;
			continue;
		}
		if (strncmp(s + p, "<!--", 4) == 0)
			t = tok_add(pd, &cap, TOK_COMMENT, p, 0), q = skip_past(s, p + 4, end, "-->");
		else if (strncmp(s + p, "<![CDATA[", 9) == 0)
			t = tok_add(pd, &cap, TOK_CDATA, p, 0), q = skip_past(s, p + 9, end, "]]>");
		else if (strncmp(s + p, "<?", 2) == 0)
			t = tok_add(pd, &cap, TOK_PI, p, 0), q = skip_past(s, p + 2, end, "?>");
		else if (strncmp(s + p, "</", 2) == 0)
			t = tok_add(pd, &cap, TOK_ETAG, p, 0), q = skip_past(s, p + 2, end, ">");
		else if ((t = tok_add(pd, &cap, TOK_STAG, p, 0)) != NULL)
			q = lex_stag(s, p, end, t);
		else
			q = 0;
		if (!t || q == (size_t)-1)
			return -ENOMEM;
		if (q == 0)
			return -EINVAL;
		if (t->kind != TOK_STAG)
			t->len = q - p;
		p = q;
		if (t->kind == TOK_STAG && !t->empty)
			depth++;
		else if (t->kind == TOK_ETAG && depth-- == 0)
			return -EINVAL;
		if (depth == 0 && (t->kind == TOK_ETAG || t->kind == TOK_STAG)) {
			pd->root_end = p;
			return 0;
		}
	}
	return -EINVAL;
}

static char *qname_of(const xmlNs *ns, const xmlChar *name)
{
	char *q;

	if (ns && ns->prefix) {
		if (asprintf(&q, "%s:%s", (const char *)ns->prefix, (const char *)name) < 0)
			return NULL;
		return q;
	}
	return strdup((const char *)name);
}

/* The current value of the attribute or namespace declaration @qname of @n, or NULL when
 * absent; caller frees. *@oom is set on ENOMEM. */
static char *attr_value(xmlNodePtr n, const char *qname, bool *oom)
{
	char *v = NULL;

	if (strcmp(qname, "xmlns") == 0 || strncmp(qname, "xmlns:", 6) == 0) {
		const char *prefix = qname[5] ? qname + 6 : NULL;

		for (xmlNsPtr ns = n->nsDef; ns; ns = ns->next) {
			if (prefix ? ns->prefix && strcmp((const char *)ns->prefix, prefix) == 0
				   : !ns->prefix) {
				v = strdup(ns->href ? (const char *)ns->href : "");
				goto out;
			}
		}
		return NULL;
	}
	for (xmlAttrPtr a = n->properties; a; a = a->next) {
		char *q = qname_of(a->ns, a->name);
		bool same = q && strcmp(q, qname) == 0;

		free(q);
		if (!q) {
			*oom = true;
			return NULL;
		}
		if (same) {
			xmlChar *c = xmlNodeGetContent((xmlNodePtr)a);

			v = strdup(c ? (const char *)c : "");
			xmlFree(c);
			goto out;
		}
	}
	return NULL;
out:
	if (!v)
		*oom = true;
	return v;
}

/* Pair the tokens with the tree in document order. Returns 0, -EINVAL on a mismatch,
 * -ENOMEM. */
static int attach(struct patch_doc *pd, xmlNodePtr n, size_t *i)
{
	struct tok *t;
	bool oom = false;

	if (*i >= pd->ntoks)
		return -EINVAL;
	t = &pd->toks[*i];
	switch (n->type) {
	case XML_ELEMENT_NODE: {
		char *q = qname_of(n->ns, n->name);
		bool same;

		if (!q)
			return -ENOMEM;
		same = t->kind == TOK_STAG && t->name_end - t->off - 1 == strlen(q) &&
		       memcmp(pd->src + t->off + 1, q, strlen(q)) == 0;
		free(q);
		if (!same)
			return -EINVAL;
		for (size_t k = 0; k < t->nsegs; k++) {
			t->segs[k].value = attr_value(n, t->segs[k].qname, &oom);
			if (!t->segs[k].value)
				return oom ? -ENOMEM : -EINVAL;
		}
		n->_private = t;
		(*i)++;
		for (xmlNodePtr c = n->children; c; c = c->next) {
			int r = attach(pd, c, i);

			if (r < 0)
				return r;
		}
		if (!t->empty) {
			if (*i >= pd->ntoks || pd->toks[*i].kind != TOK_ETAG)
				return -EINVAL;
			t->end_off = pd->toks[*i].off;
			t->end_len = pd->toks[*i].len;
			(*i)++;
		}
		return 0;
	}
	case XML_TEXT_NODE:
		if (t->kind != TOK_TEXT)
			return -EINVAL;
		t->text = strdup(n->content ? (const char *)n->content : "");
		if (!t->text)
			return -ENOMEM;
		break;
	case XML_COMMENT_NODE:
		if (t->kind != TOK_COMMENT)
			return -EINVAL;
		break;
	case XML_PI_NODE:
		if (t->kind != TOK_PI)
			return -EINVAL;
		break;
	case XML_CDATA_SECTION_NODE:
		if (t->kind != TOK_CDATA)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	n->_private = t;
	(*i)++;
	return 0;
}

static void detach(xmlNodePtr n)
{
	for (; n; n = n->next) {
		n->_private = NULL;
		if (n->type == XML_ELEMENT_NODE)
			detach(n->children);
	}
}

static void toks_free(struct patch_doc *pd)
{
	for (size_t i = 0; i < pd->ntoks; i++) {
		for (size_t k = 0; k < pd->toks[i].nsegs; k++) {
			free(pd->toks[i].segs[k].qname);
			free(pd->toks[i].segs[k].value);
		}
		free(pd->toks[i].segs);
		free(pd->toks[i].text);
	}
	free(pd->toks);
	pd->toks = NULL;
	pd->ntoks = 0;
}

int patch_doc_parse(const char *buf, size_t len, const char *what, struct patch_doc **out,
		    char *err, size_t errlen)
{
	struct patch_doc *pd;
	xmlNodePtr root;
	size_t i = 0;
	int r;

	*out = NULL;
	pd = calloc(1, sizeof(*pd));
	if (!pd)
		return -ENOMEM;
	r = domxml_parse_doc(buf, len, what, DOMXML_NS_STRICT, &pd->doc, err, errlen);
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	pd->src = malloc(len + 1);
	if (!pd->src)
		goto fail;
	memcpy(pd->src, buf, len);
	pd->src[len] = '\0';
	pd->len = len;
	pd->quote = '\'';
	{
		const char *nl = memchr(buf, '\n', len);

		pd->crlf = nl && nl > buf && nl[-1] == '\r';
	}

	root = xmlDocGetRootElement(pd->doc);
	r = lex(pd);
	if (r == 0)
		r = attach(pd, root, &i);
	if (r == 0 && i != pd->ntoks)
		r = -EINVAL;
	if (r == -ENOMEM)
		goto fail;
	if (r < 0) {
		detach(root);
		toks_free(pd);
	} else {
		struct tok *t = root->_private;

		pd->raw = true;
		if (t->nsegs)
			pd->quote = t->segs[0].quote;
	}
	*out = pd;
	return 0;
fail:
	patch_doc_free(pd);
	return r;
}

xmlDocPtr patch_doc_xml(const struct patch_doc *pd)
{
	return pd->doc;
}

void patch_doc_free(struct patch_doc *pd)
{
	if (!pd)
		return;
	toks_free(pd);
	xmlFreeDoc(pd->doc);
	free(pd->src);
	free(pd);
}

static void put_attr(struct obuf *b, const char *qname, const char *value, char quote)
{
	put(b, " ", 1);
	puts_(b, qname);
	put(b, "=", 1);
	put(b, &quote, 1);
	put_escaped(b, value, quote);
	put(b, &quote, 1);
}

/* Write the attributes of @n: the source text of every unchanged one, in source order, then
 * the changed and new ones. */
static void dump_attrs(struct obuf *b, const struct patch_doc *pd, xmlNodePtr n,
		       const struct tok *t)
{
	char quote = t && t->nsegs ? t->segs[0].quote : pd->quote;

	for (size_t k = 0; t && k < t->nsegs; k++) {
		const struct seg *sg = &t->segs[k];
		bool oom = false;
		char *v = attr_value(n, sg->qname, &oom);

		if (oom)
			b->oom = true;
		else if (v && strcmp(v, sg->value) == 0)
			put(b, pd->src + sg->off, sg->len);
		else if (v)
			put_attr(b, sg->qname, v, sg->quote);
		free(v);
	}
	for (xmlNsPtr ns = n->nsDef; ns; ns = ns->next) {
		bool seen = false;

		for (size_t k = 0; t && k < t->nsegs; k++) {
			const char *sq = t->segs[k].qname;

			if (ns->prefix ? strncmp(sq, "xmlns:", 6) == 0 &&
					 strcmp(sq + 6, (const char *)ns->prefix) == 0
				       : strcmp(sq, "xmlns") == 0)
				seen = true;
		}
		if (seen)
			continue;
		if (ns->prefix) {
			char qn[256];

			snprintf(qn, sizeof(qn), "xmlns:%s", (const char *)ns->prefix);
			put_attr(b, qn, (const char *)ns->href, quote);
		} else {
			put_attr(b, "xmlns", (const char *)ns->href, quote);
		}
	}
	for (xmlAttrPtr a = n->properties; a; a = a->next) {
		char *q = qname_of(a->ns, a->name);
		bool seen = false;
		xmlChar *v;

		if (!q) {
			b->oom = true;
			return;
		}
		for (size_t k = 0; t && k < t->nsegs; k++)
			if (strcmp(t->segs[k].qname, q) == 0)
				seen = true;
		if (!seen) {
			v = xmlNodeGetContent((xmlNodePtr)a);
			put_attr(b, q, v ? (const char *)v : "", quote);
			xmlFree(v);
		}
		free(q);
	}
}

static void dump_node(struct obuf *b, const struct patch_doc *pd, xmlNodePtr n)
{
	const struct tok *t = pd->raw ? n->_private : NULL;

	switch (n->type) {
	case XML_ELEMENT_NODE: {
		char *q = qname_of(n->ns, n->name);
		bool closed;

		if (!q) {
			b->oom = true;
			return;
		}
		put(b, "<", 1);
		puts_(b, q);
		dump_attrs(b, pd, n, t);
		if (t && t->self_close && !t->empty && !n->children) {
			/* "<x >" that was "<x />" before a removal emptied it again */
			put(b, pd->src + t->tail, t->off + t->len - t->tail - 1);
			puts_(b, "/>");
			closed = true;
		} else if (t && (!t->empty || !n->children)) {
			put(b, pd->src + t->tail, t->off + t->len - t->tail);
			closed = t->empty;
		} else if (t) {
			/* "<x />" gets children: "<x >", so that emptying it gives "<x />" back */
			put(b, pd->src + t->tail, t->off + t->len - t->tail - 2);
			puts_(b, ">");
			closed = false;
		} else {
			closed = !n->children;
			puts_(b, closed ? "/>" : ">");
		}
		for (xmlNodePtr c = n->children; c; c = c->next)
			dump_node(b, pd, c);
		if (!closed && t && t->end_len) {
			put(b, pd->src + t->end_off, t->end_len);   /* "</x\n>" too */
		} else if (!closed) {
			puts_(b, "</");
			puts_(b, q);
			puts_(b, ">");
		}
		free(q);
		break;
	}
	case XML_TEXT_NODE:
		if (t && strcmp(t->text, (const char *)n->content) == 0)
			put(b, pd->src + t->off, t->len);
		else
			put_text(b, pd, (const char *)n->content);
		break;
	case XML_COMMENT_NODE:
		puts_(b, "<!--");
		puts_(b, (const char *)n->content);
		puts_(b, "-->");
		break;
	case XML_CDATA_SECTION_NODE:
		puts_(b, "<![CDATA[");
		puts_(b, (const char *)n->content);
		puts_(b, "]]>");
		break;
	case XML_PI_NODE:
		if (t) {
			put(b, pd->src + t->off, t->len);
			break;
		}
		puts_(b, "<?");
		puts_(b, (const char *)n->name);
		if (n->content) {
			puts_(b, " ");
			puts_(b, (const char *)n->content);
		}
		puts_(b, "?>");
		break;
	default:
		break;
	}
}

int patch_doc_dump(const struct patch_doc *pd, char **out, size_t *len)
{
	struct obuf b = { 0 };

	if (pd->raw)
		put(&b, pd->src, pd->root_off);
	dump_node(&b, pd, xmlDocGetRootElement(pd->doc));
	if (pd->raw)
		put(&b, pd->src + pd->root_end, pd->len - pd->root_end);
	else
		puts_(&b, pd->crlf ? "\r\n" : "\n");
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.n;
	return 0;
}
