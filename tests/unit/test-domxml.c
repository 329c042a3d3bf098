/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "domxml.h"
#include "testutil.h"

static char err[512];

static struct domxml *parse_file(const char *name)
{
	char *path = tu_fmt("%s/domains/%s", FIXTURES_DIR, name), *xml = tu_read_file(path);
	struct domxml *dom = NULL;

	assert_non_null(xml);
	assert_int_equal(domxml_parse(xml, strlen(xml), name, &dom, err, sizeof(err)), 0);
	free(xml);
	free(path);
	return dom;
}

static int parse_str(const char *xml, struct domxml **dom)
{
	err[0] = '\0';
	return domxml_parse(xml, strlen(xml), "stdin", dom, err, sizeof(err));
}

static void test_win10(void **state)
{
	struct domxml *dom = parse_file("win10.xml");

	(void)state;
	assert_string_equal(dom->name, "win10");
	assert_string_equal(dom->uuid, "6a1c9f0e-3b1d-4c2e-9a55-5e1f0c2d00a1");
	assert_int_equal(dom->n_mdevs, 1);
	assert_string_equal(dom->mdevs[0].uuid, "4b20d080-1b54-4048-85b3-a6a62d165c01");
	assert_int_equal(dom->n_meta, 1);
	assert_string_equal(dom->meta[0].parent, "0000:00:02.0");
	assert_string_equal(dom->meta[0].type, "i915-GVTg_V5_4");
	assert_non_null(domxml_meta_find(dom, "4b20d080-1b54-4048-85b3-a6a62d165c01"));
	assert_null(domxml_meta_find(dom, "4b20d080-1b54-4048-85b3-a6a62d165c02"));
	domxml_free(dom);
}

static void test_pci_hostdev_is_not_mdev(void **state)
{
	struct domxml *dom = parse_file("none.xml");

	(void)state;
	assert_string_equal(dom->name, "plain");
	assert_int_equal(dom->n_mdevs, 0);
	domxml_free(dom);
}

static void test_two_in_order(void **state)
{
	struct domxml *dom = parse_file("two.xml");

	(void)state;
	assert_int_equal(dom->n_mdevs, 2);
	assert_string_equal(dom->mdevs[0].uuid, "11111111-2222-4333-8444-000000000001");
	assert_string_equal(dom->mdevs[1].uuid, "11111111-2222-4333-8444-000000000002");
	assert_string_equal(dom->meta[1].type, "i915-GVTg_V5_8");
	domxml_free(dom);
}

static void test_uuid_canonicalised(void **state)
{
	struct domxml *dom = NULL;

	(void)state;
	assert_int_equal(parse_str("<domain><name>d</name><devices>"
				   "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
				   "<address uuid='4B20D080-1B54-4048-85B3-A6A62D165C01'/>"
				   "</source></hostdev></devices></domain>", &dom), 0);
	assert_string_equal(dom->mdevs[0].uuid, "4b20d080-1b54-4048-85b3-a6a62d165c01");
	assert_string_equal(dom->uuid, "");
	domxml_free(dom);
}

/* Each malformed or hostile input: the errno and the words of the one-line message. */
static const struct {
	const char *xml;
	int err;
	const char *msg;
} bad[] = {
	{ "", -ENODATA, "empty input" },
	{ "  \n", -ENODATA, "empty input" },
	{ "<domain><name>x</name>", -EINVAL, "stdin:1: " },
	{ "<domain>\n<name>x</nam>\n</domain>", -EINVAL, "stdin:2: " },
	{ "<network><name>x</name></network>", -EINVAL, "not <domain>" },
	{ "<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
	  "<domain><name>&x;</name></domain>", -EINVAL, "DOCTYPE" },
	{ "<?xml version='1.0'?>\n<!DOCTYPE d [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;&a;'>]>"
	  "<domain><name>&b;</name></domain>", -EINVAL, "DOCTYPE" },
	{ "<domain><devices/></domain>", -EINVAL, "no <name>" },
	{ "<domain><name>d</name><devices><hostdev mode='subsystem' type='mdev'><source/>"
	  "</hostdev></devices></domain>", -EINVAL, "mdev hostdev 1 has no source/address/@uuid" },
	{ "<domain><name>d</name><devices><hostdev mode='subsystem' type='mdev'><source>"
	  "<address uuid='../../etc'/></source></hostdev></devices></domain>",
	  -EINVAL, "'../../etc' is not a UUID" },
	{ "<domain><name>d</name><devices><hostdev mode='subsystem' type='mdev'><source>"
	  "<address uuid='4b20d080-1b54-4048-85b3-a6a62d165c01x'/></source></hostdev>"
	  "</devices></domain>", -EINVAL, "is not a UUID" },
	{ "<domain><name>d</name><devices>"
	  "<hostdev mode='subsystem' type='mdev'><source><address "
	  "uuid='4b20d080-1b54-4048-85b3-a6a62d165c01'/></source></hostdev>"
	  "<hostdev mode='subsystem' type='mdev'><source><address "
	  "uuid='4B20D080-1B54-4048-85B3-A6A62D165C01'/></source></hostdev>"
	  "</devices></domain>", -EINVAL, "listed twice" },
	{ "<domain><name>d</name><metadata><v:vgpu xmlns:v='urn:vgpu-hook:1'>"
	  "<v:mdev uuid='nope' parent='0000:00:02.0' type='t'/></v:vgpu></metadata></domain>",
	  -EINVAL, "metadata vgpu:mdev 1: 'nope' is not a UUID" },
	{ "<domain><name>d</name><metadata><v:vgpu xmlns:v='urn:vgpu-hook:1'>"
	  "<v:mdev uuid='4b20d080-1b54-4048-85b3-a6a62d165c01' parent='0000:00:02.0' "
	  "type='aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'/>"
	  "</v:vgpu></metadata></domain>", -EINVAL, "metadata vgpu:mdev 1: type is longer than 64" },
	{ "<domain><name>\xff\xfe</name></domain>", -EINVAL, "stdin:1: " },
	/* A DTD that declares or fetches anything, refused where the parser meets it. */
	{ "<!DOCTYPE domain [\n<!ENTITY x 'y'>]><domain><name>&x;</name></domain>",
	  -EINVAL, "stdin:2: a DOCTYPE is not allowed in a domain XML when it declares an entity" },
	{ "<!DOCTYPE domain [<!ENTITY % p SYSTEM 'file:///etc/passwd'> %p;]>"
	  "<domain><name>d</name></domain>", -EINVAL,
	  "stdin:1: a DOCTYPE is not allowed in a domain XML when it declares an entity" },
	{ "<!DOCTYPE domain [<!ENTITY u SYSTEM 'x' NDATA n>]><domain><name>d</name></domain>",
	  -EINVAL, "declares an entity" },
	{ "<!DOCTYPE domain SYSTEM 'file:///etc/passwd'><domain><name>d</name></domain>",
	  -EINVAL, "when it names an external DTD (SYSTEM or PUBLIC)" },
	{ "<!DOCTYPE domain PUBLIC '-//x//y' 'http://example.com/d.dtd'>"
	  "<domain><name>d</name></domain>", -EINVAL, "names an external DTD" },
	{ "<!DOCTYPE domain [%p;]><domain><name>d</name></domain>",
	  -EINVAL, "a DOCTYPE is not allowed in a domain XML when it references a parameter entity" },
	{ "<!DOCTYPE domain [<!ELEMENT domain ANY>]><domain><name>d</name></domain>",
	  -EINVAL, "a DOCTYPE is not allowed in a domain XML when it declares an element" },
	{ "<!DOCTYPE domain [<!ATTLIST domain type CDATA 'kvm'>]><domain><name>d</name></domain>",
	  -EINVAL, "when it declares an attribute list" },
	{ "<!DOCTYPE domain [<!NOTATION n SYSTEM 'x'>]><domain><name>d</name></domain>",
	  -EINVAL, "a DOCTYPE is not allowed in a domain XML when it declares a notation" },
	/* Without a declaration no entity but the predefined five exists. */
	{ "<!DOCTYPE domain><domain><name>&x;</name></domain>", -EINVAL, "Entity 'x' not defined" },
};

static void test_bad_input(void **state)
{
	__typeof__(bad[0]) *c = *state;
	struct domxml *dom = NULL;
	int r = parse_str(c->xml, &dom);

	if (r != c->err || !strstr(err, c->msg))
		fail_msg("got %d '%s', want %d '%s'", r, err, c->err, c->msg);
	assert_null(dom);
	assert_null(strchr(err, '\n'));
}

/* What libvirt accepts and keeps, in both modes (issue 14, issue 15 item 7): a DOCTYPE that
 * declares nothing, and bytes that only look like one in a comment or a CDATA section. */
static const char *const harmless[] = {
	"<!DOCTYPE domain>\n<domain><name>d</name></domain>",
	"<!DOCTYPE domain []><domain><name>d</name></domain>",
	"<?xml version='1.0'?>\n<!DOCTYPE domain [\n  <!-- no declaration ]> -->\n  <?pi x?>\n]>\n"
	"<domain><name>d</name></domain>",
	"<domain><name>d</name><description><![CDATA[<!DOCTYPE x [<!ENTITY y 'z'>]>]]>"
	"</description><!-- <!DOCTYPE domain SYSTEM 'file:///etc/passwd'> --></domain>",
	"<domain><name>d</name><metadata><app:config xmlns:app='urn:app'>"
	"<![CDATA[<!DOCTYPE html>]]></app:config></metadata></domain>",
};

static void test_harmless_doctype_accepted(void **state)
{
	const char *const *xml = *state;
	struct domxml *dom = NULL;
	xmlDocPtr doc = NULL;

	if (parse_str(*xml, &dom) != 0)
		fail_msg("hook mode: %s", err);
	assert_string_equal(dom->name, "d");
	domxml_free(dom);
	if (domxml_parse_doc(*xml, strlen(*xml), "stdin", DOMXML_NS_STRICT, &doc, err,
			     sizeof(err)) != 0)
		fail_msg("strict mode: %s", err);
	xmlFreeDoc(doc);
}

/* A prefix declared nowhere, in another application's metadata: libvirt keeps it, so the
 * hook reads past it; vgpu-xml, which writes the document back, refuses it. */
static void test_undeclared_prefix_by_mode(void **state)
{
	static const char xml[] =
		"<domain><name>d</name><metadata><app:x/><vgpu:vgpu xmlns:vgpu='urn:vgpu-hook:1'>"
		"<vgpu:mdev uuid='4b20d080-1b54-4048-85b3-a6a62d165c01' parent='0000:00:02.0' "
		"type='i915-GVTg_V5_4'/></vgpu:vgpu><vgpu:mdev uuid='4b20d080-1b54-4048-85b3-"
		"a6a62d165c02' parent='x' type='y'/></metadata><devices><hostdev mode='subsystem' "
		"type='mdev'><source><address uuid='4b20d080-1b54-4048-85b3-a6a62d165c01'/>"
		"</source></hostdev><x:hostdev mode='subsystem' type='mdev'/></devices></domain>";
	struct domxml *dom = NULL;
	xmlDocPtr doc = NULL;

	(void)state;
	assert_int_equal(parse_str(xml, &dom), 0);
	/* An undeclared prefix is in no namespace: it is neither our metadata nor a hostdev. */
	assert_int_equal(dom->n_mdevs, 1);
	assert_int_equal(dom->n_meta, 1);
	assert_string_equal(dom->meta[0].parent, "0000:00:02.0");
	domxml_free(dom);
	assert_int_equal(domxml_parse_doc(xml, strlen(xml), "stdin", 0, &doc, err, sizeof(err)),
			 0);
	xmlFreeDoc(doc);
	assert_int_equal(domxml_parse_doc(xml, strlen(xml), "stdin", DOMXML_NS_STRICT, &doc, err,
					  sizeof(err)), -EINVAL);
	assert_null(doc);
	assert_string_equal(err, "stdin:1: Namespace prefix x on hostdev is not defined");
}

/* Fields the hook does not use never refuse a guest (issue 12): a 64-character user alias,
 * a model libvirt will check against the type itself. */
static void test_unused_fields_never_refuse(void **state)
{
	static const char xml[] =
		"<domain><name>d</name><devices><hostdev mode='subsystem' type='mdev' "
		"model='vfio-pci-but-much-longer-than-fifteen'><source><address "
		"uuid='4b20d080-1b54-4048-85b3-a6a62d165c01'/></source><alias name='ua-"
		"0123456789012345678901234567890123456789012345678901234567890'/></hostdev>"
		"</devices></domain>";
	struct domxml *dom = NULL;

	(void)state;
	if (parse_str(xml, &dom) != 0)
		fail_msg("%s", err);
	assert_int_equal(dom->n_mdevs, 1);
	assert_string_equal(dom->mdevs[0].uuid, "4b20d080-1b54-4048-85b3-a6a62d165c01");
	domxml_free(dom);
}

static void test_nul_byte_and_size_cap(void **state)
{
	static const char xml[] = "<domain><name>a\0b</name></domain>";
	struct domxml *dom = NULL;
	char *big;

	(void)state;
	assert_int_equal(domxml_parse(xml, sizeof(xml) - 1, "stdin", &dom, err, sizeof(err)),
			 -EINVAL);
	big = calloc(1, DOMXML_MAX_SIZE + 2);
	assert_non_null(big);
	memset(big, ' ', DOMXML_MAX_SIZE + 1);
	assert_int_equal(domxml_parse(big, DOMXML_MAX_SIZE + 1, "stdin", &dom, err, sizeof(err)),
			 -EFBIG);
	assert_non_null(strstr(err, "larger than 16 MiB"));
	free(big);
}

static void test_read_fd_cap(void **state)
{
	int fds[2];
	char *buf;
	size_t len;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "0123456789", 10), 10);
	close(fds[1]);
	assert_int_equal(domxml_read_fd(fds[0], 9, &buf, &len), -EFBIG);
	close(fds[0]);

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "0123456789", 10), 10);
	close(fds[1]);
	assert_int_equal(domxml_read_fd(fds[0], 10, &buf, &len), 0);
	assert_int_equal(len, 10);
	assert_string_equal(buf, "0123456789");
	free(buf);
	close(fds[0]);

	assert_int_equal(pipe(fds), 0);
	close(fds[1]);
	assert_int_equal(domxml_read_fd(fds[0], 10, &buf, &len), 0);
	assert_int_equal(len, 0);
	free(buf);
	close(fds[0]);
}

/* string(EXPR) at @node by XPath, "" when it selects nothing. */
static char *xpath_string(xmlXPathContextPtr xp, xmlNodePtr node, const char *expr)
{
	xmlXPathObjectPtr obj;
	xmlChar *s;
	char *out;

	xp->node = node;
	obj = xmlXPathEvalExpression(BAD_CAST expr, xp);
	assert_non_null(obj);
	s = xmlXPathCastToString(obj);
	out = strdup((const char *)s);
	xmlFree(s);
	xmlXPathFreeObject(obj);
	return out;
}

/* domxml_parse walks the tree (lib/domxml.c) where it evaluated XPath: on documents that
 * stress names, namespaces, order and string values, it reads what the XPath expressions
 * it replaced select. */
static void test_paths_as_xpath(void **state)
{
#define U(n) "4b20d080-1b54-4048-85b3-a6a62d1650" n
#define MD(u) "<hostdev mode='subsystem' type='mdev'><source><address uuid='" u "'/></source></hostdev>"
	static const char *const docs[] = {
		/* two <devices>, the mdev in the second; a PCI hostdev; <name> with a comment
		 * and CDATA; a <name> in a namespace first */
		"<domain><n:name xmlns:n='urn:n'>no</n:name><name>a<!-- c -->b<![CDATA[c]]></name>"
		"<name>second</name><devices><hostdev mode='subsystem' type='pci'/></devices>"
		"<devices>" MD(U("01")) "</devices></domain>",
		/* a hostdev in a namespace, by prefix and by default; attributes in a namespace;
		 * a value with a space; then two real ones */
		"<domain xmlns:x='urn:x'><name>d</name><devices>"
		"<x:hostdev mode='subsystem' type='mdev'><source><address uuid='" U("02") "'/></source></x:hostdev>"
		"<hostdev xmlns='urn:y' mode='subsystem' type='mdev'><source><address uuid='" U("03") "'/></source></hostdev>"
		"<hostdev x:mode='subsystem' type='mdev'><source><address uuid='" U("04") "'/></source></hostdev>"
		"<hostdev mode='subsystem ' type='mdev'><source><address uuid='" U("05") "'/></source></hostdev>"
		MD(U("06")) MD(U("07")) "</devices></domain>",
		/* the first source/address/@uuid in document order: an address without one,
		 * a source without an address, a namespaced uuid attribute */
		"<domain xmlns:x='urn:x'><name>d</name><uuid>6A1C9F0E-3B1D-4C2E-9A55-5E1F0C2D00A1</uuid>"
		"<devices><hostdev mode='subsystem' type='mdev'><source/><source><address/>"
		"<address x:uuid='" U("08") "'/><address uuid='" U("09") "'/><address uuid='" U("10") "'/>"
		"</source><source><address uuid='" U("11") "'/></source></hostdev></devices></domain>",
		/* metadata across two <metadata>, another prefix for the same URI, entries in
		 * other namespaces, an attribute with character references */
		"<domain><name>m</name><metadata><v:vgpu xmlns:v='urn:vgpu-hook:1'>"
		"<v:mdev uuid='" U("12") "' parent='p&#49;' type='t1'/><mdev uuid='" U("13") "'/>"
		"</v:vgpu><w:vgpu xmlns:w='urn:other'><w:mdev uuid='" U("14") "'/></w:vgpu></metadata>"
		"<metadata><q:vgpu xmlns:q='urn:vgpu-hook:1'><q:mdev uuid='" U("15") "' parent='p2' "
		"type='t2'/></q:vgpu></metadata></domain>",
		/* the texts of <name> and <uuid> below other elements and around comments, as the
		 * tree of only what is read (parse_doc's values_only) keeps them */
		"<domain>text <x>of</x> the root<name>\tn<i>e<b>s</b></i><!-- c -->t&amp;&#65;\t</name>"
		"<uuid><u>6a1c9f0e-3b1d-4c2e-</u>9a55-<![CDATA[5e1f0c2d00a1]]></uuid></domain>",
		/* what the tree of only what is read leaves out, next to what it keeps: a
		 * <name> and mdevs inside elements that are not kept, an undeclared prefix, a
		 * processing instruction in <name>, the vgpu namespace as the default one and
		 * declared on an element that is not kept */
		"<domain><x><name>inner</name><devices>" MD(U("16")) "</devices></x>"
		"<p:name>undeclared</p:name><name>a<?pi x?>b<c:d xmlns:c='urn:c'>c</c:d></name>"
		"<devices><disk><hostdev mode='subsystem' type='mdev'><source><address uuid='" U("17") "'/>"
		"</source></hostdev></disk>text" MD(U("18")) "<hostdev mode='subsystem' type='mdev'>"
		"<driver/><source><disk/><address uuid='" U("19") "'/></source></hostdev></devices>"
		"<metadata><other xmlns:v='urn:vgpu-hook:1'><v:vgpu><v:mdev uuid='" U("20") "'/></v:vgpu>"
		"</other><vgpu xmlns='urn:vgpu-hook:1'><mdev uuid='" U("21") "' parent='p' type='t'>"
		"<x/></mdev></vgpu></metadata></domain>",
	};
	size_t mdevs = 0, metas = 0;

	(void)state;
	for (size_t d = 0; d < ARRAY_SIZE(docs); d++) {
		xmlDocPtr doc = xmlReadMemory(docs[d], (int)strlen(docs[d]), NULL, NULL, XML_PARSE_NONET);
		xmlXPathContextPtr xp = xmlXPathNewContext(doc);
		xmlXPathObjectPtr set;
		struct domxml *dom = NULL;
		char *s, canon[MDEV_UUID_LEN + 1] = "";

		assert_non_null(doc);
		assert_int_equal(xmlXPathRegisterNs(xp, BAD_CAST "vgpu", BAD_CAST DOMXML_NS_VGPU), 0);
		if (parse_str(docs[d], &dom) < 0)
			fail_msg("doc %zu: %s", d, err);
		s = xpath_string(xp, xmlDocGetRootElement(doc), "string(/domain/name)");
		assert_string_equal(dom->name, s);
		free(s);
		s = xpath_string(xp, xmlDocGetRootElement(doc), "string(/domain/uuid)");
		if (*s)
			assert_int_equal(mdev_uuid_canon(s, canon), 0);
		assert_string_equal(dom->uuid, canon);
		free(s);

		set = xmlXPathEvalExpression(
			BAD_CAST "/domain/devices/hostdev[@mode='subsystem'][@type='mdev']", xp);
		assert_int_equal(dom->n_mdevs, set->nodesetval ? set->nodesetval->nodeNr : 0);
		for (size_t i = 0; i < dom->n_mdevs; i++) {
			s = xpath_string(xp, set->nodesetval->nodeTab[i], "string(source/address/@uuid)");
			assert_string_equal(dom->mdevs[i].uuid, s);
			free(s);
		}
		mdevs += dom->n_mdevs;
		xmlXPathFreeObject(set);

		set = xmlXPathEvalExpression(BAD_CAST "/domain/metadata/vgpu:vgpu/vgpu:mdev", xp);
		assert_int_equal(dom->n_meta, set->nodesetval ? set->nodesetval->nodeNr : 0);
		for (size_t i = 0; i < dom->n_meta; i++) {
			static const char *const attr[] = { "string(@uuid)", "string(@parent)",
							    "string(@type)" };
			const char *got[] = { dom->meta[i].uuid, dom->meta[i].parent, dom->meta[i].type };

			for (size_t a = 0; a < ARRAY_SIZE(attr); a++) {
				s = xpath_string(xp, set->nodesetval->nodeTab[i], attr[a]);
				assert_string_equal(got[a], s);
				free(s);
			}
		}
		metas += dom->n_meta;
		xmlXPathFreeObject(set);
		xmlXPathFreeContext(xp);
		xmlFreeDoc(doc);
		if (d == 0)
			assert_string_equal(dom->name, "abc");
		if (d == 4) {
			assert_string_equal(dom->name, "\tnest&A\t");
			assert_string_equal(dom->uuid, "6a1c9f0e-3b1d-4c2e-9a55-5e1f0c2d00a1");
		}
		if (d == 5)
			assert_string_equal(dom->name, "abc");
		domxml_free(dom);
	}
	/* What the documents hold: 01; 06, 07; 09; 18, 19; and 12, 15, 21 in the metadata. */
	assert_int_equal(mdevs, 6);
	assert_int_equal(metas, 3);
#undef MD
#undef U
}


/* libvirt's own mdev domains (the upstream fixtures, skipped when absent). */
static const char *const upstream[] = {
	"hostdev-mdev-display-ramfb.xml", "hostdev-mdev-precreated.xml",
	"hostdev-mdev-display.xml", "hostdev-mdev-display-ramfb.x86_64-latest.xml",
};

static void test_upstream_fixture(void **state)
{
	const char *const *file = *state;
	char *path = tu_fmt("%s/libvirt-11.3.0/qemuxmlconfdata/%s", SHARED_FIXTURES_DIR, *file);
	char *xml = tu_read_file(path);
	struct domxml *dom = NULL;

	if (!xml) {
		print_message("%s absent\n", path);
		free(path);
		skip();
	}
	free(path);
	if (domxml_parse(xml, strlen(xml), *file, &dom, err, sizeof(err)) < 0)
		fail_msg("%s: %s", *file, err);
	assert_true(dom->n_mdevs >= 1);
	assert_int_equal(strlen(dom->mdevs[0].uuid), 36);
	domxml_free(dom);
	free(xml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_win10),
		cmocka_unit_test(test_pci_hostdev_is_not_mdev),
		cmocka_unit_test(test_two_in_order),
		cmocka_unit_test(test_uuid_canonicalised),
		cmocka_unit_test(test_undeclared_prefix_by_mode),
		cmocka_unit_test(test_unused_fields_never_refuse),
		cmocka_unit_test(test_nul_byte_and_size_cap),
		cmocka_unit_test(test_read_fd_cap),
		cmocka_unit_test(test_paths_as_xpath),
	};

	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	failed += TU_RUN_ROWS("bad input", test_bad_input, bad, msg);
	failed += TU_RUN_STRINGS("harmless DOCTYPE", test_harmless_doctype_accepted, harmless);
	failed += TU_RUN_STRINGS("upstream", test_upstream_fixture, upstream);
	return failed;
}
