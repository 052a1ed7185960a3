#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# basic.sh: the module loads, echoes what it is sent, and serves many clients.
# Sourced by suite.sh, after lib.sh.

fe_case load "load: insmod defaults, listener thread, dmesg lines, stats"
fe_case echo "echo: busybox nc and telnet"
fe_case binary "binary: 2 MiB with NULs, 1-byte writes, 10000 pipelined messages"
fe_case halfclose_rst "halfclose_rst: half-close then EOF, 100 clients reset mid-stream"
fe_case concurrent "concurrent: 1000 connections echo, 1000 active, their threads gone after close"
fe_case ipv6 "ipv6: IPv4 and ::1 echo, both rows in the stats table, addr= restricts the family"

t_load() {
	dmesg_mark
	load_ok
	is_loaded || fail "insmod succeeded but fastecho is not in /proc/modules"
	wait_until 30 test "$(listener_threads)" -eq 1 ||
		fail "$(listener_threads) listener threads named fastecho, want 1"
	dmesg_new | grep -q "fastecho: listening on \[::\]:$PORT" ||
		fail "no 'fastecho: listening on [::]:$PORT' line in dmesg"
	[ -r /proc/net/fastecho ] || fail "/proc/net/fastecho not readable"
	for k in active accepted rejected idle_timeouts bytes_in bytes_out errors; do
		v=$(stat_get $k)
		case "$v" in
		'' | *[!0-9]*) fail "/proc/net/fastecho: counter $k is '$v'" ;;
		esac
	done
	stat_is listen "[::]:$PORT" || fail "/proc/net/fastecho: listen $(stat_get listen)"
	[ "$(stat_get active)" = 0 ] || fail "active $(stat_get active) right after load"
	grep -q '^ *id ' /proc/net/fastecho || fail "no 'id ...' header in /proc/net/fastecho"
	[ "$(cat /sys/module/fastecho/parameters/port)" = "$PORT" ] ||
		fail "parameters/port is $(cat /sys/module/fastecho/parameters/port)"
	unload_ok
	dmesg_new | grep -q 'fastecho: unloaded: [0-9]* connections served, [0-9]* bytes echoed' ||
		fail "no 'fastecho: unloaded: ...' line in dmesg"
	[ "$(all_fe_threads)" -eq 0 ] || fail "fastecho threads left after rmmod"
	[ ! -e /proc/net/fastecho ] || fail "/proc/net/fastecho still there after rmmod"
}

t_echo() {
	load_ok
	out=$(echo "hello fastecho" | timeout "$(tmo 30)" nc 127.0.0.1 $PORT)
	[ "$out" = "hello fastecho" ] || fail "busybox nc got '$out'"
	# busybox telnet reads a pipe: keep it open until the echo is there.
	(printf 'hello telnet\r\n'; wait_until 30 grep -q 'hello telnet' $W/telnet.out) |
		timeout "$(tmo 40)" telnet 127.0.0.1 $PORT > $W/telnet.out 2>&1
	grep -q 'hello telnet' $W/telnet.out ||
		fail "busybox telnet got '$(head -c 100 $W/telnet.out | tr -d '\r\n')'"
	head -c 65536 /dev/urandom > $W/blob64k
	timeout "$(tmo 60)" nc 127.0.0.1 $PORT < $W/blob64k > $W/blob64k.out
	cmp -s $W/blob64k $W/blob64k.out ||
		fail "busybox nc: 64 KiB file came back as $(wc -c < $W/blob64k.out) different bytes"
	wait_until 30 stat_is active 0 || fail "active $(stat_get active) after clients left"
	[ "$(stat_get accepted)" -ge 3 ] || fail "accepted $(stat_get accepted), want >= 3"
	[ "$(stat_get bytes_in)" = "$(stat_get bytes_out)" ] ||
		fail "bytes_in $(stat_get bytes_in) != bytes_out $(stat_get bytes_out)"
	unload_ok
}

t_binary() {
	load_ok
	# 1 MiB random (NULs included) + 64 KiB of NULs + 1 MiB random
	head -c 1048576 /dev/urandom > $W/blob
	head -c 65536 /dev/zero >> $W/blob
	head -c 1048576 /dev/urandom >> $W/blob
	fc_ok echo -f $W/blob -t 120
	timeout "$(tmo 120)" nc 127.0.0.1 $PORT < $W/blob > $W/blob.out
	cmp -s $W/blob $W/blob.out ||
		fail "busybox nc: $(wc -c < $W/blob) bytes sent, $(wc -c < $W/blob.out) back or different"
	fc_ok echo -n 8192 -w 1 -t 120
	fc_ok pipeline -n 10000 -m 16 -t 120
	wait_until 30 stat_is active 0 || fail "active $(stat_get active) after clients left"
	[ "$(stat_get bytes_in)" = "$(stat_get bytes_out)" ] ||
		fail "bytes_in $(stat_get bytes_in) != bytes_out $(stat_get bytes_out)"
	unload_ok
}

t_halfclose_rst() {
	load_ok
	fc_ok halfclose -n 300000 -t 30
	fc_ok halfclose -n 1 -t 30
	fc_ok rst -c 100 -n 32768 -t 60
	wait_until 30 stat_is active 0 ||
		fail "active $(stat_get active) $(tmo 30) s after 100 clients reset"
	wait_until 30 conn_threads_settled ||
		fail "$(conn_threads) connection threads left after resets (spare_threads=$(spare_allowed))"
	diag_spare
	fc_ok echo -n 100000 -t 30
	wait_until 30 stat_is active 0 || fail "active $(stat_get active) at the end"
	acc=$(stat_get accepted)
	[ "$acc" = 103 ] || fail "accepted $acc, want 103 (2 half-close + 100 reset + 1 echo)"
	[ "$(stat_rows)" = 0 ] || fail "$(stat_rows) connection rows with no client"
	bin=$(stat_get bytes_in) bout=$(stat_get bytes_out)
	[ "$bout" -le "$bin" ] || fail "bytes_out $bout > bytes_in $bin"
	diag "stats: accepted $acc bytes_in $bin bytes_out $bout errors $(stat_get errors)"
	unload_ok
}

t_concurrent() {
	load_ok
	fc_bg hold hold -c 1000 -r $W/ready -u $W/stop -t 280
	ready_or_fail hold $W/ready 240
	a=$(stat_get active) r=$(stat_rows) n=$(conn_threads)
	diag "with 1000 clients: active $a, rows $r, connection threads $n"
	[ "$a" = 1000 ] || fail "active $a with 1000 clients connected"
	[ "$r" = 1000 ] || fail "$r connection rows with 1000 clients connected"
	[ "$n" = 1000 ] || fail "$n connection threads with 1000 clients connected"
	touch $W/stop
	fc_wait hold || fail "hold client: $(tail -n 1 $W/hold.out)"
	wait_until 120 conn_threads_settled ||
		fail "$(conn_threads) connection threads $(tmo 120) s after the clients closed (spare_threads=$(spare_allowed))"
	diag_spare
	wait_until 30 stat_is active 0 || fail "active $(stat_get active) after the clients closed"
	unload_ok
}

t_ipv6() {
	load_ok
	fc_ok echo -h 127.0.0.1 -n 50000 -t 30
	fc_ok echo -h ::1 -n 50000 -t 30
	fc_bg hold hold -h ::1,127.0.0.1 -c 2 -r $W/ready -u $W/stop -t 60
	ready_or_fail hold $W/ready 30
	grep -q '\[::1\]:' /proc/net/fastecho ||
		fail "no [::1]:port peer row in /proc/net/fastecho"
	grep -q ' 127\.0\.0\.1:[0-9]' /proc/net/fastecho ||
		fail "no 127.0.0.1:port peer row in /proc/net/fastecho"
	# Regression: a field width on %pISpc once overran vsprintf's address
	# buffer (KASAN on the debug kernel) and misaligned the rows. Header and
	# rows must all be one width, IPv4 and IPv6 alike.
	w=$(awk 'f || $1 == "id" { f = 1; print length($0) }' /proc/net/fastecho |
		sort -u | wc -l)
	[ "$w" = 1 ] || fail "stats table rows of different widths: $(cat /proc/net/fastecho)"
	touch $W/stop
	fc_wait hold
	unload_ok
	load_ok addr=127.0.0.1
	fc_ok echo -h 127.0.0.1 -n 50000 -t 30
	fc_ok refused -h ::1 -t 10
	unload_ok
	load_ok addr=::1
	fc_ok echo -h ::1 -n 50000 -t 30
	fc_ok refused -h 127.0.0.1 -t 10
	unload_ok
}
