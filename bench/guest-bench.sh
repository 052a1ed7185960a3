#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-bench.sh: the benchmark, run inside the QEMU guest (busybox ash)
# by scripts/bench.sh through scripts/vm.sh.
#
#   sh /fe/bench/guest-bench.sh [key=value]...
#
# Keys (defaults in brackets):
#   rounds=3        interleaved rounds; in round r the servers run in an
#                   order rotated by r (fastecho, fastecho-zc, epoll, ...;
#                   then fastecho-zc, epoll, ..., fastecho; ...)
#   dur=5           measured seconds per ping-pong and cec run
#   warm=1          warm-up seconds before each of those
#   bulk_mib=256    MiB each way for the bulk run
#   bulk_verify=1   bulk: the client verifies 1 in N 64 KiB blocks of the
#                   echo and drops the others unread (fastecho-bench -v N)
#   idle_conns=10000  connections for the idle memory run
#   cec_conns=4     connect-echo-close cycles in flight
#   workloads="idle pp1 pp32 pp1000 bulk cec rmmod"
#   servers="fastecho fastecho-zc epoll uring splice sockmap"
#   rmmod_runs=5    rmmod workload: runs, after the rounds (fastecho only)
#   modargs=""      extra insmod arguments for fastecho (e.g. bufsize=65536)
#
# Servers: fastecho (the module, port 12345) and fastecho-zc (the same
# module reloaded with zerocopy=1, same port: the module is reloaded
# whenever the next run wants the other mode), fastecho-ab
# (/fe/add/fastecho-ab.ko, another build of the module, e.g. an older
# commit's, loaded the same way with its own defaults and modargs),
# /fe/bin/echo-epoll (12346),
# /fe/bin/echo-uring (12347), /fe/bin/echo-splice (12348),
# /fe/bin/echo-sockmap (12349, its BPF object next to it). Client:
# /fe/bin/fastecho-bench on 127.0.0.1.
#
# rmmod: how long rmmod takes under the load of the suite's rmmod_under_fire
# case (1000 idle connections, 5 that never read, 20 streams, a connect
# flood; the clients at nice 10), each run with a fresh module.
#
# Output, one line per run, parsed by scripts/bench.sh:
#   CSV round=R workload=W server=S <the client's RESULT fields> [memory fields]
#   CSV round=N workload=rmmod server=fastecho conns=ACTIVE secs=RMMOD_SECONDS ...
# plus META lines (kernel, cpus, memory) and free-form progress lines.
# Exit status: 0, or 1 when a server did not start or a run had errors.

set -u

rounds=3
dur=5
warm=1
bulk_mib=256
bulk_verify=1
idle_conns=10000
cec_conns=4
workloads="idle pp1 pp32 pp1000 bulk cec rmmod"
servers="fastecho fastecho-zc epoll uring splice sockmap"
modargs=""
rmmod_runs=5

for kv in "$@"; do
	case "$kv" in
	rounds=* | dur=* | warm=* | bulk_mib=* | bulk_verify=* | idle_conns=* | cec_conns=* | \
	workloads=* | servers=* | modargs=* | rmmod_runs=*)
		eval "${kv%%=*}=\"\${kv#*=}\""
		;;
	*)
		echo "guest-bench: unknown argument $kv" >&2
		exit 2
		;;
	esac
done

# shellcheck source=bench/guest-lib.sh
. "$(dirname "$0")/guest-lib.sh"
status=0
started=""	# NAME:PID of every user-space server running

# The pid of a user-space server; nothing for the module.
pid_of() {
	local e
	for e in $started; do
		[ "${e%%:*}" = "$1" ] && echo "${e#*:}"
	done
}

# kB in slab objects in use (active_objs * objsize over /proc/slabinfo):
# unlike meminfo's Slab, not inflated or hidden by partly used slabs.
slab_active_kb() {
	awk 'NR > 2 { t += $2 * $4 } END { printf "%d\n", t / 1024 }' /proc/slabinfo
}

# VmRSS of a process in kB (0 for the module, which has no process).
rss_of() {
	if [ -n "$1" ] && [ -r "/proc/$1/status" ]; then
		awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
	else
		echo 0
	fi
}

# Wait (up to 20 s) until a server echoes.
wait_server() {
	i=0
	while [ $i -lt 100 ]; do
		if $bin/fastecho-bench -c 1 -d 0.1 -T 5 $host "$(port_of "$1")" \
			>/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
		i=$((i + 1))
	done
	echo "guest-bench: server $1 does not answer" >&2
	return 1
}

# Number of live fastecho connections (0 if the stats file is missing).
fastecho_active() {
	awk '$1 == "active" { print $2; exit }' /proc/net/fastecho 2>/dev/null ||
		echo 0
}

# Number of tasks (threads) in the guest, from /proc/loadavg: cheap, unlike
# ps, which reads every /proc/PID (slow with 10 000 threads under TCG).
nr_tasks() {
	awk '{ split($4, a, "/"); print a[2] }' /proc/loadavg
}

# Wait (up to 300 s) until the server has let go of the idle connections:
# for fastecho, until "active" is 0 and the task count is back to $2 (every
# connection thread gone, but for the spare threads fastecho may keep:
# spare_threads, when the module has that parameter). Otherwise the next
# server's memory deltas would include what fastecho is still freeing.
# The slack of 2 is this function's own subshells. Prints seconds.
wait_drained() {
	t0=$(date +%s)
	if [ "${1%-zc}" = fastecho ]; then
		spare=$(cat /sys/module/fastecho/parameters/spare_threads 2>/dev/null ||
			echo 0)
		limit=$(($2 + 2 + spare))
		while [ $(($(date +%s) - t0)) -lt 300 ]; do
			[ "$(fastecho_active)" = 0 ] && [ "$(nr_tasks)" -le $limit ] &&
				break
			sleep 0.5
		done
		[ "$(nr_tasks)" -le $limit ] || echo "guest-bench: fastecho still has" \
			"$(fastecho_active) connections, $(($(nr_tasks) - $2)) extra tasks" >&2
	else
		sleep 2
	fi
	echo $(($(date +%s) - t0))
}

# The limits meant for an open network, off: the benchmark opens up to
# 10 000 connections from 127.0.0.1 and holds idle ones. A build that
# does not know them (fastecho-ab at an older commit) gets nothing.
open_limits() {
	grep -q max_per_source "$1" && echo "max_per_source=0 idle_timeout=0"
}

# fastecho_load SERVER: the module as SERVER wants it (fastecho:
# zerocopy=0, fastecho-zc: zerocopy=1, fastecho-ab: the other build, which
# may not know zerocopy), reloaded if it is loaded otherwise; prints the
# listening line when it loads.
fe_loaded=""
fastecho_load() {
	ko=/fe/fastecho.ko zc=zerocopy=0
	case "$1" in
	fastecho-zc) zc=zerocopy=1 ;;
	fastecho-ab) ko=/fe/add/fastecho-ab.ko zc="" ;;
	esac
	if grep -q '^fastecho ' /proc/modules; then
		[ "$fe_loaded" = "$1" ] && return 0
		rmmod fastecho || return 1
	fi
	fe_loaded=$1
	# shellcheck disable=SC2086,SC2046 # modargs and the limits are word lists
	insmod $ko port=12345 max_conns=$((idle_conns + 2000)) \
		$(open_limits $ko) $zc $modargs || { echo "guest-bench: insmod $ko failed" >&2; return 1; }
	dmesg | grep 'fastecho: listening' | tail -n 1 >&2
	wait_server "$1"
}

# Run the client; print its RESULT fields (without the word RESULT).
run_client() {
	out=$($bin/fastecho-bench "$@" 2>/tmp/bench.err)
	rc=$?
	line=$(echo "$out" | grep '^RESULT ' | tail -n 1)
	if [ $rc -ne 0 ] || [ -z "$line" ]; then
		echo "guest-bench: client failed (status $rc): $*" >&2
		head -n 5 /tmp/bench.err >&2
		status=1
	fi
	[ -n "$line" ] || line="RESULT errors=1"
	echo "${line#RESULT }"
}

# Idle run: open idle_conns connections, measure memory, release them.
run_idle() {
	srv=$1
	port=$(port_of "$srv")
	pid=$(pid_of "$srv")

	sync
	echo 3 >/proc/sys/vm/drop_caches
	# give empty slabs back, so that the baseline does not depend on what
	# earlier runs freed (the deltas below count slab pages)
	for f in /sys/kernel/slab/*/shrink; do echo 1 >"$f"; done 2>/dev/null
	sleep 1
	act0=$(slab_active_kb)
	free0=$(meminfo MemFree)
	slab0=$(meminfo Slab)
	stack0=$(meminfo KernelStack)
	pt0=$(meminfo PageTables)
	rss0=$(rss_of "$pid")
	tasks0=$(nr_tasks)

	rm -f /tmp/idle.out
	$bin/fastecho-bench -m idle -c "$idle_conns" -d 900 -T 1200 $host "$port" \
		>/tmp/idle.out 2>/tmp/idle.err &
	cpid=$!
	# the client prints its RESULT line once every connection is verified
	i=0
	while ! grep -q '^RESULT' /tmp/idle.out 2>/dev/null; do
		if ! kill -0 $cpid 2>/dev/null || [ $i -gt 9000 ]; then
			break
		fi
		sleep 0.1
		i=$((i + 1))
	done
	sleep 1
	free1=$(meminfo MemFree)
	slab1=$(meminfo Slab)
	stack1=$(meminfo KernelStack)
	pt1=$(meminfo PageTables)
	act1=$(slab_active_kb)
	rss1=$(rss_of "$pid")
	client_rss=$(rss_of "$cpid")
	# new tasks: fastecho's connection threads; the client's main and
	# watchdog threads are the 2 taken off (its workers have finished)
	threads=$(($(nr_tasks) - tasks0 - 2))

	kill -USR1 $cpid 2>/dev/null
	wait $cpid
	rc=$?
	line=$(grep '^RESULT ' /tmp/idle.out | tail -n 1)
	if [ $rc -ne 0 ] || [ -z "$line" ]; then
		echo "guest-bench: idle client failed (status $rc)" >&2
		head -n 5 /tmp/idle.err >&2
		status=1
	fi
	[ -n "$line" ] || line="RESULT errors=1"
	drain_s=$(wait_drained "$srv" "$tasks0")
	echo "${line#RESULT } memfree_kb=$((free0 - free1))" \
		"slab_kb=$((slab1 - slab0)) kstack_kb=$((stack1 - stack0))" \
		"pagetables_kb=$((pt1 - pt0)) slab_active_kb=$((act1 - act0))" \
		"server_rss_kb=$((rss1 - rss0))" \
		"client_rss_kb=$client_rss kthreads=$threads drain_s=$drain_s"
}

# A file appears within $2 seconds, or the process $3 is gone: 0 if it is there.
wait_file() {
	i=0
	while [ ! -e "$1" ] && [ $i -lt $(($2 * 10)) ]; do
		kill -0 "$3" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	[ -e "$1" ]
}

# One rmmod under load (run $1): a fresh module, the load of the suite's
# rmmod_under_fire case built up step by step, then rmmod, timed. Prints
# CSV fields.
run_rmmod() {
	d=/tmp/rmmod.$1
	rm -rf "$d"
	mkdir -p "$d"
	# shellcheck disable=SC2086,SC2046 # modargs and the limits are word lists
	if ! insmod /fe/fastecho.ko port=12345 max_conns=4096 \
		$(open_limits /fe/fastecho.ko) $modargs; then
		echo "guest-bench: rmmod run $1: insmod failed" >&2
		echo "errors=1 ok=0"
		return
	fi
	[ "$1" = 1 ] && dmesg | grep 'fastecho: listening' | tail -n 1 >&2
	err=0
	pids=""
	for c in "hold -c 1000" "noread -c 5" "stream -c 20" "flood -c 2 -d 600"; do
		name=${c%% *}
		# shellcheck disable=SC2086 # c is a word list
		$bin/feclient $c -r "$d/$name.ready" -u "$d/stop" -t 900 \
			>"$d/$name.out" 2>&1 &
		pid=$!
		pids="$pids $pid"
		renice -n 10 -p $pid >/dev/null 2>&1
		if ! wait_file "$d/$name.ready" 600 $pid; then
			echo "guest-bench: rmmod run $1: $name client not ready:" \
				"$(tail -n 1 "$d/$name.out")" >&2
			err=1
			break
		fi
	done
	sleep 1
	active=$(fastecho_active)
	t0=$(cut -d' ' -f1 /proc/uptime)
	rmmod fastecho 2>"$d/rmmod.err" || err=1
	t1=$(cut -d' ' -f1 /proc/uptime)
	left=$(cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^fastecho')
	touch "$d/stop"
	for pid in $pids; do
		wait "$pid" || err=1
	done
	[ "$left" = 0 ] || err=1
	[ $err = 0 ] || echo "guest-bench: rmmod run $1: errors (rmmod:" \
		"$(cat "$d/rmmod.err"), $left threads left); clients:" \
		"$(tail -q -n 1 "$d"/*.out | tr '\n' ' ')" >&2
	grep -q '^fastecho ' /proc/modules && rmmod fastecho
	echo "conns=$active secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" \
		"errors=$err ok=$((1 - err)) kthreads=$left"
}

# One workload against one server.
run_one() {
	w=$1
	srv=$2
	port=$(port_of "$srv")
	# warm and dur may have decimals: not for ash's arithmetic
	t=$(awk -v w="$warm" -v d="$dur" 'BEGIN { printf "%d", w + d + 240 }')

	case "$w" in
	pp1) run_client -m pingpong -c 1 -s 64 -d "$dur" -w "$warm" -T $t $host "$port" ;;
	pp32) run_client -m pingpong -c 32 -s 64 -d "$dur" -w "$warm" -T $t $host "$port" ;;
	pp1000) run_client -m pingpong -c 1000 -s 64 -d "$dur" -w "$warm" -T $t $host "$port" ;;
	bulk) run_client -m bulk -c 1 -b "$bulk_mib" -v "$bulk_verify" -T 900 $host "$port" ;;
	cec) run_client -m cec -c "$cec_conns" -s 64 -d "$dur" -w "$warm" -T $t $host "$port" ;;
	idle) run_idle "$srv" ;;
	*) echo "errors=1 unknown_workload=1" ;;
	esac
}

# The servers of round r, rotated by r - 1.
rotate() {
	r=$1
	shift
	n=$#
	k=$(((r - 1) % n))
	i=0
	list="$*"
	for s in $list; do
		[ $i -ge $k ] && printf '%s ' "$s"
		i=$((i + 1))
	done
	i=0
	for s in $list; do
		[ $i -lt $k ] && printf '%s ' "$s"
		i=$((i + 1))
	done
}

# --- Setup -------------------------------------------------------------------
net_setup

echo "META kernel=$(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)" \
	"memtotal_kb=$(meminfo MemTotal)" \
	"cpu=\"$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)\""
echo "META params rounds=$rounds dur=$dur warm=$warm bulk_mib=$bulk_mib" \
	"bulk_verify=$bulk_verify" \
	"idle_conns=$idle_conns cec_conns=$cec_conns rmmod_runs=$rmmod_runs" \
	"modargs=\"$modargs\""

# The round workloads (all but rmmod); with none, no server is started.
rounds_w=$(echo " $workloads " | sed 's/ rmmod / /g')
[ -n "$(echo $rounds_w)" ] || servers=""
for srv in $servers; do
	case "$srv" in
	fastecho | fastecho-zc | fastecho-ab)
		fastecho_load "$srv" 2>&1 || exit 1
		continue
		;;
	*)
		$bin/echo-$srv "$(port_of "$srv")" &
		started="$started $srv:$!"
		;;
	esac
	wait_server "$srv" || exit 1
done

# --- Rounds ------------------------------------------------------------------
r=1
while [ -n "$servers" ] && [ $r -le "$rounds" ]; do
	for w in $rounds_w; do
		for srv in $(rotate $r $servers); do
			echo "guest-bench: round $r $w $srv ($(date +%T))" >&2
			case "$srv" in
			fastecho*) fastecho_load "$srv" || { status=1; continue; } ;;
			esac
			res=$(run_one "$w" "$srv")
			echo "CSV round=$r workload=$w server=$srv $res"
			case "$res" in
			*errors=0*) ;;
			*) status=1 ;;
			esac
		done
	done
	r=$((r + 1))
done

# --- Teardown ----------------------------------------------------------------
for e in $started; do
	kill -TERM "${e#*:}" && wait "${e#*:}"
done
if grep -q '^fastecho ' /proc/modules; then
	cat /proc/net/fastecho | sed -n '1,7s/^/STATS /p'
	rmmod fastecho
	dmesg | grep 'fastecho: unloaded' | tail -n 1
fi

# --- rmmod under load -----------------------------------------------------------
case " $workloads " in
*" rmmod "*)
	i=1
	while [ $i -le "$rmmod_runs" ]; do
		echo "guest-bench: rmmod run $i ($(date +%T))" >&2
		res=$(run_rmmod $i)
		echo "CSV round=$i workload=rmmod server=fastecho $res"
		case "$res" in *errors=0*) ;; *) status=1 ;; esac
		sleep 2
		i=$((i + 1))
	done
	;;
esac
exit $status
