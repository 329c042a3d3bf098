/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * no-icu.c: libxml2 without its ICU back end, for a program that links libxml2.a: the
 * static vgpu-hook and vgpu-xml (cmake/static-libs.cmake).
 *
 * Debian builds libxml2 with both iconv and ICU: xmlFindCharEncodingHandler() tries its
 * built-in encodings (UTF-8, UTF-16, ISO-8859-1, ASCII), then iconv, and only last ICU.
 * Linked statically, ICU would bring 30 MB of conversion tables and libstdc++ for a path
 * that libvirt's domain XML (always UTF-8) never takes. These are the ICU converter entry
 * points libxml2.a references; ucnv_open() fails as for a name ICU does not know, so an
 * encoding neither built in nor known to iconv is refused, as by a libxml2 built
 * --without-icu. The others are only ever called on a converter ucnv_open() returned.
 * <unicode/ucnv.h> gives these functions the version suffix of the installed ICU.
 * They are built with hidden visibility: in vgpu-xml, which can dlopen libvirt and with it
 * libxml2.so and the real ICU, nothing outside the executable may bind to them.
 */
#include <unicode/ucnv.h>
#include <unicode/ucnv_err.h>

UConverter *ucnv_open(const char *name, UErrorCode *err)
{
	(void)name;
	if (err && U_SUCCESS(*err))
		*err = U_FILE_ACCESS_ERROR;   /* what ICU says for a converter it has no data for */
	return NULL;
}

void ucnv_close(UConverter *cnv)
{
	(void)cnv;
}

void ucnv_setToUCallBack(UConverter *cnv, UConverterToUCallback action, const void *context,
			 UConverterToUCallback *old_action, const void **old_context,
			 UErrorCode *err)
{
	(void)cnv, (void)action, (void)context, (void)old_action, (void)old_context;
	*err = U_UNSUPPORTED_ERROR;
}

void ucnv_setFromUCallBack(UConverter *cnv, UConverterFromUCallback action,
			   const void *context, UConverterFromUCallback *old_action,
			   const void **old_context, UErrorCode *err)
{
	(void)cnv, (void)action, (void)context, (void)old_action, (void)old_context;
	*err = U_UNSUPPORTED_ERROR;
}

void ucnv_convertEx(UConverter *target_cnv, UConverter *source_cnv, char **target,
		    const char *target_limit, const char **source, const char *source_limit,
		    UChar *pivot_start, UChar **pivot_source, UChar **pivot_target,
		    const UChar *pivot_limit, UBool reset, UBool flush, UErrorCode *err)
{
	(void)target_cnv, (void)source_cnv, (void)target, (void)target_limit, (void)source;
	(void)source_limit, (void)pivot_start, (void)pivot_source, (void)pivot_target;
	(void)pivot_limit, (void)reset, (void)flush;
	*err = U_UNSUPPORTED_ERROR;
}

void UCNV_TO_U_CALLBACK_STOP(const void *context, UConverterToUnicodeArgs *args,
			     const char *units, int32_t length, UConverterCallbackReason reason,
			     UErrorCode *err)
{
	(void)context, (void)args, (void)units, (void)length, (void)reason, (void)err;
}

void UCNV_FROM_U_CALLBACK_STOP(const void *context, UConverterFromUnicodeArgs *args,
			       const UChar *units, int32_t length, UChar32 code_point,
			       UConverterCallbackReason reason, UErrorCode *err)
{
	(void)context, (void)args, (void)units, (void)length, (void)code_point, (void)reason;
	(void)err;
}
