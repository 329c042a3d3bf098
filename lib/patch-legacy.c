/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * patch-legacy.c: legacy <qemu:commandline> "-set device.ID.PROP=VAL" arguments, as
 * vgpuxml reads them, and their migration to a <qemu:override> on the vGPU's user
 * alias (--migrate-legacy), with the reason for each one left.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patch-int.h"

/* The next legacy pair from @n on (in document order of every <qemu:commandline>). */
bool legacy_parse(xmlNodePtr set, struct legacy *l)
{
	xmlNodePtr arg = set->next;
	const char *v, *dot, *eq;

	if (!is_q(set, "arg") || !prop_is(set, "value", "-set"))
		return false;
	while (arg && arg->type != XML_ELEMENT_NODE)
		arg = arg->next;
	v = prop(arg, "value");
	if (!is_q(arg, "arg") || !v || strncmp(v, "device.", 7) != 0)
		return false;
	dot = strchr(v + 7, '.');
	eq = dot ? strchr(dot, '=') : NULL;
	if (!eq || dot - (v + 7) >= 64 || eq - (dot + 1) >= 64 || eq == dot + 1)
		return false;
	snprintf(l->id, sizeof(l->id), "%.*s", (int)(dot - (v + 7)), v + 7);
	snprintf(l->name, sizeof(l->name), "%.*s", (int)(eq - (dot + 1)), dot + 1);
	l->value = eq + 1;
	l->set = set;
	l->arg = arg;
	return true;
}

int legacy_list(struct ctx *c, struct legacy **out, size_t *n)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	for (xmlNodePtr cl = c->root->children; cl; cl = cl->next) {
		if (!is_q(cl, "commandline"))
			continue;
		for (xmlNodePtr a = cl->children; a; a = a->next) {
			struct legacy l;

			if (!legacy_parse(a, &l))
				continue;
			if (*n == cap) {
				struct legacy *v = realloc(*out, (cap = cap ? cap * 2 : 4) * sizeof(*v));

				if (!v)
					return -ENOMEM;
				*out = v;
			}
			(*out)[(*n)++] = l;
		}
	}
	return 0;
}

/* The device that the runtime or user alias @id names, or NULL. */
xmlNodePtr device_by_alias(struct ctx *c, const struct nodes *rt, const char *id)
{
	long k = runtime_index(id);
	xmlNodePtr devs = child_el(c->root, "devices");

	if (k >= 0)
		return (size_t)k < rt->n ? rt->v[k] : NULL;
	for (xmlNodePtr n = devs ? devs->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && prop_is(child_el(n, "alias"), "name", id))
			return n;
	return NULL;
}

/* The override type and value of a legacy "-set" property (QEMU's bool spellings). */
static void legacy_typed(const char *name, const char *value, const char **type,
			 const char **out)
{
	static const char *const strings[] = { "display", "romfile", "driver" };

	*out = value;
	*type = "string";
	for (size_t i = 0; i < ARRAY_SIZE(strings); i++)
		if (strcmp(name, strings[i]) == 0)
			return;
	if (!strcmp(value, "on") || !strcmp(value, "yes") || !strcmp(value, "true")) {
		*type = "bool";
		*out = "true";
	} else if (!strcmp(value, "off") || !strcmp(value, "no") || !strcmp(value, "false")) {
		*type = "bool";
		*out = "false";
	} else if (*value && strspn(value, "0123456789") == strlen(value)) {
		*type = "unsigned";
	} else if (value[0] == '-' && value[1] && strspn(value + 1, "0123456789") ==
						     strlen(value + 1)) {
		*type = "signed";
	}
}

/* Why the legacy pair @l, whose device is @dev (NULL: none), is not migrated: one line. */
void legacy_left(const struct legacy *l, xmlNodePtr dev, char *buf, size_t len)
{
	char d[128];

	if (!dev) {
		snprintf(buf, len, "legacy <qemu:commandline> -set device.%s.%s=%s names no "
			 "device: QEMU refuses to start with it; remove it", l->id, l->name,
			 l->value);
		return;
	}
	describe(dev, d, sizeof(d));
	snprintf(buf, len, "legacy <qemu:commandline> -set device.%s.%s=%s is for %s, not a "
		 "vGPU, so vgpu-xml --migrate-legacy leaves it; QEMU >= 6.2 refuses to start "
		 "with it: move it by hand to a <qemu:override> on a user alias of that device, "
		 "or remove it", l->id, l->name, l->value, d);
}

int migrate_legacy(struct ctx *c)
{
	struct nodes rt = { 0 }, mdevs = { 0 }, targets = { 0 };
	struct legacy *l = NULL;
	size_t nl = 0;
	int r;

	if ((r = list_runtime(c, &rt)) < 0 || (r = list_mdevs(c, &mdevs)) < 0 ||
	    (r = legacy_list(c, &l, &nl)) < 0)
		goto out;
	/* Resolve every target before any alias changes the numbering. */
	for (size_t i = 0; i < nl; i++)
		if ((r = nodes_add(&targets, device_by_alias(c, &rt, l[i].id))) < 0)
			goto out;
	for (size_t i = 0; i < mdevs.n; i++) {
		char cur[64], alias[64];
		struct nodes ovs = { 0 };
		bool wanted = nodes_index(&targets, mdevs.v[i]) >= 0;

		current_alias(c, &rt, mdevs.v[i], cur, sizeof(cur));
		if (!wanted && cur[0] && !user_alias(mdevs.v[i])) {
			r = override_devices(c, cur, &ovs);
			wanted = ovs.n > 0;
			free(ovs.v);
		}
		if (r < 0 || (wanted && (r = ensure_alias(c, mdevs.v[i], alias)) < 0))
			goto out;
		free(rt.v);
		rt = (struct nodes){ 0 };
		if ((r = list_runtime(c, &rt)) < 0)
			goto out;
	}
	for (size_t i = 0; i < nl; i++) {
		xmlNodePtr dev = targets.v[i], cl = l[i].set->parent;
		const char *type, *value, *alias = dev && is_mdev(dev) ? user_alias(dev) : NULL;
		char was[200], why[512];
		long k;

		if (!alias) {
			/* Not the vGPU's: left, and renumbered when the vGPU's new user alias
			 * moved its device's runtime alias, as libvirt will. */
			char *now = NULL;

			k = dev ? nodes_index(&rt, dev) : -1;
			if (k >= 0 && runtime_index(l[i].id) >= 0 && k != runtime_index(l[i].id)) {
				if (asprintf(&now, "device.hostdev%ld.%s=%s", k, l[i].name,
					     l[i].value) < 0) {
					r = -ENOMEM;
					goto out;
				}
				r = addf(c->changes, "legacy -set device.%s.%s: now device.hostdev%ld, "
					 "the runtime alias of its device after the vGPU's user alias",
					 l[i].id, l[i].name, k);
				snprintf(l[i].id, sizeof(l[i].id), "hostdev%ld", k);
			}
			legacy_left(&l[i], dev, why, sizeof(why));
			/* l[i].value points into the attribute that set_prop() replaces */
			if (r == 0 && now)
				r = set_prop(l[i].arg, "value", now);
			free(now);
			if (r == 0 && c->notes)
				r = addf(c->notes, "%s", why);
			if (r < 0)
				goto out;
			continue;
		}
		snprintf(was, sizeof(was), "-set device.%s.%s=%s", l[i].id, l[i].name,
			 l[i].value);
		legacy_typed(l[i].name, l[i].value, &type, &value);
		if ((r = override_set(c, alias, l[i].name, type, value)) < 0 ||
		    (r = addf(c->changes, "removed legacy <qemu:commandline> %s", was)) < 0)
			goto out;
		drop(l[i].arg);
		drop(l[i].set);
		if (!has_elems(cl))
			drop(cl);
	}
out:
	free(l);
	free(rt.v);
	free(mdevs.v);
	free(targets.v);
	return r;
}
