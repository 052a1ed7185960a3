#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-module.sh [KERNEL]: build fastecho.ko for a test kernel.
#
# The build happens in build/k-KERNEL/, a directory of symlinks to the
# top-level sources (Kbuild, *.c, *.h), so that modules for several kernels
# can sit side by side without touching the top-level tree. Prints the path
# of the .ko on stdout; the compiler's output goes to stderr.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
name=${1:-6.1}

envlines=$("$root/scripts/kernel.sh" env "$name")
eval "$envlines"

shopt -s nullglob
# The module's own sources only: not kbuild's generated fastecho.mod.c from
# a top-level `make`, which would be shared (and rewritten) by every kernel.
srcs=()
for f in "$root"/*.c "$root"/*.h; do
	[[ $f == *.mod.c ]] || srcs+=("$f")
done
if [[ ! -f "$root/Kbuild" ]] || ((${#srcs[@]} == 0)); then
	echo "build-module.sh: no module sources (Kbuild, *.c) in $root" >&2
	exit 1
fi

out=$root/build/k-$name
mkdir -p "$out"
# Refresh the links: sources may have been added or removed since last time.
find "$out" -maxdepth 1 -type l -delete
for f in "$root/Kbuild" "${srcs[@]}"; do
	ln -s "$f" "$out/$(basename "$f")"
done

nice make -s -C "$FE_KDIR" M="$out" modules >&2
[[ -f "$out/fastecho.ko" ]] || {
	echo "build-module.sh: $out/fastecho.ko was not built" >&2
	exit 1
}
vermagic=$(modinfo -F vermagic "$out/fastecho.ko")
[[ $vermagic == "$FE_KVER "* ]] || {
	echo "build-module.sh: $out/fastecho.ko is for '$vermagic', not $FE_KVER" >&2
	exit 1
}
printf '%s\n' "$out/fastecho.ko"
