#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Who runs while rmmod tears down under load: CPU time per task kind from
# sched_switch, during the rmmod only.
tr=/sys/kernel/tracing
[ -d $tr/events ] || mount -t tracefs nodev $tr
B=${B:-2}
echo 0 > $tr/tracing_on
echo nop > $tr/current_tracer
echo 8000 > $tr/buffer_size_kb
echo 1 > $tr/events/sched/sched_switch/enable
echo > $tr/trace
# rmmod wrapper: trace only around the rmmod of the case
mkdir -p /tmp/rmw
cat > /tmp/rmw/rmmod <<'EOT'
#!/bin/sh
if [ ! -e /tmp/rmw/done ]; then
	echo 1 > /sys/kernel/tracing/tracing_on
	/sbin/rmmod "$@"; rc=$?
	echo 0 > /sys/kernel/tracing/tracing_on
	touch /tmp/rmw/done
	exit $rc
fi
exec /sbin/rmmod "$@"
EOT
chmod +x /tmp/rmw/rmmod
rm -f /tmp/rmw/done
RM_EXTRA=batch_conns=$B sh /fe/tests/suite.sh --only rmmod_under_fire 2>&1 | grep -E "rmmod took|^ok|^not ok|before rmmod"
echo 0 > $tr/tracing_on
dmesg | grep TIMING | tail -2
awk '
FILENAME == "/tmp/tidmap" { mode[$1] = $2; next }
/RMSTART/ { on = 1 }
/RMEND/ { on = 0 }
on && /sched_switch:/ {
	cpu = $2; ts = $4; sub(/:$/, "", ts); ts += 0
	if (first == "") first = ts
	last = ts
	p = $0; sub(/.*prev_comm=/, "", p); pid = p; sub(/ prev_pid=.*/, "", p)
	sub(/.*prev_pid=/, "", pid); sub(/ .*/, "", pid)
	st = $0; sub(/.*prev_state=/, "", st); sub(/ .*/, "", st)
	n = $0; sub(/.*next_comm=/, "", n); npid = n; sub(/ next_pid=.*/, "", n)
	sub(/.*next_pid=/, "", npid); sub(/ .*/, "", npid)
	if (cpu in since) {
		k = p; sub(/\/[0-9]+$/, "/N", k); sub(/:[0-9]+$/, ":N", k)
		if (pid in mode) k = k "-" mode[pid]
		t[k] += ts - since[cpu]
	}
	since[cpu] = ts
	if (p == "rmmod") { out = ts; outst = st; nsw[st]++ }
	if (n == "rmmod" && out != "") { off[outst] += ts - out; out = "" }
}
END {
	printf "window %.3f s\n", last - first
	for (k in t) printf "%9.3f s  %s\n", t[k], k
	for (s in off) printf "rmmod off-cpu after state %s: %.3f s in %d switches\n", s, off[s], nsw[s]
}' /tmp/tidmap $tr/trace | sort -k1 -rn | head -30
