#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# apt-sources.sh: host-side TAP test of where scripts/fetch-kernel.sh takes
# the Debian archive from. Builds apt directories in a temp dir (deb822 and
# one-line sources, comments, disabled stanzas and files, other
# repositories) and compares `FE_APT_ETC=DIR fetch-kernel.sh sources` with
# the private sources.list expected. No network, no cache, no root.
#
# The URIs are made up, under the reserved .test domain (RFC 6761).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fetch=$root/scripts/fetch-kernel.sh
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=scripts/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/tap.sh"

# fixture NAME: a fresh apt directory; prints its path.
fixture() {
	local d=$tmp/$1
	mkdir -p "$d/sources.list.d"
	echo "$d"
}

# sources DIR [VAR=VALUE...]: what fetch-kernel.sh derives from DIR, stdout
# and stderr, with the overrides of the caller's environment removed.
sources() {
	local d=$1
	shift
	env -u FE_DEBIAN_ARCHIVE -u FE_DEBIAN_SECURITY FE_APT_ETC="$d" "$@" \
		"$fetch" sources 2>&1
}

# expected MAIN SECURITY: the private sources.list for those archives.
expected() {
	local s
	for s in bookworm bookworm-updates bookworm-backports; do
		echo "deb [signed-by=$keyring] $1 $s main"
	done
	echo "deb [signed-by=$keyring] $2 bookworm-security main"
}

# derives NAME DIR MAIN SECURITY [VAR=VALUE...]: DIR gives that sources.list.
derives() {
	local name=$1 d=$2 main=$3 sec=$4 out=$tmp/out st=0
	shift 4
	sources "$d" "$@" >"$out" || st=1
	expected "$main" "$sec" | diff -u - "$out" >"$tmp/diff" || st=1
	[[ $st == 0 ]] || cat "$out" >>"$tmp/diff"
	tap $st "$name" "$tmp/diff"
}

# fails NAME DIR PATTERN [VAR=VALUE...]: exit status 1 and only an error
# matching PATTERN (extended regex), no sources.list.
fails() {
	local name=$1 d=$2 pat=$3 out=$tmp/out st=0 rc=0
	shift 3
	sources "$d" "$@" >"$out" || rc=$?
	[[ $rc == 1 ]] || st=1
	grep -Eq "$pat" "$out" || st=1
	! grep -q '^deb ' "$out" || st=1
	[[ $st == 0 ]] || echo "exit status $rc" >>"$out"
	tap $st "$name" "$out"
}

# --- deb822: the stock two-stanza file, comments inside stanzas -------------
d=$(fixture deb822)
cat >"$d/sources.list.d/debian.sources" <<'EOF'
Types: deb
# http://snapshot.test/archive/debian/20250520T000000Z
URIs: http://mirror-a.test/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.test/archive/debian-security/20250520T000000Z
URIs: http://mirror-a.test/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
derives "deb822, two stanzas: main and security archive" "$d" \
	http://mirror-a.test/debian http://mirror-a.test/debian-security

# --- deb822: commented stanza, Enabled: no, deb-src, other repository -------
d=$(fixture deb822-skip)
cat >"$d/sources.list.d/00-other.sources" <<'EOF'
# Not Debian: a suite that only contains the word.
Types: deb
URIs: http://vendor.test/apt
Suites: cloud-sdk-bookworm nodistro
Components: main
EOF
cat >"$d/sources.list.d/debian.sources" <<'EOF'
# Types: deb
# URIs: http://commented.test/debian
# Suites: bookworm bookworm-security
# Components: main

Types: deb
URIs: http://disabled.test/debian
Suites: bookworm bookworm-security
Components: main
Enabled: no

Types: deb-src
URIs: http://src.test/debian
Suites: bookworm
Components: main

types: deb-src deb
uris:
# a comment inside a field: the proxy first, then the mirror
 http://mirror-b.test/debian
 http://mirror-c.test/debian
suites: bookworm
  bookworm-updates
components: main
enabled: yes

Types: deb
URIs: http://mirror-b.test/debian-security
Suites: bookworm-security
Components: main
EOF
derives "deb822: commented stanza, Enabled: no, deb-src, non-Debian repo skipped, fields folded" \
	"$d" http://mirror-b.test/debian http://mirror-b.test/debian-security

# --- one-line sources.list and *.list with options ----------------------------
d=$(fixture oneline)
cat >"$d/sources.list" <<'EOF'
# deb http://commented.test/debian bookworm main
deb-src http://src.test/debian bookworm main
deb https://vendor.test/apt cloud-sdk-bookworm main
	deb   [ arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg ]  http://proxy.test:3142/debian   bookworm main contrib # the proxy
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://other.test/debian bookworm-updates main
EOF
cat >"$d/sources.list.d/security.list" <<'EOF'
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://proxy.test:3142/debian-security bookworm-security main
EOF
derives "one-line: [options], comments, deb-src, non-Debian repo skipped" "$d" \
	http://proxy.test:3142/debian http://proxy.test:3142/debian-security

# --- files apt does not read -------------------------------------------------
d=$(fixture disabled)
cat >"$d/sources.list.d/aaa.list.disabled-by-farm" <<'EOF'
deb http://farm.test/debian bookworm main
deb http://farm.test/debian-security bookworm-security main
EOF
cat >"$d/sources.list.d/aaa.sources.disabled-by-farm" <<'EOF'
Types: deb
URIs: http://farm.test/debian
Suites: bookworm bookworm-security
EOF
cat >"$d/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: file:/srv/mirror/debian
Suites: bookworm-updates
Components: main
EOF
cat >"$d/sources.list.d/security.list" <<'EOF'
deb file:/srv/mirror/debian-security bookworm-security main
EOF
derives "*.disabled-by-farm files ignored, security from its own file" "$d" \
	file:/srv/mirror/debian file:/srv/mirror/debian-security

# --- security only: main archive missing -------------------------------------
d=$(fixture security-only)
cp "$tmp/disabled/sources.list.d/security.list" "$d/sources.list.d/"
fails "security only: error names what was read and FE_DEBIAN_ARCHIVE" "$d" \
	"error: .*$d/sources.list.*FE_DEBIAN_ARCHIVE="
derives "security only + FE_DEBIAN_ARCHIVE: the override is the main archive" \
	"$d" http://override.test/debian file:/srv/mirror/debian-security \
	FE_DEBIAN_ARCHIVE=http://override.test/debian

# --- no bookworm at all -------------------------------------------------------
d=$(fixture none)
cat >"$d/sources.list" <<'EOF'
deb http://mirror-a.test/debian trixie main
deb http://mirror-a.test/debian-security trixie-security main
EOF
cat >"$d/sources.list.d/other.sources" <<'EOF'
Types: deb
URIs: http://vendor.test/apt
Suites: nodistro
EOF
fails "no bookworm entry: error" "$d" "FE_DEBIAN_ARCHIVE="
fails "no bookworm entry, FE_DEBIAN_ARCHIVE set: error names FE_DEBIAN_SECURITY" \
	"$d" "FE_DEBIAN_SECURITY=" FE_DEBIAN_ARCHIVE=http://override.test/debian
fails "no apt directory at all: error" "$tmp/nonexistent" "FE_DEBIAN_ARCHIVE="

# --- overrides win over the sources ------------------------------------------
derives "FE_DEBIAN_ARCHIVE and FE_DEBIAN_SECURITY override the apt sources" \
	"$tmp/deb822" file:/srv/a file:/srv/s \
	FE_DEBIAN_ARCHIVE=file:/srv/a FE_DEBIAN_SECURITY=file:/srv/s

tap_end
