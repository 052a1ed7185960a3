#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run-check.sh: test `make run` end to end, from the host. Starts
# scripts/run.sh with its console on a pipe, waits for fastecho's load line,
# echoes through the forwarded host port (bash's /dev/tcp on 127.0.0.1),
# reads /proc/net/fastecho in the guest shell, types `exit` and expects the
# unload line and QEMU gone. Prints TAP.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kernel=${KERNEL:-6.1}
port=$((20000 + RANDOM % 20000))
dir=$(mktemp -d)
out=$dir/console
fifo=$dir/in
mkfifo "$fifo"
n=0
failed=0
tap() { # tap STATUS NAME
	n=$((n + 1))
	if [[ $1 == 0 ]]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
# wait_for PATTERN SECONDS: until the console shows PATTERN. Every time
# limit here only catches a hang.
wait_for() {
	local t=0
	until grep -q "$1" "$out" 2>/dev/null; do
		((t++ < $2 * 5)) || return 1
		kill -0 "$qpid" 2>/dev/null || return 1
		sleep 0.2
	done
}

HOSTPORT=$port "$root/scripts/run.sh" --kernel "$kernel" -- \
	max_conns=7 <"$fifo" >"$out" 2>&1 &
qpid=$!
exec 3>"$fifo"
cleanup() {
	exec 3>&- 2>/dev/null || true
	kill "$qpid" 2>/dev/null || true
	wait "$qpid" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT

st=0
wait_for 'fastecho: listening on' 300 || st=1
tap $st "make run: fastecho loaded in the VM with ARGS (max_conns=7)"
grep -q 'max_conns 7' "$out" || st=1

# Echo through the forwarded port, from the host.
st=1
msg="hello from the host $$"
for _ in 1 2 3 4 5; do
	if exec 4<>"/dev/tcp/127.0.0.1/$port"; then
		printf '%s\n' "$msg" >&4
		if IFS= read -r -t 60 reply <&4 && [[ $reply == "$msg" ]]; then
			st=0
		fi
		exec 4>&-
		break
	fi
	sleep 1
done
tap $st "make run: host 127.0.0.1:$port echoes through the guest's fastecho"

# The guest shell works; exit unloads and powers off.
echo 'grep ^accepted /proc/net/fastecho' >&3
st=0
wait_for '^accepted 1' 60 || st=1
tap $st "make run: guest shell reads /proc/net/fastecho"

echo exit >&3
st=0
wait_for 'fastecho: unloaded: 1 connections served' 60 || st=1
for _ in $(seq 1 300); do
	kill -0 "$qpid" 2>/dev/null || break
	sleep 0.2
done
kill -0 "$qpid" 2>/dev/null && st=1
tap $st "make run: exit in the guest shell unloads fastecho and powers off"

if ((failed)); then
	echo "# console:"
	tail -n 40 "$out" | sed 's/^/# /'
fi
echo "$((n - failed)) passed, $failed failed"
((failed == 0))
