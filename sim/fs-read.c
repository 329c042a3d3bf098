// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fs-read.c: what vgpu-sim's files read and its links point to: each attribute's content as
 * its show() function formats it, and each link's target, absolute or relative.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs-int.h"

static int parent_path(const struct sim *s, unsigned int p, FILE *f)
{
	const struct sim_parent *par = &s->parents[p];

	if (par->pci)
		return fprintf(f, "devices/pci0000:00/%s", par->name);
	return fprintf(f, "devices/virtual/%s/%s", par->drv, par->name);
}

/* Where link @n points, relative to the root of the file system. */
static int link_target(const struct sim *s, const struct node *n, FILE *f)
{
	const struct sim_parent *par = &s->parents[n->p];
	const struct sim_mdev *m = &s->mdevs[n->m];

	switch (n->kind) {
	case K_LINK_PARENT:
		return parent_path(s, n->p, f);
	case K_LINK_MDEV:
		if (parent_path(s, n->p, f) < 0)
			return -1;
		return fprintf(f, "/%s", m->uuid);
	case K_LINK_TYPE:
		if (parent_path(s, n->p, f) < 0)
			return -1;
		return fprintf(f, "/mdev_supported_types/%s", par->types[n->t].dir);
	case K_LINK_GROUP:
		return fprintf(f, "kernel/iommu_groups/%u", m->iommu_group);
	case K_LINK_DRIVER:
		return fprintf(f, "bus/mdev/drivers/%s", par->mdev_drv);
	case K_LINK_VFIO:
		if (parent_path(s, n->p, f) < 0)
			return -1;
		return fprintf(f, "/%s/vfio-dev/vfio%u", m->uuid, m->vfio_index);
	case K_LINK_PARENT_SUBSYS:
		/* bus_add_device() for a PCI parent; a class device's is its class. */
		return par->pci ? fprintf(f, "bus/pci") : fprintf(f, "class/%s", par->drv);
	case K_LINK_MDEV_SUBSYS:
		return fprintf(f, "bus/mdev");
	case K_LINK_VFIO_SUBSYS:
		return fprintf(f, "class/vfio-dev");
	default:
		return -1;
	}
}

/* dev_uevent(): DRIVER= once bound; pci_uevent() adds its own lines for a PCI parent. */
static int uevent_content(const struct sim *s, const struct node *n, FILE *f)
{
	const struct sim_parent *par = &s->parents[n->p];
	int ret = 0;

	if (n->kind == K_MDEV_UEVENT && s->mdevs[n->m].stage == SIM_LIVE)
		ret = fprintf(f, "DRIVER=%s\n", par->mdev_drv);
	else if (n->kind == K_PARENT_UEVENT && par->pci)
		ret = fprintf(f, "DRIVER=%s\nPCI_CLASS=30000\nPCI_SLOT_NAME=%s\n", par->drv,
			      par->name);
	return ret < 0 ? -EIO : 0;
}

/* The content of file @n, as its show() function formats it. */
static int file_content(const struct sim *s, const struct node *n, FILE *f)
{
	const struct sim_parent *par = &s->parents[n->p];

	switch (n->kind) {
	case K_CONTROL:
		return sim_dump_control(s, f);
	case K_STATE:
		return sim_dump_state(s, f);
	case K_TYPE_NAME:
		return fprintf(f, "%s\n", par->types[n->t].name) < 0 ? -EIO : 0;
	case K_TYPE_DESC:
		return sim_description(s, n->p, n->t, f);
	case K_TYPE_API:
		return fprintf(f, "vfio-pci\n") < 0 ? -EIO : 0;
	case K_TYPE_AVAIL:
		return fprintf(f, "%u\n", sim_available(s, n->p, n->t)) < 0 ? -EIO : 0;
	case K_VENDOR_ATTR:
		return sim_vendor_show(s, n->m, f);
	case K_PARENT_UEVENT:
	case K_MDEV_UEVENT:
	case K_VFIO_UEVENT:
		return uevent_content(s, n, f);
	case K_BUS_AUTOPROBE:
		return fprintf(f, "1\n") < 0 ? -EIO : 0;
	case K_POWER_ATTR:
		if (!power_attrs[n->a].content)
			return -EIO;
		return fputs(power_attrs[n->a].content, f) < 0 ? -EIO : 0;
	default:
		return -EACCES;
	}
}

/*
 * The text of a link at @path pointing to @target (both from the root, @path with a leading
 * slash): relative as kernfs_get_target_path() makes it, up from the link's directory to
 * the nearest common ancestor and down to the target.
 */
static void relative_link(const char *path, const char *target, FILE *f)
{
	const char *dir_end = strrchr(path, '/');
	const char *d = path + 1, *t = target;

	/* Skip the components the link's directory and the target share. */
	while (d < dir_end) {
		size_t dl = strcspn(d, "/"), tl = strcspn(t, "/");

		if (dl != tl || memcmp(d, t, dl) || !t[tl])
			break;
		d += dl + 1;
		t += tl + 1;
	}
	/* One "../" for every component of the directory left. */
	while (d < dir_end) {
		fputs("../", f);
		d += strcspn(d, "/") + 1;
	}
	fputs(t, f);
}

/*
 * What a read of file @n at @path returns, or where link @n points, into *@text (caller
 * frees), *@len bytes.
 */
int render(const struct simfs *fs, const struct node *n, const char *path,
	   char **text, size_t *len)
{
	char *target = NULL;
	size_t tlen = 0;
	FILE *f;
	int ret = 0;

	if (node_mode(n) != LNK_MODE) {
		f = open_memstream(text, len);
		if (!f)
			return -ENOMEM;
		ret = file_content(fs->sim, n, f);
		if (fclose(f) && !ret)
			ret = -ENOMEM;
		return ret;
	}

	f = open_memstream(&target, &tlen);
	if (!f)
		return -ENOMEM;
	if (link_target(fs->sim, n, f) < 0)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -ENOMEM;
	if (!ret) {
		f = open_memstream(text, len);
		if (!f) {
			ret = -ENOMEM;
		} else {
			if (fs->cfg.relative_links)
				relative_link(path, target, f);
			else
				fprintf(f, "%s/%s", fs->cfg.link_root, target);
			if (fclose(f))
				ret = -ENOMEM;
		}
	}
	free(target);
	return ret;
}
