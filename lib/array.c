/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

void *array_add(void *vp, size_t *n, size_t *cap, size_t size)
{
	void *v;
	char *elem;

	/* memcpy: @vp points to a T *, which need not be a void * in memory. */
	memcpy(&v, vp, sizeof(v));
	if (*n == *cap) {
		size_t want = *cap ? *cap * 2 : 4;
		void *grown;

		if (want < *cap || want > SIZE_MAX / size)
			return NULL;
		grown = realloc(v, want * size);
		if (!grown)
			return NULL;
		v = grown;
		*cap = want;
		memcpy(vp, &v, sizeof(v));
	}
	elem = (char *)v + *n * size;
	memset(elem, 0, size);
	(*n)++;
	return elem;
}
