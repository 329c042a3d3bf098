/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* inhibit_why(): the reason logind shows names each guest once and always stays whole. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "inhibit.h"

static struct owner_record rec(const char *domain, const char *domain_uuid)
{
	struct owner_record r = { 0 };

	snprintf(r.domain, sizeof(r.domain), "%s", domain);
	snprintf(r.domain_uuid, sizeof(r.domain_uuid), "%s", domain_uuid);
	return r;
}

#define DU(n) "aaaaaaaa-0000-4000-8000-00000000000" #n

static void test_one_guest(void **state)
{
	struct owner_record r[] = { rec("win10", DU(1)) };
	char why[INHIBIT_WHY_MAX];

	(void)state;
	assert_int_equal(inhibit_why(r, 1, why, sizeof(why)), 1);
	assert_string_equal(why, "vGPUs exist for win10: GVT-g hosts hang or break in suspend; "
				 "stop these guests first");
}

static void test_each_guest_once(void **state)
{
	/* Two vGPUs of win10 (one record each) and one of lin. */
	struct owner_record r[] = { rec("win10", DU(1)), rec("lin", DU(2)), rec("win10", DU(1)) };
	char why[INHIBIT_WHY_MAX];

	(void)state;
	assert_int_equal(inhibit_why(r, 3, why, sizeof(why)), 2);
	assert_non_null(strstr(why, "for win10, lin: "));
	assert_null(strstr(strstr(why, "win10") + 1, "win10"));
}

static void test_renamed_guest_is_one(void **state)
{
	/* Records are keyed by the domain's UUID: a guest renamed between two starts is one. */
	struct owner_record r[] = { rec("old", DU(1)), rec("new", DU(1)) };
	char why[INHIBIT_WHY_MAX];

	(void)state;
	assert_int_equal(inhibit_why(r, 2, why, sizeof(why)), 1);
}

static void test_too_many_names_are_counted(void **state)
{
	struct owner_record r[40];
	char why[INHIBIT_WHY_MAX], name[64];

	(void)state;
	for (int i = 0; i < 40; i++) {
		char du[40];

		snprintf(name, sizeof(name), "guest-with-a-rather-long-name-%02d", i);
		snprintf(du, sizeof(du), "aaaaaaaa-0000-4000-8000-%012d", i);
		r[i] = rec(name, du);
	}
	assert_int_equal(inhibit_why(r, 40, why, sizeof(why)), 40);
	assert_true(strlen(why) < sizeof(why) - 1);
	assert_non_null(strstr(why, "guest-with-a-rather-long-name-00, "));
	assert_non_null(strstr(why, " more: GVT-g hosts hang or break in suspend; stop these guests first"));
	/* What is named plus what is counted is every guest. */
	size_t named = 0;
	for (const char *p = why; (p = strstr(p, "guest-with")); p++)
		named++;
	unsigned more = 0;
	assert_int_equal(sscanf(strstr(why, ", and ") + 6, "%u more", &more), 1);
	assert_int_equal(named + more, 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_guest),
		cmocka_unit_test(test_each_guest_once),
		cmocka_unit_test(test_renamed_guest_is_one),
		cmocka_unit_test(test_too_many_names_are_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
