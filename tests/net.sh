#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# net.sh: the real-network lane. fastecho listens in the guest's own network
# namespace; the clients run in another one (fe-cli), joined to it by a veth
# pair whose two ends delay, jitter, lose, reorder and duplicate packets
# (netem) under a rate limit (tbf), as the kernel's net selftests build their
# paths. Loopback never loses a packet; this path does, so what depends on
# TCP's own retransmissions (echoes still in flight when a connection ends,
# FINs, timeouts, teardown) is tested here. Sourced by suite.sh, after lib.sh.
#
# Addresses: 198.18.0.0/24 and 2001:db8::/64 (benchmarking and documentation
# ranges), on a link that exists only inside the guest.

fe_case net_xfer "net_xfer: 2 x 300 transfers over a lossy veth, half-close and full close, every byte back"
fe_case net_soak "net_soak: random clients over a lossy veth, bytes verified"
fe_case net_idle_timeout "net_idle_timeout: idle client closed, busy client kept, over a lossy veth"
fe_case net_peers "net_peers: vanished peers (link down, total loss, namespace gone) and a peer that never reads end by keepalive/user_timeout"
fe_case net_rmmod "net_rmmod: rmmod with clients over a lossy veth, reload echoes"

NS=fe-cli
IP=/fe/sbin/ip
TC=/fe/sbin/tc
SRV4=198.18.0.1
CLI4=198.18.0.2
SRV6=2001:db8::1
CLI6=2001:db8::2
# Both directions: 20 ms +- 5 ms, 2 % loss, 1 % duplicates, 10 % sent at
# once out of order; then at most 20 Mbit/s.
NETEM="delay 20ms 5ms loss 2% duplicate 1% reorder 10% 50%"
TBF="rate 20mbit burst 32kbit latency 400ms"

# in_ns CMD...: run CMD in the client's namespace.
in_ns() {
	$IP netns exec $NS "$@"
}

# shape [-n NS] DEV TBF NETEM-ARGS...: DEV's egress (in NS, for the client's
# end) gets netem with NETEM-ARGS, and below it tbf ($TBF) when TBF is "tbf";
# whatever DEV had before goes.
shape() {
	local nsarg="" dev tbf
	if [ "$1" = -n ]; then
		nsarg="-n $2"
		shift 2
	fi
	dev=$1 tbf=$2
	shift 2
	# shellcheck disable=SC2086
	{
		$TC $nsarg qdisc del dev "$dev" root 2> /dev/null
		$TC $nsarg qdisc add dev "$dev" root handle 1: netem "$@" || return 1
		[ "$tbf" = tbf ] || return 0
		$TC $nsarg qdisc add dev "$dev" parent 1: handle 2: tbf $TBF
	}
}

# impair TBF NETEM-ARGS...: the same shape in both directions.
impair() {
	shape fe-srv "$@" && shape -n $NS fe-cli "$@"
}

# net_up: the client namespace, the veth pair between it and us, addresses,
# and the impairment ($NETEM). Fails the case when the kernel or the guest
# lacks what it needs.
net_up() {
	local m
	[ -x $IP ] && [ -x $TC ] || fail "no iproute2 in the guest (/fe/sbin)"
	for m in veth sch_netem sch_tbf; do
		[ -f /fe/kmod/$m.ko ] || continue
		insmod /fe/kmod/$m.ko 2> $W/kmod.err ||
			grep -q 'File exists' $W/kmod.err ||
			fail "insmod $m: $(cat $W/kmod.err)"
	done
	$IP netns add $NS || fail "ip netns add $NS failed"
	$IP link add fe-srv type veth peer name fe-cli netns $NS ||
		fail "cannot create the veth pair (no veth in this kernel?)"
	$IP addr add $SRV4/24 dev fe-srv
	$IP addr add $SRV6/64 dev fe-srv nodad
	$IP link set fe-srv up
	$IP -n $NS link set lo up
	$IP -n $NS addr add $CLI4/24 dev fe-cli
	$IP -n $NS addr add $CLI6/64 dev fe-cli nodad
	$IP -n $NS link set fe-cli up
	wait_until 30 in_ns ping -c 1 -W 1 $SRV4 > /dev/null 2>&1 ||
		fail "no route from $NS to $SRV4"
	# shellcheck disable=SC2086
	impair tbf $NETEM || fail "cannot set up netem/tbf (no sch_netem or sch_tbf?)"
	diag "lane: $CLI4/$CLI6 in $NS -> $SRV4/$SRV6, each way: netem $NETEM, tbf $TBF"
}

# net_down: remove the namespace and the veth pair (their sockets go with
# them once no process holds the namespace).
net_down() {
	$IP netns del $NS 2> /dev/null
	$IP link del fe-srv 2> /dev/null
	return 0
}

# owed_sockets [CMD]: server sockets on our port that TCP still owes the
# peer something on (FIN_WAIT1 04, CLOSING 0B, LAST_ACK 09, in
# /proc/net/tcp{,6} hex states); in another namespace when CMD (such as
# in_ns) runs awk there.
owed_sockets() {
	${1:-} awk '$2 ~ /:3039$/ && ($4 == "04" || $4 == "0B" || $4 == "09") { n++ }
		END { print n + 0 }' /proc/net/tcp /proc/net/tcp6
}

# shellcheck disable=SC2120 # netns.sh passes CMD
no_owed_sockets() {
	[ "$(owed_sockets "${1:-}")" = 0 ]
}

# owed_settle: once fastecho has released every socket (active 0), give TCP
# time to deliver what they still owe. With its timers running it gets
# there or gives up well within the bound (orphan retries, user_timeout);
# a socket whose timers were killed never does. Those left are shown.
owed_settle() {
	wait_until 240 no_owed_sockets && return 0
	diag "server sockets still owing their peer after 240 s (sl local rem st tx:rx tr:when retrnsmt ...):"
	awk '$2 ~ /:3039$/ && ($4 == "04" || $4 == "0B" || $4 == "09")' \
		/proc/net/tcp /proc/net/tcp6 | sed 's/^/#   /'
}

# bytes_consistent: every byte received was sent back, nothing dropped, no
# error, and bytes_in is what the clients sent ($1, when given).
# shellcheck disable=SC2154 # bin and drop: set by bytes_balanced (lib.sh)
bytes_consistent() {
	bytes_balanced
	[ "$drop" = 0 ] || fail "bytes_dropped $drop"
	[ "$(stat_get errors)" = 0 ] || fail "errors $(stat_get errors)"
	[ -z "$1" ] || [ "$bin" = "$1" ] ||
		fail "bytes_in $bin, but the clients sent $1"
}

# xfer_over WHAT TBF NETEM-ARGS...: that shape both ways (see impair), then
# 300 transfers; adds the bytes the clients sent to $W/sent, the failures to
# $W/bad.
xfer_over() {
	local what=$1 sent
	shift
	impair "$@" || fail "cannot change the lane to $*"
	if fc xfer -h $SRV4,$SRV6 -c 16 -x 300 -n 150000 -t 900; then
		sent=$(sed -n 's/.*; \([0-9]*\) bytes echoed and verified.*/\1/p' $W/fc.out)
		echo $(($(cat $W/sent) + sent)) > $W/sent
	else
		diag "$what: $(tail -n 1 $W/fc.out)"
		echo "$what: $(tail -n 1 $W/fc.out | sed 's/^feclient xfer: //');" >> $W/bad
	fi
}

# Two paths: a short, fast one that only loses and duplicates, and the
# lane's long one with the whole impairment.
t_net_xfer() {
	FC_NS=in_ns
	net_up
	load_ok
	echo 0 > $W/sent
	: > $W/bad
	xfer_over "loss 2%" notbf loss 2% duplicate 1%
	# shellcheck disable=SC2086
	xfer_over "lane" tbf $NETEM
	wait_until 60 stat_is active 0 || fail "active $(stat_get active) after the transfers"
	owed_settle
	[ -s $W/bad ] && fail "$(cat $W/bad) server sockets left owing data or a FIN: $(owed_sockets)"
	no_owed_sockets || fail "$(owed_sockets) server sockets still owe their peer data or a FIN"
	bytes_consistent "$(cat $W/sent)"
	unload_ok
	net_down
}

# A client that resets (or closes with data unread) sends one RST, and
# nothing resends it: when the lane loses it and the server has nothing in
# flight, the server's end stays open until keepalive asks (the peer's
# kernel answers the probe with another RST). The defaults (60 s idle, then
# 6 x 10 s) would make the wait below race that, so the soak asks sooner.
t_net_soak() {
	local left t0
	FC_NS=in_ns
	net_up
	load_ok keepalive_idle=2 keepalive_intvl=1 keepalive_cnt=3
	s=$((SOAK_SECONDS / 2))
	[ $s -ge 10 ] || s=10
	fc soak -h $SRV4,$SRV6 -c 8 -d $s -t $((s + 300)) ||
		fail "$(grep -m 1 'worker' $W/fc.out || tail -n 1 $W/fc.out)"
	left=$(stat_get active) t0=$(uptime_s)
	if ! wait_until 60 stat_is active 0; then
		# shellcheck disable=SC2046
		dump_conn_state $(live_client_ports)
		fail "active $(stat_get active) 60 s after the soak (keepalive_idle 2, intvl 1, cnt 3)"
	fi
	[ "$left" = 0 ] ||
		diag "$left connections still open when the clients finished; none $(since "$t0") s later"
	owed_settle
	no_owed_sockets || fail "$(owed_sockets) server sockets still owe their peer data or a FIN"
	# Clients that reset mid-stream may leave bytes unechoed: counted.
	bytes_balanced
	[ "$(stat_get errors)" = 0 ] || fail "errors $(stat_get errors)"
	unload_ok
	net_down
}

t_net_idle_timeout() {
	FC_NS=in_ns
	net_up
	load_ok idle_timeout=3
	idle_and_busy 500 $SRV4 $SRV6
	unload_ok
	net_down
}

# peers_gone WHAT N T0: wait for the N connections of WHAT to end, each
# counted as a peer timeout (PT0 is the count before); say how long since T0
# (an uptime_s value) it took.
peers_gone() {
	local want=$((PT0 + $2))
	if ! wait_until 120 stat_is active 0; then
		# shellcheck disable=SC2046
		dump_conn_state $(live_client_ports)
		fail "$1: active $(stat_get active) 120 s later"
	fi
	diag "$1: $2 connections ended after $(since "$3") s (keepalive_idle 2, intvl 1, cnt 3, user_timeout 8)"
	[ "$(stat_get peer_timeouts)" -ge $want ] ||
		fail "$1: peer_timeouts $(stat_get peer_timeouts), want >= $want"
	PT0=$(stat_get peer_timeouts)
}

# peers_vanish WHAT MODE CMD...: 4 connections of feclient MODE over the
# lane; CMD (which finds the client's pid in $cpid) makes their peer vanish,
# the client is then killed unseen, and the connections must end as peer
# timeouts.
peers_vanish() {
	local what=$1 mode=$2 t0
	shift 2
	net_up
	rm -f $W/pv.ready
	fc_bg pv "$mode" -h $SRV4,$SRV6 -c 4 -r $W/pv.ready -u $W/stop -t 200
	ready_or_fail pv $W/pv.ready 60
	cpid=$(cat $W/pv.pid)
	t0=$(uptime_s)
	"$@" || fail "$what: '$*' failed"
	kill -KILL "$cpid"
	peers_gone "$what" 4 "$t0"
	net_down
}

link_down() {
	$IP -n $NS link set fe-cli down
}

# The client stopped, its namespace and the veth pair deleted under it.
unplug() {
	kill -STOP "$cpid" && net_down
}

t_net_peers() {
	FC_NS=in_ns
	load_ok keepalive_idle=2 keepalive_intvl=1 keepalive_cnt=3 user_timeout=8
	PT0=0
	peers_vanish "link down, idle" hold link_down
	peers_vanish "100% loss, streaming" stream impair notbf loss 100%
	peers_vanish "namespace deleted, streaming" stream unplug

	# A client that fills its window and never reads again.
	net_up
	# Lost segments stall a send for a while: only a long silence means
	# every buffer on the way is full and the server is stuck sending.
	fc_bg noread noread -h $SRV4 -c 3 -i 5000 -r $W/r4 -u $W/stop -t 200
	ready_or_fail noread $W/r4 120
	peers_gone "never reads" 3 "$(uptime_s)"
	touch $W/stop
	fc_wait noread > /dev/null
	net_down

	[ "$(stat_get errors)" = 0 ] || fail "errors $(stat_get errors)"
	FC_NS=""
	fc_ok echo -n 10000 -t 30
	t0=$(uptime_s)
	unload_ok
	diag "rmmod took $(since "$t0") s"
}

t_net_rmmod() {
	# shellcheck disable=SC2034 # read by fc and fc_bg (lib.sh)
	FC_NS=in_ns
	net_up
	load_ok max_conns=4096
	fc_bg_nice hold hold -h $SRV4,$SRV6 -c 200 -r $W/r1 -u $W/stop -t 400
	ready_or_fail hold $W/r1 300
	fc_bg_nice noread noread -h $SRV4 -c 5 -r $W/r2 -u $W/stop -t 400
	ready_or_fail noread $W/r2 120
	fc_bg_nice stream stream -h $SRV4,$SRV6 -c 10 -r $W/r3 -u $W/stop -t 400
	ready_or_fail stream $W/r3 120
	fc_bg_nice flood flood -h $SRV4 -c 1 -d 300 -r $W/r4 -u $W/stop -t 350
	ready_or_fail flood $W/r4 60
	sleep 1
	a=$(stat_get active)
	diag "before rmmod: active $a, connection threads $(conn_threads)"
	[ "$a" -ge 215 ] || fail "only $a active before rmmod (want >= 215)"
	rmmod_loaded flood stream noread hold
	load_ok
	fc_ok echo -h $SRV4 -n 100000 -t 120
	fc_ok echo -h $SRV6 -n 1000 -t 120
	unload_ok
	net_down
}
