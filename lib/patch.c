/* SPDX-License-Identifier: LGPL-2.1-or-later */
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
	domxml_one_line(c->err);
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

static const char *override_get(const struct nodes *devs, const char *alias, const char *name);

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
		return fail(&c, -EINVAL, "ramfb and a resolution need display on");
	if (o->remove && (o->add_vgpu || o->parent || o->opregion || o->ramfb || o->romfile ||
			  o->xres || o->display || o->migrate_legacy))
		return fail(&c, -EINVAL, "removing the vGPU goes with no other change");
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
	if (o->add_vgpu || o->parent || o->opregion || o->ramfb || o->romfile || o->xres ||
	    o->display)
		r = apply_vgpu(&c, o, o->uuid ? uuid : NULL);
	if (r == 0 && c.vgpu[0])
		r = record_update(&c, c.vgpu, c.added, had, bare, closed);
out:
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return r;
}

/* ---- patch_check ---- */

/* "0x03" -> "03", for messages. */
static const char *hex(const char *v)
{
	if (!v)
		return "0";
	return strncmp(v, "0x", 2) == 0 ? v + 2 : v;
}

/* How the runtime alias @dev is described in a finding. */
void describe(xmlNodePtr dev, char *buf, size_t len)
{
	xmlNodePtr a = child_el(child_el(dev, "source"), "address");
	char u[MDEV_UUID_LEN + 1];

	if (is_mdev(dev)) {
		mdev_uuid(dev, u);
		snprintf(buf, len, "mdev %s", u);
	} else if (is_el(dev, "interface")) {
		snprintf(buf, len, "an <interface type='hostdev'>");
	} else if (a && prop(a, "bus")) {
		snprintf(buf, len, "PCI hostdev %s:%s:%s.%s", hex(prop(a, "domain")),
			 hex(prop(a, "bus")), hex(prop(a, "slot")), hex(prop(a, "function")));
	} else {
		snprintf(buf, len, "a %s hostdev", prop(dev, "type") ?: "");
	}
}

/* The value of the last override property @name of @alias, or NULL. */
static const char *override_get(const struct nodes *devs, const char *alias, const char *name)
{
	const char *v = NULL;

	for (size_t i = 0; i < devs->n; i++) {
		if (!prop_is(devs->v[i], "alias", alias))
			continue;
		for (xmlNodePtr fe = devs->v[i]->children; fe; fe = fe->next)
			for (xmlNodePtr p = is_q(fe, "frontend") ? fe->children : NULL; p; p = p->next)
				if (is_q(p, "property") && prop_is(p, "name", name))
					v = prop(p, "value");
	}
	return v;
}

static bool decimal(const char *v, bool sign)
{
	if (sign && *v == '-')
		v++;
	return *v && strspn(v, "0123456789") == strlen(v);
}

static int check_props(const struct nodes *devs, struct strv *f)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < devs->n; i++) {
		const char *alias = prop(devs->v[i], "alias") ?: "";

		for (xmlNodePtr fe = devs->v[i]->children; fe; fe = fe->next) {
			for (xmlNodePtr p = is_q(fe, "frontend") ? fe->children : NULL; p && r == 0;
			     p = p->next) {
				const char *name = prop(p, "name") ?: "", *type = prop(p, "type"),
					   *v = prop(p, "value");

				if (!is_q(p, "property") || !type || !v)
					continue;
				if (!strcmp(type, "bool") && strcmp(v, "true") && strcmp(v, "false"))
					r = addf(f, "override %s: %s is bool and must be true or "
						    "false, not '%s'", alias, name, v);
				else if ((!strcmp(type, "unsigned") && !decimal(v, false)) ||
					 (!strcmp(type, "signed") && !decimal(v, true)))
					r = addf(f, "override %s: %s must be a base-10 number, "
						    "not '%s'", alias, name, v);
			}
		}
	}
	return r;
}

static int check_aliases(struct ctx *c, const struct nodes *devs, const struct nodes *rt,
			 struct strv *f)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < devs->n; i++) {
		const char *alias = prop(devs->v[i], "alias") ?: "";
		long k = runtime_index(alias);
		char d[128];

		if (strncmp(alias, "ua-", 3) == 0) {
			if (!alias_taken(c, alias))
				r = addf(f, "override %s matches no device: libvirt ignores it; "
					    "fix the alias or remove the entry", alias);
		} else if (k >= 0 && (size_t)k < rt->n) {
			describe(rt->v[k], d, sizeof(d));
			r = addf(f, "override %s uses a runtime alias, now %s; it moves to "
				    "another device when a hostdev is added before it: use a user "
				    "alias (vgpu-xml --migrate-legacy)", alias, d);
		} else if (k >= 0) {
			r = addf(f, "override %s matches no device: libvirt ignores it", alias);
		} else {
			r = addf(f, "override %s is not a user alias (ua-...): libvirt applies "
				    "it only if it happens to name a device that way", alias);
		}
	}
	return r;
}

static bool has_gl(xmlNodePtr devs)
{
	for (xmlNodePtr g = devs ? devs->children : NULL; g; g = g->next)
		if (is_el(g, "graphics") && (prop_is(g, "type", "egl-headless") ||
					     prop_is(child_el(g, "gl"), "enable", "yes")))
			return true;
	return false;
}

static bool is_uefi(xmlNodePtr os)
{
	xmlNodePtr loader = child_el(os, "loader");
	xmlChar *path;
	bool ovmf;

	if (prop_is(os, "firmware", "efi") || prop_is(loader, "type", "pflash"))
		return true;
	if (!loader)
		return false;
	path = xmlNodeGetContent(loader);
	ovmf = path && (strstr((const char *)path, "OVMF") || strstr((const char *)path, "edk2") ||
			strstr((const char *)path, "ovmf"));
	xmlFree(path);
	return ovmf;
}

/* How QEMU shows an mdev's display (hw/vfio/display.c): a dmabuf display needs an OpenGL
 * console ("vfio-display-dmabuf: opengl not available", research/xml-patcher-anchors.md
 * §2), a region display is copied into any console. */
enum display_kind { DISPLAY_UNKNOWN, DISPLAY_DMABUF, DISPLAY_REGION };

/*
 * The mdev type of the vGPU @u into @type (MDEV_NAME_MAX + 1 bytes), "" when unknown, and
 * where it was found: its metadata entry, else the vGPU itself on the host when @host names
 * a sysfs root and the vGPU exists there (bus/mdev/devices/<uuid>/mdev_type).
 */
static const char *vgpu_type(struct ctx *c, const char *u, const struct patch_host *host,
			     char *type)
{
	xmlNodePtr m = meta_entry(child_el(c->root, "metadata"), u, NULL);
	struct mdev_device dev;

	type[0] = '\0';
	if (m && prop(m, "type") && mdev_type_valid(prop(m, "type"))) {
		snprintf(type, MDEV_NAME_MAX + 1, "%s", prop(m, "type"));
		return "metadata";
	}
	if (host && host->sysfs_root) {
		struct mdev_sysfs s = { .root = host->sysfs_root };

		if (mdev_device_find(&s, u, &dev) == 0) {
			snprintf(type, MDEV_NAME_MAX + 1, "%s", dev.type);
			return "host";
		}
	}
	return NULL;
}

/* The kernel names an mdev type "<parent driver>-<name>" (research/real-kernel.md: i915-,
 * mdpy-, mbochs-); the drivers' display kinds: GVT-g (i915/kvmgt) and mbochs give a dmabuf,
 * mdpy a region (samples/vfio-mdev). */
static enum display_kind display_kind(const char *type)
{
	if (!strncmp(type, "i915-", 5) || !strncmp(type, "mbochs-", 7))
		return DISPLAY_DMABUF;
	if (!strncmp(type, "mdpy-", 5))
		return DISPLAY_REGION;
	return DISPLAY_UNKNOWN;
}

/* "0000:00:02.0" or the attributes of a PCI <address>, as "dddd:bb:ss.f"; false if not. */
static bool pci_addr(const char *parent, xmlNodePtr a, char *out, size_t len)
{
	unsigned long v[4];

	if (parent) {
		unsigned int d, b, sl, fn;
		char end;

		if (sscanf(parent, "%x:%x:%x.%x%c", &d, &b, &sl, &fn, &end) != 4)
			return false;
		v[0] = d, v[1] = b, v[2] = sl, v[3] = fn;
	} else {
		/* libvirt reads them with base 0: 0x02, 2 (virPCIDeviceAddressParseXML) */
		static const char *const names[] = { "domain", "bus", "slot", "function" };

		for (int i = 0; i < 4; i++) {
			const char *s = prop(a, names[i]);
			char *end;

			if (!s || !*s)
				return false;
			errno = 0;
			v[i] = strtoul(s, &end, 0);
			if (errno || *end)
				return false;
		}
	}
	snprintf(out, len, "%04lx:%02lx:%02lx.%lx", v[0], v[1], v[2], v[3]);
	return true;
}

/* The PCI hostdev that passes @parent through whole (GVT-d), or NULL. */
static xmlNodePtr pci_passthrough(struct ctx *c, const char *parent)
{
	xmlNodePtr devs = child_el(c->root, "devices");
	char want[32], have[32];

	if (!parent || !pci_addr(parent, NULL, want, sizeof(want)))
		return NULL;
	for (xmlNodePtr n = devs ? devs->children : NULL; n; n = n->next)
		if (is_el(n, "hostdev") && prop_is(n, "type", "pci") &&
		    pci_addr(NULL, child_el(child_el(n, "source"), "address"), have, sizeof(have)) &&
		    strcmp(want, have) == 0)
			return n;
	return NULL;
}

/* QEMU 10.1's "vfio/igd" series (hw/vfio/igd.c; merged for 10.1 in pull-vfio-20250509,
 * lore 20250505170305.23622-*): "vfio/igd: Enable OpRegion by default" turns the OpRegion
 * on for Intel graphics, and "vfio/igd: Check OpRegion support on GVT-g mdev" (106cdbcef4)
 * does so for GVT-g vGPUs and refuses to hotplug them whatever x-igd-opregion says. */
#define QEMU_IGD_DEFAULT 10001000UL

static int check_host(const struct nodes *devs, const char *alias,
		      const char *u, const char *type, const struct patch_host *host)
{
	unsigned long v = host ? host->qemu_version : 0;
	const char *op = override_get(devs, alias, "x-igd-opregion");
	bool gvt = !strncmp(type, "i915-", 5) || (!type[0] && op);
	int r = 0;

	if (!host || !host->notes || v < QEMU_IGD_DEFAULT || !gvt)
		return 0;
	if (op && !strcmp(op, "true"))
		r = addf(host->notes, "mdev %s: x-igd-opregion=true is redundant with QEMU %lu.%lu: "
			 "since 10.1 QEMU turns a GVT-g vGPU's OpRegion on by default (keep it for "
			 "an older QEMU)", u, v / 1000000, v / 1000 % 1000);
	if (r == 0)
		r = addf(host->notes, "mdev %s: QEMU %lu.%lu refuses to hotplug a GVT-g vGPU: it is "
			 "attached only when the guest starts (virsh attach-device --config, then "
			 "a cold boot)", u, v / 1000000, v / 1000 % 1000);
	return r;
}

static int check_mdevs(struct ctx *c, const struct nodes *devs, const struct nodes *rt,
		       const struct patch_host *host, struct strv *f)
{
	struct nodes mdevs = { 0 };
	xmlNodePtr dl = child_el(c->root, "devices");
	bool graphics = child_el(dl, "graphics") != NULL, gl = has_gl(dl);
	bool uefi = is_uefi(child_el(c->root, "os"));
	int r = list_mdevs(c, &mdevs);

	for (size_t i = 0; r == 0 && i < mdevs.n; i++) {
		xmlNodePtr hd = mdevs.v[i];
		char u[MDEV_UUID_LEN + 1], alias[64], v[MDEV_UUID_LEN + 1];
		const char *ov_display, *ov_ramfb, *driver, *from;
		char type[MDEV_NAME_MAX + 1];
		enum display_kind kind;
		xmlNodePtr meta, pci;
		bool display, ramfb, valid = mdev_uuid(hd, u);

		current_alias(c, rt, hd, alias, sizeof(alias));
		for (size_t k = 0; valid && k < i; k++) {
			if (mdev_uuid(mdevs.v[k], v) && strcmp(u, v) == 0 &&
			    (r = addf(f, "mdev %s is listed twice: libvirt refuses the domain",
				      u)) < 0)
				goto out;
		}
		if (!prop(hd, "model") &&
		    (r = addf(f, "mdev %s has no model='vfio-pci': libvirt refuses it", u)) < 0)
			goto out;
		ov_display = override_get(devs, alias, "display");
		ov_ramfb = override_get(devs, alias, "ramfb");
		driver = override_get(devs, alias, "driver");
		display = ov_display ? !strcmp(ov_display, "on") : prop_is(hd, "display", "on");
		ramfb = ov_ramfb ? !strcmp(ov_ramfb, "true") : prop_is(hd, "ramfb", "on");
		if (ov_display && prop(hd, "display") && strcmp(ov_display, prop(hd, "display")) &&
		    (r = addf(f, "mdev %s: its override says display=%s, the hostdev display='%s': "
				 "QEMU gets the override, libvirt and virt-manager show the other; "
				 "vgpu-xml --display=%s makes them agree", u, ov_display,
				 prop(hd, "display"), ov_display)) < 0)
			goto out;
		if (ov_ramfb && prop(hd, "ramfb") &&
		    (!strcmp(ov_ramfb, "true") ? !prop_is(hd, "ramfb", "on")
					       : !prop_is(hd, "ramfb", "off")) &&
		    (r = addf(f, "mdev %s: its override says ramfb=%s, the hostdev ramfb='%s': "
				 "QEMU gets the override, libvirt and virt-manager show the other; "
				 "set the hostdev's ramfb to %s", u, ov_ramfb, prop(hd, "ramfb"),
				 !strcmp(ov_ramfb, "true") ? "on" : "off")) < 0)
			goto out;
		from = vgpu_type(c, u, host, type);
		kind = display_kind(type);
		meta = meta_entry(child_el(c->root, "metadata"), u, NULL);
		if ((pci = pci_passthrough(c, prop(meta, "parent")))) {
			char d[128];

			describe(pci, d, sizeof(d));
			r = addf(f, "mdev %s: its parent %s in the metadata is also passed through whole "
				    "as %s (GVT-d): the device cannot be both; remove the PCI hostdev or "
				    "the vGPU", u, prop(meta, "parent"), d);
			if (r < 0)
				goto out;
		}
		if (display && !graphics)
			r = addf(f, "mdev %s: display is on but the domain has no <graphics>", u);
		else if (display && !gl && kind == DISPLAY_DMABUF)
			r = addf(f, "mdev %s: display is on but no graphics has OpenGL, which %s (%s "
				    "from the %s) needs as a dmabuf display: add <gl enable='yes'/> to "
				    "spice or a <graphics type='egl-headless'/>", u, type,
				    !strncmp(type, "i915-", 5) ? "GVT-g" : "mbochs", from);
		else if (display && !gl && kind == DISPLAY_UNKNOWN)
			r = addf(f, "mdev %s: display is on but no graphics has OpenGL, which a dmabuf "
				    "display (GVT-g, mbochs) needs and a region display (mdpy) does not; "
				    "%s: add <gl enable='yes'/> to spice or a "
				    "<graphics type='egl-headless'/>", u,
				    type[0] ? "its type is not one of these" :
				    "its type is unknown (vgpu-xml --parent --type records it)");
		if (r == 0 && valid)
			r = check_host(devs, alias, u, type, host);
		if (r == 0 && display && uefi && !override_get(devs, alias, "romfile"))
			r = addf(f, "mdev %s: display is on with an UEFI loader and no romfile: "
				    "the screen stays dark; add --romfile=.../vbios_gvt_uefi.rom", u);
		if (r == 0 && ramfb && !display)
			r = addf(f, "mdev %s: ramfb needs display on (QEMU refuses to start)", u);
		if (r == 0 && ov_ramfb && !strcmp(ov_ramfb, "true") && !prop_is(hd, "ramfb", "on") &&
		    (!driver || strcmp(driver, "vfio-pci-nohotplug") != 0))
			r = addf(f, "mdev %s: the ramfb override needs driver=vfio-pci-nohotplug "
				    "(vgpu-xml --ramfb writes both)", u);
	}
out:
	free(mdevs.v);
	return r;
}

int patch_check(const struct patch_doc *pd, const struct patch_host *host,
		struct strv *findings)
{
	struct ctx c = { .doc = pd->doc, .root = xmlDocGetRootElement(pd->doc) };
	struct nodes devs = { 0 }, rt = { 0 };
	struct legacy *l = NULL;
	size_t nl = 0, nov = 0;
	int r;

	for (xmlNodePtr ov = c.root->children; ov; ov = ov->next)
		nov += is_q(ov, "override");
	if (nov > 1 && (r = addf(findings, "%zu <qemu:override> elements: libvirt's schema "
				    "allows one; merge them", nov)) < 0)
		goto out;
	if ((r = override_devices(&c, NULL, &devs)) < 0 || (r = list_runtime(&c, &rt)) < 0 ||
	    (r = legacy_list(&c, &l, &nl)) < 0)
		goto out;
	for (size_t i = 0; i < nl; i++) {
		xmlNodePtr dev = device_by_alias(&c, &rt, l[i].id);
		char why[512];

		/* As migrate_legacy() decides: the vGPU's pairs move, others are left. */
		if (dev && is_mdev(dev))
			r = addf(findings, "legacy <qemu:commandline> -set device.%s.%s=%s: QEMU "
				 ">= 6.2 refuses to start; vgpu-xml --migrate-legacy moves it to "
				 "<qemu:override>", l[i].id, l[i].name, l[i].value);
		else {
			legacy_left(&l[i], dev, why, sizeof(why));
			r = addf(findings, "%s", why);
		}
		if (r < 0)
			goto out;
	}
	if ((r = check_aliases(&c, &devs, &rt, findings)) < 0 ||
	    (r = check_props(&devs, findings)) < 0)
		goto out;
	r = check_mdevs(&c, &devs, &rt, host, findings);
out:
	free(l);
	free(devs.v);
	free(rt.v);
	return r;
}
