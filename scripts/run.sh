#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh: `make run`: build, boot a VM with fastecho loaded, and forward a
# host port to it, so that `nc 127.0.0.1 12345` on the host echoes through
# the in-kernel server.
#
#   scripts/run.sh [--kernel NAME] [--smp N] [--hostport N] -- [insmod parameters]
#
# The host port defaults to HOSTPORT, else the guest's port= parameter, else
# 12345. The guest console is this terminal. In the guest shell, exit or
# Ctrl-D unloads fastecho and powers off.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kernel=6.1
smp=2
hostport=${HOSTPORT:-}

while (($#)); do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--hostport) hostport=$2; shift 2 ;;
	--) shift; break ;;
	*) break ;;
	esac
done

guestport=12345
for a in "$@"; do
	case "$a" in port=*) guestport=${a#port=} ;; esac
done
hostport=${hostport:-$guestport}

"$root/scripts/setup.sh" >&2
echo "run.sh: host 127.0.0.1:$hostport -> guest port $guestport" >&2
exec "$root/scripts/vm.sh" --kernel "$kernel" --smp "$smp" --mem 1G \
	--timeout 0 --interactive --hostfwd "$hostport:$guestport" \
	-- sh /fe/run-guest.sh "$hostport" "$@"
