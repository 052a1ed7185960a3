#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kernel.sh - the extra kernels fastecho is tested on, without
# installing anything system-wide.
#
# Usage: scripts/fetch-kernel.sh env NAME     print FE_KNAME= FE_KVER= FE_VMLINUZ=
#                                             FE_KDIR= FE_MODDIR= (eval-able);
#                                             fetches 6.12/rt first if needed
#        scripts/fetch-kernel.sh fetch NAME   download and unpack (or build) NAME
#        scripts/fetch-kernel.sh sources      print the private sources.list it
#                                             would use (no network, no cache)
#
# NAME is one of:
#   6.12   newest Debian 6.12 kernel for bookworm (bookworm-backports or
#          bookworm-security, whichever has the newest ABI), generic amd64 flavour
#   rt     newest Debian bookworm 6.1 PREEMPT_RT kernel (rt-amd64 flavour)
#   debug  the KASAN/lockdep kernel built by scripts/build-debug-kernel.sh
#          (`fetch debug` runs that build; `env debug` fails if it is not built)
#
# Debian packages are fetched with a private apt configuration under
# $CACHE/apt (own sources.list, lists, cache and an empty dpkg status) and
# unpacked with `dpkg -x` into $CACHE/kernels/NAME/root. The system's apt
# sources and installed packages are not touched. Absolute paths inside the
# unpacked headers (the -common Makefile include, lib/modules/VER/build and
# source links) are rewritten to point inside that root, so FE_KDIR works as
# `make -C $FE_KDIR M=...` as long as the cache directory is not moved.
#
# The archive comes from the system's own apt sources, so a local mirror or
# proxy configured there is used: the first `deb` entry (one-line
# sources.list and sources.list.d/*.list, deb822 sources.list.d/*.sources;
# disabled stanzas and other file names ignored) with suite bookworm,
# bookworm-updates or bookworm-backports names the main archive, the first
# with bookworm-security the security archive. The private sources.list has
# bookworm, bookworm-updates and bookworm-backports from the main archive and
# bookworm-security from the security one, component main, signed by
# debian-archive-keyring.
#
# Environment:
#   FASTECHO_CACHE      cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/fastecho)
#   FE_KABI_612         pin the 6.12 ABI, e.g. 6.12.117+deb12 (default: newest)
#   FE_KABI_RT          pin the rt ABI, e.g. 6.1.0-56 (default: newest)
#   FE_APT_UPDATE=1     force `apt-get update` of the private lists
#   FE_DEBIAN_ARCHIVE   URI of the Debian main archive (the one that has
#                       dists/bookworm-backports); default: from the apt sources
#   FE_DEBIAN_SECURITY  URI of the Debian security archive (dists/bookworm-security);
#                       default: from the apt sources
#   FE_APT_ETC          where the apt sources are read (default /etc/apt)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${FASTECHO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fastecho}
apt_etc=${FE_APT_ETC:-/etc/apt}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
aptdir=$cache/apt

log() { echo "fetch-kernel: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}
usage() {
	echo "usage: $0 env|fetch 6.12|rt|debug" >&2
	echo "       $0 sources" >&2
	exit 2
}

# ---------------------------------------------------------------------------
# The archive URIs, from the system's apt sources.

# The apt source files in the order apt reads them. apt skips other names
# in sources.list.d (*.disabled-by-farm, *.save, ...), and so do we.
source_files() {
	local f
	[ ! -f "$apt_etc/sources.list" ] || echo "$apt_etc/sources.list"
	for f in "$apt_etc"/sources.list.d/*.list "$apt_etc"/sources.list.d/*.sources; do
		[ -f "$f" ] && echo "$f"
	done | LC_ALL=C sort
}

# oneline_entries FILE: "URI SUITE" for each `deb [opts] URI SUITE comps` line.
oneline_entries() {
	sed -e 's/#.*//' -e 's/^[[:space:]]*//' "$1" |
		sed -En -e '/^deb[[:space:]]/!d' -e 's/^deb[[:space:]]+//' \
			-e 's/^\[[^]]*\][[:space:]]*//' \
			-e 's/^([^[:space:]]+)[[:space:]]+([^[:space:]]+).*/\1 \2/p'
}

# deb822_entries FILE: "URI SUITE" for each URI and suite of every enabled
# stanza whose Types include deb. Stanzas end at blank lines; comment lines
# are dropped; field names are case-insensitive; continuation lines (leading
# white space) extend the field before them.
deb822_entries() {
	awk '
	function flush(  nt, nu, ns, t, u, s, deb, i, j) {
		nt = split(f["types"], t); nu = split(f["uris"], u)
		ns = split(f["suites"], s)
		deb = 0
		for (i = 1; i <= nt; i++) if (t[i] == "deb") deb = 1
		if (deb && tolower(f["enabled"]) !~ /^[ \t]*(no|false|off|0)[ \t]*$/)
			for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++)
				print u[i], s[j]
		delete f; key = ""
	}
	/^#/ { next }
	/^[ \t]*$/ { flush(); next }
	/^[ \t]/ { if (key != "") f[key] = f[key] " " $0; next }
	{
		p = index($0, ":"); if (!p) next
		key = tolower(substr($0, 1, p - 1)); f[key] = substr($0, p + 1)
	}
	END { flush() }
	' "$1"
}

# All "URI SUITE" pairs of the apt sources, in apt's order.
apt_entries() {
	local f
	while IFS= read -r f; do
		case "$f" in
		*.sources) deb822_entries "$f" ;;
		*) oneline_entries "$f" ;;
		esac
	done < <(source_files)
}

# find_archives: set $archive and $security (the overrides, else the first
# apt source serving each), or die saying what was read and what to set.
find_archives() {
	local uri suite
	archive=${FE_DEBIAN_ARCHIVE:-} security=${FE_DEBIAN_SECURITY:-}
	if [ -z "$archive" ] || [ -z "$security" ]; then
		while read -r uri suite; do
			case "$suite" in
			bookworm | bookworm-updates | bookworm-backports) : "${archive:=$uri}" ;;
			bookworm-security) : "${security:=$uri}" ;;
			esac
		done < <(apt_entries)
	fi
	local where="$apt_etc/sources.list and $apt_etc/sources.list.d/*.{list,sources}"
	[ -n "$archive" ] || die "no Debian bookworm archive (a deb entry with suite bookworm," \
		"bookworm-updates or bookworm-backports) in $where; set FE_DEBIAN_ARCHIVE=URI"
	[ -n "$security" ] || die "no Debian security archive (a deb entry with suite" \
		"bookworm-security) in $where; set FE_DEBIAN_SECURITY=URI"
}
archive="" security=""

# The private sources.list, from $archive and $security.
private_sources() {
	local suite
	for suite in bookworm bookworm-updates bookworm-backports; do
		echo "deb [signed-by=$keyring] $archive $suite main"
	done
	echo "deb [signed-by=$keyring] $security bookworm-security main"
}

# ---------------------------------------------------------------------------
# Private apt configuration.

apt_opts=(
	-o "Dir::Etc::SourceList=$aptdir/etc/sources.list"
	-o "Dir::Etc::SourceParts=$aptdir/etc/sources.list.d"
	-o "Dir::Etc::Preferences=$aptdir/etc/preferences"
	-o "Dir::Etc::PreferencesParts=$aptdir/etc/preferences.d"
	-o "Dir::State::Lists=$aptdir/lists"
	-o "Dir::State::status=$aptdir/status"
	-o "Dir::Cache=$aptdir/cache"
	-o "APT::Architecture=amd64"
	-o "Acquire::Languages=none"
	# The cache is usually under /root: apt's _apt user could not write it.
	-o "APT::Sandbox::User=root"
)
papt_get() { apt-get -q "${apt_opts[@]}" "$@"; }
papt_cache() { apt-cache "${apt_opts[@]}" "$@"; }

# Create the private configuration and refresh the package lists when they
# are missing, older than a day, or FE_APT_UPDATE=1.
apt_setup() {
	command -v apt-get >/dev/null || die "apt-get not found (Debian/Ubuntu host needed)"
	[ -r "$keyring" ] || die "$keyring missing (apt-get install debian-archive-keyring)"
	mkdir -p "$aptdir/etc/sources.list.d" "$aptdir/etc/preferences.d" \
		"$aptdir/lists/partial" "$aptdir/cache/archives/partial"
	touch "$aptdir/status"
	local sources list=$aptdir/etc/sources.list changed=0
	find_archives
	log "archive $archive, security archive $security"
	sources=$(private_sources)
	if [ "$sources" != "$(cat "$list" 2>/dev/null)" ]; then
		printf '%s\n' "$sources" >"$list"
		changed=1
	fi

	# Lists older than a day, or from other sources, are refreshed.
	local fresh
	fresh=$(find "$aptdir/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 | head -n1)
	if [ -z "$fresh" ] || [ "$changed" = 1 ] || [ "${FE_APT_UPDATE:-0}" = 1 ]; then
		log "apt-get update (private lists in $aptdir)"
		papt_get update >&2
		apt_updated=1
	fi
}
apt_updated=0

# Newest ABI among real packages matching an extended regex whose first
# group is the ABI, e.g. '^linux-image-(6\.12\.[0-9]+\+deb12[.0-9]*)-amd64-unsigned$'.
newest_abi() {
	papt_cache search --names-only "$1" | cut -d' ' -f1 |
		sed -En "s/$1/\\1/p" | sort -V | tail -n1
}

# The kernel image package: the -unsigned one when it exists (same binary
# without the Secure Boot signature), else the signed one.
image_package() {
	local kver=$1
	if papt_cache show "linux-image-$kver-unsigned" >/dev/null 2>&1; then
		echo "linux-image-$kver-unsigned"
	else
		echo "linux-image-$kver"
	fi
}

# Headers package plus the -common headers and linux-kbuild it depends on.
headers_packages() {
	local kver=$1
	echo "linux-headers-$kver"
	papt_cache depends "linux-headers-$kver" |
		sed -En 's/^ *Depends: (linux-(headers|kbuild)-[^ ]+).*/\1/p' | sort -u
}

# ---------------------------------------------------------------------------
# Unpacking and path fix-ups.

# fix_paths TREE ROOT: TREE is unpacked now and will be renamed to ROOT.
# Rewrite its absolute symlinks and the absolute `include` of Debian's
# headers Makefiles so they point inside ROOT.
fix_paths() {
	local tree=$1 root=$2 link target mk
	while IFS= read -r -d '' link; do
		target=$(readlink "$link")
		case "$target" in
		/*) ln -sfn "$root$target" "$link" ;;
		esac
	done < <(find "$tree" -type l -print0)
	for mk in "$tree"/usr/src/linux-headers-*/Makefile; do
		[ -f "$mk" ] || continue
		sed -i -E "s#^(-?include )/usr/src/#\\1$root/usr/src/#" "$mk"
	done
}

# fetch_debian NAME: download and unpack the newest kernel of that kind.
fetch_debian() {
	local name=$1 abi kver
	local dir=$cache/kernels/$name
	# One fetch at a time per kernel (the harness may ask from two places).
	mkdir -p "$cache/kernels"
	exec 9>"$cache/kernels/.$name.lock"
	flock 9
	apt_setup
	case "$name" in
	6.12)
		abi=${FE_KABI_612:-$(newest_abi '^linux-image-(6\.12\.[0-9]+\+deb12[.0-9]*)-amd64-unsigned$')}
		kver=$abi-amd64
		;;
	rt)
		abi=${FE_KABI_RT:-$(newest_abi '^linux-image-(6\.1\.0-[0-9]+)-rt-amd64-unsigned$')}
		kver=$abi-rt-amd64
		;;
	esac
	[ -n "$abi" ] || die "no $name kernel found in the package lists ($aptdir/lists)"

	if [ -f "$dir/kernel.env" ] && grep -qxF "FE_KVER=$kver" "$dir/kernel.env"; then
		log "$name: $kver already unpacked in $dir/root"
		return 0
	fi

	# Download and unpack next to the current tree and switch only when
	# the new one is complete: a failed fetch keeps the old kernel usable.
	local pkgs new=$dir/new
	mapfile -t pkgs < <(image_package "$kver"; headers_packages "$kver")
	log "$name: $kver: downloading ${pkgs[*]}"
	rm -rf "$new"
	mkdir -p "$new/debs"
	if ! (cd "$new/debs" && papt_get download "${pkgs[@]}" >&2); then
		rm -rf "$new"
		# Debian removes superseded kernels from the archive: with lists
		# from an earlier run, refresh them and pick the newest again.
		[ "$apt_updated" = 0 ] || die "$name: download of $kver failed"
		log "$name: download failed, refreshing the package lists"
		exec 9>&-
		FE_APT_UPDATE=1 fetch_debian "$name"
		return
	fi

	log "$name: unpacking into $dir/root"
	mkdir -p "$new/root"
	local deb
	for deb in "$new"/debs/*.deb; do
		dpkg -x "$deb" "$new/root"
	done
	fix_paths "$new/root" "$dir/root"
	[ -f "$new/root/boot/vmlinuz-$kver" ] || die "no boot/vmlinuz-$kver in the image package"
	[ -f "$new/root/usr/src/linux-headers-$kver/Makefile" ] || die "no headers for $kver"

	rm -rf "$dir/kernel.env" "$dir/root" "$dir/debs"
	mv "$new/root" "$dir/root"
	mv "$new/debs" "$dir/debs"
	rmdir "$new"
	# Written last: its presence means the unpacked tree is complete.
	echo "FE_KVER=$kver" >"$dir/kernel.env"
	log "$name: ready ($kver)"
}

# ---------------------------------------------------------------------------
# The interface: eval-able lines.

print_env() {
	printf 'FE_KNAME=%q\nFE_KVER=%q\nFE_VMLINUZ=%q\nFE_KDIR=%q\nFE_MODDIR=%q\n' "$@"
}

env_debian() {
	local name=$1 dir=$cache/kernels/$1 kver
	if [ ! -f "$dir/kernel.env" ]; then
		log "$name kernel not fetched yet, fetching it now"
		fetch_debian "$name"
	fi
	kver=$(sed -n 's/^FE_KVER=//p' "$dir/kernel.env")
	print_env "$name" "$kver" "$dir/root/boot/vmlinuz-$kver" \
		"$dir/root/usr/src/linux-headers-$kver" "$dir/root/lib/modules/$kver"
}

env_debug() {
	local top=$cache/debug build=$cache/debug/build kver
	if [ ! -f "$build/.fastecho-stamp" ] || [ ! -f "$build/arch/x86/boot/bzImage" ]; then
		die "debug kernel not built: run scripts/build-debug-kernel.sh (or $0 fetch debug); takes 30+ minutes on 2 CPUs"
	fi
	kver=$(cat "$build/include/config/kernel.release")
	print_env debug "$kver" "$build/arch/x86/boot/bzImage" "$build" "$top/root/lib/modules/$kver"
}

[ "${1:-}" != sources ] || {
	[ $# = 1 ] || usage
	find_archives
	private_sources
	exit
}
[ $# = 2 ] || usage
cmd=$1 name=$2
case "$cmd:$name" in
env:6.12 | env:rt) env_debian "$name" ;;
env:debug) env_debug ;;
fetch:6.12 | fetch:rt) fetch_debian "$name" ;;
fetch:debug) "$here/build-debug-kernel.sh" ;;
*) usage ;;
esac
