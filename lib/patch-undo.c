/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * patch-undo.c: the undo record of vgpuxml (MUST 6 of patch.h).
 *
 * The undo record. An add writes <vgpu:added uuid=U created=... empty=.../> next to the
 * vGPU's <vgpu:mdev> entry, saying which of the containers it put the vGPU into it created
 * (created=), and which existed with no content at all (empty=, "NAME/" when written as
 * "<x/>"). --remove-vgpu of a vGPU with a record then removes exactly what the add wrote:
 * it drops the containers it created once they are empty, empties those that were empty
 * and keeps every other one, so a domain without an mdev of its own comes back byte for
 * byte. vgpu-hook reads only <vgpu:mdev>.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "domxml.h"
#include "patch-int.h"

static const char *const kname[K_N] = { "devices", "metadata", "vgpu", "override",
					"qemu-ns" };

/* The container @k of the document, or NULL (K_QEMU_NS: see root_qemu_ns). */
static xmlNodePtr container(struct ctx *c, int k)
{
	xmlNodePtr md;

	switch (k) {
	case K_DEVICES:
		return child_el(c->root, "devices");
	case K_METADATA:
		return child_el(c->root, "metadata");
	case K_VGPU:
		md = child_el(c->root, "metadata");
		for (xmlNodePtr n = md ? md->children : NULL; n; n = n->next)
			if (is_ns_el(n, DOMXML_NS_VGPU, "vgpu"))
				return n;
		return NULL;
	case K_OVERRIDE:
		for (xmlNodePtr n = c->root->children; n; n = n->next)
			if (is_q(n, "override"))
				return n;
		return NULL;
	default:
		return NULL;
	}
}

/* The qemu namespace declared on the root element itself, or NULL. */
xmlNsPtr root_qemu_ns(struct ctx *c)
{
	for (xmlNsPtr ns = c->root->nsDef; ns; ns = ns->next)
		if (ns->href && xmlStrEqual(ns->href, BAD_CAST PATCH_NS_QEMU))
			return ns;
	return NULL;
}

/* What exists now: @had, and of that what has no content at all (@bare), written "<x/>"
 * (@closed). */
void shape_of(struct ctx *c, unsigned int *had, unsigned int *bare,
	      unsigned int *closed)
{
	*had = *bare = *closed = 0;
	for (int k = 0; k < K_N; k++) {
		xmlNodePtr n = container(c, k);
		const struct tok *t = n && c->pd->raw ? n->_private : NULL;

		if (k == K_QEMU_NS ? !root_qemu_ns(c) : !n)
			continue;
		*had |= 1u << k;
		if (n && !n->children) {
			*bare |= 1u << k;
			if (!t || t->empty)
				*closed |= 1u << k;
		}
	}
}

void record_read(xmlNodePtr rec, struct record *r)
{
	memset(r, 0, sizeof(*r));
	for (int pass = 0; pass < 2; pass++) {
		const char *v = prop(rec, pass ? "empty" : "created");

		while (v && *v) {
			size_t len = strcspn(v, " ");

			for (int k = 0; k < K_N; k++) {
				size_t kl = strlen(kname[k]);

				if (pass == 0 && len == kl && strncmp(v, kname[k], kl) == 0) {
					r->created |= 1u << k;
				} else if (pass == 1 && (len == kl || (len == kl + 1 && v[kl] == '/')) &&
					   strncmp(v, kname[k], kl) == 0) {
					r->empty |= 1u << k;
					if (len > kl)
						r->closed |= 1u << k;
				}
			}
			v += len;
			v += strspn(v, " ");
		}
	}
}

/* Set or unset the attribute @name of @rec to the containers in @bits; *@changed is set
 * when it changed. */
static int record_attr(xmlNodePtr rec, const char *name, unsigned int bits,
		       unsigned int closed, bool *changed)
{
	char v[128] = "";

	for (int k = 0; k < K_N; k++)
		if (bits & (1u << k))
			snprintf(v + strlen(v), sizeof(v) - strlen(v), "%s%s%s", v[0] ? " " : "",
				 kname[k], closed & (1u << k) ? "/" : "");
	if (!v[0]) {
		if (prop(rec, name)) {
			*changed = true;
			xmlUnsetProp(rec, BAD_CAST name);
		}
		return 0;
	}
	if (prop_is(rec, name, v))
		return 0;
	*changed = true;
	return set_prop(rec, name, v);
}

/*
 * After an apply that added the vGPU @uuid (@added) or changed one with a record: note in
 * its record the containers created or filled since @had/@bare/@closed were taken.
 */
int record_update(struct ctx *c, const char *uuid, bool added, unsigned int had,
		  unsigned int bare, unsigned int closed)
{
	xmlNodePtr rec = meta_find(child_el(c->root, "metadata"), "added", uuid, NULL), vg;
	unsigned int now, now_bare, now_closed;
	struct record old = { 0 }, r;
	bool changed = false, fresh = !rec;
	int ret;

	if (!rec && !added)
		return 0;
	if (!rec) {
		if ((ret = meta_vgpu(c, &vg)) < 0)
			return ret;
		if (!(rec = new_el(c, vg->ns, "added", "uuid", uuid, NULL, NULL)) ||
		    (ret = place(c, vg, NULL, rec)) < 0)
			return -ENOMEM;
	} else {
		record_read(rec, &old);
	}
	shape_of(c, &now, &now_bare, &now_closed);
	r = old;
	r.created |= now & ~had;
	for (int k = 0; k < K_N; k++) {
		unsigned int bit = 1u << k;

		if ((bare & bit) && !(now_bare & bit) && !(old.empty & bit)) {
			r.empty |= bit;
			r.closed |= closed & bit;
		}
	}
	if ((ret = record_attr(rec, "created", r.created, 0, &changed)) < 0 ||
	    (ret = record_attr(rec, "empty", r.empty, r.closed, &changed)) < 0)
		return ret;
	if (!fresh && !changed)
		return 0;
	return addf(c->changes, "metadata: recorded what the vGPU %s was added into, for "
		    "--remove-vgpu", uuid);
}

/* Whether @n has no element, comment, PI or CDATA child (blank text only, or nothing). */
static bool blank_only(xmlNodePtr n)
{
	for (xmlNodePtr ch = n->children; ch; ch = ch->next)
		if (ch->type != XML_TEXT_NODE || !blank(ch->content))
			return false;
	return true;
}

/* The undo of @rec, once the vGPU, its override and its metadata entries are gone. */
int restore(struct ctx *c, const struct record *rec)
{
	static const int order[] = { K_OVERRIDE, K_VGPU, K_METADATA, K_DEVICES };

	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		unsigned int bit = 1u << order[i];
		xmlNodePtr n = container(c, order[i]);

		if (!n || !blank_only(n))
			continue;
		if (rec->created & bit) {
			drop(n);
		} else if (rec->empty & bit) {
			struct tok *t = c->pd->raw ? n->_private : NULL;

			while (n->children) {
				xmlNodePtr ch = n->children;

				xmlUnlinkNode(ch);
				xmlFreeNode(ch);
			}
			if (t && (rec->closed & bit))
				t->self_close = true;
		}
	}
	return 0;
}
