/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-patch: vgpu-xml's rewrite (lib/patch) under every option set. The input is one line
 * of vgpu-xml options, then the domain XML:
 *
 *   --add-vgpu=4b20d080-1b54-4048-85b3-a6a62d165c99 --parent=0000:00:02.0 --type=T --ramfb
 *   <domain type='kvm'>...
 *
 * Options, separated by spaces, as vgpu-xml spells them: --add-vgpu[=UUID],
 * --remove-vgpu[=UUID], --parent=P, --type=T, --opregion, --ramfb, --romfile=PATH,
 * --resolution=WxH (any two numbers), --display=on|off, --native, --migrate-legacy; an empty
 * line is no option. Values are taken as they are: patch_apply() validates them as it must
 * for any caller. A first line that is not such a list is not used (-1). fuzz/patch.sets
 * lists the option sets vgpu-xml offers; scripts/fuzz and the replay test put each of them
 * before every seed XML, and libFuzzer mutates the line into other sets and values.
 *
 * Oracles:
 *  - patch_doc_parse fails only with its documented codes and one line of error;
 *  - patch_check never fails on a parsed document, and each finding is one line;
 *  - patch_apply fails only with its documented codes and one line of error, and each change
 *    is one line;
 *  - an apply with no change dumps the input byte for byte (patch.h MUST 5);
 *  - every metadata entry an apply adds names an mdev hostdev of the result by its UUID,
 *    as the hook looks it up;
 *  - after a successful apply, the dump parses again, and the same options applied to it
 *    change nothing and dump byte-identical output (MUST 4);
 *  - an add into a domain without an mdev hostdev that nowhere names the vGPU's UUID, then
 *    --remove-vgpu of it, gives the input back byte for byte (the undo guarantee,
 *    docs/vgpu-xml.md).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domxml.h"
#include "fuzz.h"
#include "mdev.h"
#include "patch.h"

#define LINE_MAX_BYTES 1024

static bool number(const char *s, const char *end, unsigned int *out)
{
	unsigned long v = 0;

	if (s == end)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > UINT_MAX)
			return false;
	}
	*out = (unsigned int)v;
	return true;
}

/* Decode the option line @line (changed: values point into it) into @o. */
static bool decode(char *line, struct patch_opts *o)
{
	char *save = NULL;

	for (char *tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *v = strchr(tok, '=');

		if (v)
			*v++ = '\0';
		if (strcmp(tok, "--add-vgpu") == 0) {
			o->add_vgpu = true;
			o->uuid = v;
		} else if (strcmp(tok, "--remove-vgpu") == 0) {
			o->remove = true;
			o->uuid = v;
		} else if (strcmp(tok, "--parent") == 0 && v) {
			o->parent = v;
		} else if (strcmp(tok, "--type") == 0 && v) {
			o->type = v;
		} else if (strcmp(tok, "--romfile") == 0 && v) {
			o->romfile = v;
		} else if (strcmp(tok, "--resolution") == 0 && v) {
			char *x = strchr(v, 'x');

			if (!x || !number(v, x, &o->xres) || !number(x + 1, x + strlen(x), &o->yres))
				return false;
		} else if (strcmp(tok, "--display") == 0 && v && strcmp(v, "on") == 0) {
			o->display = PATCH_ON;
		} else if (strcmp(tok, "--display") == 0 && v && strcmp(v, "off") == 0) {
			o->display = PATCH_OFF;
		} else if (v) {
			return false;
		} else if (strcmp(tok, "--opregion") == 0) {
			o->opregion = true;
		} else if (strcmp(tok, "--ramfb") == 0) {
			o->ramfb = true;
		} else if (strcmp(tok, "--native") == 0) {
			o->native = true;
		} else if (strcmp(tok, "--migrate-legacy") == 0) {
			o->migrate_legacy = true;
		} else {
			return false;
		}
	}
	return true;
}

static bool is_el(xmlNodePtr n, const char *ns, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name) &&
	       (ns ? n->ns && xmlStrEqual(n->ns->href, BAD_CAST ns) : !n->ns);
}

/* The UUIDs of @doc: of its mdev hostdevs, canonical, those that are UUIDs, into @hostdevs;
 * of the hook's metadata entries as written into @meta. */
static void uuids(xmlDocPtr doc, struct strv *hostdevs, struct strv *meta)
{
	for (xmlNodePtr n = xmlDocGetRootElement(doc)->children; n; n = n->next) {
		for (xmlNodePtr d = is_el(n, NULL, "devices") ? n->children : NULL; d; d = d->next) {
			xmlNodePtr src = d->children, addr;
			char c[MDEV_UUID_LEN + 1];
			xmlChar *u;

			if (!is_el(d, NULL, "hostdev"))
				continue;
			for (; src && !is_el(src, NULL, "source"); src = src->next)
				;
			for (addr = src ? src->children : NULL; addr && !is_el(addr, NULL, "address");
			     addr = addr->next)
				;
			u = addr ? xmlGetNoNsProp(addr, BAD_CAST "uuid") : NULL;
			if (u && mdev_uuid_canon((const char *)u, c) == 0)
				FUZZ_ASSERT(strv_add(hostdevs, c) == 0, "ENOMEM");
			xmlFree(u);
		}
		for (xmlNodePtr v = is_el(n, NULL, "metadata") ? n->children : NULL; v; v = v->next)
			for (xmlNodePtr m = is_el(v, DOMXML_NS_VGPU, "vgpu") ? v->children : NULL; m;
			     m = m->next) {
				xmlChar *u = is_el(m, DOMXML_NS_VGPU, "mdev") ?
					     xmlGetNoNsProp(m, BAD_CAST "uuid") : NULL;

				if (u)
					FUZZ_ASSERT(strv_add(meta, (const char *)u) == 0, "ENOMEM");
				xmlFree(u);
			}
	}
}

/* Every metadata entry that the apply added names an mdev hostdev of the result by its
 * UUID: the hook finds the vGPU's parent and type by it. */
static void check_meta(const struct strv *meta_before, xmlDocPtr after)
{
	struct strv hostdevs = { 0 }, meta = { 0 };
	char c[MDEV_UUID_LEN + 1];

	uuids(after, &hostdevs, &meta);
	for (size_t i = 0; i < meta.n; i++)
		FUZZ_ASSERT(strv_contains(meta_before, meta.v[i]) ||
			    (mdev_uuid_canon(meta.v[i], c) == 0 && strv_contains(&hostdevs, c)),
			    "metadata added for '%s', which no mdev hostdev has", meta.v[i]);
	strv_free(&hostdevs);
	strv_free(&meta);
}

static void check_lines(const struct strv *sv, const char *what)
{
	for (size_t i = 0; i < sv->n; i++)
		FUZZ_ASSERT(fuzz_one_line(sv->v[i]), "%s '%s' is not one line", what, sv->v[i]);
}

static void check_lint(const struct patch_doc *pd)
{
	struct strv findings = { 0 };
	int r = patch_check(pd, NULL, &findings);

	FUZZ_ASSERT(r == 0, "patch_check returned %d", r);
	check_lines(&findings, "finding");
	strv_free(&findings);
}

/* Whether @s (@len bytes) contains @word, ignoring case. */
static bool mentions(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);

	for (size_t i = 0; n && i + n <= len; i++)
		if (strncasecmp(s + i, word, n) == 0)
			return true;
	return false;
}

/* Whether @doc has an mdev hostdev, valid or not. */
static bool has_mdev(xmlDocPtr doc)
{
	for (xmlNodePtr n = xmlDocGetRootElement(doc)->children; n; n = n->next)
		for (xmlNodePtr d = is_el(n, NULL, "devices") ? n->children : NULL; d; d = d->next) {
			xmlChar *t = is_el(d, NULL, "hostdev") ? xmlGetNoNsProp(d, BAD_CAST "type")
							      : NULL;
			bool mdev = t && xmlStrEqual(t, BAD_CAST "mdev");

			xmlFree(t);
			if (mdev)
				return true;
		}
	return false;
}

static char *dump(const struct patch_doc *pd, size_t *len);
static void check_same(const char *a, size_t na, const char *b, size_t nb, const char *what);

/* --remove-vgpu (of @uuid, or of all) on @added gives @orig back byte for byte. */
static void check_undo(const char *added, size_t alen, const char *orig, size_t olen,
		       const char *uuid)
{
	struct patch_opts rm = { .remove = true, .uuid = uuid };
	struct strv changes = { 0 };
	struct patch_doc *pd;
	char err[1024], *back;
	size_t blen;
	int r;

	r = patch_doc_parse(added, alen, "fuzz", &pd, err, sizeof(err));
	FUZZ_ASSERT(r == 0, "the added document does not parse: %s", err);
	r = patch_apply(pd, &rm, &changes, err, sizeof(err));
	FUZZ_ASSERT(r == 0 && changes.n > 0, "remove after add: %d %s", r, err);
	back = dump(pd, &blen);
	check_same(orig, olen, back, blen, "add then remove is not the input");
	free(back);
	strv_free(&changes);
	patch_doc_free(pd);
}

static char *dump(const struct patch_doc *pd, size_t *len)
{
	char *out = NULL;
	int r = patch_doc_dump(pd, &out, len);

	FUZZ_ASSERT(r == 0 && out, "patch_doc_dump returned %d", r);
	return out;
}

/* Abort unless @a (@na bytes) and @b (@nb bytes) are the same, showing where they part. */
static void check_same(const char *a, size_t na, const char *b, size_t nb, const char *what)
{
	size_t i = 0;

	while (i < na && i < nb && a[i] == b[i])
		i++;
	FUZZ_ASSERT(i == na && i == nb, "%s: they differ at byte %zu of %zu/%zu: '%.*s' and "
		    "'%.*s'", what, i, na, nb, (int)(na - i < 40 ? na - i : 40), a + i,
		    (int)(nb - i < 40 ? nb - i : 40), b + i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size), *xml;
	struct patch_opts o = { 0 };
	struct strv changes = { 0 }, again = { 0 }, hostdevs = { 0 }, meta = { 0 };
	struct patch_doc *pd = NULL, *pd2 = NULL;
	char line[LINE_MAX_BYTES], err[1024] = "", *out, *out2;
	size_t n, len, outlen, outlen2;
	bool had_mdev;
	int r;

	if (!nl || (size_t)(nl - (const char *)data) >= sizeof(line))
		return -1;
	n = (size_t)(nl - (const char *)data);
	if (memchr(data, '\0', n))
		return -1;
	memcpy(line, data, n);
	line[n] = '\0';
	if (!decode(line, &o))
		return -1;
	xml = nl + 1;
	len = size - n - 1;

	r = patch_doc_parse(xml, len, "fuzz", &pd, err, sizeof(err));
	if (r < 0) {
		FUZZ_ASSERT(r == -EFBIG || r == -ENODATA || r == -EINVAL || r == -ENOMEM,
			    "patch_doc_parse returned %d", r);
		FUZZ_ASSERT(!pd && (r == -ENOMEM || fuzz_one_line(err)), "error '%s'", err);
		return 0;
	}
	check_lint(pd);
	uuids(patch_doc_xml(pd), &hostdevs, &meta);
	had_mdev = has_mdev(patch_doc_xml(pd));

	r = patch_apply(pd, &o, &changes, err, sizeof(err));
	check_lines(&changes, "change");
	if (r < 0) {
		FUZZ_ASSERT(r == -EINVAL || r == -ENOENT || r == -ENOTUNIQ || r == -EEXIST ||
			    r == -ENODEV || r == -ENOMEM, "patch_apply returned %d: %s", r, err);
		FUZZ_ASSERT(fuzz_one_line(err), "error '%s'", err);
		goto out;
	}
	check_meta(&meta, patch_doc_xml(pd));
	out = dump(pd, &outlen);
	if (changes.n == 0)
		check_same(xml, len, out, outlen, "no change, yet the dump is not the input");

	r = patch_doc_parse(out, outlen, "fuzz", &pd2, err, sizeof(err));
	FUZZ_ASSERT(r == 0, "the rewritten document does not parse: %s", err);
	check_lint(pd2);
	r = patch_apply(pd2, &o, &again, err, sizeof(err));
	FUZZ_ASSERT(r == 0, "applied again, it fails: %s", err);
	FUZZ_ASSERT(again.n == 0, "applied again, it changes: %s", again.v[0]);
	out2 = dump(pd2, &outlen2);
	check_same(out, outlen, out2, outlen2, "applied again, the dump differs");
	if (o.add_vgpu && !had_mdev && !(o.uuid && mentions(xml, len, o.uuid)))
		check_undo(out2, outlen2, xml, len, o.uuid);

	free(out2);
	free(out);
	patch_doc_free(pd2);
out:
	strv_free(&meta);
	strv_free(&hostdevs);
	strv_free(&again);
	strv_free(&changes);
	patch_doc_free(pd);
	return 0;
}
