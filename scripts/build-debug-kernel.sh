#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-debug-kernel.sh - build the fastecho debug kernel (Linux 6.1 with
# KASAN, lockdep, kmemleak, hung-task and soft-lockup detectors) for QEMU.
#
# Usage: scripts/build-debug-kernel.sh [-f|--force]
#
# Source:  Debian's /usr/src/linux-source-6.1.tar.xz (package linux-source-6.1),
#          unpacked once into $CACHE/debug/src.
# Config:  x86_64_defconfig + scripts/debug.config (merge_config.sh).
# Output:  $CACHE/debug/build         out-of-tree build dir, usable as KDIR
#                                     (arch/x86/boot/bzImage, Module.symvers)
#          $CACHE/debug/root/lib/modules/VER   installed in-tree modules
#          $CACHE/debug/build-time.txt elapsed time of each build (appended)
# A second run with the same fragment and source is a no-op
# (stamp file $CACHE/debug/build/.fastecho-stamp).
#
# Environment: FASTECHO_CACHE (cache root), FE_LINUX_SOURCE (tarball),
#              JOBS (make -j, default: number of CPUs), FE_BUILD_NICE (what
#              the compile adds to the nice value, default 19; .ci/run,
#              which runs the whole script at nice 10, sets 0).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${FASTECHO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fastecho}
tarball=${FE_LINUX_SOURCE:-/usr/src/linux-source-6.1.tar.xz}
fragment=$here/debug.config
jobs=${JOBS:-$(nproc)}
nice_inc=${FE_BUILD_NICE:-19}
top=$cache/debug
src=$top/src
build=$top/build
stamp=$build/.fastecho-stamp

force=0
case "${1:-}" in
-f | --force) force=1 ;;
"") ;;
*)
	echo "usage: $0 [-f|--force]" >&2
	exit 2
	;;
esac

log() { echo "build-debug-kernel: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

[ -r "$tarball" ] || die "$tarball not found (apt-get install linux-source-6.1)"
[ -r "$fragment" ] || die "$fragment not found"

# The stamp identifies what was built: the config lines of the fragment
# (comments do not count) and the source version (Debian package version
# when known, else the tarball's size and mtime, which change with every
# new linux-source upload).
source_version() {
	local pkgver
	pkgver=$(dpkg-query -W -f '${Version}' linux-source-6.1 2>/dev/null || true)
	echo "linux-source-6.1 ${pkgver:-unknown} $(stat -c '%s %Y' "$tarball")"
}
want_stamp=$( {
	source_version
	grep -E '^(CONFIG_[A-Za-z0-9_]+=|# CONFIG_[A-Za-z0-9_]+ is not set)' "$fragment"
} | sha256sum | cut -d' ' -f1)

if [ "$force" = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ] &&
	[ -f "$build/arch/x86/boot/bzImage" ] && [ -f "$build/Module.symvers" ]; then
	log "up to date: $build (stamp $want_stamp)"
	exit 0
fi

mkdir -p "$top"

# 1. Unpack the source once. Unpack to a temporary directory and rename it
#    at the end, so an interrupted run never leaves a half tree behind.
#    A source tree from another version is replaced.
srcver=$(source_version)
if [ ! -f "$src/.fastecho-source" ] || [ "$(cat "$src/.fastecho-source")" != "$srcver" ]; then
	log "unpacking $tarball into $src"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xf "$tarball" -C "$src.tmp" --strip-components=1
	echo "$srcver" >"$src.tmp/.fastecho-source"
	mv "$src.tmp" "$src"
	# New source: the old build directory is stale.
	rm -rf "$build"
fi

# 2. Configure out of tree: defconfig, merge the fragment, resolve.
mkdir -p "$build"
rm -f "$stamp"
kmake() { make -C "$src" O="$build" "$@"; }

log "configuring (x86_64_defconfig + $(basename "$fragment"))"
kmake -s x86_64_defconfig
(cd "$src" && scripts/kconfig/merge_config.sh -m -O "$build" "$build/.config" "$fragment") >/dev/null
kmake -s olddefconfig

# Check that every symbol of the fragment got the value we asked for
# (Kconfig silently drops values whose dependencies are not met).
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF -- "$line" "$build/.config" || {
			log "config mismatch: wanted '$line', got '$(grep -E "^(# )?${line%%=*}[= ]" "$build/.config" || echo absent)'"
			bad=1
		}
		;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		if grep -qE "^$sym=" "$build/.config"; then
			log "config mismatch: wanted '$line', got '$(grep -E "^$sym=" "$build/.config")'"
			bad=1
		fi
		;;
	esac
done <"$fragment"
[ "$bad" = 0 ] || die "the resolved .config does not match $fragment"

# 3. Build the kernel image and the in-tree modules, then install the
#    modules into $top/root (FE_MODDIR for the guest). `make modules`
#    leaves Module.symvers and a prepared tree for `make -C KDIR M=...`.
log "building with -j$jobs (this takes a while)"
start=$(date +%s)
nice -n "$nice_inc" make -C "$src" O="$build" -j"$jobs" bzImage modules
kmake -s modules_prepare
# Only now is CONFIG_LOCALVERSION part of the release string.
kver=$(kmake -s kernelrelease)
rm -rf "$top/root"
kmake -s INSTALL_MOD_PATH="$top/root" INSTALL_MOD_STRIP=1 modules_install
end=$(date +%s)

elapsed=$((end - start))
printf '%s built in %dm%02ds with -j%s on %s (%s)\n' "$kver" $((elapsed / 60)) $((elapsed % 60)) \
	"$jobs" "$(nproc) CPUs" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" | tee -a "$top/build-time.txt" >&2

echo "$want_stamp" >"$stamp"
log "done: $build/arch/x86/boot/bzImage, modules in $top/root/lib/modules/$kver"
