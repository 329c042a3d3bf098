# SPDX-License-Identifier: LGPL-2.1-or-later
# Register vgpu-hook with libvirt: make VGPU_HOOK_LINK (under $DESTDIR) a symlink to
# VGPU_HOOK_BIN, refusing to replace anything that is not already that symlink or a link to
# one of VGPU_HOOK_OLD_BINS (where earlier versions installed the hook).
# Used by `cmake --install` and, with -D and -P, by tests/hook/install.sh.
cmake_minimum_required(VERSION 3.18)
set(link "$ENV{DESTDIR}${VGPU_HOOK_LINK}")
if(EXISTS "${link}" OR IS_SYMLINK "${link}")
  set(target "")
  if(IS_SYMLINK "${link}")
    file(READ_SYMLINK "${link}" target)
  endif()
  if(NOT target STREQUAL "${VGPU_HOOK_BIN}" AND NOT target IN_LIST VGPU_HOOK_OLD_BINS)
    message(FATAL_ERROR "${link} exists and is not vgpu-hook's; not replacing it. Move it to "
      "the qemu.d directory beside it (libvirt >= 6.5 runs every hook there) and install again.")
  endif()
endif()
get_filename_component(dir "${link}" DIRECTORY)
file(MAKE_DIRECTORY "${dir}")
file(REMOVE "${link}")
file(CREATE_LINK "${VGPU_HOOK_BIN}" "${link}" SYMBOLIC)
message(STATUS "Registered: ${link} -> ${VGPU_HOOK_BIN}")
