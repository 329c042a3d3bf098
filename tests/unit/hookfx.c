/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hookfx.c: the fixture the hook_run() tests share (hookfx.h): a copy of the sysfs/host tree,
 * a config naming it, tu_kernel behind the mdev write seam, and one hook call at a time.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hookfx.h"

int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char *text;

	fx->tmp = tu_tmpdir();
	fx->root = tu_copy_fixture("sysfs/host", fx->tmp);
	fx->state = tu_fmt("%s/state", fx->tmp);
	fx->conf = tu_fmt("%s/vgpu-hook.conf", fx->tmp);
	text = tu_fmt("[defaults]\nsysfs_root = %s\nstate_dir = %s\nparent = " GVT "\n"
		      "type = i915-GVTg_V5_4\nremove_retries = 3\n", fx->root, fx->state);
	tu_write_file(fx->conf, text);
	free(text);
	fx->proc = tu_fmt("%s/proc", fx->tmp);
	fx->dev = tu_fmt("%s/dev", fx->tmp);
	fx->klog = tu_fmt("%s/kernel.log", fx->tmp);
	assert_int_equal(mkdir(fx->proc, 0755), 0);
	assert_int_equal(mkdir(fx->dev, 0755), 0);
	fx->kernel.root = fx->root;
	fx->kernel.log_path = fx->klog;
	hook_env_init(&fx->env, fx->conf);
	fx->env.proc_root = fx->proc;
	fx->env.dev_root = fx->dev;
	fx->env.privileged = true;
	fx->env.config_owner = geteuid();
	fx->env.write = tu_kernel_write;
	fx->env.write_opaque = &fx->kernel;
	fx->env.retry_delay_ms = 0;
	fx->env.lock_timeout_ms = 1000;
	tu_log_capture();
	fx->row = *state;
	*state = fx;
	return 0;
}

int teardown(void **state)
{
	struct fx *fx = *state;

	tu_rmtree(fx->tmp);
	strv_free(&fx->kernel.log);
	free(fx->tmp);
	free(fx->root);
	free(fx->state);
	free(fx->conf);
	free(fx->proc);
	free(fx->dev);
	free(fx->klog);
	free(fx);
	return 0;
}

/* Run one hook call with @xml (text) on stdin; check that stdout stays empty. */
int call_xml(struct fx *fx, const char *name, const char *op, const char *subop,
	     const char *extra, const char *xml)
{
	char *in = tu_fmt("%s/stdin", fx->tmp), *out = tu_fmt("%s/stdout", fx->tmp);
	int fd, saved, status;
	struct stat st;

	tu_write_file(in, xml ? xml : "");
	fd = open(in, O_RDONLY);
	assert_true(fd >= 0);
	saved = dup(STDOUT_FILENO);
	tu_write_file(out, "");
	{
		int ofd = open(out, O_WRONLY);

		dup2(ofd, STDOUT_FILENO);
		close(ofd);
	}
	status = hook_run(&fx->env, name, op, subop, extra, fd, fx->err, sizeof(fx->err));
	tu_kernel_sync(&fx->kernel);   /* the remover child's writes too */
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_size, 0);   /* never a byte on stdout */
	assert_null(strchr(fx->err, '\n'));
	free(in);
	free(out);
	return status;
}

char *fixture(const char *name)
{
	char *path = tu_fmt("%s/domains/%s", FIXTURES_DIR, name), *xml = tu_read_file(path);

	assert_non_null(xml);
	free(path);
	return xml;
}

int call(struct fx *fx, const char *name, const char *op, const char *subop,
	 const char *extra, const char *file)
{
	char *xml = fixture(file);
	int status = call_xml(fx, name, op, subop, extra, xml);

	free(xml);
	return status;
}

bool device(struct fx *fx, const char *uuid)
{
	char *path = tu_fmt("%s/bus/mdev/devices/%s", fx->root, uuid);
	bool r = tu_exists(path);

	free(path);
	return r;
}

bool record(struct fx *fx, const char *uuid)
{
	char *path = tu_fmt("%s/%s", fx->state, uuid);
	bool r = tu_exists(path);

	free(path);
	return r;
}

struct owner_record get_record(struct fx *fx, const char *uuid)
{
	struct owner_store st;
	struct owner_record rec;

	assert_int_equal(owner_open(fx->state, false, &st), 0);
	assert_int_equal(owner_get(&st, uuid, &rec), 0);
	owner_close(&st);
	return rec;
}

/* The domain XML of @name (@duuid) asking for @mdev with the config's settings. */
char *plain_xml(const char *name, const char *duuid, const char *mdev)
{
	return tu_fmt("<domain><name>%s</name><uuid>%s</uuid><devices><hostdev "
		      "mode='subsystem' type='mdev'><source><address uuid='%s'/></source>"
		      "</hostdev></devices></domain>", name, duuid, mdev);
}

char *meta_xml(const char *name, const char *duuid, const char *mdev, const char *parent,
	       const char *type)
{
	return tu_fmt("<domain><name>%s</name><uuid>%s</uuid><metadata><v:vgpu "
		      "xmlns:v='urn:vgpu-hook:1'><v:mdev uuid='%s' parent='%s' type='%s'/>"
		      "</v:vgpu></metadata><devices><hostdev mode='subsystem' type='mdev'>"
		      "<source><address uuid='%s'/></source></hostdev></devices></domain>",
		      name, duuid, mdev, parent, type, mdev);
}
