#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hostile input: every line of the table (cases) runs vgpu-hook or vgpu-xml as libvirt or a
# user would, in a fresh private world, and asserts:
#  - the exit status;
#  - stderr is exactly one line, equal to the expected one (or matching it when it starts
#    with ^, a bash extended regex), or empty when the table says -;
#  - stdout is empty;
#  - nothing changed: the world (the sysfs root, the state directory, the config, the input
#    file and outside/, which holds the canary files) has the same paths, types, modes,
#    owners, sizes, mtimes, link targets and contents before and after;
#  - no file system call of the program names anything under outside/ (strace, when it
#    works here), so a file an entity, a symlink or a parent points at is never opened;
#  - time and memory are bounded: timeout, and ulimit -v outside ASan (its shadow memory
#    needs a huge address space; CMake sets VGPU_SANITIZE=1 then).
# Usage: run.sh VGPU_HOOK VGPU_XML|- FIXTURES_DIR [CASE-NAME-PATTERN]
set -u
HOOK=$1 XML=$2 FIX=$3 ONLY=${4:-*}
HERE=$(dirname "$0")
# shellcheck source-path=SCRIPTDIR source=../lib/check.sh
. "$HERE/../lib/check.sh"

# The config must be root's (compiled in: config_load(path, 0)), so the world is root's too.
[ "$(id -u)" -eq 0 ] || skip "needs root: the hook accepts only a config owned by root"

TIME_LIMIT=20                # seconds, per case
MEM_LIMIT=$((256 * 1024))    # KiB of address space, per case, outside ASan
U=11111111-2222-4333-8444-000000000001      # the domain's vGPU
DUUID=aaaaaaaa-0000-4000-8000-000000000001  # domain "one"
GVT=0000:00:02.0

T=$(mktemp -d /tmp/vgpu-hostile.XXXXXX)
chmod 0755 "$T"
trap 'rm -rf "$T"' EXIT
W=$T/w

# Under ASan: no address-space limit, and no strace (LeakSanitizer cannot run under ptrace;
# leaks matter more there, and the normal build runs the never-opened check).
SANITIZED=0
[ "${VGPU_SANITIZE:-0}" = 1 ] && SANITIZED=1
TRACE=()
if [ "$SANITIZED" = 1 ]; then
	echo "note: ASan build: no ulimit -v and no strace; the normal build checks both"
elif command -v strace >/dev/null && strace -f -qq -o /dev/null true 2>/dev/null; then
	TRACE=(strace -f -qq -e trace=%file -o "$T/trace")
else
	echo "note: strace missing or not permitted here: the never-opened check is skipped"
fi

# --- the world: a fresh one per case -------------------------------------------------------
world() {
	rm -rf "$W"
	mkdir "$W" "$W/outside"
	cp -a "$FIX/sysfs/host" "$W/sys"
	# The lock file exists from the hook's first run on this host and is never removed.
	mkdir -m 0700 "$W/state"
	install -m 0600 /dev/null "$W/state/lock"
	printf '[defaults]\nsysfs_root = %s\nstate_dir = %s\n' "$W/sys" "$W/state" >"$W/conf"
	chmod 0600 "$W/conf"
	# A valid record of domain one's vGPU: trusted if a planted link to it were followed.
	record "$U" >"$W/outside/canary"
	mkfifo "$W/outside/fifo"
}
# Everything that must not change, one line per path, then the contents' sums.
snapshot() {
	(cd "$W" && find . -printf '%p %y %m %u:%g %s %T@ %l\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}

# --- helpers for the SETUP column -----------------------------------------------------------
conf_line() { printf '%s\n' "$@" >>"$W/conf"; }          # append lines to the config
record() { # record MDEV [DOMAIN_UUID]: a well-formed ownership record
	printf 'mdev=%s\ndomain_uuid=%s\ndomain=one\nparent=%s\ntype=i915-GVTg_V5_4\n' \
		"$1" "${2:-$DUUID}" "$GVT"
}
device() { # device UUID: an existing vGPU of domain one (as the kernel shows it)
	local dev=$W/sys/devices/pci0000:00/$GVT/$1
	mkdir "$dev"
	ln -s ../mdev_supported_types/i915-GVTg_V5_4 "$dev/mdev_type"
	: >"$dev/remove"
	ln -s "../../../devices/pci0000:00/$GVT/$1" "$W/sys/bus/mdev/devices/$1"
}
fake_parent() { # fake_parent DIR: a parent offering i915-GVTg_V5_4, outside the sysfs root
	local t=$1/mdev_supported_types/i915-GVTg_V5_4
	mkdir -p "$t/devices"
	echo 3 >"$t/available_instances"
	echo vfio-pci >"$t/device_api"
	: >"$t/create"
}

# --- helpers for the STDIN column: each prints the input ------------------------------------
rep() { head -c "$2" /dev/zero | tr '\0' "$1"; }          # rep CHAR N
empty() { :; }
fixture() { sed "s|@W@|$W|g" "$FIX/hostile/$1"; }         # fixture NAME: tests/fixtures/hostile
encode() { # encode ENCODING NAME: the fixture, declared in and converted to ENCODING
	{ printf '<?xml version="1.0" encoding="%s"?>\n' "$1"; fixture "$2"; } |
		iconv -f UTF-8 -t "$1"
}
dom() { # dom [HOSTDEV_UUID [META_UUID PARENT TYPE]]: domain one; values go in as written
	local uuid=${1-$U}
	printf "<domain type='kvm'>\n  <name>one</name>\n  <uuid>%s</uuid>\n" "$DUUID"
	if [ $# -ge 4 ]; then
		printf "  <metadata>\n    <vgpu:vgpu xmlns:vgpu='urn:vgpu-hook:1'>\n"
		printf "      <vgpu:mdev uuid='%s' parent='%s' type='%s'/>\n" "$2" "$3" "$4"
		printf "    </vgpu:vgpu>\n  </metadata>\n"
	fi
	printf "  <devices>\n    <hostdev mode='subsystem' type='mdev' model='vfio-pci'>\n"
	printf "      <source><address uuid='%s'/></source>\n    </hostdev>\n" "$uuid"
	printf "  </devices>\n</domain>\n"
}
vgpu() { dom "$U" "$U" "$GVT" i915-GVTg_V5_4; }          # a valid domain with one vGPU
deep() { # deep N: a domain nested N elements deep
	printf '<domain><name>one</name>'
	rep x "$1" | sed 's/x/<a>/g'
	rep x "$1" | sed 's/x/<\/a>/g'
	printf '</domain>\n'
}
pad() { # pad N: domain "plain" (no vGPU) padded with spaces to exactly N bytes
	local head="<domain><name>plain</name>" tail="</domain>"
	printf '%s' "$head"
	rep ' ' $(($1 - ${#head} - ${#tail}))
	printf '%s' "$tail"
}

# --- the programs -----------------------------------------------------------------------
# hook ARGS: vgpu-hook as libvirt runs it, pointed at this world's config.
# xml ARGS: vgpu-xml as a user runs it; @IN@ is the input file.
run_prog() { # run_prog hook|xml ARGS...: with the limits, the trace, stdin as the case says
	local prog=$1; shift
	case $prog in
	hook) set -- "$HOOK" --config "$W/conf" "$@" ;;
	xml) set -- "$XML" "$@" ;;
	*) echo "unknown program '$prog'" >&2; return 99 ;;
	esac
	[ "$SANITIZED" = 1 ] || ulimit -v "$MEM_LIMIT"
	exec "${TRACE[@]}" timeout -k 2 "$TIME_LIMIT" \
		env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; printf '%s' "${s%"${s##*[![:space:]]}"}"; }

cases=0 skipped=0
# shellcheck disable=SC2181
run_case() { # run_case NAME SETUP STDIN STATUS COMMAND STDERR
	local name=$1 setup=$2 input=$3 want=$4 cmd=$5 msg=$6 rc before after got lines
	local -a argv

	world
	# Subshells with set -e (which || would switch off, hence $?): a failing step fails the
	# case instead of testing something else.
	if [ "$setup" != - ]; then
		(set -e; eval "$setup")
		[ $? -eq 0 ] || { fail "$name: setup failed"; return; }
	fi
	case $input in
	closed|endless) ;;
	*) (set -e; eval "$input") >"$W/in.xml"
		[ $? -eq 0 ] || { fail "$name: input failed"; return; } ;;
	esac
	eval "argv=($cmd)"
	argv=("${argv[@]//@IN@/$W/in.xml}")
	before=$(snapshot)
	rm -f "$T/trace"
	case $input in
	closed) (run_prog "${argv[@]}") <&- >"$T/out" 2>"$T/err"; rc=$? ;;
	endless) yes '<domain>' | (run_prog "${argv[@]}") >"$T/out" 2>"$T/err"
		rc=${PIPESTATUS[1]} ;;
	*) (run_prog "${argv[@]}") <"$W/in.xml" >"$T/out" 2>"$T/err"; rc=$? ;;
	esac
	after=$(snapshot)

	cases=$((cases + 1))
	local f0=$CHECK_FAILED
	check_eq "$name: exit status" "$rc" "$want"
	check_eq "$name: stdout bytes" "$(wc -c <"$T/out")" 0
	lines=$(grep -c '' "$T/err")
	got=$(cat "$T/err")
	if [ "$msg" = - ]; then
		check_eq "$name: stderr" "$got" ""
	else
		check_eq "$name: stderr lines" "$lines/$(wc -l <"$T/err")" 1/1
		case $msg in
		^*) if [[ $got =~ $msg ]]; then pass "$name: stderr matches"
			else fail "$name: stderr '$got' !~ '$msg'"; fi ;;
		*) check_eq "$name: stderr" "$got" "$msg" ;;
		esac
	fi
	if [ "$after" = "$before" ]; then
		pass "$name: the world unchanged"
	else
		fail "$name: the world changed:"
		diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -8
	fi
	if [ ${#TRACE[@]} -gt 0 ]; then
		if [ ! -s "$T/trace" ]; then
			fail "$name: strace wrote no trace"
		elif grep -F "$W/outside" "$T/trace" >"$T/touched"; then
			fail "$name: named a file under outside/:"
			head -3 "$T/touched"
		else
			pass "$name: nothing under outside/ named"
		fi
	fi
	if [ "$CHECK_FAILED" -ne "$f0" ]; then
		note "$name failed; its stderr was:"
		head -c 2000 "$T/err" | head -5 | cat -A
	fi
}

n=0
while IFS= read -r line; do
	n=$((n + 1))
	case $line in ''|'#'*) continue ;; esac
	IFS='|' read -r name setup input status cmd msg <<<"$line"
	name=$(trim "$name") setup=$(trim "$setup") input=$(trim "$input")
	status=$(trim "$status") cmd=$(trim "$cmd") msg=$(trim "$msg")
	if [ -z "$msg" ] || [ -z "$cmd" ]; then
		fail "cases:$n: expected NAME | SETUP | STDIN | STATUS | COMMAND | STDERR"
		continue
	fi
	# shellcheck disable=SC2254
	case $name in $ONLY) ;; *) continue ;; esac
	if [ "${cmd%% *}" = xml ] && [ "$XML" = - ]; then
		note "skip $name: vgpu-xml not built"
		skipped=$((skipped + 1))
		continue
	fi
	run_case "$name" "${setup//@W@/$W}" "${input//@W@/$W}" "$status" "${cmd//@W@/$W}" \
		"${msg//@W@/$W}"
done <"$HERE/cases"

note "$cases cases run, $skipped skipped"
check "at least one case ran" [ "$cases" -gt 0 ]
finish
