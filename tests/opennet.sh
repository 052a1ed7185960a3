#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# opennet.sh: what a server listening on an open network owes its clients.
# No one source can take every connection (max_per_source), urgent data is
# echoed in line on both echo paths, a peer cannot make a connection trim
# and regrow its buffers faster than FASTECHO_TRIM_GAP allows, and the
# counters say why each connection ended. Sourced by suite.sh, after
# net.sh (whose lane the per-source case uses).

fe_case per_source "per_source: with the defaults one source's 65th connection is reset and counted, another source still served (lossy veth), an IPv6 /64 counts as one source; rmmod quick"
fe_case urgent "urgent: MSG_OOB byte echoed in line with the data around it, then EOF, on both echo paths, over loopback and a lossy veth"
fe_case churn "churn: 600-byte echoes 1.5 s apart trim the buffers at most once per 10 s"
fe_case counters "counters: a peer that reads nothing is a send timeout, not an idle one; rmmod's own ends are not resets; active back to 0"

CLI4B=198.18.0.3
CLI6B=2001:db8::3

t_per_source() {
	local P=/sys/module/fastecho/parameters counts v6
	# shellcheck disable=SC2034 # read by load (lib.sh)
	SUITE_LIMITS=""
	# shellcheck disable=SC2034 # read by fc and fc_bg (lib.sh)
	FC_NS=in_ns
	net_up
	in_ns $IP addr add $CLI4B/24 dev fe-cli
	in_ns $IP addr add $CLI6B/64 dev fe-cli nodad
	load_ok
	[ "$(cat $P/max_per_source)" = 64 ] ||
		fail "max_per_source defaults to $(cat $P/max_per_source), want 64"
	[ "$(cat $P/idle_timeout)" = 300 ] ||
		fail "idle_timeout defaults to $(cat $P/idle_timeout), want 300"

	# The counts are exact only where no reset is lost: 20 ms each way,
	# no loss, while they are taken; the whole impairment comes back for
	# the echo from the second source and for rmmod.
	impair notbf delay 20ms || fail "cannot change the lane to a plain delay"
	fc_bg one maxconn -h $SRV4 -B $CLI4 -c 80 -r $W/r1 -u $W/stop -t 400
	ready_or_fail one $W/r1 300
	counts=$(maxconn_counts one)
	diag "from $CLI4: served/rejected $counts; server: active $(stat_get active) rejected_source $(stat_get rejected_source) rejected $(stat_get rejected)"
	[ "$counts" = "64 16" ] || fail "from one source: served/rejected $counts, want 64 16"
	[ "$(stat_get rejected_source)" = 16 ] ||
		fail "rejected_source $(stat_get rejected_source), want 16"
	[ "$(stat_get rejected)" = 0 ] || fail "rejected (max_conns) $(stat_get rejected), want 0"
	# shellcheck disable=SC2086
	impair tbf $NETEM || fail "cannot restore the lane"
	fc_ok echo -h $SRV4 -B $CLI4B -n 20000 -t 120
	impair notbf delay 20ms || fail "cannot change the lane to a plain delay"

	# IPv6: a /64 is one source; the limit applies at the next accept.
	echo 3 > $P/max_per_source || fail "cannot write max_per_source"
	fc_bg six maxconn -h $SRV6 -B $CLI6 -c 2 -r $W/r2 -u $W/stop -t 400
	ready_or_fail six $W/r2 120
	fc_ok maxconn -h $SRV6 -B $CLI6B -c 3 -t 120
	v6=$(maxconn_counts fc)
	[ "$v6" = "1 2" ] || fail "from $CLI6B beside 2 from $CLI6: served/rejected $v6, want 1 2"
	[ "$(stat_get rejected_source)" = 18 ] ||
		fail "rejected_source $(stat_get rejected_source), want 18"
	# shellcheck disable=SC2086
	impair tbf $NETEM || fail "cannot restore the lane"
	rmmod_loaded one six
	net_down
}

t_urgent() {
	local zc
	net_up
	for zc in 0 1; do
		load_ok zerocopy=$zc
		diag "zerocopy=$(cat /sys/module/fastecho/parameters/zerocopy)"
		fc_ok urgent -c 20 -t 60
		fc_ok urgent -c 5 -n 30000 -t 120
		FC_NS=in_ns fc_ok urgent -h $SRV4,$SRV6 -c 6 -n 20000 -t 300
		wait_until 60 stat_is active 0 || fail "active $(stat_get active) after the clients"
		bytes_consistent
		unload_ok
	done
	net_down
}

t_churn() {
	local tr
	load_ok
	fc_ok pause -c 9 -m 600 -i 1500 -t 120
	wait_until 30 stat_is active 0 || fail "active $(stat_get active) after the client"
	tr=$(stat_get trims)
	diag "9 echoes 1.5 s apart: trims $tr"
	[ "$tr" -ge 1 ] 2>/dev/null || fail "trims '$tr': the quiet connection never gave its buffer back"
	[ "$tr" -le 2 ] || fail "trims $tr in 13.5 s, want at most 2 (one per 10 s)"
	bytes_consistent
	unload_ok
}

t_counters() {
	local st it
	load_ok idle_timeout=3
	fc_bg noread noread -c 2 -r $W/r1 -u $W/stop -t 200
	ready_or_fail noread $W/r1 120
	wait_until 60 stat_is send_timeouts 2 ||
		fail "send_timeouts $(stat_get send_timeouts) after 2 peers read nothing, want 2"
	touch $W/stop
	fc_wait noread || fail "noread client: $(tail -n 1 $W/noread.out)"
	wait_until 30 stat_is active 0 || fail "active $(stat_get active) after the send timeouts"
	st=$(stat_get send_timeouts) it=$(stat_get idle_timeouts)
	diag "send_timeouts $st idle_timeouts $it"
	[ "$it" = 0 ] || fail "idle_timeouts $it: send timeouts counted as idle ones"
	bytes_balanced
	unload_ok

	rm -f $W/stop
	load_ok
	fc_bg stream stream -c 8 -r $W/r2 -u $W/stop -t 200
	ready_or_fail stream $W/r2 120
	sleep 1
	dmesg_mark
	rmmod_loaded stream
	dmesg_new | grep 'fastecho: unloaded' | sed 's/^/# /'
	dmesg_new | grep -q 'fastecho: unloaded: .*(0 reset by peers, 0 errors)' ||
		fail "rmmod's own shutdown counted: $(dmesg_new | grep 'fastecho: unloaded')"
}
