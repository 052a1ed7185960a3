#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-profile.sh: where does fastecho's time go? Run inside the QEMU guest
# (busybox ash), e.g. by hand:
#   scripts/vm.sh --smp 1 -- sh /fe/bench/guest-profile.sh [dur=5] [parts="..."]
# (parts=zcbulk wants scripts/vm.sh --perf for its perf profile)
#
# parts (all by default):
#   sched     ping-pong 64 B at 1, 32 and 1000 connections against each
#             server, with per-message scheduler counts: context switches
#             (/proc/stat ctxt), switches by thread kind and state (ftrace
#             hist trigger on sched_switch: preempted vs blocked), wakeups
#             (sched_wakeup), run-queue wait (/proc/schedstat run_delay)
#             and the CPU split (/proc/stat user/system/softirq)
#   bufsize   fastecho reloaded with bufsize 4096, 16384, 65536: bulk MiB/s,
#             1-connection ping-pong, memory of 2000 idle connections
#   nice      fastecho's connection threads reniced (+5, -5) during
#             ping-pong at 32 and 1000 connections
#   spare     connect-echo-close with spare_threads=0 and 32 (if the module
#             has that parameter), and echo-epoll for reference
#   batch     fastecho with batch_conns=0 (connection threads always
#             SCHED_NORMAL) vs batch_conns=2 (the default: SCHED_BATCH from
#             2 connections) during ping-pong at 32 and 1000 conns,
#             reps=N interleaved repetitions
#   bulk      64 MiB each way against each server (fastecho, fastecho with
#             zerocopy=1, epoll, uring, splice, sockmap): the CPU split
#             (user/system/softirq) and context switches of a bulk stream
#   frag      memory of 2000 idle connections that echoed once vs that
#             never sent a byte (fastecho-bench -E), twice
#   busy      net.core.busy_read/busy_poll 0 vs 50 us, 1-connection ping-pong
#   zcbulk    bulk (mib=N each way, 128 by default) against fastecho with
#             zerocopy=1, echo-splice and fastecho, reps=N interleaved
#             rounds: per MiB echoed, context switches, wakeups, calls and
#             bytes of tcp_read_sock (fastecho-zc's batches), tcp_splice_read
#             (splice's; its tcp_read_sock is inlined), tcp_sendpage,
#             tcp_recvmsg, tcp_sendmsg, calls of sk_wait_data,
#             sk_stream_wait_memory, __tcp_transmit_skb (segments and ACKs
#             sent) and tcp_send_ack (kprobe events with hist triggers, by
#             task: softirq work counts for the task it interrupted),
#             and the CPU split with idle (probes=0: no kprobes, only the
#             switches, wakeups and CPU split); the servers' order rotates
#             from round to round; then one round per server under
#             perf record -a -e cpu-clock (software clock: TCG has no PMU)
#             when /fe/sbin/perf is there (scripts/vm.sh --perf): "PERF"
#             lines of the top tasks, symbols (all, and the server's own
#             task's) and call chains, by share of all samples
#   ppperf    ping-pong 64 B at conns=N... (1 32) against servers=...
#             (fastecho sockmap epoll; fastecho-zc too) under perf record
#             -a -e cpu-clock -F freq=HZ (9973; perf adjusts the period to
#             it, which keeps the sampling from locking to the
#             ping-pong's cycle as a fixed period did) around the client (warm-up
#             warm=S (1), then dur): "PPERF" lines of the
#             client's RESULT, /proc/stat busy and idle ticks around the
#             recording, then the shares of all samples by task and by
#             task, object and symbol (the top rows=N, 150); no call chains (perf
#             report of those is slow in the guest); jitter=N: the client
#             spins 0..N-1 loops before each send (fastecho-bench -J), so
#             that the samples do not lock onto the ping-pong's period;
#             psort=KEYS: perf report's --sort for the symbol lines
#             (comm,dso,sym; dso,sym sums 1000 connection threads)
#             Meant for an instruction-clock
#             guest (scripts/vm.sh --icount --perf), where cpu-clock
#             samples by guest instructions: bench/perf-groups.awk turns
#             the lines into instructions per echo by group
#   ppdiff    perf record -a -e cpu-clock -F freq around the client, twice
#             per server and size, the runs differing only in length
#             (durs="D1 D2" seconds of ping-pong or cec after the same
#             warm-up, or MiB of bulk): dmode=pp (ping-pong 64 B, conns=N...),
#             cec (connect-echo-close, 4 in flight) or bulk (one stream of
#             D MiB each way). On the instruction clock the two runs repeat
#             the connects, the warm-up and the closes to the instruction,
#             so a symbol's samples in run 2 less run 1 are its share of
#             the extra messages only: "PPDIFF" lines with each run's
#             RESULT and the sample count of every symbol (dso,sym, all
#             tasks: "all"; the client task only: "cli") with at least
#             2 samples; bench/perf-diff.awk makes instructions per message
#             (connection, MiB) of them
#   ppcount   ping-pong 64 B at conns=N... (1 32) against servers=...
#             (e.g. "fastecho epoll"), per echoed message: every nonzero delta
#             of /proc/net/snmp Tcp and /proc/net/netstat TcpExt (segments
#             in and out, delayed ACKs, ...), /proc/softirqs, and (probes=1)
#             counts of tracepoints (sched, timer, irq, kmem, skb, net) and
#             kprobes (TCP transmit, ACK, receive, timer, skb and wakeup
#             functions; see pc_kprobes) by task kind (client, server,
#             other), from ftrace hist triggers: no perf needed. Each
#             server and conns runs twice, with dur=D1 and dur=D2 (durs,
#             "0.25 1.25") after the same warm-up (warm): the per-message
#             figures are (count2 - count1) / (msgs2 - msgs1), so that the
#             connects, the warm-up and the closes cancel out (the
#             instruction clock repeats them to the instruction). "PPCOUNT
#             raw" lines per run, one "PPCOUNT per_msg" line per pair;
#             tps=, kps=: other tracepoints (group/name) and kprobed
#             functions than the defaults (fewer probes disturb the timing
#             less); latfns=F...: also the guest time from entry to
#             return of each function F, summed by task kind (kprobe,
#             kretprobe and a synthetic event: some 5000 instructions a
#             call of their own, 1500 of them inside the span; F must not
#             nest in itself), probes=0: only those and the /proc counters
# Output: one "PROF ..." line of key=value pairs per measurement. The
# *_per_msg values divide counters taken over the whole client run (warm-up
# included) by the messages of the measured window: scale them by
# dur/(dur+warm-up) for absolute values; runs with the same warm-up compare
# directly.

set -u
dur=5
reps=1
mib=128
probes=1
conns="1 32"
servers="fastecho sockmap epoll"
freq=9973
jitter=0
rows=150
warm=1
parts="sched spare bufsize nice batch busy frag bulk"
durs="0.25 1.25"
dmode=pp
latfns=""
tps=""
kps=""
psort=comm,dso,sym
for kv in "$@"; do
	case "$kv" in
	dur=* | parts=* | reps=* | mib=* | probes=* | conns=* | servers=* | \
	freq=* | warm=* | jitter=* | rows=* | durs=* | latfns=* | \
	tps=* | kps=* | psort=* | dmode=*) eval "${kv%%=*}=\"\${kv#*=}\"" ;;
	*) echo "guest-profile: unknown argument $kv" >&2; exit 2 ;;
	esac
done

# shellcheck source=bench/guest-lib.sh
. "$(dirname "$0")/guest-lib.sh"
tr=/sys/kernel/tracing
[ -d $tr/events ] || mount -t tracefs nodev $tr 2>/dev/null

net_setup

load_fastecho() {
	grep -q '^fastecho ' /proc/modules && rmmod fastecho
	# the open-network limits off: up to 2000 connections from 127.0.0.1
	insmod /fe/fastecho.ko port=12345 max_conns=12000 max_per_source=0 \
		idle_timeout=0 "$@" || exit 1
	sleep 0.5
}

# "ctxt user system softirq" totals from /proc/stat, and cpu0's run_delay
snap() {
	awk '$1 == "ctxt" { c = $2 }
	     $1 == "cpu" { u = $2 + $3; s = $4; si = $8 }
	     END { printf "%s %s %s %s", c, u, s, si }' /proc/stat
	awk '$1 ~ /^cpu[0-9]/ { d += $9 } END { printf " %s\n", d }' /proc/schedstat
}

hist_on() {
	echo 'hist:keys=prev_comm,prev_state:vals=hitcount:size=4096' \
		>$tr/events/sched/sched_switch/trigger
	echo 'hist:keys=comm:vals=hitcount:size=4096' \
		>$tr/events/sched/sched_wakeup/trigger
}

# Sum a hist by thread kind (fastecho/N -> fastecho/*), print k=v pairs.
hist_off() {
	awk '/prev_comm:/ {
		comm = $0; sub(/.*prev_comm: */, "", comm); sub(/ .*/, "", comm)
		st = $0; sub(/.*prev_state: */, "", st); sub(/ .*/, "", st)
		n = $0; sub(/.*hitcount: */, "", n)
		sub(/\/[0-9]+$/, "_conn", comm)
		what = (st == "0" ? "preempt" : "block")
		if (comm ~ /^fastecho/ || comm ~ /^echo-/ || comm == "fastecho-bench")
			sw[comm "_" what] += n
	}
	END { for (k in sw) printf " sw_%s=%d", k, sw[k] }' \
		$tr/events/sched/sched_switch/hist
	awk '/comm:/ {
		comm = $0; sub(/.*comm: */, "", comm); sub(/ .*/, "", comm)
		n = $0; sub(/.*hitcount: */, "", n)
		sub(/\/[0-9]+$/, "_conn", comm)
		if (comm ~ /^fastecho/ || comm ~ /^echo-/ || comm == "fastecho-bench")
			wk[comm] += n
	}
	END { for (k in wk) printf " wake_%s=%d", k, wk[k] }' \
		$tr/events/sched/sched_wakeup/hist
	echo '!hist:keys=prev_comm,prev_state:vals=hitcount:size=4096' \
		>$tr/events/sched/sched_switch/trigger
	echo '!hist:keys=comm:vals=hitcount:size=4096' \
		>$tr/events/sched/sched_wakeup/trigger
}

# measure LABEL SERVER CLIENT_ARGS...: one PROF line
measure() {
	label=$1
	srv=$2
	shift 2
	s0=$(snap)
	hist_on
	res=$($bin/fastecho-bench "$@" $host "$(port_of "$srv")" 2>/dev/null |
		grep '^RESULT')
	counts=$(hist_off)
	s1=$(snap)
	echo "PROF $label server=$srv ${res#RESULT } $s0 $s1 $counts" |
		awk '{
			# fields from snap: ctxt user system softirq run_delay (x2)
			n = NF
			for (i = 1; i <= NF; i++) if ($i ~ /^sw_|^wake_/) { n = i - 1; break }
			c0 = $(n - 9); u0 = $(n - 8); y0 = $(n - 7); q0 = $(n - 6); d0 = $(n - 5)
			c1 = $(n - 4); u1 = $(n - 3); y1 = $(n - 2); q1 = $(n - 1); d1 = $n
			msgs = 0
			for (i = 1; i <= n - 10; i++) {
				if ($i ~ /^msgs=/) msgs = substr($i, 6) + 0
				line = line (i > 1 ? " " : "") $i
			}
			tot = (u1 - u0) + (y1 - y0) + (q1 - q0)
			if (tot == 0) tot = 1
			printf "%s ctxt_per_msg=%.2f runq_wait_us_per_msg=%.1f", line,
				msgs ? (c1 - c0) / msgs : 0,
				msgs ? (d1 - d0) / 1000 / msgs : 0
			printf " user_pct=%.0f sys_pct=%.0f softirq_pct=%.0f",
				100 * (u1 - u0) / tot, 100 * (y1 - y0) / tot,
				100 * (q1 - q0) / tot
			for (i = n + 1; i <= NF; i++) {
				split($i, kv, "=")
				printf " %s_per_msg=%.3f", kv[1], msgs ? kv[2] / msgs : 0
			}
			printf "\n"
		}'
}

# idle_mem LABEL N [CLIENT_ARGS]: memory of N idle connections to fastecho
idle_mem() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	sleep 1
	for f in /sys/kernel/slab/*/shrink; do echo 1 >"$f"; done 2>/dev/null
	f0=$(meminfo MemFree); s0=$(meminfo Slab); k0=$(meminfo KernelStack)
	awk 'NR > 2 { print $1, $3 * $4 }' /proc/slabinfo >/tmp/slab0
	n0=$(awk '{ split($4, a, "/"); print a[2] }' /proc/loadavg)
	$bin/fastecho-bench -m idle -c "$2" -d 600 ${3:-} $host 12345 >/tmp/idle.out 2>&1 &
	cpid=$!
	while ! grep -q '^RESULT' /tmp/idle.out && kill -0 $cpid 2>/dev/null; do
		sleep 0.2
	done
	sleep 1
	f1=$(meminfo MemFree); s1=$(meminfo Slab); k1=$(meminfo KernelStack)
	awk 'NR > 2 { print $1, $3 * $4 }' /proc/slabinfo >/tmp/slab1
	# the caches that grew most, bytes per connection
	top=$(awk -v n="$2" 'NR == FNR { a[$1] = $2; next }
		{ d = $2 - a[$1]; if (d > 0) printf "%d %s\n", d / n, $1 }' \
		/tmp/slab0 /tmp/slab1 | sort -rn | head -n 10 |
		awk '{ printf " slab_%s=%s", $2, $1 }')
	kill -USR1 $cpid
	wait $cpid
	echo "PROF $1 $(grep '^RESULT' /tmp/idle.out | sed 's/^RESULT //')" \
		"memfree_b_per_conn=$(((f0 - f1) * 1024 / $2))" \
		"slab_kstack_b_per_conn=$(((s1 - s0 + k1 - k0) * 1024 / $2))$top"
	spare=$(cat /sys/module/fastecho/parameters/spare_threads 2>/dev/null || echo 0)
	# how long until every connection thread but the spares is gone (task count from
	# /proc/loadavg: ps is far too slow with thousands of threads)
	t0=$(date +%s)
	while [ "$(awk '$1 == "active" { print $2 }' /proc/net/fastecho)" != 0 ] ||
		[ "$(awk '{ split($4, a, "/"); print a[2] }' /proc/loadavg)" -gt $((n0 + 2 + spare)) ]; do
		sleep 0.5
	done
	echo "PROF $1 drain_s=$(($(date +%s) - t0))"
}

# zcbulk: kprobe events, each with a hist trigger of calls and bytes by task
zc_probes='r:fe_trs tcp_read_sock ret=$retval:s32
r:fe_spl tcp_splice_read ret=$retval:s32
p:fe_sp tcp_sendpage size=%cx:u64
r:fe_rm tcp_recvmsg ret=$retval:s32
p:fe_sm tcp_sendmsg size=%dx:u64
p:fe_wdata sk_wait_data
p:fe_wmem sk_stream_wait_memory
p:fe_xmit __tcp_transmit_skb
p:fe_ack tcp_send_ack'
zc_probe_names="fe_trs fe_spl fe_sp fe_rm fe_sm fe_wdata fe_wmem fe_xmit fe_ack"

# the value field a probe's hist sums, if any
zc_val() {
	case "$1" in
	fe_trs | fe_spl | fe_rm) echo ",ret" ;;
	fe_sp | fe_sm) echo ",size" ;;
	esac
}

zc_probes_on() {
	[ "$probes" = 1 ] || return 0
	echo "$zc_probes" >$tr/kprobe_events || return 1
	for p in $zc_probe_names; do
		echo "hist:keys=common_pid.execname:vals=hitcount$(zc_val $p):size=256" \
			>$tr/events/kprobes/$p/trigger
		echo 1 >$tr/events/kprobes/$p/enable
	done
}

# Print " NAME_TASK_n=calls NAME_TASK_b=bytes" summed by task kind
# (fastecho/N -> fastecho_conn; softirq work lands on whoever ran), then
# drop the probes.
zc_probes_off() {
	[ "$probes" = 1 ] || return 0
	for p in $zc_probe_names; do
		echo 0 >$tr/events/kprobes/$p/enable
		awk -v p="${p#fe_}" '/common_pid:/ {
			comm = $0; sub(/.*common_pid: */, "", comm); sub(/ *\[.*/, "", comm)
			sub(/\/[0-9]+$/, "_conn", comm); gsub(/[^A-Za-z0-9_]/, "_", comm)
			n = $0; sub(/.*hitcount: */, "", n); sub(/ .*/, "", n)
			b = ""
			if ($0 ~ /(ret|size): /) { b = $0; sub(/.*(ret|size): */, "", b); sub(/ .*/, "", b) }
			c[comm] += n; if (b != "") by[comm] += b
		}
		END { for (k in c) { printf " %s_%s_n=%d", p, k, c[k]
			if (k in by) printf " %s_%s_b=%d", p, k, by[k] } }' \
			$tr/events/kprobes/$p/hist
		echo "!hist:keys=common_pid.execname:vals=hitcount$(zc_val $p):size=256" \
			>$tr/events/kprobes/$p/trigger
	done
	echo >$tr/kprobe_events
}

# "ctxt user system softirq idle" from /proc/stat (idle with iowait)
zc_snap() {
	awk '$1 == "ctxt" { c = $2 }
	     $1 == "cpu" { u = $2 + $3; s = $4 + $7; si = $8; id = $5 + $6 }
	     END { printf "%s %s %s %s %s", c, u, s, si, id }' /proc/stat
}

# zc_measure LABEL SERVER: one bulk stream of $mib MiB each way, one PROF
# line of totals divided by the MiB echoed (the _n and _b keys: calls and
# bytes per MiB, bytes per call is their ratio)
zc_measure() {
	hist_on
	zc_probes_on || { echo "PROF $1 server=$2 no kprobe events"; hist_off >/dev/null; return; }
	s0=$(zc_snap)
	res=$($bin/fastecho-bench -m bulk -b "$mib" $host "$(port_of "$2")" 2>/dev/null |
		grep '^RESULT')
	s1=$(zc_snap)
	counts="$(zc_probes_off)$(hist_off)"
	echo "$1 $2 $s0 $s1 ${res#RESULT } $counts" | awk '{
		c = $8 - $3; u = $9 - $4; y = $10 - $5; q = $11 - $6; id = $12 - $7
		tot = u + y + q + id; if (tot == 0) tot = 1
		mibs = 0
		for (i = 13; i <= NF; i++) if ($i ~ /^bytes=/) mibs = substr($i, 7) / 1048576
		printf "PROF zcbulk %s server=%s", $1, $2
		for (i = 13; i <= NF; i++) if ($i !~ /^(sw|wake)_|_[nb]=/) printf " %s", $i
		if (!mibs) { printf " no_result\n"; exit }
		printf " ctxt_per_mib=%.1f user_pct=%.0f sys_pct=%.0f softirq_pct=%.0f idle_pct=%.0f",
			c / mibs, 100 * u / tot, 100 * y / tot, 100 * q / tot, 100 * id / tot
		for (i = 13; i <= NF; i++) if ($i ~ /^(sw|wake)_|_[nb]=/) {
			split($i, kv, "=")
			printf " %s_per_mib=%.1f", kv[1], kv[2] / mibs
		}
		printf "\n"
	}'
}

# zc_perf LABEL SERVER: one bulk stream under perf record; PERF lines of
# the top kernel and user symbols, and of tasks, by share of samples
zc_perf() {
	p=/tmp/perf.data
	echo -1 >/proc/sys/kernel/perf_event_paranoid
	echo 0 >/proc/sys/kernel/kptr_restrict
	res=$(/fe/sbin/perf record -q -a -g -e cpu-clock -F 2000 -o $p -- \
		$bin/fastecho-bench -m bulk -b "$mib" $host "$(port_of "$2")" 2>/dev/null |
		grep '^RESULT')
	echo "PERF $1 server=$2 ${res#RESULT }"
	/fe/sbin/perf report -i $p --stdio --no-children --sort comm 2>/dev/null |
		awk -v l="$1 server=$2" '/^ *[0-9.]+%/ && n++ < 6 {
			printf "PERF %s task %s %s\n", l, $1, $2 }'
	# the top symbols of all tasks, then of the server's own task (its
	# connection thread or process), shares of all samples
	/fe/sbin/perf report -i $p --stdio --no-children --sort comm,sym -g none \
		2>/dev/null | awk -v l="$1 server=$2" '/^ *[0-9.]+%/ {
			s = $0; sub(/^ *[0-9.]+% +/, "", s); gsub(/  +/, " ", s)
			if (n++ < 30) printf "PERF %s sym %s %s\n", l, $1, s
			if ($2 ~ /^(fastecho\/[0-9]+|echo-)/ && m++ < 15)
				printf "PERF %s server_sym %s %s\n", l, $1, s }'
	# the call chains of the biggest symbols, leaf last, folded
	/fe/sbin/perf report -i $p --stdio --no-children --sort sym \
		-g folded,0.5,caller,function,percent --percent-limit 4 2>/dev/null |
		awk -v l="$1 server=$2" '/^ *[0-9.]+%.*;/ && n++ < 40 {
			printf "PERF %s chain %s\n", l, substr($0, 1, 400) }'
	rm -f $p
}

# pp_perf SERVER CONNS: one ping-pong client under perf record (warm-up
# and dur seconds; the recording covers its connects too); PPERF lines
# (see the header)
pp_perf() {
	p=/tmp/perf.data
	l="server=$1 conns=$2"
	echo -1 >/proc/sys/kernel/perf_event_paranoid
	echo 0 >/proc/sys/kernel/kptr_restrict
	t=$(awk -v w="$warm" -v d="$dur" 'BEGIN { printf "%d", w + d + 240 }')
	s0=$(awk '/^cpu / { printf "busy0=%d idle0=%d", $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
	# The client is perf's own workload: with "perf record -a -- sleep N"
	# next to a running client, an instruction-clock guest went idle for
	# 5-7 ms at a time and the samples were 99 % idle. A buffer big
	# enough for the whole recording: perf's process gets the CPU only
	# when the ping-pong leaves it (lost samples are counted).
	res=$(/fe/sbin/perf record -q -a -m 16384 -e cpu-clock -F "$freq" -o $p -- \
		$bin/fastecho-bench -m pingpong -c "$2" -s 64 -J "$jitter" -w "$warm" -d "$dur" \
		-T "$t" $host "$(port_of "$1")" 2>/dev/null | grep '^RESULT')
	s1=$(awk '/^cpu / { printf "busy1=%d idle1=%d", $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
	echo "PPERF $l ${res#RESULT }"
	echo "PPERF $l stat_ticks $s0 $s1"
	/fe/sbin/perf report -i $p --stats 2>/dev/null | grep -i lost |
		sed "s/^ */PPERF $l lost /"
	/fe/sbin/perf report -i $p --stdio --no-children --sort comm 2>/dev/null |
		awk -v l="$l" '/^ *[0-9.]+%/ && n++ < 10 {
			printf "PPERF %s task %s %s\n", l, $1, $2 }'
	/fe/sbin/perf report -i $p --stdio --no-children --sort "$psort" \
		-g none 2>/dev/null | awk -v l="$l" '
		/^# Samples/ { printf "PPERF %s samples %s\n", l, $3 }
		/^ *[0-9.]+%/ && n++ < '"$rows"' {
			s = $0; sub(/^ *[0-9.]+% +/, "", s); gsub(/  +/, " ", s)
			printf "PPERF %s sym %s %s\n", l, $1, s }'
	rm -f $p
}

# pd_run SERVER SIZE D: one client (ping-pong at SIZE connections for D
# seconds, cec for D seconds, or bulk of D MiB) under perf record; PPDIFF
# lines of its RESULT and the samples per symbol, all tasks and client
pd_run() {
	p=/tmp/perf.data
	l="server=$1 mode=$dmode size=$2 d=$3"
	echo -1 >/proc/sys/kernel/perf_event_paranoid
	echo 0 >/proc/sys/kernel/kptr_restrict
	case $dmode in
	pp) args="-m pingpong -c $2 -s 64 -J $jitter -w $warm -d $3" ;;
	cec) args="-m cec -c 4 -s 64 -w $warm -d $3" ;;
	bulk) args="-m bulk -b $3 -v 16" ;;
	esac
	# shellcheck disable=SC2086
	res=$(/fe/sbin/perf record -q -a -m 16384 -e cpu-clock -F "$freq" -o $p -- \
		$bin/fastecho-bench $args -T 900 $host "$(port_of "$1")" 2>/dev/null |
		grep '^RESULT')
	echo "PPDIFF $l result ${res#RESULT }"
	/fe/sbin/perf report -i $p --stats 2>/dev/null | grep -i lost |
		sed "s/^ */PPDIFF $l lost /"
	# all tasks by dso,sym; the client by comm,dso,sym, its rows only
	# (perf report --comms filters whole dso,sym rows by their first task)
	for who in all cli; do
		pd_s=dso,sym
		[ $who = cli ] && pd_s=comm,dso,sym
		/fe/sbin/perf report -i $p --stdio --no-children -n --sort $pd_s \
			-g none --percent-limit 0 2>/dev/null | awk -v l="$l $who" -v who=$who '
			/^ *[0-9.]+% +[0-9]+ / {
				if (who == "cli") { if ($3 != "fastecho-bench") next; sub(/fastecho-bench +/, "") }
				tot += $2
				if ($2 < 2) next
				s = $0; sub(/^ *[0-9.]+% +[0-9]+ +/, "", s); gsub(/  +/, " ", s)
				printf "PPDIFF %s n %d %s\n", l, $2, s }
			END { printf "PPDIFF %s samples %d\n", l, tot }'
	done
	rm -f $p
}

# ppcount: tracepoints and kprobes counted by task (hist triggers)
pc_tps="sched/sched_switch sched/sched_wakeup sched/sched_waking
timer/timer_start timer/timer_expire_entry timer/hrtimer_start
timer/hrtimer_expire_entry irq/softirq_raise irq/softirq_entry
kmem/mm_page_alloc kmem/kmalloc kmem/kmem_cache_alloc skb/consume_skb
skb/kfree_skb net/netif_rx tcp/tcp_rcv_space_adjust"
pc_kprobes="__tcp_transmit_skb __tcp_send_ack tcp_send_delayed_ack
tcp_delack_timer tcp_delack_timer_handler tcp_write_timer __alloc_skb
tcp_v4_rcv tcp_rcv_established tcp_ack tcp_data_queue tcp_cleanup_rbuf
tcp_write_xmit tcp_push sk_reset_timer tcp_rearm_rto
tcp_schedule_loss_probe tcp_recvmsg tcp_sendmsg sk_wait_data
tcp_add_backlog __release_sock tcp_release_cb tcp_check_space
sock_def_readable sk_stream_write_space try_to_wake_up schedule
__mod_timer hrtimer_start_range_ns __sk_mem_raise_allocated
__sk_mem_reduce_allocated skb_release_data __kfree_skb
kfree_skb_reason tcp_event_data_recv __tcp_ack_snd_check
tcp_rcv_space_adjust tcp_stream_alloc_skb tcp_mstamp_refresh
schedule_timeout try_to_del_timer_sync lock_sock_nested release_sock
wait_woken woken_wake_function ep_poll_callback tcp_poll"
pc_on=""

pc_probes_on() {
	pc_on=""
	# the task names of 1000 connection threads (128 by default)
	echo 4096 >$tr/saved_cmdlines_size
	echo >$tr/kprobe_events
	[ "$probes" = 1 ] || { pc_lat_on; return 0; }
	for f in ${kps:-$pc_kprobes}; do
		# one at a time: a function the kernel inlined is skipped
		echo "p:pc_$f $f" >>$tr/kprobe_events 2>/dev/null &&
			pc_on="$pc_on kprobes/pc_$f"
	done
	for e in ${tps:-$pc_tps}; do
		[ -d $tr/events/$e ] && pc_on="$pc_on $e"
	done
	for e in $pc_on; do
		echo 'hist:keys=common_pid.execname:vals=hitcount:size=4096' \
			>$tr/events/$e/trigger
	done
	pc_lat_on
}

# latfns=F...: the guest time from entry to return of each function F
# (instructions, on the instruction clock, the probes' own included), summed
# by task kind: a kprobe and a kretprobe per function, the entry's
# timestamp kept by pid, a synthetic event per return with the difference
# (F must not nest within itself in one task)
pc_lat=""
pc_lat_on() {
	pc_lat=""
	for f in $latfns; do
		echo "lat_$f u64 lat" >>$tr/synthetic_events || continue
		echo "p:li_$f $f" >>$tr/kprobe_events &&
			echo "r4096:lo_$f $f" >>$tr/kprobe_events || continue
		echo 'hist:keys=common_pid:ts0=common_timestamp:size=4096' \
			>$tr/events/kprobes/li_$f/trigger
		echo "hist:keys=common_pid:lat=common_timestamp-\$ts0:onmatch(kprobes.li_$f).trace(lat_$f,\$lat)" \
			>$tr/events/kprobes/lo_$f/trigger
		echo 'hist:keys=common_pid.execname:vals=hitcount,lat:size=4096' \
			>$tr/events/synthetic/lat_$f/trigger
		pc_lat="$pc_lat $f"
	done
}

# " lat_F_KIND=ns n_F_KIND=calls", then the latency events dropped
pc_lat_off() {
	for f in $pc_lat; do
		awk -v f="$f" '/common_pid:/ {
			comm = $0; sub(/.*common_pid: */, "", comm); sub(/ *\[.*/, "", comm)
			n = $0; sub(/.*hitcount: */, "", n); sub(/ .*/, "", n)
			v = $0; sub(/.*lat: */, "", v); sub(/ .*/, "", v)
			k = "other"
			if (comm == "fastecho-bench") k = "cli"
			else if (comm ~ /^fastecho\/[0-9]/ || comm ~ /^echo-/) k = "srv"
			c[k] += n; l[k] += v
		}
		END { for (k in c) printf " lat_%s_%s=%.0f n_%s_%s=%d", f, k, l[k], f, k, c[k] }' \
			$tr/events/synthetic/lat_$f/hist
		echo '!hist:keys=common_pid.execname:vals=hitcount,lat:size=4096' \
			>$tr/events/synthetic/lat_$f/trigger
		echo "!hist:keys=common_pid:lat=common_timestamp-\$ts0:onmatch(kprobes.li_$f).trace(lat_$f,\$lat)" \
			>$tr/events/kprobes/lo_$f/trigger
		echo '!hist:keys=common_pid:ts0=common_timestamp:size=4096' \
			>$tr/events/kprobes/li_$f/trigger
	done
	echo >$tr/kprobe_events
	for f in $pc_lat; do
		echo "!lat_$f u64 lat" >>$tr/synthetic_events
	done
	pc_lat=""
}

# " EVENT_KIND=count" for KIND client (fastecho-bench), server (fastecho/N
# or echo-*), other (idle, kworkers, ksoftirqd, ...), and drop the triggers
pc_probes_off() {
	[ "$probes" = 1 ] || { pc_lat_off; return 0; }
	for e in $pc_on; do
		awk -v e="${e#*/}" '/common_pid:/ {
			comm = $0; sub(/.*common_pid: */, "", comm); sub(/ *\[.*/, "", comm)
			n = $0; sub(/.*hitcount: */, "", n); sub(/ .*/, "", n)
			k = "other"
			if (comm == "fastecho-bench") k = "cli"
			else if (comm ~ /^fastecho\/[0-9]/ || comm ~ /^echo-/) k = "srv"
			c[k] += n
		}
		END { sub(/^pc_/, "", e); for (k in c) printf " %s_%s=%d", e, k, c[k] }' \
			$tr/events/$e/hist
		echo '!hist:keys=common_pid.execname:vals=hitcount:size=4096' \
			>$tr/events/$e/trigger
	done
	pc_lat_off
}

# every field of /proc/net/snmp's Tcp and /proc/net/netstat's TcpExt,
# /proc/softirqs (all CPUs) and /proc/stat's ctxt as " KEY=value"
pc_snap() {
	cat /proc/net/snmp /proc/net/netstat | awk '
		$1 == "Tcp:" || $1 == "TcpExt:" {
			if (!($1 in hd)) { hd[$1] = 1; for (i = 2; i <= NF; i++) h[$1, i] = $i; next }
			p = $1; sub(/:$/, "", p)
			for (i = 2; i <= NF; i++) printf " %s_%s=%s", p, h[$1, i], $i
		}'
	awk 'NR > 1 { n = 0; for (i = 2; i <= NF; i++) n += $i
		k = $1; sub(/:$/, "", k); printf " si_%s=%d", k, n }' /proc/softirqs
	awk '$1 == "ctxt" { printf " ctxt=%s", $2 }' /proc/stat
}

# pc_run SERVER CONNS DUR: one ping-pong client, one "PPCOUNT raw" line of
# the counters' deltas over the client's whole run and its RESULT
pc_run() {
	pc_probes_on
	a=$(pc_snap)
	res=$($bin/fastecho-bench -m pingpong -c "$2" -s 64 -J "$jitter" -w "$warm" \
		-d "$3" -T 600 $host "$(port_of "$1")" 2>/dev/null | grep '^RESULT')
	b=$(pc_snap)
	ev=$(pc_probes_off)
	echo "A $a" "B $b" "R ${res#RESULT }" "E $ev" | awk -v l="server=$1 conns=$2 dur=$3" '{
		m = ""
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^[ABRE]$/) { m = $i; continue }
			split($i, kv, "=")
			if (m == "A") a[kv[1]] = kv[2]
			else if (m == "B") { b[kv[1]] = kv[2]; o[++n] = kv[1] }
			else if (m == "R") r = r " " $i
			else { e[++ne] = $i }
		}
		printf "PPCOUNT raw %s%s", l, r
		for (i = 1; i <= n; i++) if (b[o[i]] - a[o[i]] != 0)
			printf " %s=%.0f", o[i], b[o[i]] - a[o[i]]
		for (i = 1; i <= ne; i++) printf " %s", e[i]
		printf "\n"
	}'
}

# pc_pair SERVER CONNS: pc_run at both durs, then the per-message line
pc_pair() {
	l1=""
	for d in $durs; do
		l=$(pc_run "$1" "$2" "$d")
		echo "$l"
		if [ -z "$l1" ]; then l1=$l; else l2=$l; fi
	done
	printf '%s\n%s\n' "$l1" "$l2" | awk -v l="server=$1 conns=$2" '{
		for (i = 3; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[2] !~ /^-?[0-9.]+$/) continue
			v[NR, kv[1]] = kv[2]; if (!(kv[1] in seen)) { seen[kv[1]] = 1; o[++n] = kv[1] }
		}
	}
	END {
		dm = v[2, "msgs"] - v[1, "msgs"]
		if (dm <= 0) { printf "PPCOUNT per_msg %s no_msgs\n", l; exit }
		# guest time (instructions) per message at 100 % busy, and the
		# server side: busy less the client process, over the window
		printf "PPCOUNT per_msg %s msgs=%d ns_per_msg=%.0f srv_ns_per_msg=%.0f", l, dm,
			1e9 / v[2, "msgs_per_s"],
			(v[2, "busy_s"] - v[2, "client_s"]) * 1e9 / v[2, "msgs"]
		skip = "^(conns|size|inflight|threads|secs|msgs|msgs_per_s|mib_per_s|p[0-9]+_us|max_us|errors|cpus|win_s|idle_s|busy_s|user_s|sys_s|softirq_s|client_s|dur|timeout)$"
		for (i = 1; i <= n; i++) {
			k = o[i]; if (k ~ skip) continue
			d = v[2, k] - v[1, k]
			if (d != 0) printf " %s=%.3f", k, d / dm
		}
		printf "\n"
	}'
}

# renice_run LABEL NICE CLIENT_ARGS...: renice fastecho's connection
# threads once they exist (the client's warm-up covers it)
renice_run() {
	label=$1
	nv=$2
	shift 2
	(
		sleep 1.5
		for p in $(ps -o pid,comm | awk '$2 ~ /^fastecho\/[0-9]/ { print $1 }'); do
			renice -n "$nv" -p "$p" >/dev/null 2>&1
		done
	) &
	rpid=$!
	measure "$label" fastecho "$@"
	wait $rpid	# only this one: the servers run in the background too
}

echo "PROF meta kernel=$(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo) dur=$dur"
load_fastecho
$bin/echo-epoll 12346 2>/dev/null &
epid=$!
$bin/echo-uring 12347 2>/dev/null &
upid=$!
$bin/echo-splice 12348 2>/dev/null &
spid=$!
$bin/echo-sockmap 12349 2>/dev/null &
kpid=$!
sleep 1

for part in $parts; do
	case "$part" in
	sched)
		for c in 1 32 1000; do
			for srv in fastecho epoll uring; do
				measure "sched pp$c" $srv -c $c -s 64 -d "$dur" -w 1
			done
		done
		;;
	bufsize)
		for b in 4096 16384 65536; do
			load_fastecho bufsize=$b
			measure "bufsize=$b bulk" fastecho -m bulk -b 64
			measure "bufsize=$b pp1" fastecho -c 1 -s 64 -d "$dur" -w 1
			measure "bufsize=$b pp1-16k" fastecho -c 1 -s 16384 -d "$dur" -w 1
			idle_mem "bufsize=$b idle" 2000
		done
		load_fastecho
		;;
	bulk)
		for srv in fastecho fastecho-zc epoll uring splice sockmap; do
			[ $srv = fastecho-zc ] && load_fastecho zerocopy=1
			measure "bulk" $srv -m bulk -b 64
			[ $srv = fastecho-zc ] && load_fastecho
		done
		;;
	spare)
		# the spare-thread pool: connect-echo-close with and without it
		for n in 0 32; do
			if [ -w /sys/module/fastecho/parameters/spare_threads ]; then
				echo $n >/sys/module/fastecho/parameters/spare_threads
			fi
			measure "spare_threads=$n cec" fastecho -m cec -c 4 -s 64 -d "$dur" -w 1
			measure "spare_threads=$n cec1" fastecho -m cec -c 1 -s 64 -d "$dur" -w 1
		done
		measure "reference cec" epoll -m cec -c 4 -s 64 -d "$dur" -w 1
		;;
	frag)
		# idle connections that echoed once vs never sent anything:
		# the difference is what the first send leaves behind
		for r in 1 2; do
			idle_mem "frag echoed r$r" 2000
			idle_mem "frag silent r$r" 2000 -E
		done
		;;
	batch)
		# wakeup preemption of the client by connection threads:
		# batch_conns=0 never turns it off, 2 does from 2 connections;
		# the threads pick the policy before their next receive
		r=0
		while [ $r -lt "$reps" ]; do
			r=$((r + 1))
			for c in 32 1000; do
				for bc in 0 2; do
					echo $bc >/sys/module/fastecho/parameters/batch_conns
					measure "batch_conns=$bc pp$c r$r" fastecho \
						-c $c -s 64 -d "$dur" -w 3
				done
			done
		done
		echo 2 >/sys/module/fastecho/parameters/batch_conns
		;;
	busy)
		# socket busy polling (net.core.busy_read/busy_poll, in us)
		for us in 0 50; do
			echo $us >/proc/sys/net/core/busy_read
			echo $us >/proc/sys/net/core/busy_poll
			measure "busy_read=$us pp1" fastecho -c 1 -s 64 -d "$dur" -w 1
			measure "busy_read=$us pp1" epoll -c 1 -s 64 -d "$dur" -w 1
		done
		echo 0 >/proc/sys/net/core/busy_read
		echo 0 >/proc/sys/net/core/busy_poll
		;;
	ppperf)
		[ -x /fe/sbin/perf ] || { echo "guest-profile: ppperf wants scripts/vm.sh --perf" >&2; exit 1; }
		for srv in $servers; do
			[ "$srv" = fastecho-zc ] && load_fastecho zerocopy=1
			for c in $conns; do
				pp_perf "$srv" "$c"
			done
			[ "$srv" = fastecho-zc ] && load_fastecho
		done
		;;
	ppdiff)
		[ -x /fe/sbin/perf ] || { echo "guest-profile: ppdiff wants scripts/vm.sh --perf" >&2; exit 1; }
		for srv in $servers; do
			[ "$srv" = fastecho-zc ] && load_fastecho zerocopy=1
			for c in $conns; do
				for d in $durs; do
					pd_run "$srv" "$c" "$d"
				done
			done
			[ "$srv" = fastecho-zc ] && load_fastecho
		done
		;;
	ppcount)
		for srv in $servers; do
			for c in $conns; do
				pc_pair "$srv" "$c"
			done
		done
		;;
	zcbulk)
		r=0
		while [ $r -lt "$reps" ]; do
			r=$((r + 1))
			case $((r % 3)) in
			1) order="fastecho-zc splice fastecho" ;;
			2) order="splice fastecho fastecho-zc" ;;
			0) order="fastecho fastecho-zc splice" ;;
			esac
			for srv in $order; do
				[ $srv = fastecho-zc ] && load_fastecho zerocopy=1
				zc_measure "r$r" $srv
				[ $srv = fastecho-zc ] && load_fastecho
			done
		done
		if [ -x /fe/sbin/perf ]; then
			for srv in fastecho-zc splice fastecho; do
				[ $srv = fastecho-zc ] && load_fastecho zerocopy=1
				zc_perf perf $srv
				[ $srv = fastecho-zc ] && load_fastecho
			done
		fi
		;;
	nice)
		for c in 32 1000; do
			for nv in 0 5 -5; do
				renice_run "nice=$nv pp$c" "$nv" -c $c -s 64 -d "$dur" -w 3
			done
		done
		;;
	esac
done

kill -TERM $epid $upid $spid $kpid
wait
rmmod fastecho
exit 0
