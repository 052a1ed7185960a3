#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# setup.sh: install what fastecho's build, lint, test VM and benchmarks need.
#
# Idempotent and quick when everything is there (one dpkg-query call).
# As root it installs the missing Debian packages; otherwise it prints the
# exact command to run and exits 1.
set -euo pipefail

pkgs=(
	qemu-system-x86 busybox-static linux-image-amd64 linux-headers-amd64
	kmod cpio build-essential sparse liburing-dev gnuplot-nox bc flex bison
	libelf-dev libssl-dev dwarves xz-utils linux-source-6.1 clang-format dkms
	shellcheck iproute2 clang libbpf-dev zlib1g-dev
	gcc-12 debian-archive-keyring util-linux
)

# Packages dpkg does not report as fully installed.
missing=()
while read -r pkg status; do
	[[ "$status" == "installed" ]] || missing+=("$pkg")
done < <(for p in "${pkgs[@]}"; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	echo "$p ${s:-absent}"
done)

if ((${#missing[@]})); then
	cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
	if [[ $(id -u) -ne 0 ]]; then
		echo "setup.sh: missing packages: ${missing[*]}" >&2
		echo "Run:" >&2
		echo "  sudo ${cmd[*]}" >&2
		exit 1
	fi
	echo "setup.sh: installing: ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	# Fresh machines may have no package lists yet: update once and retry.
	if ! "${cmd[@]}"; then
		apt-get update
		"${cmd[@]}"
	fi
fi

# The Debian 6.1 kernel the test VM boots, and its headers.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
eval "$("$here/kernel.sh" env 6.1)"

# Debian's /boot/vmlinuz-* can be 0600: QEMU, run as a normal user, must be
# able to read it.
if [[ ! -r "$FE_VMLINUZ" ]]; then
	cache=${FASTECHO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fastecho}
	echo "setup.sh: $FE_VMLINUZ is not readable by $(id -un)." >&2
	echo "Run:" >&2
	echo "  mkdir -p $cache && sudo install -m 0644 -o $(id -un) $FE_VMLINUZ $cache/" >&2
	exit 1
fi

echo "setup.sh: ok (kernel $FE_KVER, headers $FE_KDIR)"
