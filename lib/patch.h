/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * patch.h: rewrite a libvirt domain XML so the guest uses an mdev vGPU, lint it, undo it.
 * The engine behind vgpu-xml (research/xml-patcher-anchors.md has every libvirt fact used).
 *
 * MUST, for every rewrite:
 *  1. find the qemu namespace by its URI, never by its prefix (inputs bind "qemu" to other
 *     URIs, use "ns0", default namespaces, declarations on child elements);
 *  2. keep exactly one <qemu:override> and one <metadata>: merge into existing ones and never
 *     touch another device's entries (libvirt's schema refuses a second element of each);
 *  3. target the vGPU through a user alias (<alias name='ua-...'/>), never a runtime
 *     "hostdevN", which shifts when a hostdev or <interface type='hostdev'> comes first;
 *  4. be idempotent: the same options applied twice give byte-identical output;
 *  5. keep comments, element order and every byte of untouched content: the document is
 *     written back from its own source text wherever the tree did not change; new lines end
 *     as the source's first line does (LF or CRLF);
 *  6. make --remove-vgpu an exact undo of --add-vgpu: the add records in the metadata which
 *     containers it created or found empty (<vgpu:added>, lib/patch-undo.c), and the remove
 *     takes away exactly those, so a domain without an mdev of its own comes back byte for
 *     byte (docs/vgpu-xml.md states the guarantee).
 */
#ifndef VGPU_PATCH_H
#define VGPU_PATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "util.h"

#define PATCH_NS_QEMU "http://libvirt.org/schemas/domain/qemu/1.0"

/* A parsed domain plus what is needed to write it back unchanged. Opaque. */
struct patch_doc;

/*
 * patch_doc_parse: parse @buf (@len bytes) with domxml_parse_doc(DOMXML_NS_STRICT) (size
 * cap, no DTD that declares anything, no entities, no network, root <domain>, every prefix
 * declared) and remember its source text. @what names the
 * input in messages ("stdin", a file name, a domain).
 * On success *@out is owned by the caller (patch_doc_free). On failure @err (@errlen bytes)
 * holds one line "WHAT:LINE: message".
 * Returns 0 or the errors of domxml_parse_doc(): -EFBIG, -ENODATA, -EINVAL, -ENOMEM.
 */
int patch_doc_parse(const char *buf, size_t len, const char *what, struct patch_doc **out,
		    char *err, size_t errlen);

/* patch_doc_xml: the document, owned by @pd (valid until patch_doc_free). */
xmlDocPtr patch_doc_xml(const struct patch_doc *pd);

/*
 * patch_doc_dump: serialise the document into a new NUL-terminated buffer *@out (@len bytes
 * without the NUL; caller frees with free(3)). Every element whose attributes did not change
 * is written with its original start tag, every unchanged text node with its original text,
 * and the text before and after the root element (XML declaration, comments) as it was, so
 * an unchanged document is reproduced byte for byte. New attributes use the quote character
 * of their element (else of the root element). No XML declaration is added.
 * Returns 0 or -ENOMEM.
 */
int patch_doc_dump(const struct patch_doc *pd, char **out, size_t *len);

/* patch_doc_free: free @pd and its document; NULL is fine. */
void patch_doc_free(struct patch_doc *pd);

enum patch_onoff {
	PATCH_UNSET = 0,  /* leave as it is */
	PATCH_OFF,
	PATCH_ON,
};

/* What to do. Zero-initialise, then set what was asked for. Strings are not owned. */
struct patch_opts {
	bool add_vgpu;           /* add an mdev hostdev unless the domain has one (with @uuid) */
	const char *uuid;        /* the vGPU to add or to work on; NULL: the domain's only one,
				  * or a new random UUID (libuuid) when one is added */
	const char *parent;      /* with @type: write the hook's <metadata> entry (DESIGN.md) */
	const char *type;
	bool opregion;           /* x-igd-opregion=true */
	bool ramfb;              /* ramfb=true, driver=vfio-pci-nohotplug, display on */
	const char *romfile;     /* romfile=PATH */
	unsigned int xres, yres; /* both or neither; 0: leave; implies display on */
	enum patch_onoff display;
	bool native;             /* libvirt's display='on'/ramfb='on' instead of the override;
				  * without it, the hostdev's own display=/ramfb= are set to agree
				  * with the override */
	bool remove;             /* undo: the vGPU (@uuid, or every mdev), its override, metadata,
				  * and what its undo record says the add created (MUST 6) */
	bool migrate_legacy;     /* <qemu:commandline> "-set device.hostdevN.P=V" and overrides on
				  * a runtime alias: move them to the vGPU's user alias */
	struct strv *notes;      /* optional, caller-owned: gets one line for each thing asked
				  * for and left as it was, and why (a -set for a device that is
				  * not a vGPU); not changes: the document may be unchanged */
};

/* What a struct patch_opts asks to change, one bit each (patch_opts_edits). */
enum patch_edit {
	PATCH_EDIT_ADD = 1u << 0,         /* add_vgpu */
	PATCH_EDIT_REMOVE = 1u << 1,      /* remove */
	PATCH_EDIT_METADATA = 1u << 2,    /* parent or type */
	PATCH_EDIT_OPREGION = 1u << 3,    /* opregion */
	PATCH_EDIT_RAMFB = 1u << 4,       /* ramfb */
	PATCH_EDIT_ROMFILE = 1u << 5,     /* romfile */
	PATCH_EDIT_RESOLUTION = 1u << 6,  /* xres or yres */
	PATCH_EDIT_DISPLAY = 1u << 7,     /* display */
	PATCH_EDIT_MIGRATE = 1u << 8,     /* migrate_legacy */
};

/* The edits of the vGPU itself: all but the removal and the legacy migration. */
#define PATCH_EDIT_VGPU \
	(PATCH_EDIT_ADD | PATCH_EDIT_METADATA | PATCH_EDIT_OPREGION | PATCH_EDIT_RAMFB | \
	 PATCH_EDIT_ROMFILE | PATCH_EDIT_RESOLUTION | PATCH_EDIT_DISPLAY)

/*
 * patch_opts_edits: the edits @o asks for, PATCH_EDIT_* bits; 0: none (@o->uuid, @o->native
 * and @o->notes only say how, not what). The one list of the edit options: vgpu-xml and
 * patch_opts_check() both ask it.
 */
unsigned int patch_opts_edits(const struct patch_opts *o);

/*
 * patch_opts_check: whether @o is a valid request, before any document is read (vgpu-xml
 * checks its options with it, so that a bad value is a usage error).
 * Returns 0, or -EINVAL with one line in @err (@errlen bytes) naming the value: a malformed
 * @uuid, @parent or @type, a @romfile that is not UTF-8 text without control characters,
 * only one of @parent/@type, xres without yres, display off with ramfb or a resolution,
 * @remove with anything but @uuid.
 */
int patch_opts_check(const struct patch_opts *o, char *err, size_t errlen);

/*
 * patch_apply: rewrite the document of @pd as @o asks.
 * Each change is appended to @changes as one human-readable line ("added mdev hostdev
 * 3c0c...", "set override property xres=1920 on ua-vgpu0"); nothing appended means the
 * document is unchanged. @changes is caller-owned (strv_free). When it adds the vGPU, or
 * changes one that has an undo record, it writes or extends that record (MUST 6). What was
 * asked for and left as it was goes to @o->notes when given.
 * On failure the document may be partly changed and must not be written; @err holds one line
 * saying what is wrong and what to do.
 * Returns 0; -EINVAL (invalid options: a malformed @uuid, @parent or @type, a @romfile that
 * is not UTF-8 text without control characters, only one of @parent/@type, xres without
 * yres, display off with ramfb or a resolution, @remove with anything but @uuid; or the mdev
 * hostdev to work on has no valid UUID);
 * -ENOENT (a property is asked for but the domain has no mdev hostdev, or none with @uuid:
 * add one with add_vgpu); -ENOTUNIQ (several mdev hostdevs and no @uuid to pick one);
 * -EEXIST (the chosen hostdev's alias is taken by another device); -ENODEV (@ramfb, a
 * resolution or display on, and the domain has no <graphics>: libvirt refuses display='on'
 * without one, and patch_check() reports the override form); -ENOMEM.
 */
int patch_apply(struct patch_doc *pd, const struct patch_opts *o, struct strv *changes,
		char *err, size_t errlen);

/* What is known of the host the domain runs on, for patch_check(). Zero-initialise. */
struct patch_host {
	const char *sysfs_root;     /* read the mdev type of a vGPU that exists here (its
				     * bus/mdev/devices/<uuid>/mdev_type) when the metadata has
				     * none; NULL: never read the host */
	unsigned long qemu_version; /* the QEMU the domain runs on, encoded as libvirt's
				     * virConnectGetVersion() does for the QEMU driver:
				     * major * 1000000 + minor * 1000 + micro; 0: unknown */
	struct strv *notes;         /* caller-owned: what the host makes redundant or
				     * impossible, one line each, not problems; NULL: not wanted */
};

/*
 * patch_check: lint the document. Each problem is appended to @findings as one line that
 * names the device and what to do. Checked: an override alias that matches no device (or
 * only a runtime alias); display on without <graphics>; display on without OpenGL (spice
 * gl, egl-headless) for a vGPU whose mdev type gives a dmabuf display (i915-*: GVT-g,
 * mbochs-*) or is not known, never for a region display (mdpy-*), the type coming from the
 * metadata, else from @host; display on with an UEFI loader and no romfile; ramfb without
 * display on, or as an override without driver=vfio-pci-nohotplug; an override display or
 * ramfb that contradicts the hostdev's own attribute; the metadata's parent also passed
 * through whole as a PCI hostdev (GVT-d); bool values other than true/false; numbers not in
 * base 10; an mdev UUID used twice; an mdev hostdev without model; legacy "-set device."
 * arguments (those of a device that is not a vGPU said so); more than one <qemu:override>.
 * With @host->qemu_version 10.1 or later, @host->notes gets, for a GVT-g vGPU (type i915-*,
 * or unknown with an x-igd-opregion override): that x-igd-opregion=true is redundant, and
 * that the vGPU cannot be hotplugged (QEMU's "vfio/igd" series, see lib/patch-check.c).
 * Older or unknown versions add nothing. @host may be NULL: nothing known.
 * Returns 0 (findings or none: see @findings->n) or -ENOMEM.
 */
int patch_check(const struct patch_doc *pd, const struct patch_host *host,
		struct strv *findings);

#endif
