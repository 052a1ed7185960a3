#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# soak.sh: random clients for a while, every byte checked.
# Sourced by suite.sh, after lib.sh.

fe_case soak "soak: ${SOAK_SECONDS}s random clients, bytes verified, slab back"

# soak_run: one soak with a fresh module. A connection that fails is kept
# open by the client and shown from the server's side before the case fails:
# any stall is a failure.
soak_run() {
	local pid port
	rm -f $W/stuck $W/stop
	load_ok
	fc_bg soak soak -h 127.0.0.1,::1 -c 8 -d "$SOAK_SECONDS" \
		-t $((SOAK_SECONDS + 90)) -k $W/stuck -u $W/stop
	pid=$(cat $W/soak.pid)
	wait_until $((SOAK_SECONDS + 100)) sh -c "[ -e $W/stuck ] || ! kill -0 $pid 2>/dev/null"
	if [ -e $W/stuck ]; then
		# A connection failed and the client keeps it open: look at it.
		sed 's/^/# [soak] /' $W/soak.out
		port=$(sed -n 's/.*local port \([0-9]*\).*/\1/p' $W/soak.out)
		dump_conn_state $port
		touch $W/stop
		fc_wait soak > /dev/null
		fail "$(grep -m 1 'worker' $W/soak.out)"
	fi
	fc_wait soak || fail "$(tail -n 1 $W/soak.out)"
	wait_until 60 stat_is active 0 || fail "active $(stat_get active) $(tmo 60) s after the soak"
	wait_until 60 conn_threads_settled ||
		fail "$(conn_threads) connection threads after the soak (spare_threads=$(spare_allowed))"
	diag_spare
	# Clients that reset mid-stream may leave bytes unechoed: counted.
	bytes_balanced
	unload_ok
}

soak_case() {
	local rc
	slab0=$(slab_kb $W/slab.before)
	soak_run || return $?
	slab1=$(slab_kb $W/slab.after)
	diag "slab (no tw/request socks) ${slab0} -> ${slab1} kB; grew most:"
	slab_growth $W/slab.before $W/slab.after
	[ $((slab1 - slab0)) -le "$(slab_limit_kb 2048)" ] ||
		fail "slab $((slab1 - slab0)) kB above the baseline after rmmod"
}

t_soak() {
	# Thousands of TIME_WAIT sockets would stay 60 s, with their port
	# buckets, in caches that slab merging mixes with others: keep few.
	tw=$(cat /proc/sys/net/ipv4/tcp_max_tw_buckets)
	echo 256 > /proc/sys/net/ipv4/tcp_max_tw_buckets
	(soak_case)
	rc=$?
	echo "$tw" > /proc/sys/net/ipv4/tcp_max_tw_buckets
	return $rc
}
