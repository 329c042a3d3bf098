/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * patch-int.h: the edit context shared by the files of vgpuxml, the library behind
 * vgpu-xml (patch.h is its API): the parsed document, the tree helpers and the domain
 * model every edit and the lint are made of. Internal: installed nowhere, included by no
 * program. Each function is documented at its definition, in the file its section names.
 */
#ifndef VGPU_PATCH_INT_H
#define VGPU_PATCH_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "mdev.h"
#include "patch.h"
#include "util.h"

/* ---- the parsed document and its tokens (patch-doc.c) ---- */

enum tok_kind { TOK_STAG, TOK_ETAG, TOK_TEXT, TOK_COMMENT, TOK_PI, TOK_CDATA };

/* One attribute or namespace declaration of a start tag, with its leading blanks. */
struct seg {
	size_t off, len;
	char quote;
	char *qname;       /* "type", "xmlns:qemu", "xmlns" */
	char *value;       /* decoded value at parse time */
};

struct tok {
	enum tok_kind kind;
	size_t off, len;   /* the source text */
	size_t name_end;   /* TOK_STAG: offset just past the element name */
	size_t tail;       /* TOK_STAG: offset of what follows the last attribute ("/>", ">") */
	bool empty;        /* TOK_STAG: "<x/>" */
	size_t end_off, end_len;  /* TOK_STAG: its end tag ("</x >"), when not empty */
	struct seg *segs;
	size_t nsegs;
	char *text;        /* TOK_TEXT: decoded content at parse time */
	bool self_close;   /* TOK_STAG not empty: write it as "<x/>" while it has no children */
};

struct patch_doc {
	xmlDocPtr doc;
	char *src;         /* the source text, NUL-terminated */
	size_t len;
	struct tok *toks;
	size_t ntoks;
	size_t root_off;   /* the root's start tag */
	size_t root_end;   /* just past the root's end tag */
	bool raw;          /* tokens are attached: write from the source where possible */
	bool crlf;         /* the source's lines end in CRLF: so do the lines written */
	char quote;        /* for attributes of new elements */
};

/* ---- the edit context and the tree (patch-tree.c) ---- */

struct ctx {
	struct patch_doc *pd;
	xmlDocPtr doc;
	xmlNodePtr root;
	char unit[32];          /* one level of indentation; "" in a document without blanks */
	struct strv *changes;
	char *err;
	size_t errlen;
	char vgpu[MDEV_UUID_LEN + 1];  /* apply_vgpu(): the vGPU worked on */
	bool added;                    /* apply_vgpu(): its hostdev was added by this call */
	bool ns_keep, ns_created;      /* remove_vgpus(): an undo record says the qemu namespace
					* was there before the add, or that the add declared it */
	struct strv *notes;            /* patch_opts.notes */
};

/* A growable list of nodes. */
struct nodes {
	xmlNodePtr *v;
	size_t n, cap;
};

int nodes_add(struct nodes *l, xmlNodePtr n);
long nodes_index(const struct nodes *l, xmlNodePtr n);
int addf(struct strv *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool is_el(xmlNodePtr n, const char *name);
bool is_ns_el(xmlNodePtr n, const char *href, const char *name);
bool is_q(xmlNodePtr n, const char *name);
xmlNodePtr child_el(xmlNodePtr p, const char *name);
bool has_elems(xmlNodePtr p);
xmlNodePtr last_elem(xmlNodePtr p);
const char *prop(xmlNodePtr n, const char *name);
bool prop_is(xmlNodePtr n, const char *name, const char *value);
int set_prop(xmlNodePtr n, const char *name, const char *value);
bool blank(const xmlChar *s);
void indent_of(xmlNodePtr n, char *buf, size_t len);
int place(struct ctx *c, xmlNodePtr parent, xmlNodePtr after, xmlNodePtr n);
int place_before(struct ctx *c, xmlNodePtr ref, xmlNodePtr n);
void drop(xmlNodePtr n);
xmlNodePtr new_el(struct ctx *c, xmlNsPtr ns, const char *name, const char *a1,
		  const char *v1, const char *a2, const char *v2);

/* ---- hostdevs, aliases, overrides, metadata (patch-domain.c) ---- */

bool is_mdev(xmlNodePtr n);
bool mdev_uuid(xmlNodePtr hd, char out[MDEV_UUID_LEN + 1]);
const char *user_alias(xmlNodePtr dev);
int list_mdevs(struct ctx *c, struct nodes *l);
int list_runtime(struct ctx *c, struct nodes *l);
long runtime_index(const char *alias);
void current_alias(struct ctx *c, const struct nodes *rt, xmlNodePtr dev, char *buf,
		   size_t len);
bool alias_taken(struct ctx *c, const char *alias);
int override_devices(struct ctx *c, const char *alias, struct nodes *l);
void tidy(xmlNodePtr n, bool keep_override);
int override_set(struct ctx *c, const char *alias, const char *name, const char *type,
		 const char *value);
int override_unset(struct ctx *c, const char *alias, const char *name, const char *value);
int runtime_shift(struct ctx *c, const struct nodes *rt, xmlNodePtr x, const char *ua);
bool alias_free(struct ctx *c, const char *alias);
int ensure_alias(struct ctx *c, xmlNodePtr hd, char *alias);
xmlNodePtr meta_find(xmlNodePtr md, const char *name, const char *uuid,
		     xmlNodePtr *vg_out);
xmlNodePtr meta_entry(xmlNodePtr md, const char *uuid, xmlNodePtr *vg_out);
int meta_vgpu(struct ctx *c, xmlNodePtr *out);
int meta_set(struct ctx *c, const char *uuid, const char *parent, const char *type);
int meta_remove(struct ctx *c, const char *uuid, bool keep);

/* ---- the undo record (patch-undo.c) ---- */

enum { K_DEVICES, K_METADATA, K_VGPU, K_OVERRIDE, K_QEMU_NS, K_N };

struct record {
	unsigned int created, empty, closed;   /* bits 1 << K_... */
};

xmlNsPtr root_qemu_ns(struct ctx *c);
void shape_of(struct ctx *c, unsigned int *had, unsigned int *bare,
	      unsigned int *closed);
void record_read(xmlNodePtr rec, struct record *r);
int record_update(struct ctx *c, const char *uuid, bool added, unsigned int had,
		  unsigned int bare, unsigned int closed);
int restore(struct ctx *c, const struct record *rec);

/* ---- legacy "-set device.ID.PROP=VAL" (patch-legacy.c) ---- */

struct legacy {
	xmlNodePtr set, arg;    /* the "-set" argument and the one after it */
	char id[64], name[64];
	const char *value;
};

bool legacy_parse(xmlNodePtr set, struct legacy *l);
int legacy_list(struct ctx *c, struct legacy **out, size_t *n);
xmlNodePtr device_by_alias(struct ctx *c, const struct nodes *rt, const char *id);
void legacy_left(const struct legacy *l, xmlNodePtr dev, char *buf, size_t len);
int migrate_legacy(struct ctx *c);

/* ---- the lint (patch-check.c) ---- */

void describe(xmlNodePtr dev, char *buf, size_t len);
const char *override_get(const struct nodes *devs, const char *alias, const char *name);

#endif
