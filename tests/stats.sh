#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# stats.sh: the stats file /proc/net/fastecho under load and across loads.
# Sourced by suite.sh, after lib.sh.

# The connections stats_load holds open: 10 000, or FE_STATS_CONNS (check.sh
# sets 2 000 for every kernel but 6.1: the debug kernel's KASAN doubles
# every kernel stack, leaving its guest too few threads for 10 000, and on
# 6.12 and rt it saves CI time, docs/testing.md).
STATS_CONNS=${FE_STATS_CONNS:-10000}

fe_case stats_load "stats_load: reading the stats file of $STATS_CONNS connections in a loop leaves connect-echo-close >= 1/4 as fast"
fe_case stats_cycles "stats_cycles: the stats file read in a loop across 30 load/unload cycles"

# stats_reader NAME: read the stats file in a loop (feclient readloop)
# until stats_reader_stop NAME; that leaves how many full reads it made in
# $W/NAME.reads.
stats_reader() {
	rm -f $W/$1.stop
	fc_bg "$1" readloop -f /proc/net/fastecho -d 600 -u $W/$1.stop -t 620
}

stats_reader_stop() {
	touch $W/$1.stop
	fc_wait "$1" > /dev/null || fail "reader: $(tail -n 1 $W/$1.out)"
	sed -n 's/.*ok \([0-9]*\) reads.*/\1/p' $W/$1.out > $W/$1.reads
}

# cec_rate NAME: connect, echo 64 bytes, close, 4 at a time, for 10 s
# (tools/fastecho-bench); the connections per second are left in
# $W/NAME.n.
cec_rate() {
	/fe/bin/fastecho-bench -m cec -c 4 -d 10 127.0.0.1 "$PORT" \
		> $W/$1.out 2>&1 || fail "connect-echo-close ($1): $(tail -n 1 $W/$1.out)"
	sed -n 's/.* msgs_per_s=\([0-9]*\).*/\1/p' $W/$1.out > $W/$1.n
}

t_stats_load() {
	n=$STATS_CONNS
	load_ok max_conns=$((n + n / 10))
	fc_bg_nice hold hold -c "$n" -r $W/ready -u $W/stop -t 900
	ready_or_fail hold $W/ready 800
	rows=$(stat_rows) a=$(stat_get active)
	diag "$n held: active $a, $rows rows, $(wc -c < /proc/net/fastecho) bytes"
	[ "$rows" = "$n" ] && [ "$a" = "$n" ] ||
		fail "stats file: active $a, $rows rows with $n connections open"
	# Every row once, in connection order.
	awk 'hdr { if ($1 <= last) bad = 1; last = $1 } $1 == "id" { hdr = 1 }
		END { exit bad }' /proc/net/fastecho ||
		fail "rows not in increasing id order"
	cec_rate cec0
	stats_reader rd
	cec_rate cec1
	stats_reader_stop rd
	quiet=$(cat $W/cec0.n) busy=$(cat $W/cec1.n) reads=$(cat $W/rd.reads)
	diag "connect-echo-close: $quiet/s without a reader, $busy/s with one ($reads full reads in 10 s)"
	[ -n "$quiet" ] && [ -n "$busy" ] || fail "no rate from fastecho-bench"
	[ "$reads" -ge 1 ] || fail "the reader finished no read in 10 s"
	[ $((busy * 4)) -ge "$quiet" ] ||
		fail "connect-echo-close fell from $quiet/s to $busy/s with a reader"
	touch $W/stop
	fc_wait hold > /dev/null || fail "hold client: $(tail -n 1 $W/hold.out)"
	unload_ok
}

# The stats file must not be there before the server behind it is, nor
# after it is gone.
t_stats_cycles() {
	dmesg_mark
	stats_reader rd
	load_cycles 30
	stats_reader_stop rd
	diag "$(cat $W/rd.reads) reads during 30 cycles"
	if dmesg_new | grep -E 'Oops|BUG|WARNING|general protection' > $W/splat; then
		sed 's/^/# /' $W/splat | head -n 20
		fail "kernel splat while reading the stats file across cycles"
	fi
}
