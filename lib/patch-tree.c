/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * patch-tree.c: the tree edits every rewrite of vgpuxml is made of: finding elements and
 * attributes, and inserting and dropping nodes so that the indentation stays the
 * document's own and an insert dropped again gives back the same bytes (place(), drop()).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domxml.h"
#include "patch-int.h"

int nodes_add(struct nodes *l, xmlNodePtr n)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		xmlNodePtr *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = n;
	return 0;
}

long nodes_index(const struct nodes *l, xmlNodePtr n)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i] == n)
			return (long)i;
	return -1;
}

/* Append one formatted line to @sv (a change or a finding). */
int addf(struct strv *sv, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	str_one_line(s);   /* it may quote a value of the document */
	r = strv_add(sv, s);
	free(s);
	return r;
}

bool is_el(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && !n->ns && xmlStrEqual(n->name, BAD_CAST name);
}

bool is_ns_el(xmlNodePtr n, const char *href, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       xmlStrEqual(n->ns->href, BAD_CAST href) && xmlStrEqual(n->name, BAD_CAST name);
}

bool is_q(xmlNodePtr n, const char *name)
{
	return is_ns_el(n, PATCH_NS_QEMU, name);
}

xmlNodePtr child_el(xmlNodePtr p, const char *name)
{
	for (xmlNodePtr n = p ? p->children : NULL; n; n = n->next)
		if (is_el(n, name))
			return n;
	return NULL;
}

bool has_elems(xmlNodePtr p)
{
	for (xmlNodePtr n = p->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return true;
	return false;
}

xmlNodePtr last_elem(xmlNodePtr p)
{
	for (xmlNodePtr n = p->last; n; n = n->prev)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

/* The value of the attribute @name (no namespace) of @n, or NULL when absent. */
const char *prop(xmlNodePtr n, const char *name)
{
	xmlAttrPtr a = n ? xmlHasNsProp(n, BAD_CAST name, NULL) : NULL;

	if (!a)
		return NULL;
	if (a->children && a->children->type == XML_TEXT_NODE && !a->children->next &&
	    a->children->content)
		return (const char *)a->children->content;
	return "";
}

bool prop_is(xmlNodePtr n, const char *name, const char *value)
{
	const char *v = prop(n, name);

	return v && strcmp(v, value) == 0;
}

int set_prop(xmlNodePtr n, const char *name, const char *value)
{
	return xmlSetProp(n, BAD_CAST name, BAD_CAST value) ? 0 : -ENOMEM;
}

bool blank(const xmlChar *s)
{
	return s && strspn((const char *)s, " \t\r\n") == strlen((const char *)s);
}

/* The indentation of @n: the blanks after the last newline of the text before it. */
void indent_of(xmlNodePtr n, char *buf, size_t len)
{
	xmlNodePtr p = n->prev;
	const char *nl;

	buf[0] = '\0';
	if (!p || p->type != XML_TEXT_NODE || !p->content)
		return;
	nl = strrchr((const char *)p->content, '\n');
	if (nl && strspn(nl + 1, " \t") == strlen(nl + 1))
		snprintf(buf, len, "%s", nl + 1);
}

/* Linking by hand: xmlAddNextSibling() and friends merge adjacent text nodes, which would
 * change text that must be written back as it was. */
static void link_after(xmlNodePtr ref, xmlNodePtr n)
{
	n->parent = ref->parent;
	n->prev = ref;
	n->next = ref->next;
	if (ref->next)
		ref->next->prev = n;
	else
		ref->parent->last = n;
	ref->next = n;
}

static void link_before(xmlNodePtr ref, xmlNodePtr n)
{
	n->parent = ref->parent;
	n->next = ref;
	n->prev = ref->prev;
	if (ref->prev)
		ref->prev->next = n;
	else
		ref->parent->children = n;
	ref->prev = n;
}

static void link_last(xmlNodePtr parent, xmlNodePtr n)
{
	n->parent = parent;
	n->next = NULL;
	n->prev = parent->last;
	if (parent->last)
		parent->last->next = n;
	else
		parent->children = n;
	parent->last = n;
}

static xmlNodePtr new_blank(struct ctx *c, const char *indent)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "\n%s", indent);
	return xmlNewDocText(c->doc, BAD_CAST buf);
}

/*
 * Insert @n into @parent after @after (NULL: after the last element child), indented like
 * its new siblings: "\n<indent>" goes before it, so removing a node together with the blanks
 * before it (drop()) restores the document byte for byte.
 */
int place(struct ctx *c, xmlNodePtr parent, xmlNodePtr after, xmlNodePtr n)
{
	xmlNodePtr ref = after ? after : last_elem(parent), t, t2;
	char ind[192], pind[128];

	if (!c->unit[0]) {
		/* No indentation to keep: never after a blank, which drop() would take along. */
		if (ref)
			link_after(ref, n);
		else if (parent->children)
			link_before(parent->children, n);
		else
			link_last(parent, n);
		return 0;
	}
	if (ref) {
		indent_of(ref, ind, sizeof(ind));
		if (!(t = new_blank(c, ind)))
			goto oom;
		link_after(ref, t);
		link_after(t, n);
		return 0;
	}
	indent_of(parent, pind, sizeof(pind));
	snprintf(ind, sizeof(ind), "%s%s", pind, c->unit);
	if (!(t = new_blank(c, ind)))
		goto oom;
	if (parent->children) {
		link_before(parent->children, t);
		link_after(t, n);
		return 0;
	}
	if (!(t2 = new_blank(c, pind))) {
		xmlFreeNode(t);
		goto oom;
	}
	link_last(parent, t);
	link_last(parent, n);
	link_last(parent, t2);
	return 0;
oom:
	xmlFreeNode(n);
	return -ENOMEM;
}

/* Insert @n before the element @ref, with the same indentation: "\n<indent>" and @n go
 * before the text that precedes @ref, which stays where it is, so that drop() restores it. */
int place_before(struct ctx *c, xmlNodePtr ref, xmlNodePtr n)
{
	xmlNodePtr at = ref->prev && ref->prev->type == XML_TEXT_NODE ? ref->prev : ref, t;
	char ind[128];

	if (!c->unit[0]) {
		link_before(at, n);   /* before the blank, as below: drop() leaves it */
		return 0;
	}
	indent_of(ref, ind, sizeof(ind));
	if (!(t = new_blank(c, ind))) {
		xmlFreeNode(n);
		return -ENOMEM;
	}
	link_before(at, t);
	link_after(t, n);
	return 0;
}

/* Remove @n and the blanks before it. */
void drop(xmlNodePtr n)
{
	xmlNodePtr p = n->prev;

	if (p && p->type == XML_TEXT_NODE && blank(p->content)) {
		xmlUnlinkNode(p);
		xmlFreeNode(p);
	}
	xmlUnlinkNode(n);
	xmlFreeNode(n);
}

/* A new element in @ns with up to two attributes (NULL name: none). */
xmlNodePtr new_el(struct ctx *c, xmlNsPtr ns, const char *name, const char *a1,
		  const char *v1, const char *a2, const char *v2)
{
	xmlNodePtr n = xmlNewDocNode(c->doc, ns, BAD_CAST name, NULL);

	if (!n)
		return NULL;
	if ((a1 && set_prop(n, a1, v1) < 0) || (a2 && set_prop(n, a2, v2) < 0)) {
		xmlFreeNode(n);
		return NULL;
	}
	return n;
}
