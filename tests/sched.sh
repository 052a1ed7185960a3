#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# sched.sh: the scheduling policy of the connection threads.
# Sourced by suite.sh, after lib.sh.

fe_case sched "sched: busy connection threads SCHED_BATCH from batch_conns connections, quiet ones not"
fe_case sched_admin "sched_admin: SCHED_FIFO, SCHED_IDLE, reset-on-fork and a SCHED_BATCH set with chrt survive traffic"

# sched_policies: the scheduling policy (0 SCHED_NORMAL, 3 SCHED_BATCH) of
# every live connection's thread, in connection order, on one line.
sched_policies() {
	for pid in $(awk 'hdr { print $6 } $1 == "id" { hdr = 1 }' \
		/proc/net/fastecho); do
		awk '{ printf "%s ", $41 }' /proc/$pid/stat
	done
}

# policies_match PATTERN: sched_policies matches PATTERN.
policies_match() {
	# shellcheck disable=SC2254 # a pattern on purpose
	case "$(sched_policies)" in
	$1) return 0 ;;
	esac
	return 1
}

# sched_check MODE N WANT [SLEEP]: N feclient connections in MODE (stream:
# echoing all the time; hold: one echo each, then quiet), SLEEP seconds,
# then compare their threads' policies with WANT (a pattern for
# sched_policies; until they match, or a time limit), and release them.
sched_check() {
	rm -f $W/ready $W/stop
	fc_bg sc "$1" -c "$2" -r $W/ready -u $W/stop -t 60
	ready_or_fail sc $W/ready 50
	sleep "${4:-0.5}"
	wait_until 30 policies_match "$3"
	got=$(sched_policies)
	what="$2 $1 connections, batch_conns=$(cat $P/batch_conns)"
	diag "$what: policies $got"
	touch $W/stop
	fc_wait sc > /dev/null || fail "$1 client: $(tail -n 1 $W/sc.out)"
	wait_until 30 stat_is active 0 || fail "active $(stat_get active) after $1"
	# $3 is a pattern on purpose
	# shellcheck disable=SC2254
	case "$got" in
	$3) ;;
	*) fail "$what: policies '$got', want '$3'" ;;
	esac
}

# Busy connections in company run SCHED_BATCH, a lone or quiet one
# SCHED_NORMAL (a quiet connection turns back after FASTECHO_QUIET, 1 s).
# Spare threads are reused, so the cases below also see threads turn back.
t_sched() {
	load_ok spare_threads=8
	P=/sys/module/fastecho/parameters
	[ "$(cat $P/batch_conns)" = 2 ] ||
		fail "batch_conns defaults to $(cat $P/batch_conns), want 2"
	sched_check stream 1 "0 "
	sched_check stream 4 "3 3 3 3 "
	# The 4 spare threads, reniced, serve the hold connections next and
	# turn SCHED_NORMAL: a policy change must keep their nice value.
	for pid in $(conn_thread_pids); do
		renice -n 5 -p "$pid" > /dev/null || fail "cannot renice $pid"
	done
	sched_check hold 4 "0 0 0 0 " 3
	nices=$(for pid in $(conn_thread_pids); do
		awk '{ printf "%s ", $19 }' /proc/$pid/stat
	done)
	diag "nice of the connection threads after the change: $nices"
	[ "$nices" = "5 5 5 5 " ] ||
		fail "nice '$nices' after a policy change, want '5 5 5 5 '"
	echo 0 > $P/batch_conns || fail "cannot write batch_conns"
	sched_check stream 4 "0 0 0 0 "
	echo 1 > $P/batch_conns || fail "cannot write batch_conns"
	sched_check stream 1 "3 "
	echo 2 > $P/batch_conns || fail "cannot write batch_conns"
	sched_check stream 1 "0 "
	fc_ok echo -n 100000 -t 30
	unload_ok
}

# sched_set POLICY PRIO: give every live connection's thread that policy, as
# an administrator would with chrt -p (tests/fechrt.c).
sched_set() {
	# shellcheck disable=SC2046
	/fe/bin/fechrt "$1" "$2" $(awk 'hdr { print $6 } $1 == "id" { hdr = 1 }' \
		/proc/net/fastecho) || fail "fechrt $1 $2 failed"
}

# sched_flags: "fechrt get" of every live connection's thread, on one line.
sched_flags() {
	# shellcheck disable=SC2046
	/fe/bin/fechrt get $(awk 'hdr { print $6 } $1 == "id" { hdr = 1 }' \
		/proc/net/fastecho) | tr '\n' ' '
}

# The module switches only between SCHED_NORMAL and its own SCHED_BATCH: a
# policy an administrator chose stays, however the connection behaves, and
# so does the reset-on-fork flag when the module switches.
t_sched_admin() {
	load_ok
	P=/sys/module/fastecho/parameters
	fc_bg sa stream -c 4 -r $W/ready -u $W/stop -t 60
	ready_or_fail sa $W/ready 50
	sleep 1
	diag "4 streams: policies $(sched_policies)"
	for pw in "fifo 10 1" "idle 0 5" "other+rof 0 3"; do
		# shellcheck disable=SC2086
		set -- $pw
		sched_set "$1" "$2"
		# An administrator's policy must survive 3 s of traffic; after
		# "other", fastecho's own choice (batch) comes back, in time.
		sleep 3
		[ "$1" = other+rof ] && wait_until 30 policies_match "$3 $3 $3 $3 "
		got=$(sched_policies)
		diag "after fechrt $1 $2 and 3 s of traffic: policies $got"
		[ "$got" = "$3 $3 $3 $3 " ] ||
			{ touch $W/stop; fail "policies '$got' after fechrt $1 and traffic, want $3 each"; }
	done
	got=$(sched_flags)
	diag "after fechrt other+rof, switched back to batch by fastecho: $got"
	[ "$got" = "batch+rof batch+rof batch+rof batch+rof " ] ||
		{ touch $W/stop; fail "'$got' after fastecho's switch, want batch+rof each: reset-on-fork lost"; }
	touch $W/stop
	fc_wait sa > /dev/null || fail "stream client: $(tail -n 1 $W/sa.out)"
	wait_until 30 stat_is active 0 || fail "active $(stat_get active) after the streams"

	# One stream: fastecho wants SCHED_NORMAL for it (batch_conns=2), and
	# leaves alone a SCHED_BATCH an administrator set.
	rm -f $W/ready $W/stop
	fc_bg sb stream -c 1 -r $W/ready -u $W/stop -t 60
	ready_or_fail sb $W/ready 50
	sleep 1
	sched_set batch 0
	sleep 3
	got=$(sched_policies)
	diag "1 stream, fechrt batch and 3 s of traffic: policies $got"
	touch $W/stop
	fc_wait sb > /dev/null || fail "stream client: $(tail -n 1 $W/sb.out)"
	[ "$got" = "3 " ] || fail "policy '$got' after fechrt batch on a lone stream, want 3 (the administrator's)"
	unload_ok
}
