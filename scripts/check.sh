#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: install what is missing (scripts/setup.sh), build fastecho.ko
# and the guest programs, boot the test kernel in QEMU and run
# tests/suite.sh there, once per boot configuration.
#
#   scripts/check.sh [--kernel NAME] [--boots "stock slub preempt"]
#                    [--only "CASE[,CASE]"] [--full] [--soak SEC]
#                    [--extra-soak SEC] [--timeout SEC]
#   scripts/check.sh --matrix [--only ...]     6.1, 6.12 and rt, stock boot
#
# Cases: the stock boot of 6.1, 6.12 and rt runs the whole suite. The other
# boots, and the debug kernel, run the cases their configuration is there
# for (the lists below, docs/testing.md says why); --full runs the whole
# suite on every boot and on the debug kernel, --only the cases named.
#
# Without --only, the host-side TAP scripts tests/host/*.sh (no guest, no
# network) run first, on any kernel. With the default 6.1 check and no
# --only, scripts/run-check.sh (make run, driven from the host) runs last
# (CHECK_NO_RUN=1 leaves it out). Their cases are named host: ...
#
# Boots: stock (the plain command line), slub (slub_debug=FZPU), preempt
# (preempt=full), zerocopy (stock command line, every insmod of the suite
# with zerocopy=1: FE_PARAMS). On 6.1 all four run by default, elsewhere
# only stock.
# The soak case runs SOAK_SECONDS (--soak, default 60) on the stock boot and
# --extra-soak (default 20) seconds on the others and on the debug kernel;
# its TAP name says which.
#
# Time limits say "it did not hang", never how fast: FE_TIME_SCALE (the
# suite's and feclient's time limits are multiplied by it) is 1 on the
# stock and preempt=full boots of 6.1 and 6.12, 2 on rt and with
# slub_debug, 10 on the debug kernel. RMMOD_LIMIT, the seconds rmmod under
# load may take before it counts as hung, is 60 times that. The guest time
# limit per boot (--timeout, or CHECK_TIMEOUT) is 1800 s, 2700 s for
# the stock boot (the whole suite), 2400 s with slub_debug, 7200 s on
# debug. Each can be set in the environment.
# stats_load holds 10 000 connections on 6.1 and 2 000 elsewhere
# (FE_STATS_CONNS): KASAN's doubled kernel stacks leave the debug guest too
# few threads for 10 000, and on 6.12 and rt the same iterator at a fifth
# of the size saves CI some 200 s (docs/testing.md, CI).
#
# Output: TAP, each name prefixed with KERNEL/BOOT, one extra test per boot
# for the guest itself (finished in time, no kernel splat), and the last
# line "N passed, N failed". Exit 1 on any failure, splat or timeout.
# Per-boot console logs and raw outputs are in build/check/.
set -euo pipefail

# The whole script is one block: bash reads it completely before running
# it, so an edit to this file while a (long) run goes on cannot break it.
{

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

kernel=6.1
boots=""
only=""
matrix=0
soak=${SOAK_SECONDS:-60}
extra_soak=20
timeout_s=${CHECK_TIMEOUT:-}
full=0

# What each boot other than stock runs by default (--full: everything).
# slub_debug=FZPU: red zones, poisoning and free checks on Debian's own
# kernel, for the cases that allocate and free the most.
slub_cases=binary,halfclose_rst,concurrent,spare_shrink,rmmod_under_fire,cycles,soak,net_xfer,urgent,churn,stats_cycles,zc_stream,zc_halfclose,zc_rmmod
# preempt=full: preemption anywhere, for the cases that race threads,
# teardown (in several namespaces too), parameter writes and readers of
# the stats file.
preempt_cases=concurrent,spare_shrink,param_race,sched,rmmod_under_fire,cycles,soak,net_xfer,net_rmmod,stats_cycles,zc_stream,zc_rmmod,netns_rmmod
# zerocopy=1 on every insmod: the cases that echo, end or tear down
# connections in ways the zc_* cases of every boot do not already cover
# (netns_servers: a connection's release with its namespace reference).
zerocopy_cases=echo,binary,halfclose_rst,concurrent,ipv6,rmmod_under_fire,soak,net_xfer,net_soak,net_rmmod,counters,netns_servers
# The debug kernel (KASAN, lockdep, kmemleak, fault injection): load,
# echo and teardown paths, rmmod under fire on the veth lane (the
# loopback one, 400 s there, binary and concurrent run on every 6.1 boot),
# zero-copy, urgent data, the stats file across unloads, a namespace
# deleted under its server (netns_del), the fault-injection lane, and
# kmemleak last.
debug_cases=load,echo,halfclose_rst,spare_shrink,net_rmmod,urgent,stats_cycles,zc_stream,zc_halfclose,zc_rmmod,netns_del,fault_insmod,fault_rmmod,fault_stats_params,fault_serve,fault_netns,kmemleak

while (($#)); do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--boots) boots=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--full) full=1; shift ;;
	--matrix) matrix=1; shift ;;
	--soak) soak=$2; shift 2 ;;
	--extra-soak) extra_soak=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	-h | --help) sed -n '4,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "check.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

outdir=$root/build/check
mkdir -p "$outdir"

# What the build and the guest need, before anything is built: the same
# step as make run and CI. As a normal user with packages missing it
# prints the sudo apt-get line; then nothing is built or booted.
if ! "$root/scripts/setup.sh" >&2; then
	echo "not ok 1 - setup: scripts/setup.sh failed (see above)"
	echo "1..1"
	echo "0 passed, 1 failed"
	exit 1
fi

n=0		# TAP number, over all boots
passed=0
failed=0
skipped=0

tap_ok() {
	n=$((n + 1)); passed=$((passed + 1))
	echo "ok $n - $*"
}

tap_fail() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $*"
}

tap_skip() {
	n=$((n + 1)); skipped=$((skipped + 1))
	echo "ok $n - $* # SKIP"
}

# host_tap NAME CMD...: a host-side TAP script, its cases counted here as
# host: cases. One that fails without a failing case (it died) counts as one.
host_tap() {
	local name=$1 line before=$failed status
	shift
	rm -f "$outdir/host-$name.status"
	while IFS= read -r line; do
		case "$line" in
		"ok "[0-9]*" - "*) tap_ok "host: ${line#ok * - }" ;;
		"not ok "[0-9]*" - "*) tap_fail "host: ${line#not ok * - }" ;;
		"#"*) echo "$line" ;;
		esac
	done < <(
		set +e
		"$@" 2>&1
		echo $? >"$outdir/host-$name.status"
	)
	status=$(cat "$outdir/host-$name.status" 2>/dev/null || echo 126)
	if [[ $status != 0 && $failed == "$before" ]]; then
		tap_fail "host: $name exited with status $status"
	fi
}

boot_append() {
	case "$1" in
	stock) echo "" ;;
	slub) echo "slub_debug=FZPU" ;;
	preempt) echo "preempt=full" ;;
	zerocopy) echo "" ;;
	*) echo "check.sh: unknown boot '$1' (stock, slub, preempt, zerocopy)" >&2; return 1 ;;
	esac
}

# boot_cases KERNEL BOOT: the cases that boot runs by default, empty for
# the whole suite.
boot_cases() {
	if [[ "$1" == debug ]]; then
		echo "$debug_cases"
		return
	fi
	case "$2" in
	slub) echo "$slub_cases" ;;
	preempt) echo "$preempt_cases" ;;
	zerocopy) echo "$zerocopy_cases" ;;
	*) echo "" ;;
	esac
}

# build KERNEL: the module for that kernel and the guest programs.
# Returns 1 (after a failing TAP line) when either does not build.
build() {
	local k=$1 log=$outdir/build-$1.log
	if ! "$root/scripts/build-guest.sh" >"$log" 2>&1; then
		tap_fail "$k: build guest programs # $(grep -m1 -i error "$log" || tail -n1 "$log")"
		return 1
	fi
	if ! "$root/scripts/build-module.sh" "$k" >>"$log" 2>&1; then
		tap_fail "$k: build fastecho.ko # $(grep -m1 -i error "$log" || tail -n1 "$log")"
		return 1
	fi
	return 0
}

# run_boot KERNEL BOOT: one guest boot running the suite; TAP renumbered
# and prefixed with KERNEL/BOOT, as it comes.
run_boot() {
	local k=$1 b=$2 append s tmo tag raw err status seen=0 planned="" line args
	append=$(boot_append "$b") || return 1
	# Soak time: full on the stock boot of a production kernel, shorter on
	# the extra boots and on the (much slower) debug kernel.
	s=$soak
	[[ "$b" == stock && "$k" != debug ]] || s=$extra_soak
	tmo=${timeout_s:-1800}
	if [[ -z "$timeout_s" ]]; then
		[[ "$b" != stock ]] || tmo=2700
		[[ "$b" != slub ]] || tmo=2400
		[[ "$k" != debug ]] || tmo=7200
	fi
	tag="$k/$b"
	raw=$outdir/$k-$b.out
	err=$outdir/$k-$b.vm.log
	# Slower configurations get longer limits: slub_debug poisons every
	# free, rt and the debug kernel (KASAN, lockdep, kmemleak) are slower
	# at everything under TCG.
	local ts=${FE_TIME_SCALE:-1}
	if [[ -z "${FE_TIME_SCALE:-}" ]]; then
		[[ "$b" != slub && "$k" != rt ]] || ts=2
		[[ "$k" != debug ]] || ts=10
	fi
	local rl=${RMMOD_LIMIT:-$((60 * ts))}
	args=(env SOAK_SECONDS="$s" FE_TIME_SCALE="$ts" RMMOD_LIMIT="$rl")
	[[ "$b" != zerocopy ]] || args+=(FE_PARAMS=zerocopy=1)
	[[ "$k" == 6.1 ]] || args+=(FE_STATS_CONNS=2000)
	args+=(/fe/tests/suite.sh)
	rm -f "$raw.status"
	local sel=$only
	if [[ -z "$sel" ]] && ((!full)); then
		sel=$(boot_cases "$k" "$b")
	fi
	[[ -z "$sel" ]] || args+=(--only "$sel")

	# The real-network lane's kernel modules (tests/net.sh), where this
	# kernel has them as modules rather than built in.
	local kmod_args=() m moddir
	moddir=$(eval "$("$root/scripts/kernel.sh" env "$k")"; echo "$FE_MODDIR")
	for m in veth sch_netem sch_tbf; do
		[[ -z $(find "$moddir" -name "$m.ko*" -print -quit 2>/dev/null) ]] ||
			kmod_args+=(--kmod "$m")
	done

	echo "# $tag: booting (append '${append}', soak ${s}s, time scale $ts, timeout ${tmo}s)"
	echo "# $tag: cases: ${sel:-all}"
	local t0=$SECONDS
	# The suite's TAP, renumbered and prefixed with KERNEL/BOOT as it comes.
	while IFS= read -r line; do
		line=${line%$'\r'}
		case "$line" in
		"ok "[0-9]*" - "*"# SKIP"*)
			seen=$((seen + 1))
			n=$((n + 1)); skipped=$((skipped + 1))
			echo "ok $n - $tag: ${line#ok * - }" ;;
		"ok "[0-9]*" - "*)
			seen=$((seen + 1))
			tap_ok "$tag: ${line#ok * - }" ;;
		"not ok "[0-9]*" - "*)
			seen=$((seen + 1))
			tap_fail "$tag: ${line#not ok * - }" ;;
		1..*)
			planned=${line#1..}
			echo "# $tag: $planned cases" ;;
		"#"*) echo "$line" ;;
		*) echo "# $tag| $line" ;;
		esac
	done < <(
		set +e
		"$root/scripts/vm.sh" --no-build --kernel "$k" --append "$append" \
			--timeout "$tmo" --log "$outdir/$k-$b.console.log" "${kmod_args[@]}" \
			-- "${args[@]}" 2>"$err" </dev/null | tee "$raw"
		echo "${PIPESTATUS[0]}" >"$raw.status"
	)
	status=$(cat "$raw.status" 2>/dev/null || echo 126)
	local dt=$((SECONDS - t0))

	# The guest itself: finished, reported every case, no kernel splat.
	local why=""
	case $status in
	0 | 1) ;;
	124) why="guest timed out after ${tmo}s" ;;
	125) why="kernel splat" ;;
	126) why="guest died (panic?) before the suite finished" ;;
	*) why="vm.sh status $status" ;;
	esac
	if grep -q 'KERNEL SPLAT' "$err"; then
		why="${why:+$why; }kernel splat: $(grep '^vm.sh:   ' "$err" | head -n 3 |
			sed 's/^vm.sh: *//' | tr '\n' '|')"
	fi
	if [[ -n "$planned" && "$seen" -lt "$planned" ]]; then
		why="${why:+$why; }only $seen of $planned cases reported"
	elif [[ -z "$planned" ]]; then
		why="${why:+$why; }suite did not start: $(tail -n 3 "$err" | tr '\n' ' ')"
	fi
	if [[ -z "$why" ]]; then
		tap_ok "$tag: guest finished in ${dt}s, kernel log clean"
	else
		tap_fail "$tag: guest finished in ${dt}s, kernel log clean # $why (console: $outdir/$k-$b.console.log)"
	fi
	grep '^vm.sh:   ' "$err" | head -n 20 | sed 's/^vm.sh:/# splat:/' || true
	grep -E '^vm.sh: boot [0-9]+:' "$err" | head -n 20 | sed 's/^vm.sh: /# /' || true
}

check_kernel() {
	local k=$1 bl=$2 b
	build "$k" || return 0
	for b in $bl; do
		run_boot "$k" "$b"
	done
}

start=$SECONDS
if [[ -z "$only" ]]; then
	for t in "$root"/tests/host/*.sh; do
		[[ -f "$t" ]] || continue
		host_tap "$(basename "$t" .sh)" bash "$t"
	done
fi
if ((matrix)); then
	for k in 6.1 6.12 rt; do
		if [[ "$k" != 6.1 ]]; then
			if ! msg=$("$root/scripts/fetch-kernel.sh" env "$k" 2>&1 >/dev/null); then
				tap_skip "$k: kernel unavailable: $(printf '%s' "$msg" | tail -n 1)"
				continue
			fi
		fi
		check_kernel "$k" stock
	done
else
	if [[ -z "$boots" ]]; then
		boots=stock
		[[ "$kernel" != 6.1 ]] || boots="stock slub preempt zerocopy"
	fi
	check_kernel "$kernel" "$boots"
	# make run, driven from the host: with the full default check only.
	if [[ -z "$only" && "$kernel" == 6.1 && -z "${CHECK_NO_RUN:-}" ]]; then
		host_tap run-check env KERNEL="$kernel" "$root/scripts/run-check.sh"
	fi
fi

echo "1..$n"
echo "# total time $((SECONDS - start))s; logs in $outdir"
if ((skipped)); then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
((failed == 0))
}
