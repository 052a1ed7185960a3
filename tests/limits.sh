#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# limits.sh: parameters: limits, timeouts, bad values.
# Sourced by suite.sh, after lib.sh.

fe_case max_conns "max_conns: 50 of 200 served, rest rejected, served keep echoing"
fe_case idle_timeout "idle_timeout: idle client closed, busy client kept"
fe_case port_in_use "port_in_use: EADDRINUSE, nothing left behind"
fe_case bad_params "bad_params: each bad value fails with EINVAL, bad runtime writes refused"
fe_case spare_shrink "spare_shrink: lowering spare_threads retires spare threads at once"
fe_case param_race "param_race: out-of-range writes refused while the module loads"
fe_case max_conns_bound "max_conns_bound: more connections than the host has tasks or memory for refused, at the measured cost per connection, spare threads counted"

# Port held by a user-space listener: insmod must fail, leaving nothing.
port_busy_check() {
	local what=$1 threads0 threads1 slab0 slab1 msg
	threads0=$(ls -d /proc/[0-9]* | wc -l)
	dmesg_mark
	if load; then
		rmmod fastecho
		fail "insmod succeeded with the port held by $what"
	fi
	msg=$(cat $W/insmod.err)
	diag "port held by $what: $msg"
	case "$msg" in
	*"Address already in use"*) ;;
	*) fail "insmod with the port held by $what: '$msg', want EADDRINUSE" ;;
	esac
	is_loaded && fail "fastecho in /proc/modules after a failed insmod"
	[ "$(all_fe_threads)" = 0 ] || fail "fastecho threads left after a failed insmod"
	[ ! -e /proc/net/fastecho ] || fail "/proc/net/fastecho left after a failed insmod"
	n=$(dmesg_new | grep -c 'fastecho')
	[ "$n" -ge 1 ] || fail "no dmesg line about the busy port"
	threads1=$(ls -d /proc/[0-9]* | wc -l)
	diag "tasks before $threads0, after $threads1"
	[ $((threads1 - threads0)) -le 2 ] ||
		fail "$((threads1 - threads0)) more tasks after the failed insmod"
}

t_max_conns() {
	load_ok max_conns=50
	fc_bg maxconn maxconn -c 200 -x 50 -r $W/ready -u $W/stop -t 200
	ready_or_fail maxconn $W/ready 180
	# shellcheck disable=SC2046 # two numbers
	set -- $(maxconn_counts maxconn)
	served=${1:-} rejected=${2:-}
	a=$(stat_get active) rj=$(stat_get rejected)
	diag "client: served $served, rejected $rejected; server: active $a, rejected $rj"
	[ "$a" = "$served" ] || fail "active $a, but $served served connections are open"
	touch $W/stop
	fc_wait maxconn || fail "$(tail -n 1 $W/maxconn.out)"
	[ "$served" = 50 ] || fail "$served of 200 attempts served with max_conns=50"
	[ "$rejected" = 150 ] || fail "$rejected of 200 attempts rejected, want 150"
	[ "$rj" = 150 ] || fail "server counted $rj rejected, want 150"
	# max_conns is writable at run time.
	echo 1 > /sys/module/fastecho/parameters/max_conns ||
		fail "cannot write parameters/max_conns"
	wait_until 30 stat_is active 0 || fail "active $(stat_get active) after clients closed"
	fc_ok maxconn -c 3 -x 1 -t 30
	grep -q 'served 1 rejected 2' $W/fc.out ||
		fail "max_conns=1 at run time: $(tail -n 1 $W/fc.out)"
	unload_ok
}

t_idle_timeout() {
	load_ok idle_timeout=3
	idle_and_busy 500
	unload_ok
}

t_port_in_use() {
	slab0=$(slab_kb $W/slab.before) sun0=$(sunreclaim_kb)
	# An IPv6 dual-stack listener on [::]
	fc_bg listen listen -h :: -p $PORT -r $W/ready -u $W/stop -t 60
	ready_or_fail listen $W/ready 30
	port_busy_check "feclient on [::]:$PORT"
	# 20 more tries: a leak per failure would add up
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		load && { rmmod fastecho; fail "insmod try $i succeeded"; }
	done
	touch $W/stop
	fc_wait listen || fail "listener: $(tail -n 1 $W/listen.out)"
	# busybox nc -l on 0.0.0.0 (IPv4)
	nc -l -p $PORT > /dev/null 2>&1 &
	ncpid=$!
	echo $ncpid >> $W/pids
	wait_until 30 sh -c "netstat -ltn | grep -q ':$PORT '" || fail "busybox nc -l did not listen"
	port_busy_check "busybox nc -l on 0.0.0.0:$PORT"
	kill $ncpid
	wait $ncpid 2>/dev/null
	slab1=$(slab_kb $W/slab.after) sun1=$(sunreclaim_kb)
	diag "slab (no tw/request socks) ${slab0} -> ${slab1} kB, SUnreclaim ${sun0} -> ${sun1} kB"
	slab_growth $W/slab.before $W/slab.after
	[ $((slab1 - slab0)) -le "$(slab_limit_kb 512)" ] ||
		fail "slab grew by $((slab1 - slab0)) kB over 22 failed loads"
	# The port is free again: now it loads and echoes.
	wait_until 30 sh -c "! netstat -ltn | grep -q ':$PORT '"
	load_ok
	fc_ok echo -n 1000 -t 20
	unload_ok
}

t_bad_params() {
	bad=""
	for p in port=0 port=70000 port=-1 backlog=-1 backlog=0 max_conns=0 \
		max_conns=-5 bufsize=0 addr=bogus addr=1.2.3.4.5 addr=::1::2 \
		addr=256.1.1.1 idle_timeout=700000 spare_threads=5000 \
		batch_conns=2000000 keepalive_idle=40000 keepalive_intvl=0 \
		keepalive_cnt=0 keepalive_cnt=200 user_timeout=700000; do
		dmesg_mark
		if load "$p"; then
			rmmod fastecho
			bad="$bad $p:loaded"
			continue
		fi
		msg=$(cat $W/insmod.err)
		case "$msg" in
		*"Invalid argument"*) ;;
		*) bad="$bad $p:'$msg'" ;;
		esac
		n=$(dmesg_new | grep -c 'fastecho')
		[ "$n" -ge 1 ] || bad="$bad $p:no-dmesg-line"
		diag "$p: $(dmesg_new | grep fastecho | tail -n 1)"
		is_loaded && bad="$bad $p:left-loaded"
		[ "$(all_fe_threads)" = 0 ] || bad="$bad $p:threads-left"
	done
	[ -z "$bad" ] || fail "wrong handling:$bad"

	# Runtime writes: out of range refused and the value kept, in range taken.
	load_ok
	P=/sys/module/fastecho/parameters
	for pv in max_conns=0 max_conns=-1 max_conns=2000000 \
		idle_timeout=700000 spare_threads=5000 max_conns=abc \
		batch_conns=2000000 batch_conns=-1; do
		old=$(cat $P/${pv%%=*})
		if echo "${pv#*=}" > $P/${pv%%=*} 2>/dev/null; then
			bad="$bad write:$pv:accepted"
		fi
		[ "$(cat $P/${pv%%=*})" = "$old" ] || bad="$bad write:$pv:changed"
	done
	for pv in max_conns=77 idle_timeout=30 spare_threads=3 batch_conns=5; do
		echo "${pv#*=}" > $P/${pv%%=*} || bad="$bad write:$pv:refused"
		[ "$(cat $P/${pv%%=*})" = "${pv#*=}" ] || bad="$bad write:$pv:not-set"
	done
	fc_ok echo -n 1000 -t 20
	unload_ok
	[ -z "$bad" ] || fail "wrong handling:$bad"
}

# spare_count_is N: the stats file and the thread list both say N spares.
spare_count_is() {
	stat_is spare "$1" && conn_threads_are "$1"
}

# A lowered spare_threads applies to the threads already waiting, not only
# to the next one that finishes.
t_spare_shrink() {
	load_ok spare_threads=32
	P=/sys/module/fastecho/parameters
	fc_bg hold hold -c 40 -r $W/ready -u $W/stop -t 120
	ready_or_fail hold $W/ready 100
	touch $W/stop
	fc_wait hold || fail "hold client: $(tail -n 1 $W/hold.out)"
	wait_until 10 stat_is active 0 || fail "active $(stat_get active) after close"
	wait_until 10 spare_count_is 32 ||
		fail "spare $(stat_get spare), $(conn_threads) threads after 40 closed, want 32"
	for n in 8 0; do
		echo $n > $P/spare_threads || fail "cannot write spare_threads=$n"
		# The pool is trimmed by the write itself; the threads then exit.
		stat_is spare $n ||
			fail "spare_threads=$n: spare $(stat_get spare) right after the write"
		wait_until 30 spare_count_is $n ||
			fail "spare_threads=$n: spare $(stat_get spare), $(conn_threads) threads 30 s later"
		diag "spare_threads=$n: spare $(stat_get spare), $(conn_threads) threads"
	done
	# The pool fills up again from 0.
	echo 4 > $P/spare_threads || fail "cannot write spare_threads=4"
	fc_bg hold6 hold -c 6 -r $W/ready6 -u $W/stop6 -t 60
	ready_or_fail hold6 $W/ready6 50
	touch $W/stop6
	fc_wait hold6 || fail "hold client: $(tail -n 1 $W/hold6.out)"
	wait_until 10 spare_count_is 4 ||
		fail "spare $(stat_get spare), $(conn_threads) threads, want 4"
	unload_ok
}

# The parameter files exist before the module's init runs: writes must be
# checked from the first moment, not only once init is done. A writer
# hammers out-of-range values at them while the module is loaded again
# and again; every load must succeed and keep values in range.
t_param_race() {
	P=/sys/module/fastecho/parameters
	(
		while [ ! -e $W/wstop ]; do
			echo 5000 > $P/spare_threads
			echo 0 > $P/max_conns
			echo 700000 > $P/idle_timeout
			echo 2000000 > $P/batch_conns
		done 2> /dev/null
	) &
	echo $! >> $W/pids
	i=1
	while [ $i -le 30 ]; do
		load || { touch $W/wstop; fail "load $i: insmod: $(cat $W/insmod.err)"; }
		v="$(cat $P/max_conns) $(cat $P/idle_timeout) $(cat $P/spare_threads) $(cat $P/batch_conns)"
		rmmod fastecho || fail "load $i: rmmod failed"
		# shellcheck disable=SC2086
		set -- $v
		if [ "$1" -lt 1 ] || [ "$2" -gt 604800 ] || [ "$3" -gt 4096 ] ||
			[ "$4" -gt 1048576 ]; then
			touch $W/wstop
			fail "load $i: max_conns idle_timeout spare_threads batch_conns = $v"
		fi
		i=$((i + 1))
	done
	touch $W/wstop
}

# host_bound PARAM...: the bound on max_conns that insmod with PARAM...,
# then max_conns=1024 bufsize=4194304 (more connections than such buffers
# fit in the guest) names in dmesg; "loaded" if it loaded.
host_bound() {
	dmesg_mark
	if load "$@" max_conns=1024 bufsize=4194304; then
		rmmod fastecho
		echo loaded
		return
	fi
	dmesg_new | sed -n 's/.*can give at most \([0-9]*\) with.*/\1/p' | tail -n 1
}

# Every connection is a task with a kernel stack and, when busy, a bufsize
# buffer and a send page, spare threads besides: max_conns may not promise
# more than the host has.
t_max_conns_bound() {
	P=/sys/module/fastecho/parameters
	pidmax=$(cat /proc/sys/kernel/pid_max)
	tmax=$(cat /proc/sys/kernel/threads-max)
	diag "pid_max $pidmax, threads-max $tmax, $(awk '/MemTotal/ { print $2 }' /proc/meminfo) kB"
	bad=""
	for p in max_conns=1048576 "max_conns=$pidmax" "max_conns=$tmax" \
		"bufsize=4194304 max_conns=4096"; do
		dmesg_mark
		# shellcheck disable=SC2086
		if load $p; then
			rmmod fastecho
			bad="$bad '$p':loaded"
			continue
		fi
		grep -q "Invalid argument" $W/insmod.err || bad="$bad '$p':'$(cat $W/insmod.err)'"
		diag "$p: $(dmesg_new | grep fastecho | tail -n 1)"
	done
	load_ok bufsize=4194304 max_conns=16
	unload_ok
	load_ok
	for v in 1048576 "$pidmax" "$tmax"; do
		echo "$v" > $P/max_conns 2> /dev/null && bad="$bad write:$v:accepted"
	done
	[ "$(cat $P/max_conns)" = 1024 ] || bad="$bad max_conns=$(cat $P/max_conns)"
	echo 4096 > $P/max_conns || bad="$bad write:4096:refused"
	fc_ok echo -n 1000 -t 20
	unload_ok
	[ -z "$bad" ] || fail "wrong handling:$bad"

	# The bound counts what a connection is measured to cost besides its
	# stack (24 KiB, and a 32 KiB send page when busy), and the spare
	# threads: half the memory at no less than 16 KiB + 56 KiB + bufsize
	# per connection, and fewer with 4096 spare threads than with none.
	ram=$(($(awk '/MemTotal/ { print $2 }' /proc/meminfo) * 1024))
	most=$((ram / 2 / (16384 + 57344 + 4194304)))
	n0=$(host_bound spare_threads=0)
	n1=$(host_bound spare_threads=4096)
	diag "bound with bufsize=4194304: $n0 (spare_threads=0), $n1 (4096); half the memory at 16 KiB + 56 KiB + bufsize each: $most"
	[ -n "$n0" ] && [ "$n0" != loaded ] && [ -n "$n1" ] && [ "$n1" != loaded ] ||
		fail "no bound named in dmesg: '$n0' '$n1'"
	[ "$n0" -le "$most" ] || fail "bound $n0 above $most: the measured cost per connection is not counted"
	[ "$n1" -lt "$n0" ] || fail "bound $n1 with 4096 spare threads, $n0 without: spare threads not counted"
	# At that bound, more spare threads do not fit.
	load_ok spare_threads=0 max_conns="$n0" bufsize=4194304
	echo 4096 > $P/spare_threads 2> /dev/null &&
		fail "spare_threads=4096 taken with max_conns=$n0 (the bound without spare threads)"
	[ "$(cat $P/spare_threads)" = 0 ] || fail "spare_threads $(cat $P/spare_threads) after a refused write"
	unload_ok
}
