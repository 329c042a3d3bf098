/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * patch-domain.c: the libvirt domain model as vgpuxml edits it: mdev hostdevs, their
 * user and runtime aliases, the <qemu:override> properties of a device, and the
 * vGPU's <metadata> entry that vgpu-hook reads (DESIGN.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domxml.h"
#include "mdev.h"
#include "patch-int.h"

/* ---- devices ---- */

bool is_mdev(xmlNodePtr n)
{
	const char *mode = prop(n, "mode");

	return is_el(n, "hostdev") && prop_is(n, "type", "mdev") &&
	       (!mode || strcmp(mode, "subsystem") == 0);
}

/* The mdev's UUID into @out, canonical when it is one, else as written ("" when absent),
 * cut to its size, for messages. Returns whether it is a UUID: a value cut short may look
 * like one. */
bool mdev_uuid(xmlNodePtr hd, char out[MDEV_UUID_LEN + 1])
{
	const char *u = prop(child_el(child_el(hd, "source"), "address"), "uuid");

	if (u && mdev_uuid_canon(u, out) == 0)
		return true;
	snprintf(out, MDEV_UUID_LEN + 1, "%s", u ? u : "");
	return false;
}

/* The user alias of a device, or NULL. Other aliases are dropped by libvirt on define. */
const char *user_alias(xmlNodePtr dev)
{
	const char *a = prop(child_el(dev, "alias"), "name");

	return a && strncmp(a, "ua-", 3) == 0 ? a : NULL;
}

int list_mdevs(struct ctx *c, struct nodes *l)
{
	for (xmlNodePtr n = child_el(c->root, "devices") ? child_el(c->root, "devices")->children
							 : NULL; n; n = n->next)
		if (is_mdev(n) && nodes_add(l, n) < 0)
			return -ENOMEM;
	return 0;
}

/*
 * The devices that get runtime aliases "hostdev0", "hostdev1"... at start, in that order:
 * every <interface type='hostdev'>, then every <hostdev>, skipping those with a user alias
 * (libvirt qemuAssignDeviceAliases).
 */
int list_runtime(struct ctx *c, struct nodes *l)
{
	xmlNodePtr devs = child_el(c->root, "devices");

	for (int pass = 0; devs && pass < 2; pass++) {
		for (xmlNodePtr n = devs->children; n; n = n->next) {
			bool want = pass == 0 ? is_el(n, "interface") && prop_is(n, "type", "hostdev")
					      : is_el(n, "hostdev");

			if (want && !user_alias(n) && nodes_add(l, n) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* "hostdevN" -> N, or -1. */
long runtime_index(const char *alias)
{
	char *end;
	unsigned long k;

	if (!alias || strncmp(alias, "hostdev", 7) != 0 || alias[7] < '0' || alias[7] > '9')
		return -1;
	k = strtoul(alias + 7, &end, 10);
	return *end || k > 100000 ? -1 : (long)k;
}

/* The alias an override must use for @dev now: its user alias, else its runtime alias. */
void current_alias(struct ctx *c, const struct nodes *rt, xmlNodePtr dev, char *buf,
		   size_t len)
{
	const char *ua = user_alias(dev);
	long k = nodes_index(rt, dev);

	(void)c;
	if (ua)
		snprintf(buf, len, "%s", ua);
	else if (k >= 0)
		snprintf(buf, len, "hostdev%ld", k);
	else
		buf[0] = '\0';
}

bool alias_taken(struct ctx *c, const char *alias)
{
	xmlNodePtr devs = child_el(c->root, "devices");

	for (xmlNodePtr n = devs ? devs->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && prop_is(child_el(n, "alias"), "name", alias))
			return true;
	return false;
}

/* ---- <qemu:override> ---- */

/* The qemu namespace declared on the root, declaring it when missing: prefix "qemu" unless
 * that prefix is bound to something else. */
static int qemu_ns(struct ctx *c, xmlNsPtr *out)
{
	xmlNsPtr ns = xmlSearchNsByHref(c->doc, c->root, BAD_CAST PATCH_NS_QEMU);
	char prefix[16] = "qemu";

	if (ns) {
		*out = ns;
		return 0;
	}
	for (int i = 1; xmlSearchNs(c->doc, c->root, BAD_CAST prefix) && i < 100; i++)
		snprintf(prefix, sizeof(prefix), "qemu%d", i);
	ns = xmlNewNs(c->root, BAD_CAST PATCH_NS_QEMU, BAD_CAST prefix);
	if (!ns)
		return -ENOMEM;
	*out = ns;
	return addf(c->changes, "declared xmlns:%s='%s'", prefix, PATCH_NS_QEMU);
}

/* Every <qemu:device> of every <qemu:override>, in document order. */
int override_devices(struct ctx *c, const char *alias, struct nodes *l)
{
	for (xmlNodePtr ov = c->root->children; ov; ov = ov->next) {
		if (!is_q(ov, "override"))
			continue;
		for (xmlNodePtr d = ov->children; d; d = d->next)
			if (is_q(d, "device") && (!alias || prop_is(d, "alias", alias)) &&
			    nodes_add(l, d) < 0)
				return -ENOMEM;
	}
	return 0;
}

/* Drop @n's now empty ancestors up to <qemu:override>, which is dropped too unless
 * @keep_override (an undo that knows whether the add created it). */
void tidy(xmlNodePtr n, bool keep_override)
{
	while (n && (is_q(n, "frontend") || is_q(n, "device") ||
		     (is_q(n, "override") && !keep_override)) && !has_elems(n)) {
		xmlNodePtr parent = n->parent;
		bool last = is_q(n, "override");

		drop(n);
		if (last)
			break;
		n = parent;
	}
}

/* Set override property @name of the device @alias; every existing entry is updated (the
 * last one wins in libvirt), else one is added. */
int override_set(struct ctx *c, const char *alias, const char *name, const char *type,
		 const char *value)
{
	struct nodes devs = { 0 };
	xmlNodePtr dev, fe, p, ov;
	bool found = false, changed = false;
	int r;

	r = override_devices(c, alias, &devs);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < devs.n; i++) {
		for (fe = devs.v[i]->children; fe; fe = fe->next) {
			if (!is_q(fe, "frontend"))
				continue;
			for (p = fe->children; p; p = p->next) {
				if (!is_q(p, "property") || !prop_is(p, "name", name))
					continue;
				found = true;
				if (prop_is(p, "type", type) && prop_is(p, "value", value))
					continue;
				changed = true;
				if ((r = set_prop(p, "type", type)) < 0 ||
				    (r = set_prop(p, "value", value)) < 0)
					goto out;
			}
		}
	}
	if (found) {
		if (changed)
			r = addf(c->changes, "override %s: set %s=%s (%s)", alias, name, value, type);
		goto out;
	}

	dev = devs.n ? devs.v[devs.n - 1] : NULL;
	if (!dev) {
		for (ov = c->root->children; ov && !is_q(ov, "override"); ov = ov->next)
			;
		if (!ov) {
			xmlNsPtr ns;

			if ((r = qemu_ns(c, &ns)) < 0)
				goto out;
			r = -ENOMEM;
			if (!(ov = new_el(c, ns, "override", NULL, NULL, NULL, NULL)) ||
			    (r = place(c, c->root, NULL, ov)) < 0)
				goto out;
		}
		r = -ENOMEM;
		if (!(dev = new_el(c, ov->ns, "device", "alias", alias, NULL, NULL)) ||
		    (r = place(c, ov, NULL, dev)) < 0)
			goto out;
	}
	for (fe = dev->children; fe && !is_q(fe, "frontend"); fe = fe->next)
		;
	r = -ENOMEM;
	if (!fe && (!(fe = new_el(c, dev->ns, "frontend", NULL, NULL, NULL, NULL)) ||
		    (r = place(c, dev, NULL, fe)) < 0))
		goto out;
	r = -ENOMEM;
	if (!(p = new_el(c, fe->ns, "property", "name", name, "type", type)) ||
	    set_prop(p, "value", value) < 0 || (r = place(c, fe, NULL, p)) < 0)
		goto out;
	r = addf(c->changes, "override %s: added %s=%s (%s)", alias, name, value, type);
out:
	free(devs.v);
	return r;
}

/* Remove override property @name of @alias (only with @value when given). */
int override_unset(struct ctx *c, const char *alias, const char *name, const char *value)
{
	struct nodes devs = { 0 };
	int r;

	r = override_devices(c, alias, &devs);
	for (size_t i = 0; r == 0 && i < devs.n; i++) {
		xmlNodePtr fe, next;

		for (fe = devs.v[i]->children; fe; fe = next) {
			next = fe->next;
			if (!is_q(fe, "frontend"))
				continue;
			for (xmlNodePtr p = fe->children, pn; p; p = pn) {
				pn = p->next;
				if (!is_q(p, "property") || !prop_is(p, "name", name) ||
				    (value && !prop_is(p, "value", value)))
					continue;
				drop(p);
				r = addf(c->changes, "override %s: removed %s", alias, name);
				if (r < 0)
					break;
			}
			if (!has_elems(fe)) {
				next = NULL;  /* tidy() may free the following nodes too */
				tidy(fe, false);
			}
		}
	}
	free(devs.v);
	return r;
}

/*
 * @x leaves the list of runtime aliases @rt (taken before the change): it gets the user alias
 * @ua, or is removed when @ua is NULL. Overrides written for runtime aliases follow: those of
 * @x move to @ua (or are removed), those of later devices are renumbered as libvirt will.
 */
int runtime_shift(struct ctx *c, const struct nodes *rt, xmlNodePtr x, const char *ua)
{
	struct nodes devs = { 0 };
	long kx = nodes_index(rt, x);
	int r;

	if (kx < 0)
		return 0;
	r = override_devices(c, NULL, &devs);
	for (size_t i = 0; r == 0 && i < devs.n; i++) {
		const char *alias = prop(devs.v[i], "alias");
		long k = runtime_index(alias);
		char old[32], now[32];

		if (k < 0 || (size_t)k >= rt->n || k < kx)
			continue;
		snprintf(old, sizeof(old), "%s", alias);
		if (k == kx && !ua) {
			xmlNodePtr ov = devs.v[i]->parent;

			drop(devs.v[i]);
			tidy(ov, false);
			r = addf(c->changes, "removed the override of %s", old);
			continue;
		}
		if (k == kx)
			snprintf(now, sizeof(now), "%s", ua);
		else
			snprintf(now, sizeof(now), "hostdev%ld", k - 1);
		r = set_prop(devs.v[i], "alias", now);
		if (r == 0)
			r = addf(c->changes, "override for runtime alias %s now targets %s", old, now);
	}
	free(devs.v);
	return r;
}

/*
 * Whether the user alias @alias is free for a new one: no device has it, and no override or
 * legacy "-set device.ID." names it; those would start to apply to the vGPU, on this run or
 * on the next (a new alias that a stale entry names is not idempotent).
 */
bool alias_free(struct ctx *c, const char *alias)
{
	if (alias_taken(c, alias))
		return false;
	for (xmlNodePtr n = c->root->children; n; n = n->next) {
		for (xmlNodePtr d = is_q(n, "override") ? n->children : NULL; d; d = d->next)
			if (is_q(d, "device") && prop_is(d, "alias", alias))
				return false;
		for (xmlNodePtr a = is_q(n, "commandline") ? n->children : NULL; a; a = a->next) {
			struct legacy l;

			if (legacy_parse(a, &l) && strcmp(l.id, alias) == 0)
				return false;
		}
	}
	return true;
}

/* Give the mdev @hd a user alias unless it has one; *@alias (64 bytes) gets it. */
int ensure_alias(struct ctx *c, xmlNodePtr hd, char *alias)
{
	struct nodes rt = { 0 };
	xmlNodePtr a;
	char uuid[MDEV_UUID_LEN + 1];
	int r;

	if (user_alias(hd)) {
		snprintf(alias, 64, "%s", user_alias(hd));
		return 0;
	}
	for (int i = 0;; i++) {
		snprintf(alias, 64, "ua-vgpu%d", i);
		if (alias_free(c, alias))
			break;
	}
	r = list_runtime(c, &rt);
	if (r < 0)
		goto out;
	a = child_el(hd, "alias");
	if (a) {
		r = set_prop(a, "name", alias);
	} else {
		xmlNodePtr src = child_el(hd, "source");

		r = -ENOMEM;
		if ((a = new_el(c, NULL, "alias", "name", alias, NULL, NULL)))
			r = place(c, hd, src, a);
	}
	if (r < 0)
		goto out;
	mdev_uuid(hd, uuid);
	r = addf(c->changes, "mdev %s: added user alias %s", uuid, alias);
	if (r == 0)
		r = runtime_shift(c, &rt, hd, alias);
out:
	free(rt.v);
	return r;
}

/* ---- <metadata> ---- */

/* The entry <vgpu:NAME uuid=@uuid/> of the metadata @md (NULL: none); *@vg_out, when
 * given and NULL, gets the first <vgpu:vgpu>. */
xmlNodePtr meta_find(xmlNodePtr md, const char *name, const char *uuid,
		     xmlNodePtr *vg_out)
{
	for (xmlNodePtr vg = md ? md->children : NULL; vg; vg = vg->next) {
		if (!is_ns_el(vg, DOMXML_NS_VGPU, "vgpu"))
			continue;
		if (vg_out && !*vg_out)
			*vg_out = vg;
		for (xmlNodePtr m = vg->children; m; m = m->next) {
			char u[MDEV_UUID_LEN + 1];
			const char *v = prop(m, "uuid");

			if (is_ns_el(m, DOMXML_NS_VGPU, name) && v &&
			    mdev_uuid_canon(v, u) == 0 && strcmp(u, uuid) == 0)
				return m;
		}
	}
	return NULL;
}

xmlNodePtr meta_entry(xmlNodePtr md, const char *uuid, xmlNodePtr *vg_out)
{
	return meta_find(md, "mdev", uuid, vg_out);
}

/* The domain's <metadata><vgpu:vgpu> into *@out, made when missing. */
int meta_vgpu(struct ctx *c, xmlNodePtr *out)
{
	xmlNodePtr md = child_el(c->root, "metadata"), vg = NULL;
	int r;

	if (!md) {
		static const char *const before[] = { "name", "uuid", "genid", "title",
						      "description" };
		xmlNodePtr after = NULL;

		for (xmlNodePtr n = c->root->children; n; n = n->next)
			for (size_t i = 0; i < ARRAY_SIZE(before); i++)
				if (is_el(n, before[i]))
					after = n;
		if (!(md = new_el(c, NULL, "metadata", NULL, NULL, NULL, NULL)))
			return -ENOMEM;
		if (after)
			r = place(c, c->root, after, md);
		else if (last_elem(c->root))
			r = place_before(c, xmlFirstElementChild(c->root), md);
		else
			r = place(c, c->root, NULL, md);
		if (r < 0)
			return r;
	}
	for (vg = md->children; vg && !is_ns_el(vg, DOMXML_NS_VGPU, "vgpu"); vg = vg->next)
		;
	if (!vg) {
		xmlNsPtr ns;

		if (!(vg = new_el(c, NULL, "vgpu", NULL, NULL, NULL, NULL)))
			return -ENOMEM;
		if (!(ns = xmlNewNs(vg, BAD_CAST DOMXML_NS_VGPU, BAD_CAST "vgpu"))) {
			xmlFreeNode(vg);
			return -ENOMEM;
		}
		xmlSetNs(vg, ns);
		if ((r = place(c, md, NULL, vg)) < 0)
			return r;
	}
	*out = vg;
	return 0;
}

int meta_set(struct ctx *c, const char *uuid, const char *parent, const char *type)
{
	xmlNodePtr md = child_el(c->root, "metadata"), vg = NULL, m;
	int r;

	m = meta_entry(md, uuid, NULL);
	if (m) {
		if (prop_is(m, "parent", parent) && prop_is(m, "type", type))
			return 0;
		if (set_prop(m, "parent", parent) < 0 || set_prop(m, "type", type) < 0)
			return -ENOMEM;
		return addf(c->changes, "metadata: mdev %s is now %s on %s", uuid, type, parent);
	}
	if ((r = meta_vgpu(c, &vg)) < 0)
		return r;
	if (!(m = new_el(c, vg->ns, "mdev", "uuid", uuid, "parent", parent)) ||
	    set_prop(m, "type", type) < 0)
		return -ENOMEM;
	/* Before the undo record (below), which names what this entry may have created. */
	for (xmlNodePtr n = vg->children; n; n = n->next)
		if (is_ns_el(n, DOMXML_NS_VGPU, "added"))
			return place_before(c, n, m) < 0 ? -ENOMEM :
			       addf(c->changes, "metadata: mdev %s is %s on %s", uuid, type, parent);
	if ((r = place(c, vg, NULL, m)) < 0)
		return r;
	return addf(c->changes, "metadata: mdev %s is %s on %s", uuid, type, parent);
}

/*
 * Remove the metadata entries of @uuid. Without @keep, a <vgpu:vgpu> and a <metadata> left
 * empty go too; with it (an undo with a record) they stay for restore().
 */
int meta_remove(struct ctx *c, const char *uuid, bool keep)
{
	xmlNodePtr md = child_el(c->root, "metadata"), m, vg;

	while ((m = meta_entry(md, uuid, NULL)) || (m = meta_find(md, "added", uuid, NULL))) {
		bool entry = is_ns_el(m, DOMXML_NS_VGPU, "mdev");

		vg = m->parent;
		drop(m);
		if (!keep && !has_elems(vg))
			drop(vg);
		if (!keep && !has_elems(md)) {
			drop(md);
			md = NULL;
		}
		if (entry && addf(c->changes, "metadata: removed mdev %s", uuid) < 0)
			return -ENOMEM;
	}
	return 0;
}
