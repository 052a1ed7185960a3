#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# suite.sh: fastecho's test suite. Runs inside the test guest (busybox ash,
# as root), prints TAP. scripts/check.sh boots the guest and runs it.
#
#   /fe/tests/suite.sh [--only "NAME[,NAME...]"] [--list]
#
# NAME is a case name or number (see --list). Every case loads and unloads
# the module itself; whatever a case leaves behind (clients, a loaded
# module, fastecho threads) is cleaned up and makes the case fail.
#
# The cases live in one file per area, next to this one, sourced in this
# order; lib.sh has what they share (and the environment they read).

T=$(dirname "$0")
# shellcheck source=tests/lib.sh
. "$T/lib.sh"
# shellcheck source=tests/basic.sh
. "$T/basic.sh"
# shellcheck source=tests/limits.sh
. "$T/limits.sh"
# shellcheck source=tests/sched.sh
. "$T/sched.sh"
# shellcheck source=tests/teardown.sh
. "$T/teardown.sh"
# shellcheck source=tests/soak.sh
. "$T/soak.sh"
# shellcheck source=tests/net.sh
. "$T/net.sh"
# shellcheck source=tests/netns.sh
. "$T/netns.sh"
# shellcheck source=tests/opennet.sh
. "$T/opennet.sh"
# shellcheck source=tests/stats.sh
. "$T/stats.sh"
# shellcheck source=tests/zerocopy.sh
. "$T/zerocopy.sh"
# shellcheck source=tests/trace.sh
. "$T/trace.sh"
# shellcheck source=tests/fault.sh
. "$T/fault.sh"
# shellcheck source=tests/leaks.sh
. "$T/leaks.sh"

only=""
while [ $# -gt 0 ]; do
	case "$1" in
	--only) only=$(echo "$2" | tr ',' ' '); shift 2 ;;
	--list)
		n=1
		for c in $CASES; do echo "$n $c"; n=$((n + 1)); done
		exit 0
		;;
	*) echo "suite.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done

selected=""
n=1
for c in $CASES; do
	if [ -z "$only" ]; then
		selected="$selected $n:$c"
	else
		for o in $only; do
			[ "$o" = "$c" ] || [ "$o" = "$n" ] && selected="$selected $n:$c"
		done
	fi
	n=$((n + 1))
done
count=$(echo $selected | wc -w)
if [ "$count" = 0 ]; then
	echo "suite.sh: no case matches '$only' (try --list)" >&2
	exit 2
fi

mkdir -p $W
echo "1..$count"
diag "fastecho suite: $(uname -r), $(nproc) CPUs, cmdline: $(cat /proc/cmdline)"
kmemleak_baseline
failed=0
tapn=0
for sel in $selected; do
	c=${sel#*:}
	tapn=$((tapn + 1))
	rm -rf $W
	mkdir -p $W
	: > $W/pids
	t0=$(uptime_s)
	if [ ! -f "$KO" ]; then
		echo "not ok $tapn - $(case_title $c) # no $KO in the guest"
		failed=$((failed + 1))
		continue
	fi
	(t_$c)
	rc=$?
	reason=$(cat $W/reason 2>/dev/null)
	# Clean up whatever the case left running or loaded.
	touch $W/stop
	for p in $(cat $W/pids); do kill -TERM "$p" 2>/dev/null; done
	for p in $(cat $W/pids); do
		if kill -0 "$p" 2>/dev/null; then
			usleep 500000
			kill -KILL "$p" 2>/dev/null
		fi
		wait "$p" 2>/dev/null
	done
	[ -e /run/netns/$NS ] && net_down
	if is_loaded; then
		rmmod fastecho 2>/dev/null
		if [ $rc = 0 ]; then
			rc=1
			reason="case left the module loaded"
		fi
	fi
	if [ "$(all_fe_threads)" != 0 ]; then
		if [ $rc = 0 ]; then
			rc=1
			reason="fastecho threads left after the case"
		fi
	fi
	if [ $rc = 0 ] && [ -f $W/skip ]; then
		echo "ok $tapn - $(case_title $c) # SKIP $(cat $W/skip)"
	elif [ $rc = 0 ]; then
		echo "ok $tapn - $(case_title $c)"
	else
		echo "not ok $tapn - $(case_title $c) # ${reason:-exit status $rc}"
		failed=$((failed + 1))
	fi
	diag "$c took $(since "$t0") s"
done
diag "suite: $((count - failed)) of $count passed"
[ $failed = 0 ]
