#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# delack.sh: segments sent and delayed-ACK timer runs in 1000-connection
# ping-pong, split by side: the server's sockets (local port = the
# server's) and the client's (two kprobes with hist triggers keyed on the
# local port, nothing else probed), and the ACKs the delayed-ACK timer
# sent (TcpExt DelayedACKs, both sides). Two runs per server that
# differ only in length: their difference is per extra message. Meant for
# an instruction-clock guest:
#   scripts/vm.sh --icount --smp 1 --mem 4G --timeout 2400 -- sh /fe/bench/delack.sh
# One "DELACK" line per run: the client's RESULT, then each event's
# server and client counts before and after the run; then a "DELACK
# per_msg" line per server.
# shellcheck source=bench/guest-lib.sh
. "$(dirname "$0")/guest-lib.sh"
net_setup
T=/sys/kernel/tracing
mount -t tracefs nodev $T 2>/dev/null
insmod /fe/fastecho.ko port=12345 max_conns=4000 max_per_source=0 idle_timeout=0
"$bin"/echo-epoll 12346 2>/dev/null &
sleep 1
echo 'p:fe/delack tcp_delack_timer_handler lport=+14(%di):u16' >>$T/kprobe_events
echo 'p:fe/tx __tcp_transmit_skb lport=+14(%di):u16' >>$T/kprobe_events
for e in delack tx; do
	echo 'hist:keys=lport:size=8192' >$T/events/fe/$e/trigger
	echo 1 >$T/events/fe/$e/enable
done

# counts PORT EVENT: "SERVER,CLIENT", the event's hits on sockets whose
# local port is PORT and on the others
counts() {
	awk -v p="$1" '
	/lport:/ {
		for (i = 1; i < NF; i++)
			if ($i == "lport:")
				lp = $(i + 1)
		if (lp == p)
			s += $NF
		else
			c += $NF
	}
	END { printf "%d,%d", s, c }' $T/events/fe/"$2"/hist
}

# TcpExt DelayedACKs from /proc/net/netstat
delayed_acks() {
	awk '$1 == "TcpExt:" {
		if (!n) { for (i = 2; i <= NF; i++) if ($i == "DelayedACKs") col = i; n = 1 }
		else print $col
	}' /proc/net/netstat
}

# snap PORT: the counts now, as delack=S,C tx=S,C dack=N
snap() {
	echo "delack=$(counts "$1" delack) tx=$(counts "$1" tx) dack=$(delayed_acks)"
}

# A run's line: the client's RESULT, then the counts before and after it.
run() {
	b=$(snap "$1")
	r=$("$bin"/fastecho-bench -m pingpong -c 1000 -s 64 -d "$2" -w 0.2 -T 600 "$host" "$1" | grep '^RESULT')
	echo "DELACK srv=$srv dur=$2 ${r#RESULT } before: $b after: $(snap "$1")"
}

# per_msg LINE1 LINE2: each event's count per extra message of run 2
per_msg() {
	printf '%s\n%s\n' "$1" "$2" | awk -v srv="$srv" '
	{
		side = ""
		for (i = 1; i <= NF; i++) {
			if ($i == "before:" || $i == "after:")
				side = $i
			split($i, kv, "=")
			if (kv[1] == "msgs")
				m[NR] = kv[2]
			if (side != "" && (kv[1] == "tx" || kv[1] == "delack")) {
				split(kv[2], sc, ",")
				sign = side == "after:" ? 1 : -1
				s[NR, kv[1]] += sign * sc[1]
				c[NR, kv[1]] += sign * sc[2]
			}
			if (side != "" && kv[1] == "dack")
				a[NR] += (side == "after:" ? 1 : -1) * kv[2]
		}
	}
	END {
		d = m[2] - m[1]
		line = "DELACK per_msg srv=" srv " extra_msgs=" d
		n = split("tx delack", ev, " ")
		for (j = 1; j <= n; j++)
			line = line sprintf(" server_%s=%.3f client_%s=%.3f", ev[j],
			    (s[2, ev[j]] - s[1, ev[j]]) / d, ev[j],
			    (c[2, ev[j]] - c[1, ev[j]]) / d)
		print line sprintf(" DelayedACKs=%.3f", (a[2] - a[1]) / d)
	}'
}

for srv in fastecho epoll; do
	port=$(port_of $srv)
	r1=$(run "$port" 0.5)
	r2=$(run "$port" 2)
	echo "$r1"
	echo "$r2"
	per_msg "$r1" "$r2"
done
