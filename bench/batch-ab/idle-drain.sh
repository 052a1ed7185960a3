#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# idle-drain.sh: 10 000 idle connections to fastecho, then the client exits:
# how many packets the network stack drops (second column of
# /proc/net/softnet_stat) and how long until fastecho has seen every
# connection close, for each batch_conns value in BCS (default "2 0 2 0").
# Copy it to bench/ and run it in the guest:
#   scripts/vm.sh --smp 1 --mem 4G -- sh /fe/bench/idle-drain.sh

# shellcheck source=bench/guest-lib.sh
. "$(dirname "$0")/guest-lib.sh"
net_setup
echo "max_orphans $(cat /proc/sys/net/ipv4/tcp_max_orphans) backlog $(cat /proc/sys/net/core/netdev_max_backlog)"
insmod /fe/fastecho.ko port=12345 max_conns=12000

# packets dropped on CPU 0's backlog (hex in the file), connections active
drops() { echo $((0x$(awk '{ print $2; exit }' /proc/net/softnet_stat))); }
active() { awk '$1 == "active" { print $2 }' /proc/net/fastecho; }
# a TcpExt counter from /proc/net/netstat
tcpext() {
	awk -v k="$1" 'NR % 2 == 1 { for (i = 1; i <= NF; i++) n[i] = $i }
		NR % 2 == 0 && $1 == "TcpExt:" {
			for (i = 1; i <= NF; i++) if (n[i] == k) print $i }' /proc/net/netstat
}

for bc in ${BCS:-2 0 2 0}; do
	echo "$bc" >/sys/module/fastecho/parameters/batch_conns
	d0=$(drops)
	a0=$(tcpext TCPAbortOnMemory)
	$bin/fastecho-bench -m idle -c 10000 -d 600 -T 900 $host 12345 >/tmp/idle.out 2>&1 &
	cpid=$!
	while ! grep -q '^RESULT' /tmp/idle.out && kill -0 $cpid 2>/dev/null; do sleep 0.2; done
	sleep 3
	kill -USR1 $cpid
	wait $cpid
	t=0
	while [ $t -lt 40 ] && [ "$(active)" != 0 ]; do
		sleep 1
		t=$((t + 1))
	done
	echo "RES bc=$bc active_after=$(active) wait=$t softnet_drops=$(($(drops) - d0))" \
		"abort_on_memory=$a0->$(tcpext TCPAbortOnMemory) $(grep RESULT /tmp/idle.out | cut -c1-80)"
	# connections that never saw their close would stay: start afresh
	rmmod fastecho
	insmod /fe/fastecho.ko port=12345 max_conns=12000
done
rmmod fastecho
