#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench-smoke: one quick run of bench/run (tiny sizes, few runs). Checks that it made a
# well-formed table and growth plot, and from the outputs it kept in check/, that each
# program did its job: the shell hook and vgpu-hook made and removed the same vGPUs,
# neither read stdin for the no-op, and vgpu-xml, virt-xml and xmlstarlet wrote the same
# edit. Never how fast anything is: a MISS of a target is not a failure here.
# Usage: smoke.sh SOURCE_DIR BUILD_DIR
set -u
SRC=$1 B=$2
# shellcheck source=../../tests/lib/check.sh
. "$SRC/tests/lib/check.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root: vgpu-hook takes only a config file owned by root"
for t in hyperfine gnuplot valgrind xmllint xmlstarlet virt-xml virt-xml-validate; do
	command -v "$t" >/dev/null || skip "$t missing (scripts/install-deps --with-libvirtd)"
done
[ -x /usr/bin/time ] || skip "GNU time missing (scripts/install-deps --with-libvirtd)"
# bench/run counts instructions with callgrind, and valgrind cannot run a program built with
# AddressSanitizer; the developer build runs this check.
! grep -q '^VGPU_SANITIZE:BOOL=ON' "$B/CMakeCache.txt" 2>/dev/null ||
	skip "an ASan build: valgrind cannot run it (bench/run counts instructions with callgrind)"

T=$(mktemp -d /tmp/vgpu-bench-smoke.XXXXXX)
trap 'rm -rf "$T"' EXIT
O=$T/out
"$SRC/bench/run" --quick --build "$B" --out "$O" >"$T/log" 2>&1
rc=$?
check_eq "bench/run exit status" "$rc" 0
if [ "$rc" != 0 ]; then
	cat "$T/log" >&2
	finish
	exit 1
fi
with_sim=0
[ -s "$O/check/sim-prepare1-vgpu-hook.txt" ] && with_sim=1
if [ "$(id -u)" -eq 0 ] && [ -c /dev/fuse ] && command -v fusermount3 >/dev/null; then
	check_eq "the vgpu-sim cases ran (root, FUSE)" "$with_sim" 1
fi

# 1. The table: 3 programs a case (2 for vgpu-xml --version), each row 8 cells, times
# that read as min <= median <= max.
cases="noop fx-prepare1 fx-prepare4 fx-release1 fx-release4 xml"
[ $with_sim = 1 ] && cases="$cases sim-prepare1 sim-prepare4 sim-release1 sim-release4"
n_cases=$(echo $cases | wc -w)
tab=$(sed -n '/^| case | program |/,/^$/p' "$O/table.md" | sed '1,2d;/^$/d')
check_eq "table: header" "$(grep -c '^| case | program | median | min | max | baseline / this | above /bin/true | peak RSS |$' "$O/table.md")" 1
# and 2 for vgpu-xml --version (/bin/true and vgpu-xml)
check_eq "table: 3 rows a case, 2 for --version" "$(printf '%s\n' "$tab" | wc -l)" $((3 * n_cases + 2))
bad=$(printf '%s\n' "$tab" | awk -F' [|] ' '
	function v(s) { sub(/ ms$/, "", s); return s + 0 }
	NF != 8 || $3 !~ / ms$/ || $4 !~ / ms$/ || $5 !~ / ms$/ || $8 !~ / MiB \|$/ ||
	v($4) > v($3) || v($3) > v($5) || v($4) <= 0 { print }')
check_eq "table: rows well formed, min <= median <= max" "$bad" ""
for p in vgpu-hook shell-hook /bin/true vgpu-xml virt-xml xmlstarlet; do
	check_has "table: a row of $p" "$tab" "| \`$p\` |"
done
targets=$(grep -c '^- \(PASS\|MISS\) ' "$O/table.md")
check_eq "targets: no-op, one a hook case, vgpu-xml's edit and start, 4 growth fits, RSS" \
	"$targets" $((1 + (n_cases - 1) + 2 + 4 + 1))

# 2. Growth: a row a size, sizes rising, 11 numbers; the plot a PNG of gnuplot's size.
check_eq "growth.dat: 3 sizes" "$(wc -l <"$O/growth.dat")" 3
check_eq "growth.dat: 11 positive numbers a row, sizes rising" "$(awk '
	NF != 11 { print "fields", NR } { for (i = 1; i <= NF; i++) if (!($i > 0)) print "value", NR, i }
	NR > 1 && $1 <= s { print "order", NR } { s = $1 }' "$O/growth.dat")" ""
check_eq "growth.png: PNG signature" "$(od -A n -t x1 -N 8 "$O/growth.png" | tr -d ' ')" 89504e470d0a1a0a
check_eq "growth.png: 1800x560" "$(od -A n -t u1 -j 16 -N 8 "$O/growth.png" | tr -s ' ')" " 0 0 7 8 0 0 2 48"

# 3. What the programs did.
C=$O/check
U=4b20d080-1b54-4048-85b3-a6a62d1650
size=$("$SRC/bench/gen-domain" --vgpus 1 | wc -c)
for p in vgpu-hook shell-hook; do
	check_eq "no-op of $p reads no stdin" "$(grep "^$p " "$C/noop.txt")" "$p unread=$size of $size"
done
for n in 1 4; do
	want=$(for ((i = 0; i < n; i++)); do printf '%s%02d remove=1\n' $U $i; done)
	for p in vgpu-hook shell-hook; do
		check_eq "fixture release $n: $p wrote remove of each vGPU" "$(cat "$C/fixture-release$n-$p.txt")" "$want"
	done
	check_eq "fixture release $n: vgpu-hook dropped its records" "$(cat "$C/fixture-release$n-vgpu-hook.records")" ""
	[ $with_sim = 1 ] || continue
	want=$(for ((i = 0; i < n; i++)); do printf '%s%02d 0000:00:02.0 i915-GVTg_V5_4\n' $U $i; done)
	check_eq "vgpu-sim prepare $n: vgpu-hook made the domain's vGPUs" "$(cat "$C/sim-prepare$n-vgpu-hook.txt")" "$want"
	check_eq "vgpu-sim prepare $n: the shell hook made the same" "$(cat "$C/sim-prepare$n-shell-hook.txt")" "$want"
	for p in vgpu-hook shell-hook; do
		check_eq "vgpu-sim release $n: $p removed them" "$(cat "$C/sim-release$n-$p.txt")" ""
	done
done
for p in vgpu-xml virt-xml xmlstarlet; do
	check "edit by $p validates" virt-xml-validate "$C/edit-$p.xml" domain
	check_has "edit by $p: the vGPU" "$(cat "$C/edit-$p.facts")" "uuid: ${U}00"
	check_has "edit by $p: six override properties" "$(cat "$C/edit-$p.facts")" "override properties: 6"
done
check_eq "virt-xml made vgpu-xml's edit" "$(cat "$C/edit-virt-xml.facts")" "$(cat "$C/edit-vgpu-xml.facts")"
check_eq "xmlstarlet made vgpu-xml's edit" "$(cat "$C/edit-xmlstarlet.facts")" "$(cat "$C/edit-vgpu-xml.facts")"
# The one thing vgpu-xml writes that virt-xml cannot: the hook's metadata, read back by the
# hook itself: its dry run finds the vGPU's parent and type there.
printf '[defaults]\nsysfs_root = %s\nstate_dir = %s/state\n' "$SRC/tests/fixtures/sysfs/host" "$T" >"$T/conf"
chmod 0600 "$T/conf"
plan=$("$B/hook/vgpu-hook" --config "$T/conf" --dry-run win10 prepare begin - <"$C/edit-vgpu-xml.xml" 2>&1)
check_has "vgpu-hook reads vgpu-xml's metadata" "$plan" "would create vGPU ${U}00: i915-GVTg_V5_4 on 0000:00:02.0"
check_has "... from the metadata" "$plan" "from metadata"
finish
