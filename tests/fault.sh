#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fault.sh: the module under allocation failures, from the kernel's fault
# injection (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, driven through
# debugfs): the debug kernel has it (make check-debug), the other kernels
# do not, and there these cases SKIP.
# Sourced by suite.sh, after lib.sh and trace.sh (tracefs_dir, ev_lines).
#
# Two ways to fail an allocation (Documentation/fault-injection):
# - fail-nth: tests/fefail.c runs one operation (insmod, rmmod, a read of
#   the stats file, a parameter write) with its Nth fault point failed,
#   for N = 1, 2, ... until the operation no longer reaches an Nth point;
#   every allocation the operation makes, the module's init and exit
#   included (they run in insmod's and rmmod's task), fails once.
# - task-filter: failslab and fail_page_alloc fail a share of the
#   allocations of the tasks marked in /proc/PID/make-it-fail: fastecho's
#   own threads (the listener and every connection thread, spare ones and
#   new ones, marked as they appear), while clients connect and echo.
# Both count in failslab's and fail_page_alloc's "times", read back to
# show how many failures were injected: a case that injected none fails.

fe_case fault_insmod "fault_insmod: insmod with its Nth allocation failed (every N from just before the init on), then with the listener's thread failing at random: a clean errno and nothing left, or a working load; then insmod works"
fe_case fault_rmmod "fault_rmmod: rmmod with its Nth allocation failed, with live and spare threads: nothing left, a reload echoes"
fe_case fault_stats_params "fault_stats_params: the stats file read and each runtime parameter written with the Nth allocation failed: a clean errno or the whole result, and the module serves on"
fe_case fault_netns "fault_netns: a network namespace made with its Nth allocation failed, every N from before fastecho's pernet init on, and net.fastecho.port written with its Nth failed: a clean errno or a working server, nothing left"
fe_case fault_serve "fault_serve: accept and echo while fastecho's threads fail allocations at random, then rmmod: echoes byte-exact or cut, every connection's end counted, no hang"

FAULT_DBG=/sys/kernel/debug
FEFAIL=${FEFAIL:-/fe/bin/fefail}
# A share of "times" that no case reaches; what is left shows the count.
FAULT_TIMES=1000000
# fail-nth: an operation with more fault points than this is a runaway.
FAULT_NTH_MAX=${FE_FAULT_NTH_MAX:-100000}
# fault_insmod: every fault point of insmod from FAULT_NTH_BEFORE before
# the module's init fails in turn. The module loader's points before those
# are the kernel's alone, and some of its own WARN on a failed allocation
# (jump_label_module_notify(), event_define_fields() on 6.1).
FAULT_NTH_BEFORE=${FE_FAULT_NTH_BEFORE:-40}
FAULT_NTH_MISSES=${FE_FAULT_NTH_MISSES:-12}
# fault_serve: percent of the marked threads' allocations that fail.
FAULT_PCT=${FE_FAULT_PCT:-5}
# fault_insmod: loads with the listener's thread failing, and how often.
FAULT_LOADS=${FE_FAULT_LOADS:-10}
FAULT_LOAD_PCT=${FE_FAULT_LOAD_PCT:-20}

# True when failslab and fail_page_alloc are in debugfs; else the case
# SKIPs (every kernel but the debug one).
fault_ready() {
	mount -t debugfs debugfs $FAULT_DBG 2>/dev/null
	if [ -d $FAULT_DBG/failslab ] && [ -d $FAULT_DBG/fail_page_alloc ] &&
		[ -x "$FEFAIL" ]; then
		return 0
	fi
	echo "no failslab/fail_page_alloc in debugfs (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC: make check-debug)" > $W/skip
	return 1
}

# fault_setup PERCENT TASK_FILTER: both capabilities fail PERCENT of the
# allocations they see (0: only fail-nth does), of any order, sleeping or
# not, only those of marked tasks with TASK_FILTER=Y; each failure says so
# in dmesg (verbose 1, ratelimited).
fault_setup() {
	local d
	for d in failslab fail_page_alloc; do
		echo 0 > $FAULT_DBG/$d/probability
		echo 1 > $FAULT_DBG/$d/interval
		echo $FAULT_TIMES > $FAULT_DBG/$d/times
		echo 0 > $FAULT_DBG/$d/space
		echo 1 > $FAULT_DBG/$d/verbose
		echo "$2" > $FAULT_DBG/$d/task-filter
		echo N > $FAULT_DBG/$d/ignore-gfp-wait
	done
	echo N > $FAULT_DBG/fail_page_alloc/ignore-gfp-highmem
	echo 0 > $FAULT_DBG/fail_page_alloc/min-order
	fault_pct "$1"
}

fault_pct() {
	echo "$1" > $FAULT_DBG/failslab/probability
	echo "$1" > $FAULT_DBG/fail_page_alloc/probability
}

# Failures injected since fault_setup, both capabilities.
fault_count() {
	echo $((2 * FAULT_TIMES - $(cat $FAULT_DBG/failslab/times) - \
		$(cat $FAULT_DBG/fail_page_alloc/times)))
}

# nth N OP ARGS...: tests/fefail.c; its verdict in $inj (1: the Nth fault
# point was reached and failed), $left (N minus the points reached, when
# not injected), $rc (0 or -1) and $eno (errno name).
nth() {
	"$FEFAIL" "$@" > $W/nth.out 2>&1 || fail "fefail $*: $(cat $W/nth.out)"
	read -r _ inj _ left _ rc _ eno < $W/nth.out
}

# Nothing of the module is left (after a failed insmod or an rmmod).
nothing_left() {
	is_loaded && fail "$1: fastecho is loaded"
	[ ! -d /sys/module/fastecho ] || fail "$1: /sys/module/fastecho left"
	[ ! -e /proc/net/fastecho ] || fail "$1: /proc/net/fastecho left"
	[ "$(all_fe_threads)" = 0 ] || fail "$1: $(all_fe_threads) fastecho threads left"
}

# Clear every task's make-it-fail (threads that inherited kthreadd's).
fault_unmark_all() {
	local f
	for f in $(grep -l '^1' /proc/[0-9]*/make-it-fail 2>/dev/null); do
		{ echo 0 > "$f"; } 2>/dev/null
	done
}

# errno histogram: "ENOMEM 12, EINVAL 1"
eno_count() {
	tr ' ' '\n' | grep . | sort | uniq -c |
		awk '{ printf "%s%s %s", n++ ? ", " : "", $2, $1 }'
}

# insmod_nth N PARAMS: insmod with fault point N failed: a clean failure,
# or a load that echoes and unloads.
insmod_nth() {
	nth "$1" insmod "$KO" "$2"
	if [ "$rc" = 0 ]; then
		is_loaded || fail "N=$1: insmod returned 0, fastecho not loaded"
		fc_ok echo -n 1000 -t 30 -q
		unload_ok
		nothing_left "N=$1: rmmod after a load"
		[ "$inj" = 0 ] || loads=$((loads + 1))
		return
	fi
	[ "$inj" = 1 ] || fail "N=$1: insmod failed ($eno) with nothing injected"
	case "$eno" in
	0 | EEXIST | EBUSY) fail "N=$1: insmod failed with errno $eno" ;;
	esac
	fails=$((fails + 1))
	errs="$errs $eno"
	nothing_left "N=$1: insmod failed ($eno)"
}

t_fault_insmod() {
	local n=0 fails=0 loads=0 errs="" params total tried=0 from t0 seen=""
	local misses
	fault_ready || return 0
	fault_setup 0 N
	params=$(echo $SUITE_LIMITS ${FE_PARAMS:-})
	# How many fault points a load reaches, and how many one whose init
	# fails at once (port=0) does: the module loader's own come first,
	# then the module's init, then the loader's last steps. From a few
	# before where init starts, every point fails in turn.
	insmod_nth "$FAULT_NTH_MAX" "$params"
	[ "$inj" = 0 ] || fail "insmod reaches $FAULT_NTH_MAX fault points (FE_FAULT_NTH_MAX)"
	total=$((FAULT_NTH_MAX - left))
	nth "$FAULT_NTH_MAX" insmod "$KO" "$params port=0"
	[ "$rc" != 0 ] && [ "$inj" = 0 ] || fail "insmod port=0: rc $rc errno $eno"
	nothing_left "insmod port=0"
	from=$((FAULT_NTH_MAX - left - FAULT_NTH_BEFORE))
	[ $from -ge 1 ] || from=1
	diag "insmod reaches $total fault points, $((FAULT_NTH_MAX - left)) when init fails at once: every one from $from"
	# Loads differ in how many points they reach (a first one reaches
	# more: caches the kernel fills once; page allocations in bulk or
	# not): the sweep goes on until FAULT_NTH_MISSES loads in a row
	# reach N no more.
	t0=$(uptime_s)
	misses=0
	n=$((from - 1))
	while [ $misses -lt "$FAULT_NTH_MISSES" ]; do
		n=$((n + 1))
		[ $n -le "$FAULT_NTH_MAX" ] || fail "insmod still reaches fault point $n"
		tried=$((tried + 1))
		insmod_nth $n "$params"
		if [ "$inj" = 0 ]; then
			misses=$((misses + 1))
			seen="$seen $n:-"
			continue
		fi
		misses=0
		seen="$seen $n:$(if [ "$rc" = 0 ]; then echo ok; else echo "$eno"; fi)"
		[ $((tried % 25)) != 0 ] ||
			diag "N=$n: $tried tried, $fails failed, $loads loaded all the same, $(since "$t0") s"
	done
	diag "insmod with fault point N failed, N:result (ok: loaded, echoed, unloaded; -: not reached):$seen"
	diag "insmod with one of $tried fault points failed: $fails failed ($(echo "$errs" | eno_count)), $loads loaded all the same; the last $misses not reached"
	diag "failures injected: $(fault_count)"
	[ $fails -ge 1 ] || fail "no insmod failed: nothing was injected"
	dmesg | grep -q 'FAULT_INJECTION: forcing a failure' ||
		fail "no 'FAULT_INJECTION: forcing a failure' in dmesg"

	# The listener sets its socket up in a thread of its own, out of
	# insmod's reach: mark kthreadd, whose children inherit the mark,
	# for the time of each insmod, so that the listener's allocations
	# (and kthreadd's own) fail at random.
	fails=0 loads=0 errs=""
	n=0
	fault_setup 0 Y
	while [ $n -lt "$FAULT_LOADS" ]; do
		n=$((n + 1))
		echo 1 > /proc/2/make-it-fail
		fault_pct "$FAULT_LOAD_PCT"
		load
		rc=$?
		fault_pct 0
		echo 0 > /proc/2/make-it-fail
		fault_unmark_all
		if [ $rc = 0 ]; then
			loads=$((loads + 1))
			fc_ok echo -n 1000 -t 30 -q
			unload_ok
			nothing_left "load $n: rmmod"
		else
			fails=$((fails + 1))
			errs="$errs $(sed -n 's/.*: \(.*\)$/\1/p' $W/insmod.err | tr ' ' '_')"
			nothing_left "load $n: insmod failed ($(cat $W/insmod.err))"
		fi
	done
	diag "$n loads with kthreadd's children failing $FAULT_LOAD_PCT % of their allocations: $loads loaded, $fails failed ($(echo "$errs" | eno_count))"
	diag "failures injected: $(fault_count)"
	[ "$(fault_count)" -ge 1 ] || fail "no failure injected into kthreadd's children"
	load_ok
	fc_ok echo -n 100000 -t 30
	unload_ok
}

# One round of fault_rmmod: load, a spare thread, 3 held connections.
rmmod_round_load() {
	load_ok spare_threads=2
	fc_ok echo -n 1000 -t 30 -q
	rm -f $W/held $W/letgo
	fc_bg hold hold -c 3 -r $W/held -u $W/letgo -t 300
	ready_or_fail hold $W/held 60
}

t_fault_rmmod() {
	local n=0 fails=0 errs=""
	fault_ready || return 0
	fault_setup 0 N
	rmmod_round_load
	while :; do
		n=$((n + 1))
		[ $n -le "$FAULT_NTH_MAX" ] ||
			fail "rmmod still reaches a fault point $n (FE_FAULT_NTH_MAX)"
		nth $n rmmod fastecho
		if [ "$rc" != 0 ]; then
			[ "$inj" = 1 ] || fail "N=$n: rmmod failed ($eno) with nothing injected"
			fails=$((fails + 1))
			errs="$errs $eno"
			is_loaded || fail "N=$n: rmmod failed ($eno) and fastecho is gone"
			fc_ok echo -n 1000 -t 30 -q
			unload_ok
		fi
		nothing_left "N=$n: rmmod"
		touch $W/letgo
		fc_wait hold > /dev/null || fail "N=$n: hold client: $(tail -n 1 $W/hold.out)"
		[ "$inj" = 1 ] || break
		rmmod_round_load
	done
	diag "rmmod reached $((n - 1)) fault points; $fails failed ($(echo "$errs" | eno_count)), the rest unloaded all the same"
	diag "failures injected: $(fault_count)"
	[ $n -gt 1 ] || fail "rmmod reached no fault point: nothing was injected"
	load_ok
	fc_ok echo -n 100000 -t 30
	unload_ok
}

# nth_loop WHAT OP ARGS...: the operation with fault point 1, 2, ... failed
# until one runs with none reached; each either succeeds or fails with an
# errno, and the module still echoes afterwards. Counts in $points, $fails.
nth_loop() {
	local what=$1 n=0
	shift
	points=0 fails=0
	while :; do
		n=$((n + 1))
		[ $n -le "$FAULT_NTH_MAX" ] ||
			fail "$what still reaches a fault point $n (FE_FAULT_NTH_MAX)"
		nth $n "$@"
		if [ "$rc" != 0 ]; then
			[ "$inj" = 1 ] || fail "$what failed ($eno) with nothing injected"
			[ "$eno" != 0 ] || fail "$what failed with no errno"
			fails=$((fails + 1))
		fi
		is_loaded || fail "$what, N=$n: fastecho is gone"
		[ "$inj" = 1 ] || break
		points=$n
	done
}

t_fault_stats_params() {
	local p v new got total=0
	fault_ready || return 0
	fault_setup 0 N
	load_ok spare_threads=2
	fc_ok echo -n 1000 -t 30 -q
	fc_bg hold hold -c 3 -r $W/held -u $W/stop -t 300
	ready_or_fail hold $W/held 60

	nth_loop "reading /proc/net/fastecho" read /proc/net/fastecho
	diag "stats file: $points fault points, $fails reads failed"
	total=$((total + points))
	[ "$(stat_get active)" = 3 ] || fail "active $(stat_get active) after the reads, want 3"
	[ "$(stat_rows)" = 3 ] || fail "$(stat_rows) rows after the reads, want 3"

	P=/sys/module/fastecho/parameters
	for p in max_conns max_per_source idle_timeout spare_threads batch_conns; do
		v=$(cat $P/$p)
		new=$((v + 1))
		nth_loop "writing $p" write $P/$p "$new"
		got=$(cat $P/$p)
		[ "$got" = "$v" ] || [ "$got" = "$new" ] ||
			fail "$p is $got after the writes, neither $v nor $new"
		diag "$p: $points fault points, $fails writes failed; $v -> $got"
		total=$((total + points))
		echo "$v" > $P/$p || fail "cannot write $p back to $v"
	done
	fc_ok echo -n 10000 -t 30 -q
	[ "$(stat_get active)" = 3 ] || fail "active $(stat_get active), want 3"
	diag "failures injected: $(fault_count)"
	[ $total -ge 1 ] || fail "no fault point reached: nothing was injected"
	touch $W/stop
	fc_wait hold || fail "hold client: $(tail -n 1 $W/hold.out)"
	unload_ok
}

# fastecho's pernet init is the last one a new namespace runs (its
# operations were registered last), so the last fault points of an
# unshare(CLONE_NEWNET) are its own and those of the namespace's last
# steps: every one from FAULT_NETNS_BEFORE before the end fails in turn,
# the namespace is then made or not, and gone with fefail either way.
# Then, in a namespace of its own, net.fastecho.port is written with each
# fault point failed in turn: the server starts and echoes, or the write
# fails with an errno and leaves port 0, "listen none" and no thread.
FAULT_NETNS_BEFORE=${FE_FAULT_NETNS_BEFORE:-80}
t_fault_netns() {
	local n total from fails=0 made=0 errs="" l0 pts=0 FNS="$IP netns exec fe-f"
	fault_ready || return 0
	fault_setup 0 N
	load_ok
	l0=$(listener_threads)
	# Twice: the first namespace made fills caches and reaches more.
	nth "$FAULT_NTH_MAX" unshare-net
	nth "$FAULT_NTH_MAX" unshare-net
	[ "$rc" = 0 ] && [ "$inj" = 0 ] || fail "unshare(CLONE_NEWNET): rc $rc errno $eno"
	total=$((FAULT_NTH_MAX - left))
	from=$((total - FAULT_NETNS_BEFORE))
	[ $from -ge 1 ] || from=1
	n=$((from - 1))
	inj=1
	while [ "$inj" = 1 ]; do
		n=$((n + 1))
		[ $n -le "$FAULT_NTH_MAX" ] || fail "unshare still reaches fault point $n"
		nth $n unshare-net
		if [ "$rc" = 0 ]; then
			made=$((made + 1))
		else
			[ "$inj" = 1 ] || fail "unshare failed ($eno) with nothing injected"
			fails=$((fails + 1))
			errs="$errs $eno"
		fi
	done
	diag "a namespace reaches $total fault points; with one of the last $((n - from)) failed: $fails not made ($(echo "$errs" | eno_count)), $made made all the same"
	[ $fails -ge 1 ] || fail "no unshare failed: nothing was injected"
	[ "$(listener_threads)" = "$l0" ] || fail "$(listener_threads) listener threads after the namespaces, want $l0"
	fc_ok echo -n 1000 -t 30 -q

	$IP netns add fe-f || fail "ip netns add fe-f failed"
	$IP -n fe-f link set lo up
	fails=0 made=0 errs="" n=0 inj=1
	while [ "$inj" = 1 ]; do
		n=$((n + 1))
		[ $n -le "$FAULT_NTH_MAX" ] || fail "port=7003 still reaches fault point $n"
		$FNS "$FEFAIL" $n write /proc/sys/net/fastecho/port 7003 > $W/nth.out 2>&1 ||
			fail "fefail: $(cat $W/nth.out)"
		read -r _ inj _ left _ rc _ eno < $W/nth.out
		[ "$inj" = 0 ] || pts=$n
		if [ "$rc" = 0 ]; then
			made=$((made + 1))
			$FNS grep -qx 'listen \[::\]:7003' /proc/net/fastecho ||
				fail "N=$n: port 7003 taken, but $($FNS head -n 1 /proc/net/fastecho)"
			[ "$(listener_threads)" = $((l0 + 1)) ] ||
				fail "N=$n: $(listener_threads) listener threads with the server up, want $((l0 + 1))"
			echo 0 | $FNS sh -c 'cat > /proc/sys/net/fastecho/port' ||
				fail "N=$n: cannot write port 0"
		else
			[ "$inj" = 1 ] || fail "port=7003 failed ($eno) with nothing injected"
			fails=$((fails + 1))
			errs="$errs $eno"
			[ "$($FNS cat /proc/sys/net/fastecho/port)" = 0 ] ||
				fail "N=$n: port $($FNS cat /proc/sys/net/fastecho/port) after a failed start"
		fi
		$FNS grep -qx 'listen none' /proc/net/fastecho ||
			fail "N=$n: $($FNS head -n 1 /proc/net/fastecho) with port 0"
		# A failed start, and port 0, stop the listener before they return.
		[ "$(listener_threads)" = "$l0" ] ||
			fail "N=$n: $(listener_threads) listener threads, want $l0"
	done
	# The last start of all echoes.
	$FNS sh -c 'echo 7003 > /proc/sys/net/fastecho/port' || fail "port=7003 refused"
	FC_NS="$FNS" fc_ok echo -h 127.0.0.1 -p 7003 -n 1000 -t 30 -q
	diag "port=7003 with one of $pts fault points failed: $fails failed ($(echo "$errs" | eno_count)), $made started all the same"
	[ $fails -ge 1 ] || fail "no port write failed: nothing was injected"
	$IP netns del fe-f
	diag "failures injected: $(fault_count)"
	unload_ok
	nothing_left "rmmod"
}

# Mark fastecho's threads (the listener, every fastecho/N) for failslab's
# and fail_page_alloc's task-filter as they appear, until $W/unmark exists.
fault_marker() {
	local p
	while [ ! -e $W/unmark ]; do
		for p in $(grep -l '^fastecho' /proc/[0-9]*/comm 2>/dev/null |
			sed 's|/proc/\([0-9]*\)/comm|\1|'); do
			# (gone already: say nothing)
			{ echo 1 > /proc/"$p"/make-it-fail; } 2>/dev/null
		done
		usleep 50000
	done
}

# Count trace lines of fastecho_end with reason $1 (in $W/trace).
ends_of() {
	ev_lines fastecho_end | grep -c " reason=$1 "
}

t_fault_serve() {
	local tr a ta te full nofin cut inj ends eof err errs r c held
	fault_ready || return 0
	tr=$(tracefs_dir)
	[ -n "$tr" ] || fail "no tracefs: the ends cannot be accounted"
	fault_setup 0 Y
	load_ok spare_threads=4
	echo 1 > $tr/tracing_on
	: > $tr/trace
	echo 1 > $tr/events/fastecho/enable || fail "cannot enable events/fastecho"
	fault_marker &
	echo $! >> $W/pids
	# held from before the failures start, each thread marked
	fc_bg hold hold -c 8 -r $W/held -u $W/letgo -t 900
	ready_or_fail hold $W/held 60
	fc_bg readloop readloop -f /proc/net/fastecho -d 900 -u $W/letgo -t 900

	dmesg_mark
	fault_pct "$FAULT_PCT"
	fc fault -c 6 -x 240 -n 60000 -h 127.0.0.1,::1 -t 600 ||
		fail "fault client: $(tail -n 1 $W/fc.out)"
	fault_pct 0
	inj=$(fault_count)
	read -r _ full _ nofin _ cut < $W/fc.out
	touch $W/letgo
	fc_wait hold || fail "hold client: $(tail -n 1 $W/hold.out)"
	fc_wait readloop || fail "stats reader: $(tail -n 1 $W/readloop.out)"
	wait_until 120 stat_is active 0 || fail "active $(stat_get active) 120 s after the clients"
	diag "failures injected: $inj (failslab $((FAULT_TIMES - $(cat $FAULT_DBG/failslab/times))), fail_page_alloc $((FAULT_TIMES - $(cat $FAULT_DBG/fail_page_alloc/times))))"
	[ "$inj" -ge 1 ] || fail "no failure injected into fastecho's threads"
	dmesg_new | grep -q 'FAULT_INJECTION: forcing a failure' ||
		fail "no 'FAULT_INJECTION: forcing a failure' in dmesg"
	dmesg_new | grep -i 'fastecho' | sed 's/^\[[^]]*\] //' | sort |
		uniq -c | sort -rn | head -n 8 | sed 's/^/# dmesg: /'

	echo 0 > $tr/events/fastecho/enable
	grep ' fastecho_' $tr/trace > $W/trace
	a=$(stat_get accepted) errs=$(stat_get errors)
	ta=$(ev_lines fastecho_accept | wc -l)
	te=$(ev_lines fastecho_end | wc -l)
	eof=$(ends_of eof) err=$(ends_of error)
	diag "server: accepted $a errors $errs resets $(stat_get resets) idle_timeouts $(stat_get idle_timeouts) send_timeouts $(stat_get send_timeouts) peer_timeouts $(stat_get peer_timeouts) rejected $(stat_get rejected)"
	diag "trace: $ta accepts, $te ends: eof $eof, error $err, reset $(ends_of reset), idle_timeout $(ends_of idle_timeout), send_timeout $(ends_of send_timeout), peer_timeout $(ends_of peer_timeout), shutdown $(ends_of shutdown)"
	diag "clients: $full whole with EOF, $nofin whole without the server's FIN, $cut cut; 8 held"
	[ "$ta" = "$a" ] || fail "accepted $a, but $ta fastecho_accept events"
	[ "$te" = "$a" ] || fail "accepted $a and active 0, but $te connections ended"
	for r in resets:reset idle_timeouts:idle_timeout \
		send_timeouts:send_timeout peer_timeouts:peer_timeout; do
		c=$(ends_of "${r#*:}")
		[ "$(stat_get "${r%:*}")" = "$c" ] ||
			fail "${r%:*} $(stat_get "${r%:*}"), but $c ends with reason ${r#*:}"
	done
	[ "$(ends_of shutdown)" = 0 ] || fail "$(ends_of shutdown) ends by shutdown before rmmod"
	[ "$errs" -ge "$err" ] || fail "errors $errs, but $err connections ended in an error"
	# Every transfer that came back whole ended by the client's FIN, so
	# did every held connection still open at the end.
	held=$((eof - full - nofin))
	[ "$held" -ge 0 ] && [ "$held" -le 8 ] ||
		fail "$eof ends by EOF for $((full + nofin)) whole transfers and 8 held"
	# Every transfer cut was cut by a counted end, or reset at accept
	# (no thread, no memory: counted in errors, no end).
	ends=$((te - eof))
	[ "$cut" -le $((ends + errs - err)) ] ||
		fail "$cut transfers cut, but only $ends ends other than EOF and $((errs - err)) errors outside connections"
	[ $((full + nofin)) -ge 1 ] || fail "no transfer came back whole"

	# rmmod with connections live, their threads failing allocations.
	rm -f $W/letgo $W/held
	fc_bg hold hold -c 8 -r $W/held -u $W/letgo -t 900
	ready_or_fail hold $W/held 60
	fc_bg stream stream -c 2 -r $W/streaming -u $W/letgo -t 900
	ready_or_fail stream $W/streaming 60
	fault_pct "$FAULT_PCT"
	sleep 2
	rmmod_loaded
	touch $W/unmark $W/letgo
	fault_pct 0
	for c in hold stream; do
		fc_wait $c > /dev/null
	done
	diag "failures injected in all: $(fault_count)"
}
