/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * array.h: a growable array of elements of any one type, kept by its owner as three fields,
 * the pointer, the count and the capacity, all zero while empty (kmod's shared/array.c is
 * the model, for elements of any size instead of pointers only):
 *
 *     struct thing *v = NULL;
 *     size_t n = 0, cap = 0;
 *     struct thing *t = ARRAY_ADD(v, n, cap);   // NULL on ENOMEM; then nothing changed
 *     ...
 *     free(v);
 *
 * The capacity doubles from 4, so adding n elements costs O(n); elements move when the
 * array grows: a pointer to one is good until the next add.
 */
#ifndef VGPU_ARRAY_H
#define VGPU_ARRAY_H

#include <stddef.h>

/*
 * array_add: append one zeroed element of @size bytes to the array whose pointer is at
 * @vp (a `T **`, passed as void *), holding *@n elements with room for *@cap. On success
 * *@n is one more and the new element is returned; on ENOMEM (or a size that would
 * overflow) NULL, and the array, *@n and *@cap are as they were.
 */
void *array_add(void *vp, size_t *n, size_t *cap, size_t size);

/* ARRAY_ADD: array_add() for the array @v (an lvalue of type T *), typed T *. */
#define ARRAY_ADD(v, n, cap) \
	((__typeof__(v))array_add(&(v), &(n), &(cap), sizeof(*(v))))

#endif
