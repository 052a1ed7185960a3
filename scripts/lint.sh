#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh: lint the module the way kernel developers do.
#
#   checkpatch.pl --strict --no-tree -f   (from Debian's linux-source-6.1)
#   sparse (C=2) and W=1                  (against the 6.1 headers)
#   clang-format                          (with the kernel's own .clang-format)
#   warnings from shellcheck              (every shell script in the tree)
#
# checkpatch and .clang-format are taken from /usr/src/linux-source-6.1.tar.xz
# (package linux-source-6.1, installed by scripts/setup.sh) and cached
# outside the repo. Prints one TAP line per check; exits 1 if any fails.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Install what lint needs (shellcheck, sparse, ...) first, as make run does.
"$root/scripts/setup.sh" >&2
cache=${FASTECHO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fastecho}
lint=$cache/lint
tarball=$(ls /usr/src/linux-source-6.1.tar.xz 2>/dev/null || true)
kernel=${KERNEL:-6.1}

cd "$root"
sources=(fastecho_main.c fastecho_netns.c fastecho_stats.c fastecho_thread.c fastecho_source.c
	fastecho_source.h fastecho_net.c fastecho_net.h fastecho_trace.c
	fastecho_trace.h fastecho.h)

# --- checkpatch and .clang-format, cached from linux-source ----------------
if [[ ! -x $lint/scripts/checkpatch.pl || ! -f $lint/.clang-format ]]; then
	[[ -n $tarball ]] || {
		echo "lint.sh: needs linux-source-6.1: run scripts/setup.sh" >&2
		exit 1
	}
	mkdir -p "$lint"
	tar -xJf "$tarball" -C "$lint" --strip-components=1 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch \
		linux-source-6.1/.clang-format
fi

# shellcheck source=scripts/tap.sh
. "$root/scripts/tap.sh"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# --- checkpatch --------------------------------------------------------------
st=0
# LINUX_VERSION_CODE: an in-tree driver is written for the one kernel it is
# merged into; an out-of-tree module for 6.1 to 6.12 keys its shims on the
# version (fastecho_net.c), which is the one warning this type gives.
"$lint/scripts/checkpatch.pl" --strict --no-tree --quiet --show-types \
	--ignore LINUX_VERSION_CODE --no-summary -f "${sources[@]}" >"$out" 2>&1 || st=1
[[ -s $out ]] && st=1
tap $st "checkpatch --strict" "$out"

# --- clang-format --------------------------------------------------------------
st=0
: >"$out"
for f in "${sources[@]}"; do
	clang-format --style="file:$lint/.clang-format" "$f" |
		diff -u "$f" - >>"$out" || st=1
done
tap $st "clang-format (kernel .clang-format)" "$out"

# --- sparse and W=1: a fresh build so every file is checked ----------------
eval "$("$root/scripts/kernel.sh" env "$kernel")"
bdir=$root/build/lint
rm -rf "$bdir"
mkdir -p "$bdir"
for f in Kbuild "${sources[@]}"; do
	ln -s "$root/$f" "$bdir/$f"
done
st=0
make -C "$FE_KDIR" M="$bdir" C=2 W=1 modules >"$out" 2>&1 || st=1
# Anything but kbuild's own progress lines is a finding.
if grep -vE '^(make(\[[0-9]+\])?: (Entering|Leaving) directory|  (CC|CHECK|LD|MODPOST|BTF|LDS|AR)\b|  CC \[M\]|  LD \[M\]|Skipping BTF)' \
	"$out" | grep -q .; then
	st=1
fi
tap $st "sparse (C=2) and W=1 against $FE_KVER" "$out"

# --- shellcheck: every tracked shell script ---------------------------------
# Warnings and errors, not style notes. The guest scripts are #!/bin/sh for
# busybox ash, which has `local` and `ulimit -n` (SC3043, SC3045).
mapfile -t scripts < <(git ls-files '*.sh' .ci/run 2>/dev/null ||
	find . -name '*.sh' -not -path './build/*')
st=0
shellcheck -x -S warning -e SC3043,SC3045 -f gcc "${scripts[@]}" >"$out" 2>&1 ||
	st=1
tap $st "shellcheck (${#scripts[@]} scripts)" "$out"

tap_end
