#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The static hook carries neither glibc's resolver nor NSS (hook/no-resolver.c): nothing in
# it can dlopen a libnss_*.so of another glibc, and the link gave no warning about it.
# Usage: static-link.sh VGPU_HOOK STATIC(ON|OFF)
set -u
# shellcheck source=../lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
[ "$2" = ON ] || [ "$2" = TRUE ] || skip "vgpu-hook is linked dynamically in this build"
command -v nm >/dev/null || skip "nm not found (binutils)"
syms=$(nm "$1" 2>&1)
check "nm reads the hook's symbols" grep -q ' main$' <<<"$syms"
check_eq "NSS symbols" "$(grep -c '__nss_' <<<"$syms")" 0
check_eq "glibc's resolver symbols (_res_hconf*)" "$(grep -c ' _res_hconf' <<<"$syms")" 0
check "static PIE: no interpreter" sh -c "! LC_ALL=C readelf -l '$1' | grep -q 'program interpreter'"
finish
