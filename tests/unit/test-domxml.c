/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	assert_string_equal(dom->mdevs[0].model, "vfio-pci");
	assert_string_equal(dom->mdevs[0].alias, "ua-gvtg");
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
	  "</v:vgpu></metadata></domain>", -EINVAL, "longer than 64" },
	{ "<domain><name>\xff\xfe</name></domain>", -EINVAL, "stdin:1: " },
};

static void test_bad_inputs(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct domxml *dom = NULL;
		int r = parse_str(bad[i].xml, &dom);

		if (r != bad[i].err || !strstr(err, bad[i].msg))
			fail_msg("case %zu: got %d '%s', want %d '%s'", i, r, err, bad[i].err,
				 bad[i].msg);
		assert_null(dom);
		assert_null(strchr(err, '\n'));
	}
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

static void test_upstream_fixtures(void **state)
{
	static const char *const files[] = {
		"hostdev-mdev-display-ramfb.xml", "hostdev-mdev-precreated.xml",
		"hostdev-mdev-display.xml", "hostdev-mdev-display-ramfb.x86_64-latest.xml",
	};
	size_t seen = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char *path = tu_fmt("%s/libvirt-11.3.0/qemuxmlconfdata/%s", SHARED_FIXTURES_DIR,
				    files[i]);
		char *xml = tu_read_file(path);
		struct domxml *dom = NULL;

		free(path);
		if (!xml)
			continue;
		seen++;
		if (domxml_parse(xml, strlen(xml), files[i], &dom, err, sizeof(err)) < 0)
			fail_msg("%s: %s", files[i], err);
		assert_true(dom->n_mdevs >= 1);
		assert_int_equal(strlen(dom->mdevs[0].uuid), 36);
		domxml_free(dom);
		free(xml);
	}
	if (!seen)
		skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_win10),
		cmocka_unit_test(test_pci_hostdev_is_not_mdev),
		cmocka_unit_test(test_two_in_order),
		cmocka_unit_test(test_uuid_canonicalised),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_nul_byte_and_size_cap),
		cmocka_unit_test(test_read_fd_cap),
		cmocka_unit_test(test_upstream_fixtures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
