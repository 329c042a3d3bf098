/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * patch-apply.c: the vGPU edit of vgpuxml (patch_opts_check, patch_apply: patch.h):
 * add, change or remove the vGPU, keeping the undo record up to date.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/chvalid.h>
#include <uuid/uuid.h>

#include "domxml.h"
#include "mdev.h"
#include "patch-int.h"

/* ---- patch_apply ---- */

static int fail(struct ctx *c, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	str_one_line(c->err);
	return r;
}

static int remove_vgpus(struct ctx *c, const char *uuid)
{
	struct nodes mdevs = { 0 }, rt = { 0 };
	int r;

	if ((r = list_mdevs(c, &mdevs)) < 0)
		goto out;
	for (size_t i = 0; i < mdevs.n; i++) {
		char u[MDEV_UUID_LEN + 1];
		const char *ua = user_alias(mdevs.v[i]);

		xmlNodePtr rn;
		struct record rec;
		bool exact;

		if (uuid && (!mdev_uuid(mdevs.v[i], u) || strcmp(u, uuid) != 0))
			continue;
		mdev_uuid(mdevs.v[i], u);
		rn = meta_find(child_el(c->root, "metadata"), "added", u, NULL);
		exact = rn != NULL;
		if (exact) {
			record_read(rn, &rec);
			if (rec.created & (1u << K_QEMU_NS))
				c->ns_created = true;
			else
				c->ns_keep = true;
		}
		free(rt.v);
		rt = (struct nodes){ 0 };
		if ((r = list_runtime(c, &rt)) < 0)
			goto out;
		if (ua) {
			struct nodes ovs = { 0 };

			r = override_devices(c, ua, &ovs);
			for (size_t k = 0; r == 0 && k < ovs.n; k++) {
				xmlNodePtr ov = ovs.v[k]->parent;

				drop(ovs.v[k]);
				tidy(ov, exact);
				r = addf(c->changes, "removed the override of %s", ua);
			}
			free(ovs.v);
		} else {
			r = runtime_shift(c, &rt, mdevs.v[i], NULL);
		}
		if (r < 0 || (r = meta_remove(c, u, exact)) < 0)
			goto out;
		drop(mdevs.v[i]);
		if ((r = addf(c->changes, "removed mdev hostdev %s", u)) < 0 ||
		    (exact && (r = restore(c, &rec)) < 0))
			goto out;
	}
out:
	free(mdevs.v);
	free(rt.v);
	return r;
}

/* After a removal: drop the qemu namespace declaration of the root if nothing uses it. */
static bool ns_used(xmlNodePtr n, xmlNsPtr ns)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (n->ns == ns)
			return true;
		for (xmlAttrPtr a = n->properties; a; a = a->next)
			if (a->ns == ns)
				return true;
		if (ns_used(n->children, ns))
			return true;
	}
	return false;
}

static int drop_unused_qemu_ns(struct ctx *c)
{
	for (xmlNsPtr *pp = &c->root->nsDef; *pp; pp = &(*pp)->next) {
		xmlNsPtr ns = *pp;
		char prefix[64];

		if (!ns->href || !xmlStrEqual(ns->href, BAD_CAST PATCH_NS_QEMU) ||
		    ns_used(c->root, ns))
			continue;
		snprintf(prefix, sizeof(prefix), "%s", ns->prefix ? (const char *)ns->prefix : "");
		*pp = ns->next;
		ns->next = NULL;
		xmlFreeNs(ns);
		return addf(c->changes, "removed the unused xmlns:%s", prefix);
	}
	return 0;
}

struct want {
	const char *name, *type, *value;
};

/*
 * Make the mdev @hd's own display= and ramfb= say what its override (@alias) says: QEMU gets
 * the override, but libvirt, virt-manager and a reader see the attributes. One the hostdev
 * has is set to the override's value; display='on' is also added when absent, as libvirt's
 * QEMU driver stores display='off' for an mdev without one (research/xml-patcher-anchors.md
 * §2), which would contradict the override once defined.
 */
static int agree(struct ctx *c, xmlNodePtr hd, const char *alias)
{
	struct nodes devs = { 0 };
	const char *d, *rf, *cur;
	char u[MDEV_UUID_LEN + 1];
	int r;

	if ((r = override_devices(c, alias, &devs)) < 0)
		return r;
	mdev_uuid(hd, u);
	d = override_get(&devs, alias, "display");
	rf = override_get(&devs, alias, "ramfb");
	if (d && (!strcmp(d, "on") || !strcmp(d, "off"))) {
		cur = prop(hd, "display");
		if (((cur && strcmp(cur, d) != 0) || (!cur && !strcmp(d, "on"))) &&
		    ((r = addf(c->changes, "mdev %s: display='%s', as its override says", u,
			       d)) < 0 || (r = set_prop(hd, "display", d)) < 0))
			goto out;
	}
	if (rf && (!strcmp(rf, "true") || !strcmp(rf, "false"))) {
		const char *v = !strcmp(rf, "true") ? "on" : "off";

		cur = prop(hd, "ramfb");
		if (cur && strcmp(cur, v) != 0 &&
		    ((r = addf(c->changes, "mdev %s: ramfb='%s', as its override says", u,
			       v)) < 0 || (r = set_prop(hd, "ramfb", v)) < 0))
			goto out;
	}
out:
	free(devs.v);
	return r;
}

static int apply_vgpu(struct ctx *c, const struct patch_opts *o, const char *uuid)
{
	struct nodes mdevs = { 0 };
	struct want props[8];
	size_t np = 0;
	enum patch_onoff display = o->display;
	xmlNodePtr hd = NULL;
	char alias[64] = "", u[MDEV_UUID_LEN + 1], res[2][16];
	int r;

	if ((r = list_mdevs(c, &mdevs)) < 0)
		goto out;
	for (size_t i = 0; i < mdevs.n && uuid; i++)
		if (mdev_uuid(mdevs.v[i], u) && strcmp(u, uuid) == 0)
			hd = mdevs.v[i];
	if (!uuid && mdevs.n == 1)
		hd = mdevs.v[0];
	if (!uuid && mdevs.n > 1) {
		r = fail(c, -ENOTUNIQ, "the domain has %zu mdev hostdevs: pick one with "
			 "--add-vgpu=UUID", mdevs.n);
		goto out;
	}
	if (!hd && !o->add_vgpu) {
		r = fail(c, -ENOENT, "the domain has no mdev hostdev%s%s: add one with --add-vgpu",
			 uuid ? " " : "", uuid ? uuid : "");
		goto out;
	}
	if (hd && !mdev_uuid(hd, u)) {
		/* libvirt refuses it too, and no metadata entry could name it. */
		r = fail(c, -EINVAL, "the mdev hostdev has no valid <source><address uuid=.../>: "
			 "give it its vGPU's UUID, or remove it with --remove-vgpu");
		goto out;
	}
	/* libvirt refuses display='on' without a <graphics> device ("graphics device is needed
	 * for attribute value 'display=on' in <hostdev>", research/xml-patcher-anchors.md §2),
	 * and patch_check() reports the override form: refuse both before changing the vGPU. */
	if ((o->display == PATCH_ON || o->ramfb || o->xres) &&
	    !child_el(child_el(c->root, "devices"), "graphics")) {
		r = fail(c, -ENODEV, "%s turns the vGPU's display on, which needs a <graphics> "
			 "device, and the domain has none: add one first (spice with "
			 "<gl enable='yes'/>, or egl-headless)",
			 o->ramfb ? "--ramfb" : o->xres ? "--resolution" : "--display=on");
		goto out;
	}

	if (!hd) {
		xmlNodePtr devs = child_el(c->root, "devices"), src, addr, anchor = NULL;

		if (uuid) {
			snprintf(u, sizeof(u), "%s", uuid);
		} else {
			uuid_t bin;

			uuid_generate_random(bin);
			uuid_unparse_lower(bin, u);
		}
		for (int i = 0;; i++) {
			snprintf(alias, sizeof(alias), "ua-vgpu%d", i);
			if (alias_free(c, alias))
				break;
		}
		r = -ENOMEM;
		if (!devs && (!(devs = new_el(c, NULL, "devices", NULL, NULL, NULL, NULL)) ||
			      (r = place(c, c->root, NULL, devs)) < 0))
			goto out;
		for (xmlNodePtr n = devs->children; n; n = n->next)
			if (is_el(n, "hostdev"))
				anchor = n;
		r = -ENOMEM;
		if (!(hd = new_el(c, NULL, "hostdev", "mode", "subsystem", "type", "mdev")) ||
		    set_prop(hd, "model", "vfio-pci") < 0 || (r = place(c, devs, anchor, hd)) < 0)
			goto out;
		r = -ENOMEM;
		if (!(src = new_el(c, NULL, "source", NULL, NULL, NULL, NULL)) ||
		    (r = place(c, hd, NULL, src)) < 0)
			goto out;
		r = -ENOMEM;
		if (!(addr = new_el(c, NULL, "address", "uuid", u, NULL, NULL)) ||
		    (r = place(c, src, NULL, addr)) < 0)
			goto out;
		r = -ENOMEM;
		if (!(addr = new_el(c, NULL, "alias", "name", alias, NULL, NULL)) ||
		    (r = place(c, hd, NULL, addr)) < 0)
			goto out;
		if ((r = addf(c->changes, "added mdev hostdev %s with alias %s", u, alias)) < 0)
			goto out;
		c->added = true;
	}
	if (!mdev_uuid(hd, u)) {
		/* libvirt refuses it too, and no metadata entry could name it. */
		r = fail(c, -EINVAL, "the mdev hostdev has no valid <source><address uuid=.../>: "
			 "give it its vGPU's UUID, or remove it with --remove-vgpu");
		goto out;
	}
	snprintf(c->vgpu, sizeof(c->vgpu), "%s", u);
	if (!prop(hd, "model") && ((r = set_prop(hd, "model", "vfio-pci")) < 0 ||
				   (r = addf(c->changes, "mdev %s: added model='vfio-pci'", u)) < 0))
		goto out;

	if ((o->ramfb || o->xres) && display == PATCH_UNSET)
		display = PATCH_ON;
	if (o->native) {
		if (display != PATCH_UNSET) {
			const char *v = display == PATCH_ON ? "on" : "off";

			if (!prop_is(hd, "display", v) &&
			    ((r = set_prop(hd, "display", v)) < 0 ||
			     (r = addf(c->changes, "mdev %s: display='%s'", u, v)) < 0))
				goto out;
		}
		if (o->ramfb && !prop_is(hd, "ramfb", "on") &&
		    ((r = set_prop(hd, "ramfb", "on")) < 0 ||
		     (r = addf(c->changes, "mdev %s: ramfb='on'", u)) < 0))
			goto out;
	} else {
		if (o->ramfb) {
			props[np++] = (struct want){ "driver", "string", "vfio-pci-nohotplug" };
			props[np++] = (struct want){ "ramfb", "bool", "true" };
		}
		if (display != PATCH_UNSET)
			props[np++] = (struct want){ "display", "string",
						     display == PATCH_ON ? "on" : "off" };
	}
	if (o->opregion)
		props[np++] = (struct want){ "x-igd-opregion", "bool", "true" };
	if (o->romfile)
		props[np++] = (struct want){ "romfile", "string", o->romfile };
	if (o->xres) {
		snprintf(res[0], sizeof(res[0]), "%u", o->xres);
		snprintf(res[1], sizeof(res[1]), "%u", o->yres);
		props[np++] = (struct want){ "xres", "unsigned", res[0] };
		props[np++] = (struct want){ "yres", "unsigned", res[1] };
	}

	/* --native with an override on the runtime alias: the alias lets us clean it up. */
	if (np || o->add_vgpu || user_alias(hd) ||
	    (o->native && (o->ramfb || display != PATCH_UNSET))) {
		if ((r = ensure_alias(c, hd, alias)) < 0)
			goto out;
	}
	for (size_t i = 0; i < np; i++)
		if ((r = override_set(c, alias, props[i].name, props[i].type, props[i].value)) < 0)
			goto out;
	/* The native form and an override for the same thing: the override would win. */
	if (o->native && alias[0] && display != PATCH_UNSET &&
	    (r = override_unset(c, alias, "display", NULL)) < 0)
		goto out;
	if (o->native && alias[0] && o->ramfb &&
	    ((r = override_unset(c, alias, "ramfb", NULL)) < 0 ||
	     (r = override_unset(c, alias, "driver", "vfio-pci-nohotplug")) < 0))
		goto out;
	if (!o->native && alias[0] && (r = agree(c, hd, alias)) < 0)
		goto out;
	if (o->parent)
		r = meta_set(c, u, o->parent, o->type);
out:
	free(mdevs.v);
	return r;
}

/* Whether @s can be written as an attribute value and read back: UTF-8, XML characters
 * only, no control character. */
static bool xml_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = (int)strnlen((const char *)p, 4), ch = xmlGetUTF8Char(p, &n);

		/* xmlGetUTF8Char() takes a continuation byte for a lead byte, and overlong
		 * forms, both of which the parser refuses. */
		if (ch < 0x20 || ch == 0x7f || !xmlIsCharQ(ch) || (*p & 0xc0) == 0x80 ||
		    n != (ch < 0x80 ? 1 : ch < 0x800 ? 2 : ch < 0x10000 ? 3 : 4))
			return false;
		p += n;
	}
	return true;
}

unsigned int patch_opts_edits(const struct patch_opts *o)
{
	return (o->add_vgpu ? PATCH_EDIT_ADD : 0) | (o->remove ? PATCH_EDIT_REMOVE : 0) |
	       (o->parent || o->type ? PATCH_EDIT_METADATA : 0) |
	       (o->opregion ? PATCH_EDIT_OPREGION : 0) | (o->ramfb ? PATCH_EDIT_RAMFB : 0) |
	       (o->romfile ? PATCH_EDIT_ROMFILE : 0) |
	       (o->xres || o->yres ? PATCH_EDIT_RESOLUTION : 0) |
	       (o->display != PATCH_UNSET ? PATCH_EDIT_DISPLAY : 0) |
	       (o->migrate_legacy ? PATCH_EDIT_MIGRATE : 0);
}

int patch_opts_check(const struct patch_opts *o, char *err, size_t errlen)
{
	struct ctx c = { .err = err, .errlen = errlen };
	char uuid[MDEV_UUID_LEN + 1];

	if (o->uuid && mdev_uuid_canon(o->uuid, uuid) < 0)
		return fail(&c, -EINVAL, "'%s' is not a UUID (like 3c0c5f5e-...)", o->uuid);
	if (!o->parent != !o->type)
		return fail(&c, -EINVAL, "--parent and --type go together");
	if (o->parent && !mdev_parent_valid(o->parent))
		return fail(&c, -EINVAL, "'%s' is not a parent device name (like 0000:00:02.0)",
			    o->parent);
	if (o->type && !mdev_type_valid(o->type))
		return fail(&c, -EINVAL, "'%s' is not an mdev type name (like i915-GVTg_V5_4)",
			    o->type);
	if (o->romfile && !xml_text(o->romfile))
		return fail(&c, -EINVAL, "the romfile path must be UTF-8 text without control "
			    "characters");
	if (!o->xres != !o->yres)
		return fail(&c, -EINVAL, "a resolution needs both width and height");
	if (o->display == PATCH_OFF && (o->ramfb || o->xres))
		return fail(&c, -EINVAL, "--ramfb and --resolution need display on, not "
			    "--display=off");
	if (o->remove && (patch_opts_edits(o) & ~PATCH_EDIT_REMOVE))
		return fail(&c, -EINVAL, "--remove-vgpu goes with no other change");
	return 0;
}

int patch_apply(struct patch_doc *pd, const struct patch_opts *o, struct strv *changes,
		char *err, size_t errlen)
{
	struct ctx c = { .pd = pd, .doc = pd->doc, .root = xmlDocGetRootElement(pd->doc),
			 .changes = changes, .err = err, .errlen = errlen, .notes = o->notes };
	char uuid[MDEV_UUID_LEN + 1] = "";
	xmlNodePtr first = xmlFirstElementChild(c.root);
	size_t before = changes->n;
	unsigned int had, bare, closed;
	int r = 0;

	if (first)
		indent_of(first, c.unit, sizeof(c.unit));
	if ((r = patch_opts_check(o, err, errlen)) < 0)
		return r;
	if (o->uuid)
		mdev_uuid_canon(o->uuid, uuid);

	if (o->remove) {
		xmlNsPtr ns = root_qemu_ns(&c);
		bool used = ns && ns_used(c.root, ns);

		/* The namespace goes when the removal left it unused, and no undo record says
		 * it was there before the add; one the input had unused stays. */
		r = remove_vgpus(&c, o->uuid ? uuid : NULL);
		if (r == 0 && changes->n > before && !c.ns_keep && (used || c.ns_created))
			r = drop_unused_qemu_ns(&c);
		goto out;
	}
	shape_of(&c, &had, &bare, &closed);
	if (o->migrate_legacy && (r = migrate_legacy(&c)) < 0)
		goto out;
	if (patch_opts_edits(o) & PATCH_EDIT_VGPU)
		r = apply_vgpu(&c, o, o->uuid ? uuid : NULL);
	if (r == 0 && c.vgpu[0])
		r = record_update(&c, c.vgpu, c.added, had, bare, closed);
out:
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return r;
}
