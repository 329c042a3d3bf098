/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz.h: what the fuzz targets share.
 *
 * Each fuzz/fuzz-NAME.c defines LLVMFuzzerTestOneInput(). Built by clang with
 * -fsanitize=fuzzer (fuzz/CMakeLists.txt, scripts/fuzz) it is a libFuzzer target; built by
 * the project's compiler with tests/fuzz/replay.c it replays the seeds and the regression
 * inputs of tests/fixtures/fuzz/ in ctest, also under ASan and UBSan.
 *
 * A target checks properties that must hold for every input (its oracles), not only that
 * nothing crashes: when one breaks, FUZZ_ASSERT() prints what and aborts, so libFuzzer saves
 * the input and ctest fails. A target returns -1 for an input it does not use (libFuzzer
 * then keeps it out of the corpus), else 0.
 */
#ifndef VGPU_FUZZ_H
#define VGPU_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FUZZ_ASSERT(cond, fmt, ...): abort with "file:line: oracle broken: cond: message". */
#define FUZZ_ASSERT(cond, ...) \
	do { \
		if (!(cond)) \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} while (0)

/* The input being run, for fuzz_fail()'s message: set by the replay driver, NULL under
 * libFuzzer (which names the input itself). */
extern const char *fuzz_input_name;

noreturn void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* fuzz_one_line: whether @s is one non-empty line of text (no newline), as every error,
 * finding and change message of lib/ must be. */
bool fuzz_one_line(const char *s);

/* fuzz_message: whether @s is a message the sinks (log.h) write as one line: non-empty, and
 * with no control character left once str_one_line() has run on it. A message may quote a
 * value as it is: only the sink makes it one line. */
bool fuzz_message(const char *s);

/* fuzz_uuid_canonical: whether @s is a UUID in the canonical form of mdev_uuid_canon(). */
bool fuzz_uuid_canonical(const char *s);

#endif
