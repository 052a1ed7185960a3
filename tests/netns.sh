#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# netns.sh: a server in each network namespace (net.fastecho.* sysctls).
# The lane of net.sh is used the other way round: the server is in the
# namespace fe-cli (198.18.0.2, 2001:db8::2), its clients in the guest's
# own one, across the lossy veth. Sourced by suite.sh, after net.sh.

fe_case netns_servers "netns_servers: a server in a namespace and one in the initial namespace on the same port, each serving its own, across the lossy veth too"
fe_case netns_del "netns_del: ip netns del with its server and connections live: the namespace goes (pre_exit), no hang, the initial server unharmed"
fe_case netns_rmmod "netns_rmmod: rmmod with servers and clients in three namespaces"
fe_case netns_sysctl "netns_sysctl: bad net.fastecho values refused, addr and port in use, the initial namespace's sysctls are the module parameters"

SYS=/proc/sys/net/fastecho

# ns_hold NS: a process kept in NS, so that its /proc/PID/net/fastecho is
# NS's stats file (stat_get NAME "$(ns_stats NS)"). It holds the namespace:
# ns_release before deleting it.
ns_hold() {
	$IP netns exec "$1" sleep 100000 &
	echo $! > "$W/hold-$1.pid"
	echo $! >> $W/pids
}

ns_stats() {
	echo "/proc/$(cat "$W/hold-$1.pid")/net/fastecho"
}

ns_release() {
	kill "$(cat "$W/hold-$1.pid")" 2> /dev/null
	wait "$(cat "$W/hold-$1.pid")" 2> /dev/null
	return 0
}

# ns_set NS KNOB VALUE: write net.fastecho.KNOB in NS; the error is in
# $W/sysctl.err.
ns_set() {
	$IP netns exec "$1" sh -c "echo $3 > $SYS/$2" 2> $W/sysctl.err
}

ns_get() {
	$IP netns exec "$1" cat "$SYS/$2"
}

# ns_plain NS: a namespace with only its loopback up.
ns_plain() {
	$IP netns add "$1" || fail "ip netns add $1 failed"
	$IP -n "$1" link set lo up
}

# in_lane: the lane's namespace (net.sh's NS, fe-cli), for FC_NS.
in_lane() {
	$IP netns exec $NS "$@"
}

t_netns_servers() {
	local cs a0 t
	net_up
	load_ok
	ns_hold $NS
	cs=$(ns_stats $NS)
	[ -r "$cs" ] || fail "no /proc/net/fastecho in $NS"
	[ "$(ns_get $NS port)" = 0 ] || fail "port $(ns_get $NS port) in a new namespace, not 0"
	stat_is accepted 0 "$cs" || fail "accepted $(stat_get accepted "$cs") in $NS before its server"
	stat_is listen none "$cs" || fail "listen $(stat_get listen "$cs") in $NS before its server"
	dmesg_mark
	ns_set $NS port $PORT || fail "port=$PORT in $NS: $(cat $W/sysctl.err)"
	dmesg_new | grep -q "fastecho: listening on \[::\]:$PORT in netns" ||
		fail "no 'listening on [::]:$PORT in netns' line"
	[ "$(listener_threads)" = 2 ] || fail "$(listener_threads) listener threads, not 2"
	stat_is listen "[::]:$PORT" "$cs" || fail "$NS: listen $(stat_get listen "$cs")"

	# Each side's loopback reaches its own server.
	FC_NS="" fc_ok echo -h 127.0.0.1 -n 1000 -t 60
	FC_NS=in_lane fc_ok echo -h 127.0.0.1 -n 1000 -t 60
	FC_NS=in_lane fc_ok echo -h ::1 -n 2000 -t 60
	stat_is accepted 1 || fail "initial namespace: accepted $(stat_get accepted), not 1"
	stat_is accepted 2 "$cs" || fail "$NS: accepted $(stat_get accepted "$cs"), not 2"
	stat_is bytes_in 3000 "$cs" || fail "$NS: bytes_in $(stat_get bytes_in "$cs"), not 3000"

	# At once: connections held on both, each listed in its own file.
	FC_NS="" fc_bg hold0 hold -h 127.0.0.1 -c 5 -r $W/r0 -u $W/stop -t 300
	ready_or_fail hold0 $W/r0 60
	FC_NS=in_lane fc_bg hold1 hold -h 127.0.0.1 -c 7 -r $W/r1 -u $W/stop -t 300
	ready_or_fail hold1 $W/r1 60
	[ "$(stat_rows)" = 5 ] || fail "initial namespace: $(stat_rows) rows, not 5"
	t=$(awk 'hdr { n++ } $1 == "id" { hdr = 1 } END { print n + 0 }' "$cs")
	[ "$t" = 7 ] || fail "$NS: $t rows, not 7"
	touch $W/stop
	fc_wait hold0 || fail "hold0: $(tail -n 1 $W/hold0.out)"
	fc_wait hold1 || fail "hold1: $(tail -n 1 $W/hold1.out)"
	rm -f $W/stop

	# From the guest's own namespace across a veth that loses and
	# duplicates (net_xfer's short path, where the stall of 2ff8172 showed
	# most) to $NS's server: every byte back, every EOF, and no socket left
	# owing data or a FIN.
	a0=$(stat_get accepted "$cs")
	impair notbf loss 2% duplicate 1% || fail "cannot change the lane"
	FC_NS="" fc_ok xfer -h $CLI4,$CLI6 -c 16 -x 300 -n 150000 -t 900
	wait_until 60 stat_is active 0 "$cs" || fail "$NS: active $(stat_get active "$cs") after the transfers"
	[ $(($(stat_get accepted "$cs") - a0)) = 300 ] ||
		fail "$NS accepted $(($(stat_get accepted "$cs") - a0)) of the 300 transfers"
	stat_is errors 0 "$cs" || fail "$NS: errors $(stat_get errors "$cs")"
	stat_is accepted 6 || fail "the initial server took some: accepted $(stat_get accepted)"
	wait_until 240 no_owed_sockets in_lane ||
		fail "$NS: $(owed_sockets in_lane) sockets still owe their peer data or a FIN"

	# Port 0 stops that server only.
	ns_set $NS port 0 || fail "port=0 in $NS: $(cat $W/sysctl.err)"
	[ "$(listener_threads)" = 1 ] || fail "$(listener_threads) listener threads after port=0, not 1"
	stat_is listen none "$cs" || fail "$NS: listen $(stat_get listen "$cs") after port=0"
	stat_is listen "[::]:$PORT" || fail "initial namespace: listen $(stat_get listen)"
	FC_NS=in_lane fc_ok refused -h 127.0.0.1 -t 10
	FC_NS="" fc_ok echo -h 127.0.0.1 -n 100 -t 60
	ns_release $NS
	unload_ok
	net_down
}


# ip netns del with a server, 20 held connections and 4 streams from the
# guest's own namespace across the veth. The namespace's last reference
# goes with its name, so its pre_exit stops the server (the line
# "stopped the server of netns N" says so: it runs for no other reason
# here); the connections are reset, their threads return, and the
# initial namespace's server goes on.
t_netns_del() {
	local inum t0
	net_up
	load_ok
	ns_set $NS port $PORT || fail "port=$PORT in $NS: $(cat $W/sysctl.err)"
	inum=$(in_lane readlink /proc/self/ns/net | tr -dc 0-9)
	fc_bg hold hold -h $CLI4,$CLI6 -c 20 -r $W/r1 -u $W/stop -t 300
	ready_or_fail hold $W/r1 120
	fc_bg stream stream -h $CLI4 -c 4 -r $W/r2 -u $W/stop -t 300
	ready_or_fail stream $W/r2 120
	diag "netns $inum: $(conn_threads) connection threads, deleting it"
	dmesg_mark
	t0=$(uptime_s)
	$IP netns del $NS || fail "ip netns del $NS failed"
	wait_until 120 sh -c "dmesg | tail -n +$(($(cat $W/dmark) + 1)) | grep -q 'stopped the server of netns $inum'" ||
		fail "no 'stopped the server of netns $inum' within $(tmo 120) s: the namespace is still referenced"
	diag "its server stopped $(since "$t0") s after ip netns del"
	[ "$(listener_threads)" = 1 ] || fail "$(listener_threads) listener threads, not 1"
	stat_is active 0 || fail "initial namespace: active $(stat_get active)"
	touch $W/stop
	# Their connections are gone, reset or unreachable: the clients end,
	# with an error or not, within their own time limit.
	fc_wait hold
	fc_wait stream
	$IP link del fe-srv 2> /dev/null
	wait_until 30 conn_threads_settled || fail "$(conn_threads) connection threads left"
	fc_ok echo -h 127.0.0.1 -n 1000 -t 60
	unload_ok
}

# Three namespaces with a server each (one on another port), clients held
# and streaming inside each: rmmod stops them all and removes their files.
t_netns_rmmod() {
	local n
	load_ok
	for n in fe-a fe-b fe-c; do
		ns_plain $n
		ns_set $n port $PORT || fail "port=$PORT in $n: $(cat $W/sysctl.err)"
		FC_NS="$IP netns exec $n" fc_bg hold-$n hold -h 127.0.0.1,::1 -c 30 -r $W/h-$n -u $W/stop -t 300
		ready_or_fail hold-$n $W/h-$n 120
		FC_NS="$IP netns exec $n" fc_bg stream-$n stream -h 127.0.0.1 -c 3 -r $W/s-$n -u $W/stop -t 300
		ready_or_fail stream-$n $W/s-$n 120
	done
	ns_set fe-c port 0 && ns_set fe-c port $((PORT + 1)) ||
		fail "fe-c: port $((PORT + 1)): $(cat $W/sysctl.err)"
	FC_NS="$IP netns exec fe-c" fc_ok echo -h 127.0.0.1 -p $((PORT + 1)) -n 1000 -t 60
	[ "$(listener_threads)" = 4 ] || fail "$(listener_threads) listener threads, not 4"
	rmmod_loaded hold-fe-a stream-fe-a hold-fe-b stream-fe-b hold-fe-c stream-fe-c
	for n in fe-a fe-b fe-c; do
		$IP netns exec $n sh -c "[ ! -e /proc/net/fastecho ] && [ ! -e $SYS ]" ||
			fail "$n: /proc/net/fastecho or $SYS left after rmmod"
		$IP netns del $n
	done
}

t_netns_sysctl() {
	local v
	load_ok max_conns=100
	# The initial namespace: max_conns, max_per_source and idle_timeout
	# are the module parameters.
	[ "$(cat $SYS/max_conns)" = 100 ] || fail "max_conns sysctl $(cat $SYS/max_conns), parameter 100"
	echo 77 > $SYS/max_conns || fail "max_conns=77 refused"
	v=$(cat /sys/module/fastecho/parameters/max_conns)
	[ "$v" = 77 ] || fail "max_conns parameter $v after the sysctl wrote 77"
	echo 9 > /sys/module/fastecho/parameters/idle_timeout
	[ "$(cat $SYS/idle_timeout)" = 9 ] || fail "idle_timeout sysctl $(cat $SYS/idle_timeout) after the parameter took 9"
	[ "$(cat $SYS/port)" = $PORT ] || fail "port sysctl $(cat $SYS/port), not $PORT"
	# The port it serves again: no restart, the connection stays.
	fc_bg hold hold -c 1 -r $W/r1 -u $W/stop -t 120
	ready_or_fail hold $W/r1 60
	echo $PORT > $SYS/port || fail "port=$PORT again refused"
	stat_is active 1 || fail "active $(stat_get active) after port=$PORT again: the server restarted"
	touch $W/stop
	fc_wait hold || fail "hold: $(tail -n 1 $W/hold.out)"
	rm -f $W/stop
	for v in "port 65536" "port -1" "port abc" "backlog 0" "backlog 65536" \
		"max_conns 0" "max_conns 2000000" "max_per_source -1" \
		"max_per_source 1048577" "idle_timeout -1" "idle_timeout 604801"; do
		# shellcheck disable=SC2086 # KNOB VALUE
		set -- $v
		if sh -c "echo $2 > $SYS/$1" 2> /dev/null; then
			fail "$1=$2 taken"
		fi
	done
	[ "$(cat $SYS/port)" = $PORT ] || fail "port $(cat $SYS/port) after the bad writes"
	[ "$(cat $SYS/max_conns)" = 77 ] || fail "max_conns $(cat $SYS/max_conns) after the bad writes"
	fc_ok echo -h 127.0.0.1 -n 100 -t 60

	# A new namespace starts with the parameters' limits and no server.
	ns_plain fe-s
	[ "$(ns_get fe-s max_conns)" = 77 ] || fail "fe-s max_conns $(ns_get fe-s max_conns), not 77"
	[ "$(ns_get fe-s idle_timeout)" = 9 ] || fail "fe-s idle_timeout $(ns_get fe-s idle_timeout), not 9"
	# A bad address fails the start, with a line naming it.
	ns_set fe-s addr nonsense || fail "addr=nonsense not stored: $(cat $W/sysctl.err)"
	dmesg_mark
	ns_set fe-s port 7000 && fail "port=7000 with addr=nonsense taken"
	grep -q 'Invalid argument' $W/sysctl.err || fail "port=7000 with addr=nonsense: $(cat $W/sysctl.err)"
	dmesg_new | grep -q 'fastecho: invalid addr=nonsense' || fail "no 'invalid addr=nonsense' line"
	[ "$(ns_get fe-s port)" = 0 ] || fail "port $(ns_get fe-s port) after a failed start"
	[ "$(listener_threads)" = 1 ] || fail "$(listener_threads) listener threads after a failed start"
	# An address of the namespace's own: IPv4 only.
	ns_set fe-s addr 127.0.0.1 && ns_set fe-s port 7000 ||
		fail "addr=127.0.0.1 port=7000: $(cat $W/sysctl.err)"
	FC_NS="$IP netns exec fe-s" fc_ok echo -h 127.0.0.1 -p 7000 -n 100 -t 60
	FC_NS="$IP netns exec fe-s" fc_ok refused -h ::1 -p 7000 -t 10
	# A port a user-space listener holds.
	FC_NS="$IP netns exec fe-s" fc_bg listen listen -h 127.0.0.1 -p 7001 -r $W/ready -u $W/stop -t 60
	ready_or_fail listen $W/ready 30
	ns_set fe-s port 7001 && fail "port=7001 taken while a listener holds it"
	grep -q 'Address already in use' $W/sysctl.err || fail "port=7001 in use: $(cat $W/sysctl.err)"
	[ "$(ns_get fe-s port)" = 0 ] || fail "port $(ns_get fe-s port) after EADDRINUSE"
	touch $W/stop
	fc_wait listen
	$IP netns del fe-s
	unload_ok
}
