#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# zerocopy.sh: the zero-copy echo path (zerocopy=1): the received pages
# are sent back as they are. Sourced by suite.sh, after lib.sh.

fe_case zc_small "zc_small: zerocopy=1, 1-byte writes, pipelined 16-byte messages, small writes read back late"
fe_case zc_stream "zc_stream: zerocopy=1, 8 MB and 2 MiB streams byte for byte, IPv4 and IPv6, 4 at once"
fe_case zc_halfclose "zc_halfclose: zerocopy=1, half-close, resets mid-stream, bytes_in = bytes_out + bytes_dropped"
fe_case zc_rmmod "zc_rmmod: zerocopy=1, rmmod with 20 streams running ends, nothing left, reload echoes"
fe_case zc_idle "zc_idle: zerocopy=1, idle_timeout closes an idle client, a client busy every 1.5 s is kept"
fe_case zc_pin "zc_pin: zerocopy=1, clients that never read whose bytes arrive a page each: pinned memory within the bound"

# A TcpExt counter from /proc/net/netstat.
tcpext() {
	awk -v k="$1" '$1 == "TcpExt:" && !h { for (i = 2; i <= NF; i++) if ($i == k) c = i; h = 1; next }
	     $1 == "TcpExt:" { print $c + 0 }' /proc/net/netstat
}

# The module runs the zero-copy path.
zc_load_ok() {
	load_ok zerocopy=1 "$@"
	[ "$(cat /sys/module/fastecho/parameters/zerocopy)" = Y ] ||
		fail "parameters/zerocopy is $(cat /sys/module/fastecho/parameters/zerocopy)"
}

# Every connection has ended: every byte received was echoed or counted
# as dropped.
# shellcheck disable=SC2154 # drop: set by bytes_balanced (lib.sh)
zc_bytes_exact() {
	wait_until 30 stat_is active 0 || fail "active $(stat_get active) after the clients left"
	bytes_balanced
	[ "${1:-}" != nodrop ] || [ "$drop" = 0 ] || fail "bytes_dropped $drop with no client reset"
}

t_zc_small() {
	zc_load_ok
	fc_ok echo -n 8192 -w 1 -t 60
	fc_ok echo -n 1 -t 10
	fc_ok pipeline -n 10000 -m 16 -t 60
	# 16-byte writes, none read back for 3 s: the server's send buffer
	# fills, then its receive queue backs up with small segments, which
	# TCP coalesces (into an skb's linear tailroom when it fits) or, under
	# memory pressure, collapses into linear skbs: the bytes the zero-copy
	# path copies (bytes_copied). Both are TCP's choice, and the collapse
	# counter is the netns's, the client's sockets included: both are shown.
	c0=$(tcpext TCPRcvCollapsed) b0=$(stat_get bytes_copied)
	fc_ok echo -n 2000000 -w 16 -l 3000 -t 120
	fc_ok pipeline -n 100000 -m 16 -l 2000 -t 120
	c1=$(($(tcpext TCPRcvCollapsed) - c0)) b1=$(($(stat_get bytes_copied) - b0))
	diag "TCPRcvCollapsed +$c1, bytes_copied +$b1 during the late-read runs"
	zc_bytes_exact nodrop
	unload_ok
}

t_zc_stream() {
	zc_load_ok
	fc_ok echo -n 8000000 -t 120
	head -c 1048576 /dev/urandom > $W/blob
	head -c 65536 /dev/zero >> $W/blob
	head -c 1048576 /dev/urandom >> $W/blob
	fc_ok echo -f $W/blob -t 60
	fc_ok echo -h ::1 -n 2000000 -t 60
	for i in 1 2 3 4; do
		fc_bg s$i echo -n 3000000 -t 120
	done
	for i in 1 2 3 4; do
		fc_wait s$i || fail "stream $i: $(tail -n 1 $W/s$i.out)"
	done
	zc_bytes_exact nodrop
	unload_ok
}

t_zc_halfclose() {
	zc_load_ok
	fc_ok halfclose -n 300000 -t 30
	fc_ok halfclose -n 1 -t 30
	fc_ok halfclose -n 4000000 -t 60
	fc_ok rst -c 50 -n 65536 -t 60
	wait_until 30 conn_threads_settled ||
		fail "$(conn_threads) connection threads left after resets (spare_threads=$(spare_allowed))"
	zc_bytes_exact
	fc_ok echo -n 100000 -t 30
	zc_bytes_exact
	unload_ok
}

t_zc_rmmod() {
	zc_load_ok
	fc_bg_nice stream stream -c 20 -r $W/ready -u $W/stop -t 120
	ready_or_fail stream $W/ready 60
	sleep 2
	a=$(stat_get active) bin=$(stat_get bytes_in)
	diag "before rmmod: active $a, bytes_in $bin"
	[ "$a" = 20 ] || fail "active $a with 20 streams"
	dmesg_mark
	rmmod_loaded stream
	dmesg_new | grep 'fastecho: unloaded' | sed 's/^/# /'
	zc_load_ok
	fc_ok echo -n 1000000 -t 30
	zc_bytes_exact nodrop
	unload_ok
}

t_zc_idle() {
	zc_load_ok idle_timeout=3
	idle_and_busy 1500
	fc_ok echo -n 500000 -t 30
	zc_bytes_exact nodrop
	unload_ok
}

memfree_kb() {
	awk '$1 == "MemFree:" { print $2 }' /proc/meminfo
}

# bytes_in_still: bytes_in has not moved since the last call.
bytes_in_still() {
	local now
	now=$(stat_get bytes_in)
	[ "$now" = "$(cat $W/pin.bin 2>/dev/null)" ] && return 0
	echo "$now" > $W/pin.bin
	sleep 1
	return 1
}

# zc_pin_hold FLAGS: $pin_conns clients of feclient sparse FLAGS send
# $pin_bytes bytes each and never read; once the server has taken what
# it will, $pin_kb is how much MemFree fell, in kB.
zc_pin_hold() {
	local before
	rm -f $W/pin.ready $W/pin.stop $W/pin.bin
	sync
	before=$(memfree_kb)
	fc_bg pin sparse -c $pin_conns -n $pin_bytes -w 16 "$@" -r $W/pin.ready -u $W/pin.stop -t 180
	ready_or_fail pin $W/pin.ready 120
	wait_until 60 bytes_in_still || fail "bytes_in still moving after 60 s"
	pin_kb=$((before - $(memfree_kb)))
	diag "sparse $*: MemFree fell by $pin_kb kB for $pin_conns connections ($((pin_kb / pin_conns)) kB each); bytes_in $(stat_get bytes_in), bytes_copied $(stat_get bytes_copied)"
	touch $W/pin.stop
	fc_wait pin || fail "$(tail -n 1 $W/pin.out)"
	wait_until 60 stat_is active 0 || fail "active $(stat_get active) after the clients left"
}

# A peer that never reads, and so stops acknowledging once its small
# receive buffer is full, whose 16-byte writes arrive each in a 4 KiB page
# of its own (feclient sparse -Z). Taking such pages by reference would pin
# 4 KiB for 16 bytes while TCP charges the send buffer 16; the bound
# (docs/design.md, zero-copy) is 4 times the send buffer, plus the page at
# the head of the unacknowledged data, the page of a run taken for the
# data after it, and the thread's page fragment, 32 KiB each. The send
# buffer is capped at 64 KiB here (tcp_wmem), so 352 KiB a connection,
# over what the same clients cost with ordinary writes (dense pages).
t_zc_pin() {
	local wmem dense bound v
	v=$(uname -r | awk -F. '{ print $1 * 100 + $2 }')
	if [ "$v" -ge 605 ]; then
		echo "a never-reading client stalls at random on 6.5+: it drops the server's ACK (docs/testing.md, zc_pin)" > $W/skip
		return 0
	fi
	pin_conns=10 pin_bytes=8000 pin_sndbuf_kb=64
	bound=$((4 * pin_sndbuf_kb + 96))
	wmem=$(cat /proc/sys/net/ipv4/tcp_wmem)
	# shellcheck disable=SC2064 # the value now, not at exit
	trap "echo '$wmem' > /proc/sys/net/ipv4/tcp_wmem" EXIT
	echo "4096 16384 $((pin_sndbuf_kb * 1024))" > /proc/sys/net/ipv4/tcp_wmem
	zc_load_ok
	zc_pin_hold
	dense=$pin_kb
	zc_pin_hold -Z
	diag "a page a write against dense: $(((pin_kb - dense) / pin_conns)) kB more a connection (bound $bound)"
	[ $((pin_kb - dense)) -le $((pin_conns * bound)) ] ||
		fail "a page a write pinned $(((pin_kb - dense) / pin_conns)) kB more a connection than dense writes: bound $bound"
	fc_ok echo -n 100000 -t 30
	zc_bytes_exact
	unload_ok
}
