#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel.sh: tell the harness where a test kernel lives.
#
#   scripts/kernel.sh env  [NAME]   eval-able FE_KNAME= FE_KVER= FE_VMLINUZ= FE_KDIR= FE_MODDIR=
#   scripts/kernel.sh kdir [NAME]   only FE_KDIR (the kbuild tree to build fastecho.ko against)
#
# NAME "6.1" (the default) is Debian's installed 6.1 kernel, the one that
# linux-image-amd64 depends on. Any other NAME (6.12, rt, debug, ...) is
# delegated to scripts/fetch-kernel.sh, which prints the same lines.
#
# /boot/vmlinuz-* is mode 0600 on some Debian installs. A non-root user can
# use a readable copy in the cache instead:
#   sudo install -m 0644 /boot/vmlinuz-VER "$CACHE/vmlinuz-VER"
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${FASTECHO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fastecho}

die() { echo "kernel.sh: $*" >&2; exit 1; }

# The version of Debian's 6.1 kernel image: what linux-image-amd64 depends
# on (e.g. 6.1.0-56-amd64), else the newest /boot/vmlinuz-6.1.*-amd64.
debian_61_version() {
	local dep ver=""
	dep=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null || true)
	# "linux-image-6.1.0-56-amd64 (= 6.1.192-2)" -> 6.1.0-56-amd64
	ver=$(printf '%s\n' "$dep" | tr ',|' '\n\n' |
		sed -n 's/^ *linux-image-\(6\.1\.[^ ]*\).*/\1/p' | head -n1)
	if [[ -z "$ver" ]]; then
		ver=$(ls /boot/vmlinuz-6.1.*-amd64 2>/dev/null | sed 's|.*/vmlinuz-||' |
			sort -V | tail -n1 || true)
	fi
	[[ -n "$ver" ]] || die "no Debian 6.1 kernel found (run scripts/setup.sh)"
	printf '%s\n' "$ver"
}

env_61() {
	local ver vmlinuz kdir
	ver=$(debian_61_version)
	vmlinuz=/boot/vmlinuz-$ver
	if [[ ! -r "$vmlinuz" && -r "$cache/vmlinuz-$ver" ]]; then
		vmlinuz=$cache/vmlinuz-$ver
	fi
	kdir=/usr/src/linux-headers-$ver
	[[ -e "$vmlinuz" ]] || die "$vmlinuz missing (apt-get install linux-image-$ver)"
	if [[ ! -r "$vmlinuz" ]]; then
		echo "kernel.sh: warning: $vmlinuz is not readable by $(id -un);" \
			"run: sudo install -m 0644 $vmlinuz $cache/vmlinuz-$ver" >&2
	fi
	[[ -d "$kdir" ]] || die "$kdir missing (apt-get install linux-headers-$ver)"
	printf 'FE_KNAME=%q\nFE_KVER=%q\nFE_VMLINUZ=%q\nFE_KDIR=%q\nFE_MODDIR=%q\n' \
		6.1 "$ver" "$vmlinuz" "$kdir" "/lib/modules/$ver"
}

env_of() {
	local name=$1
	case "$name" in
	6.1 | "" | default | stock)
		env_61
		;;
	*)
		[[ -x "$here/fetch-kernel.sh" ]] ||
			die "kernel '$name' needs scripts/fetch-kernel.sh, which is missing"
		"$here/fetch-kernel.sh" env "$name"
		;;
	esac
}

cmd=${1:-}
name=${2:-6.1}
case "$cmd" in
env)
	env_of "$name"
	;;
kdir)
	out=$(env_of "$name")
	eval "$out"
	printf '%s\n' "$FE_KDIR"
	;;
*)
	echo "usage: $0 env|kdir [KERNEL]   (KERNEL: 6.1 (default), 6.12, rt, debug)" >&2
	exit 2
	;;
esac
