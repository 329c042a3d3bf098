/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hookfx.h: the fixture of the hook_run() tests (test-hook-prepare.c, test-hook-release.c):
 * a temporary copy of tests/fixtures/sysfs/host with the GVT-g parent GVT, a config naming
 * it, a state directory, fake /proc and /dev for holders, and tu_kernel (testutil.h) behind
 * the mdev write seam of a privileged hook_env. Every helper fails the running cmocka test
 * on an unexpected result.
 */
#ifndef VGPU_TESTS_HOOKFX_H
#define VGPU_TESTS_HOOKFX_H

#include <stdbool.h>

#include "hook.h"
#include "owner.h"
#include "testutil.h"

#define GVT "0000:00:02.0"
#define U1 "11111111-2222-4333-8444-000000000001"
#define U2 "11111111-2222-4333-8444-000000000002"
#define ONE_UUID "aaaaaaaa-0000-4000-8000-000000000001"
#define OTHER_UUID "aaaaaaaa-0000-4000-8000-000000000004"
#define OLD_UUID "aaaaaaaa-0000-4000-8000-0000000000ff"

struct fx {
	char *tmp, *root, *state, *conf, *proc, *dev, *klog;
	struct tu_kernel kernel;
	struct hook_env env;
	char err[1024];
	const void *row;   /* the table row of a test run by TU_RUN_ROWS_FX, else NULL */
};

/*
 * setup, teardown: the cmocka setup and teardown of every test. setup makes a struct fx
 * into *@state, taking the table row TU_RUN_ROWS_FX left in *@state as fx->row, and starts
 * capturing the log (tu_log_capture); teardown removes the temporary tree and frees it.
 * Both return 0.
 */
int setup(void **state);
int teardown(void **state);

/*
 * call_xml: one hook call, hook_run(@name, @op, @subop, @extra), with the text @xml (NULL:
 * nothing) on stdin; waits for the writes of a remover child, and asserts that nothing was
 * written to stdout and that fx->err, the error line, is one line. Returns hook_run()'s
 * exit status.
 */
int call_xml(struct fx *fx, const char *name, const char *op, const char *subop,
	     const char *extra, const char *xml);

/* call: call_xml() with the fixture domain XML tests/fixtures/domains/@file on stdin. */
int call(struct fx *fx, const char *name, const char *op, const char *subop,
	 const char *extra, const char *file);

/* fixture: the text of tests/fixtures/domains/@name (caller frees). */
char *fixture(const char *name);

/* device, record: whether the mdev @uuid exists on the bus, and whether it has a record. */
bool device(struct fx *fx, const char *uuid);
bool record(struct fx *fx, const char *uuid);

/* get_record: the record of @uuid (asserted to exist). */
struct owner_record get_record(struct fx *fx, const char *uuid);

/*
 * plain_xml: the domain XML of @name (domain UUID @duuid) with one mdev hostdev @mdev and
 * no metadata, so that the config's parent and type apply (caller frees).
 */
char *plain_xml(const char *name, const char *duuid, const char *mdev);

/*
 * meta_xml: the same with vgpu-hook's metadata entry for @mdev, naming @parent and @type,
 * as written (caller frees).
 */
char *meta_xml(const char *name, const char *duuid, const char *mdev, const char *parent,
	       const char *type);

#endif
