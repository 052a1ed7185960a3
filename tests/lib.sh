#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# lib.sh: what every area file of the suite shares: settings, the case
# registry, loading and unloading, the stats file, feclient in the
# foreground and background, waiting, memory accounting. Sourced by
# suite.sh; the area files (basic.sh, limits.sh, ...) define the cases.
#
# Environment: SOAK_SECONDS (default 60), FE_TIME_SCALE (a whole number,
# default 1: every time limit of the suite and of feclient is multiplied
# by it; check.sh sets it per kernel and boot), RMMOD_LIMIT (seconds rmmod
# under load may take before it counts as hung, default 60 times
# FE_TIME_SCALE), FE_KO (default /fe/fastecho.ko), FE_PORT (default
# 12345), FECLIENT (default /fe/bin/feclient), FE_PARAMS (module
# parameters appended to every insmod, e.g. "zerocopy=1": the whole suite
# on another echo path), FE_STATS_CONNS (connections stats_load holds,
# default 10000), FE_SUITE_LIMITS (put before every insmod's own
# parameters, default "max_per_source=0 idle_timeout=0").
#
# Time limits only say "it did not hang": far above what anything takes,
# never a speed target (speeds are benchmark figures, make bench).

# Read by the area files.
# shellcheck disable=SC2034
{
KO=${FE_KO:-/fe/fastecho.ko}
FC=${FECLIENT:-/fe/bin/feclient}
PORT=${FE_PORT:-12345}
SOAK_SECONDS=${SOAK_SECONDS:-60}
TSCALE=${FE_TIME_SCALE:-1}
RMMOD_LIMIT=${RMMOD_LIMIT:-$((60 * TSCALE))}
W=/tmp/fe-suite
FC_NS=""
# Every client of the suite comes from one or two addresses, and most
# cases hold hundreds of connections or hold them idle for minutes: every
# load lifts the per-source limit and the idle timeout (a case's own
# parameters come after, and win). opennet.sh's cases, which test those
# limits and their defaults, set SUITE_LIMITS to "".
SUITE_LIMITS=${FE_SUITE_LIMITS-max_per_source=0 idle_timeout=0}
KMEMLEAK=/sys/kernel/debug/kmemleak
}

# fe_case NAME TITLE: register case NAME (function t_NAME), in the order the
# area files are sourced; TITLE is its TAP description.
CASES=""
fe_case() {
	CASES="$CASES $1"
	eval "title_$1=\$2"
}

case_title() {
	eval "echo \"\$title_$1\""
}

# Fail the current case (each case runs in a subshell) with a reason.
fail() {
	echo "$*" > $W/reason
	exit 1
}

diag() {
	echo "# $*"
}

uptime_s() {
	cut -d' ' -f1 /proc/uptime
}

# seconds since $1 (an uptime_s value), one decimal
since() {
	awk -v a="$1" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }'
}

is_loaded() {
	grep -q '^fastecho ' /proc/modules
}

# Load the module with $SUITE_LIMITS, parameters "$@" and $FE_PARAMS; the
# error message is in $W/insmod.err.
load() {
	# shellcheck disable=SC2086 # word lists
	insmod "$KO" $SUITE_LIMITS "$@" ${FE_PARAMS:-} 2> $W/insmod.err
}

load_ok() {
	load "$@" || fail "insmod $*: $(cat $W/insmod.err)"
}

unload_ok() {
	rmmod fastecho 2> $W/rmmod.err || fail "rmmod: $(cat $W/rmmod.err)"
}

# stat_get NAME [FILE]: a counter from /proc/net/fastecho ("name value"
# lines), or from FILE (another namespace's, netns.sh).
stat_get() {
	awk -v k="$1" '$1 == k { print $2; found = 1; exit }
		END { if (!found) print "missing" }' "${2:-/proc/net/fastecho}" 2>/dev/null
}

# Connection rows in /proc/net/fastecho (after the "id ..." header).
stat_rows() {
	awk 'hdr { n++ } $1 == "id" { hdr = 1 } END { print n + 0 }' \
		/proc/net/fastecho 2>/dev/null
}

# PIDs and number of the connection threads (fastecho/<id>), number of
# listener threads.
conn_thread_pids() {
	grep -l '^fastecho/' /proc/[0-9]*/comm 2>/dev/null |
		sed 's|/proc/\([0-9]*\)/comm|\1|'
}

conn_threads() {
	conn_thread_pids | wc -l
}

listener_threads() {
	cat /proc/[0-9]*/comm 2>/dev/null | grep -cx 'fastecho'
}

all_fe_threads() {
	cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^fastecho'
}

# tmo SECONDS: a time limit, times FE_TIME_SCALE.
tmo() {
	echo $(($1 * TSCALE))
}

# wait_until SECONDS COMMAND...: poll until COMMAND succeeds; 1 once
# SECONDS times FE_TIME_SCALE have passed (wait_secs: exactly SECONDS).
wait_until() {
	local limit
	limit=$(tmo "$1")
	shift
	wait_secs "$limit" "$@"
}

wait_secs() {
	local limit=$1 t0
	shift
	t0=$(uptime_s)
	while ! "$@"; do
		if awk -v a="$t0" -v b="$(uptime_s)" -v l="$limit" \
			'BEGIN { exit !(b - a > l) }'; then
			return 1
		fi
		usleep 100000
	done
	return 0
}

# Idle threads the module may keep for the next connections (its
# spare_threads parameter; 0 when it has none).
spare_allowed() {
	cat /sys/module/fastecho/parameters/spare_threads 2>/dev/null || echo 0
}

# True once no thread serves a connection: what is left is at most the
# spare pool.
conn_threads_settled() {
	[ "$(conn_threads)" -le "$(spare_allowed)" ]
}

# Say how many idle spare threads stayed (TAP comment).
diag_spare() {
	diag "$(conn_threads) idle connection threads kept after close (spare_threads=$(spare_allowed))"
}

file_exists() { [ -e "$1" ]; }
stat_is() { [ "$(stat_get "$1" "${3:-}")" = "$2" ]; }
conn_threads_are() { [ "$(conn_threads)" -eq "$1" ]; }

# Mark the kernel log; dmesg_new prints what came after the mark.
dmesg_mark() {
	dmesg | wc -l > $W/dmark
}

dmesg_new() {
	dmesg | tail -n +$(($(cat $W/dmark) + 1))
}

# feclient in the foreground; its output becomes TAP comments. FC_NS, when
# set, is a command that feclient runs under (net.sh: in_ns).
fc() {
	local rc
	$FC_NS "$FC" "$@" > $W/fc.out 2>&1
	rc=$?
	sed 's/^/# /' $W/fc.out
	return $rc
}

fc_ok() {
	fc "$@" || fail "$(tail -n 1 $W/fc.out)"
}

# feclient in the background: fc_bg NAME ARGS...; output in $W/NAME.out,
# pid in $W/NAME.pid (and in $W/pids for the clean-up).
fc_bg() {
	local name=$1
	shift
	$FC_NS "$FC" "$@" > $W/$name.out 2>&1 &
	echo $! > $W/$name.pid
	echo $! >> $W/pids
}

# ready_or_fail NAME FILE SECONDS: wait for a background feclient to touch
# FILE; fail (with its output) if it exits first or takes too long.
ready_or_fail() {
	local pid
	pid=$(cat $W/$1.pid)
	wait_until "$3" sh -c "[ -e $2 ] || ! kill -0 $pid 2>/dev/null"
	if [ ! -e "$2" ]; then
		touch $W/stop
		kill -0 $pid 2>/dev/null && diag "$1: not ready in $(tmo "$3") s"
		is_loaded && diag "server: active $(stat_get active) accepted $(stat_get accepted) rejected $(stat_get rejected) errors $(stat_get errors) resets $(stat_get resets) spare $(stat_get spare)"
		fc_wait "$1"
		fail "$1 client: $(tail -n 1 $W/$1.out)"
	fi
}

# fc_bg_nice: fc_bg at nice 10, for load generators that must not starve
# what is measured (the server's threads keep their normal priority).
fc_bg_nice() {
	fc_bg "$@"
	renice -n 10 -p "$(cat $W/$1.pid)" > /dev/null 2>&1
}

# fc_wait NAME: wait for a background feclient, show its output, return
# its exit status.
fc_wait() {
	local rc
	wait "$(cat $W/$1.pid)"
	rc=$?
	sed "s/^/# [$1] /" $W/$1.out
	return $rc
}

# idle_and_busy MS [IDLE_HOST BUSY_HOST]: with idle_timeout=3 loaded, a
# client that echoes once and then stays silent is closed by the server
# 2 to 30 s later and counted in idle_timeouts, while one that echoes every
# MS milliseconds for 9 s is never closed. The hosts default to feclient's.
idle_and_busy() {
	local ms=$1 ih="" bh="" it
	[ -z "${2:-}" ] || ih="-h $2" bh="-h $3"
	# shellcheck disable=SC2086
	fc_bg idle idle $ih -a 2 -b 30 -t 60
	# shellcheck disable=SC2086
	fc_ok busy $bh -d 9 -i "$ms" -t 60
	fc_wait idle || fail "idle client: $(tail -n 1 $W/idle.out)"
	it=$(stat_get idle_timeouts)
	[ "$it" -ge 1 ] 2>/dev/null || fail "idle_timeouts is '$it' after an idle close"
}

# load_cycles N: N times load, echo 1000 bytes, unload; fail on the first
# that goes wrong.
load_cycles() {
	local i=1
	while [ $i -le "$1" ]; do
		load || fail "cycle $i: insmod: $(cat $W/insmod.err)"
		"$FC" echo -n 1000 -t 20 -q > $W/fc.out 2>&1 ||
			fail "cycle $i: $(tail -n 1 $W/fc.out)"
		rmmod fastecho 2> $W/rmmod.err || fail "cycle $i: rmmod: $(cat $W/rmmod.err)"
		i=$((i + 1))
	done
}

# rmmod_loaded CLIENT...: rmmod while the named background feclients load
# the module, in the background so that a hung rmmod fails the case, not the
# guest (RMMOD_LIMIT; how long it takes is a benchmark figure, make bench).
# Then stop the clients, check their verdicts, and that nothing of the
# module is left: no thread, no socket on $PORT with an inode, no stats file.
rmmod_loaded() {
	local t0 rmpid rc dt left socks c
	t0=$(uptime_s)
	(rmmod fastecho 2> $W/rmmod.err; echo $? > $W/rmmod.rc; since "$t0" > $W/rmmod.dt) &
	rmpid=$!
	if ! wait_secs "$RMMOD_LIMIT" sh -c "! kill -0 $rmpid 2>/dev/null"; then
		for p in $(pidof rmmod); do
			diag "---- kernel stack of rmmod (pid $p)"
			sed 's/^/#   /' /proc/$p/stack 2>/dev/null
		done
		touch $W/stop
		fail "rmmod under load still running after $RMMOD_LIMIT s (hung?)"
	fi
	wait $rmpid
	rc=$(cat $W/rmmod.rc) dt=$(cat $W/rmmod.dt)
	left=$(all_fe_threads)
	# server sockets fastecho still holds: port $PORT, an inode (released: 0)
	socks=$(awk -v p=":$(printf '%04X' $PORT)" '$2 ~ p "$" && $10 != 0' \
		/proc/net/tcp /proc/net/tcp6 | wc -l)
	diag "rmmod took $dt s (status $rc); fastecho threads right after: $left, sockets: $socks"
	touch $W/stop
	for c in "$@"; do
		fc_wait "$c" || fail "$c client: $(tail -n 1 $W/$c.out)"
	done
	[ "$rc" = 0 ] || fail "rmmod under load failed: $(cat $W/rmmod.err)"
	[ "$left" = 0 ] || fail "$left fastecho threads still there after rmmod returned"
	[ "$socks" = 0 ] || fail "$socks sockets on port $PORT still held after rmmod returned"
	[ ! -e /proc/net/fastecho ] || fail "/proc/net/fastecho left after rmmod"
}

# maxconn_counts NAME: "served rejected" from feclient maxconn's output
# (in $W/NAME.out).
maxconn_counts() {
	sed -n 's/.*served \([0-9]*\) rejected \([0-9]*\).*/\1 \2/p' $W/$1.out | head -n 1
}

# bytes_balanced: show the server's counters; fail unless every byte
# received was echoed or counted as dropped, bytes_in = bytes_out +
# bytes_dropped (true once no connection is live). Leaves them in $bin,
# $bout and $drop.
bytes_balanced() {
	bin=$(stat_get bytes_in) bout=$(stat_get bytes_out) drop=$(stat_get bytes_dropped)
	diag "server: accepted $(stat_get accepted) bytes_in $bin bytes_out $bout bytes_dropped $drop bytes_copied $(stat_get bytes_copied) resets $(stat_get resets) errors $(stat_get errors)"
	[ "$bin" = $((bout + drop)) ] ||
		fail "bytes_in $bin != bytes_out $bout + bytes_dropped $drop"
}

# live_client_ports: the client port of each connection the stats file
# lists, one a line (the word splitting where it is used is on purpose).
live_client_ports() {
	awk 'hdr { sub(/.*:/, "", $2); print $2 } $1 == "id" { hdr = 1 }' /proc/net/fastecho
}

# dump_conn_state [CLIENT_PORT...]: TAP comments on the server's view of
# stuck connections: the stats file, the sockets of those client ports (both
# ends, with their queues) and the kernel stacks of the fastecho threads
# whose byte counts differ.
dump_conn_state() {
	local p pids
	diag "---- /proc/net/fastecho"
	sed 's/^/#   /' /proc/net/fastecho
	for p in "$@"; do
		diag "---- sockets with port $p (netstat -tn: Recv-Q Send-Q local foreign state)"
		netstat -tn 2>/dev/null | grep ":$p " | sed 's/^/#   /'
		# st 01 ESTABLISHED .. 09 LAST_ACK; tr 1 retransmit, 4 zero
		# window probe, 0 no timer; retrnsmt = unanswered probes
		diag "---- /proc/net/tcp{,6} for port $p (sl local rem st tx:rx tr:when retrnsmt ...)"
		grep -h ":$(printf '%04X' "$p") " /proc/net/tcp /proc/net/tcp6 |
			sed 's/^/#   /'
	done
	diag "---- TcpExt counters that are not 0 (/proc/net/netstat)"
	awk '$1 == "TcpExt:" && !h { for (i = 2; i <= NF; i++) n[i] = $i; h = 1; next }
	     $1 == "TcpExt:" { for (i = 2; i <= NF; i++) if ($i != 0) printf "%s=%s ", n[i], $i; print "" }' \
		/proc/net/netstat | fold -s -w 100 | sed 's/^/#   /'
	# rows: id peer bytes_in bytes_out age_s pid
	pids=$(awk 'hdr && $3 != $4 { print $NF } $1 == "id" { hdr = 1 }' /proc/net/fastecho)
	for p in $pids; do
		diag "---- kernel stack of $(cat /proc/$p/comm 2>/dev/null) (pid $p)"
		sed 's/^/#   /' /proc/$p/stack 2>/dev/null
	done
}

# Unreclaimable slab in kB, after dropping caches.
sunreclaim_kb() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
	awk '/^SUnreclaim:/ { print $2 }' /proc/meminfo
}

# Slab memory in use in kB from /proc/slabinfo, leaving out TIME_WAIT and
# request minisockets and the port buckets they hold (they outlive
# connections by design, up to 60 s).
# With a FILE argument, the slabinfo it was read from is kept there.
slab_kb() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
	cat /proc/slabinfo > ${1:-$W/slabinfo.now}
	awk 'NR > 2 && $1 !~ /^(tw_sock|request_sock|tcp_bind)/ { s += $2 * $4 }
		END { printf "%d\n", s / 1024 }' ${1:-$W/slabinfo.now}
}

# KASAN keeps freed objects in quarantine, so slab sums say nothing about
# leaks there (kmemleak, on the same debug kernel, does): slab_limit_kb
# prints the tolerance to use, huge under KASAN.
slab_limit_kb() {
	if dmesg | grep -q 'KernelAddressSanitizer initialized'; then
		diag "KASAN kernel: slab growth is only shown (quarantine), kmemleak checks leaks" >&2
		echo 1000000
	else
		echo "$1"
	fi
}

# slab_growth BEFORE AFTER: TAP comments, the caches that grew most (kB,
# objects), from two slab_kb FILEs.
slab_growth() {
	awk 'FNR == NR { if (FNR > 2) { a[$1] = $2; sz[$1] = $4 }; next }
		FNR > 2 { d = ($2 - a[$1]) * $4 / 1024
			if (d > 16) printf "%d %s %+d\n", d, $1, $2 - a[$1] }' \
		"$1" "$2" | sort -rn | head -n 8 |
		while read kb name objs; do diag "  $name: +$kb kB ($objs objects)"; done
}
