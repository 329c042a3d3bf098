# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
# Only until tests/realhost/ sources tests/lib/check.sh, the one test library: its old names,
# ok (a passed check with no description) and ko (fail). Nothing else may source this.
# shellcheck source=../lib/check.sh
. "$(dirname "$0")/../lib/check.sh"
ok() { pass "${1:-(a check of $(basename "$0"))}"; }
ko() { fail "$*"; }
