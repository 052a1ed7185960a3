#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-check.sh: prove dkms.conf works: dkms add, build against the installed
# 6.1 headers, then remove again. Needs root and the dkms package; it copies
# the sources to /usr/src/fastecho-VERSION and leaves nothing behind.
# Prints one TAP line.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$root/dkms.conf")
eval "$("$root/scripts/kernel.sh" env "${KERNEL:-6.1}")"
name="dkms add/build against $FE_KVER"

if ((EUID != 0)) || ! command -v dkms >/dev/null; then
	echo "ok 1 - $name # SKIP needs root and dkms (apt-get install dkms)"
	exit 0
fi

src=/usr/src/fastecho-$ver
log=$(mktemp)
cleanup() {
	dkms remove "fastecho/$ver" --all >/dev/null 2>&1 || true
	rm -rf "$src" "$log"
}
trap cleanup EXIT
cleanup
trap cleanup EXIT

mkdir -p "$src"
cp "$root"/{Makefile,Kbuild,dkms.conf,fastecho_*.c,fastecho*.h} "$src/"
mkdir -p "$src/scripts"
cp "$root/scripts/kernel.sh" "$src/scripts/"
if dkms add "fastecho/$ver" >"$log" 2>&1 &&
	dkms build "fastecho/$ver" -k "$FE_KVER" >>"$log" 2>&1 &&
	ko=$(find "/var/lib/dkms/fastecho/$ver/$FE_KVER" -name 'fastecho.ko*' | head -n1) &&
	[[ -n $ko ]] && modinfo -F vermagic "$ko" | grep -q "^$FE_KVER "; then
	echo "ok 1 - $name"
else
	echo "not ok 1 - $name"
	sed 's/^/# /' "$log" | tail -n 30
	exit 1
fi
