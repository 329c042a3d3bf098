# SPDX-License-Identifier: LGPL-2.1-or-later
# The archives of what lib/ links, for the programs that take libxml2 in statically: the
# hook (a static PIE) and vgpu-xml (dynamic, for glibc and a dlopen'ed libvirt, but with
# libxml2 in it). Linked against libxml2.so, either program spends most of a short run in
# the dynamic loader mapping what Debian's libxml2 pulls in and neither uses: libicuuc,
# libicudata (30 MB), libstdc++, liblzma, libz (docs/performance.md, "The link").
#
# vgpu_static_archives(ARCHIVES INCLUDES WHY): ARCHIVES gets the archive of each library
# lib/'s pkg-config modules need, ICU and the C library left out (lib/no-icu.c stands in
# for ICU); INCLUDES their include directories and ICU's (no-icu.c needs <unicode/ucnv.h>);
# WHY is empty when all exist, else says what is missing, for a message.
# vgpu-no-icu: the object library of lib/no-icu.c, for a program that links libxml2.a.
pkg_check_modules(ICU_UC icu-uc)
if(ICU_UC_FOUND AND NOT TARGET vgpu-no-icu)
  add_library(vgpu-no-icu OBJECT "${PROJECT_SOURCE_DIR}/lib/no-icu.c")
  target_include_directories(vgpu-no-icu PRIVATE ${ICU_UC_INCLUDE_DIRS})
  # Never exported, even by a dynamic executable (lib/no-icu.c).
  set_target_properties(vgpu-no-icu PROPERTIES C_VISIBILITY_PRESET hidden)
endif()

function(vgpu_static_archives out_archives out_includes out_why)
  set(archives "")
  set(includes ${ICU_UC_INCLUDE_DIRS})
  set(why "")
  get_target_property(deps vgpu INTERFACE_LINK_LIBRARIES)
  foreach(dep IN LISTS deps)
    string(REGEX REPLACE "^PkgConfig::" "" mod "${dep}")
    if(mod STREQUAL dep)
      list(APPEND why "lib/ links ${dep}, not a pkg-config module")
      continue()
    endif()
    list(APPEND includes ${${mod}_INCLUDE_DIRS})
    foreach(name IN LISTS ${mod}_STATIC_LIBRARIES)
      if(name MATCHES "^(icu.*|m|c|pthread|dl|rt)$")
        continue()
      endif()
      find_library(VGPU_ARCHIVE_${name} NAMES lib${name}.a HINTS ${${mod}_STATIC_LIBRARY_DIRS})
      if(VGPU_ARCHIVE_${name})
        list(APPEND archives ${VGPU_ARCHIVE_${name}})
      else()
        list(APPEND why "lib${name}.a is missing")
      endif()
    endforeach()
  endforeach()
  if(NOT ICU_UC_FOUND)
    list(APPEND why "ICU's headers (icu-uc) are missing")
  endif()
  list(REMOVE_DUPLICATES archives)
  list(JOIN why ", " why)
  set(${out_archives} "${archives}" PARENT_SCOPE)
  set(${out_includes} "${includes}" PARENT_SCOPE)
  set(${out_why} "${why}" PARENT_SCOPE)
endfunction()

# vgpu_static_missing(WHAT WHY): say that WHAT ("vgpu-hook is linked dynamically") because
# of WHY, a warning, or an error when the archives are required (VGPU_REQUIRE_STATIC_HOOK,
# the package).
function(vgpu_static_missing what why)
  if(VGPU_REQUIRE_STATIC_HOOK)
    set(level FATAL_ERROR)
  else()
    set(level WARNING)
  endif()
  message(${level} "${what} (${why}), so it starts about twice as slow (docs/performance.md, "
    "\"The link\"). On Debian: apt-get install libxml2-dev zlib1g-dev liblzma-dev uuid-dev "
    "libinih-dev libicu-dev libc6-dev")
endfunction()

# vgpu_pack_relocs(TARGET): link TARGET, which has libxml2 in it, with its relative
# relocations packed (DT_RELR) where binutils (2.38) and glibc (2.36: ld.so, and the start-up
# of a static PIE) support them. libxml2's tables of function pointers make thousands of
# relocations, which a program applies at every start: packed, ld.so spent a third of the
# cycles on vgpu-xml's start (LD_DEBUG=statistics), and the hook 24,000 instructions fewer
# (docs/performance.md). Without the support, the link stays as it was.
include(CheckCSourceCompiles)
include(CheckLinkerFlag)
function(vgpu_pack_relocs target)
  check_linker_flag(C LINKER:-z,pack-relative-relocs VGPU_HAVE_PACK_RELATIVE_RELOCS)
  check_c_source_compiles("#include <features.h>
    #if !__GLIBC_PREREQ(2, 36)
    #error glibc applies no DT_RELR before 2.36
    #endif
    int main(void) { return 0; }" VGPU_GLIBC_HAS_RELR)
  if(VGPU_HAVE_PACK_RELATIVE_RELOCS AND VGPU_GLIBC_HAS_RELR)
    target_link_options(${target} PRIVATE LINKER:-z,pack-relative-relocs)
  endif()
endfunction()
