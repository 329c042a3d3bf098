/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * patch-check.c: the lint of vgpuxml (patch_check, patch.h): what libvirt or QEMU
 * would refuse or get wrong in a domain with a vGPU, one finding a line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdev.h"
#include "patch-int.h"

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
const char *override_get(const struct nodes *devs, const char *alias, const char *name)
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

/* "0000:00:02.0" or the attributes of a PCI <address>, as "dddd:bb:ss.f"; false if not, or
 * if a field is past what PCI allows (libvirt's limits, virPCIDeviceAddressIsValid). */
static bool pci_addr(const char *parent, xmlNodePtr a, char *out, size_t len)
{
	static const unsigned long max[4] = { 0xffffffff, 0xff, 0x1f, 0x7 };
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
	for (int i = 0; i < 4; i++)
		if (v[i] > max[i])
			return false;
	return snprintf(out, len, "%04lx:%02lx:%02lx.%lx", v[0], v[1], v[2], v[3]) < (int)len;
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
