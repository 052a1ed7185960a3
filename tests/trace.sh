#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# trace.sh: the module's trace events (fastecho_trace.h), read from tracefs.
# Sourced by suite.sh, after lib.sh.
#
# The events of a module can be enabled only once it is loaded, and the
# kernel empties the trace buffers when a module whose events were enabled
# is removed: what insmod and rmmod fire themselves (fastecho_server_start,
# fastecho_server_stop, the ends that rmmod's shutdown causes) never shows
# in `trace`. So the case reads the buffer before rmmod, and for those two
# events checks only that they are defined, with their fields.

fe_case trace "trace: events/fastecho: accept, end (eof with its bytes, idle_timeout), refuse (max_per_source), server start and stop in a namespace, in the trace with their fields"

# tracefs_dir: print where tracefs is, mounting it if need be; nothing when
# the kernel has no tracefs.
tracefs_dir() {
	local d
	for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
		if [ -e $d/trace ]; then
			echo $d
			return 0
		fi
	done
	grep -qw tracefs /proc/filesystems || return 0
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null &&
		[ -e /sys/kernel/tracing/trace ] && echo /sys/kernel/tracing
}

# ev_lines EVENT: the fields of each EVENT line of $W/trace ("id=1 peer=...").
ev_lines() {
	sed -n "s/^.* $1: //p" $W/trace
}

# ev_field LINE NAME: the value of NAME=VALUE in LINE.
ev_field() {
	echo " $1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"
}

t_trace() {
	local tr ev f n line id peer pid echo_peer idle_peer dur inum
	tr=$(tracefs_dir)
	if [ -z "$tr" ]; then
		echo "no tracefs in this kernel" > $W/skip
		return 0
	fi
	diag "tracefs at $tr"
	load_ok max_per_source=1 idle_timeout=5
	for ev in fastecho_accept fastecho_end fastecho_refuse \
		fastecho_server_start fastecho_server_stop; do
		[ -r $tr/events/fastecho/$ev/format ] ||
			fail "no event fastecho:$ev in $tr/events/fastecho"
	done
	for ev in fastecho_server_start fastecho_server_stop; do
		for f in addr port netns; do
			grep -Eq "field:[^;]* $f(\[[0-9]+\])?;" \
				$tr/events/fastecho/$ev/format ||
				fail "fastecho:$ev has no field $f"
		done
	done

	# TRACE_DEFINE_ENUM: the formats user space reads carry numbers
	for ev in fastecho_end fastecho_refuse; do
		! grep -q 'FASTECHO_' $tr/events/fastecho/$ev/format ||
			fail "fastecho:$ev: enum names left in its format: $(grep '^print fmt' $tr/events/fastecho/$ev/format)"
	done

	echo 1 > $tr/tracing_on
	: > $tr/trace
	echo 1 > $tr/events/fastecho/enable || fail "cannot enable events/fastecho"

	# One echo; one connection held, idle, and one more from the same
	# source refused meanwhile; the held one then times out.
	fc_ok echo -n 1000 -t 30
	wait_until 30 stat_is active 0 || fail "active $(stat_get active) after the echo"
	fc_bg idle idle -a 3 -b 30 -r $W/r1 -t 60
	ready_or_fail idle $W/r1 30
	fc_ok maxconn -c 1 -x 0 -t 30
	grep -q 'served 0 rejected 1' $W/fc.out ||
		fail "beside a held connection: $(tail -n 1 $W/fc.out), want served 0 rejected 1"
	fc_wait idle || fail "idle client: $(tail -n 1 $W/idle.out)"
	wait_until 30 stat_is active 0 || fail "active $(stat_get active) after the idle close"
	# A server started and stopped in a namespace of its own (netns.sh).
	$IP netns add fe-t || fail "ip netns add fe-t failed"
	inum=$($IP netns exec fe-t readlink /proc/self/ns/net | tr -dc 0-9)
	ns_set fe-t port 7002 && ns_set fe-t port 0 ||
		fail "fe-t: port 7002, then 0: $(cat $W/sysctl.err)"
	$IP netns del fe-t

	echo 0 > $tr/events/fastecho/enable
	grep ' fastecho_' $tr/trace > $W/trace
	sed 's/^ */#   /' $W/trace

	# accept: two, each with a peer on 127.0.0.1 and a fastecho/N thread
	n=$(ev_lines fastecho_accept | wc -l)
	[ "$n" = 2 ] || fail "$n fastecho_accept events, want 2"
	for id in 1 2; do
		line=$(ev_lines fastecho_accept | grep "^id=$id ")
		[ -n "$line" ] || fail "no fastecho_accept with id=$id"
		peer=$(ev_field "$line" peer) pid=$(ev_field "$line" pid)
		case "$peer" in
		127.0.0.1:[0-9]*) ;;
		*) fail "fastecho_accept id=$id: peer '$peer'" ;;
		esac
		case "$(cat /proc/"$pid"/comm 2>/dev/null)" in
		fastecho/*) ;;
		*) fail "fastecho_accept id=$id: pid '$pid' is no fastecho/N thread" ;;
		esac
		if [ $id = 1 ]; then echo_peer=$peer; else idle_peer=$peer; fi
		# the end is fired by that thread ("fastecho/N-PID [CPU] ...")
		grep " fastecho_end: id=$id " $W/trace | awk '{ print $1 }' |
			grep -q -- "-$pid\$" ||
			fail "fastecho_end id=$id: not fired by pid $pid, the thread fastecho_accept named"
	done

	# end: the echo at EOF with its 1000 bytes, the idle one timed out
	n=$(ev_lines fastecho_end | wc -l)
	[ "$n" = 2 ] || fail "$n fastecho_end events, want 2"
	line=$(ev_lines fastecho_end | grep '^id=1 ')
	[ "$(ev_field "$line" peer)" = "$echo_peer" ] ||
		fail "fastecho_end id=1: peer '$(ev_field "$line" peer)', accepted as $echo_peer"
	for f in reason=eof err=0 bytes_in=1000 bytes_out=1000 bytes_dropped=0; do
		[ "$(ev_field "$line" "${f%%=*}")" = "${f#*=}" ] ||
			fail "fastecho_end id=1: want $f in '$line'"
	done
	line=$(ev_lines fastecho_end | grep '^id=2 ')
	[ "$(ev_field "$line" peer)" = "$idle_peer" ] ||
		fail "fastecho_end id=2: peer '$(ev_field "$line" peer)', accepted as $idle_peer"
	for f in reason=idle_timeout err=-11 bytes_dropped=0; do
		[ "$(ev_field "$line" "${f%%=*}")" = "${f#*=}" ] ||
			fail "fastecho_end id=2: want $f in '$line'"
	done
	[ "$(ev_field "$line" bytes_in)" -gt 0 ] 2>/dev/null &&
		[ "$(ev_field "$line" bytes_in)" = "$(ev_field "$line" bytes_out)" ] ||
		fail "fastecho_end id=2: want bytes_in = bytes_out > 0 in '$line'"
	dur=$(ev_field "$line" duration_ms)
	[ "$dur" -ge 4000 ] 2>/dev/null ||
		fail "fastecho_end id=2: duration_ms '$dur' with idle_timeout=5"

	# refuse: the one from the held connection's source
	for ev in fastecho_server_start fastecho_server_stop; do
		line=$(ev_lines $ev)
		[ "$line" = "addr=[::]:7002 port=7002 netns=$inum" ] ||
			fail "$ev: '$line', want addr=[::]:7002 port=7002 netns=$inum"
	done

	n=$(ev_lines fastecho_refuse | wc -l)
	[ "$n" = 1 ] || fail "$n fastecho_refuse events, want 1"
	line=$(ev_lines fastecho_refuse)
	case "$line" in
	"peer=127.0.0.1:"[0-9]*" reason=max_per_source") ;;
	*) fail "fastecho_refuse: '$line', want peer=127.0.0.1:PORT reason=max_per_source" ;;
	esac

	unload_ok
	diag "after rmmod: $(grep -c ' fastecho_' $tr/trace) fastecho lines left in the trace (the kernel empties it)"
}
