#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vgpu-xml with libxml2 linked in (VGPU_STATIC_XML, xml/CMakeLists.txt): it needs no shared
# library but the C library, so it starts without mapping ICU or libstdc++; and it exports
# none of its own symbols, so the libxml2.so and ICU that libvirt brings (--domain dlopens
# it) bind to their own code, never to the copy in the executable or to lib/no-icu.c.
# Usage: xml-link.sh VGPU_XML STATIC(ON|OFF)
set -u
. "$(dirname "$0")/../lib/check.sh"
[ "$2" = ON ] || [ "$2" = TRUE ] || skip "vgpu-xml is linked against libxml2.so in this build"
command -v nm >/dev/null && command -v readelf >/dev/null || skip "nm or readelf not found (binutils)"
needed=$(LC_ALL=C readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | paste -sd' ' -)
check_eq "vgpu-xml's shared libraries" "$needed" "libc.so.6 libm.so.6"
check "a dynamic executable: it has an interpreter, for dlopen" \
	sh -c "LC_ALL=C readelf -l '$1' | grep -q 'program interpreter'"
syms=$(nm "$1" 2>&1)
check "libxml2 is in it" grep -q ' [Tt] xmlCtxtReadMemory$' <<<"$syms"
check "lib/no-icu.c is in it" grep -q ' ucnv_open' <<<"$syms"
exported=$(nm -D --defined-only "$1" | awk '{ print $NF }' | grep -v '@GLIBC_' | paste -sd' ' -)
check_eq "symbols it exports (besides glibc's copy relocations)" "$exported" ""
finish
