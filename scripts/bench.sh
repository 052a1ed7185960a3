#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: benchmark fastecho (default and zerocopy=1) against user-space
# echo servers (epoll, io_uring, splice) and a BPF sockmap echo in one QEMU
# boot, and write bench/results.{csv,md} and plots.
#
#   scripts/bench.sh [options]          (make bench [CLOCK=insn] BENCH_ARGS="...")
#
#   --clock CLOCK    tcg: QEMU TCG timed by the host's clock [default];
#                    insn: QEMU's instruction clock (-icount shift=0: 1 ns
#                    of guest time per guest instruction), see
#                    docs/benchmark.md; its results go to
#                    results-insn*.csv next to the tcg ones
#   --repeat N       insn: independent boots of the same run, 1 or 2 [2],
#                    run at the same time; run 2 only checks run 1 (a
#                    generated table in docs/benchmark.md)
#   --smp N          guest CPUs [1]
#   --mem SIZE       guest memory [4G: 10 000 fastecho threads need ~1 GiB]
#   --kernel NAME    guest kernel (see scripts/kernel.sh) [6.1]
#   --rounds N       interleaved rounds, >= 1 [tcg 3, insn 1]
#   --dur SEC        measured seconds per ping-pong / cec run [tcg 5, insn 2]
#   --warm SEC       warm-up seconds before each of those [tcg 1, insn 0.2]
#   --bulk-mib N     MiB each way in the bulk run [tcg 256, insn 128]
#   --bulk-verify N  the client verifies 1 in N 64 KiB blocks of the bulk
#                    echo, drops the rest unread [tcg 1, insn 16]
#   --idle-conns N   connections in the idle memory run [10000]
#   --cec-conns N    connect-echo-close cycles in flight [4]
#   --workloads "…"  subset of: idle pp1 pp32 pp1000 bulk cec rmmod
#                    [tcg all, insn pp1 pp32 pp1000 bulk cec]
#   --rmmod-runs N   runs of rmmod under load (fastecho only) [5]
#   --servers "…"    subset of: fastecho fastecho-zc epoll uring splice
#                    sockmap [all]
#   --modargs "…"    extra insmod arguments for fastecho (e.g. bufsize=65536)
#   --ab REV         also server fastecho-ab: the module's sources at git
#                    REV, built here, loaded in the same boot on the same
#                    port; results.md gets a section fastecho / fastecho-ab
#                    (the default path against REV's)
#   --timeout SEC    QEMU time limit [computed from the above, generous]
#   --out DIR        where results go [bench]
#   --quick          a smoke run: 1 round, short runs, 32 MiB bulk, 1000 idle
#   --from FILE      do not boot: re-read a saved guest output (guest.out;
#                    insn: given twice, the second is run 2)
#
# The guest part is bench/guest-bench.sh. In every round each workload runs
# against every server (fastecho, fastecho-zc, echo-epoll, echo-uring,
# echo-splice, echo-sockmap), in an order rotated per round; the medians
# over rounds are computed here. rmmod (how long rmmod takes under the load
# of the suite's rmmod_under_fire case) runs after the rounds,
# --rmmod-runs times; its median and worst are reported. Raw guest output and
# the console log stay in build/bench/ (insn: build/bench-insn/).
#
# results.md carries every clock that has results in DIR: results.csv and
# run-tcg.txt (what was run) for tcg, results-insn.csv and run-insn.txt for
# insn (and results-insn-2.csv, run-insn-2.txt for its run 2); a run of one
# clock rewrites that clock's files and leaves the other's as they are.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmdline="scripts/bench.sh${*:+ $*}"

clock=tcg
repeat=""
smp=1
mem=4G
kernel=6.1
rounds=""
dur=""
warm=""
bulk_mib=""
bulk_verify=""
idle_conns=""
cec_conns=4
workloads=""
rmmod_runs=""
servers="fastecho fastecho-zc epoll uring splice sockmap"
modargs=""
ab_rev=""
timeout_s=""
out=$root/bench
froms=()
quick=0

usage() {
	sed -n '4,45p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# A positive integer (or decimal, when $3 says so), else usage.
need_num() {
	local re='^[0-9]+$'
	[[ ${3:-} == dec ]] && re='^[0-9]+([.][0-9]+)?$'
	[[ $2 =~ $re ]] || { echo "bench.sh: $1 wants a number, got '$2'" >&2; exit 2; }
}

while (($#)); do
	case "$1" in
	--clock) clock=$2; shift 2 ;;
	--repeat) need_num "$1" "$2"; repeat=$2; shift 2 ;;
	--smp) need_num "$1" "$2"; smp=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--rounds) need_num "$1" "$2"; rounds=$2; shift 2 ;;
	--dur) need_num "$1" "$2" dec; dur=$2; shift 2 ;;
	--warm) need_num "$1" "$2" dec; warm=$2; shift 2 ;;
	--bulk-mib) need_num "$1" "$2"; bulk_mib=$2; shift 2 ;;
	--bulk-verify) need_num "$1" "$2"; bulk_verify=$2; shift 2 ;;
	--idle-conns) need_num "$1" "$2"; idle_conns=$2; shift 2 ;;
	--cec-conns) need_num "$1" "$2"; cec_conns=$2; shift 2 ;;
	--workloads) workloads=$2; shift 2 ;;
	--rmmod-runs) need_num "$1" "$2"; rmmod_runs=$2; shift 2 ;;
	--servers) servers=$2; shift 2 ;;
	--modargs) modargs=$2; shift 2 ;;
	--ab) ab_rev=$2; shift 2 ;;
	--timeout) need_num "$1" "$2"; timeout_s=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--from) froms+=("$2"); shift 2 ;;
	--quick) quick=1; shift ;;
	-h | --help) usage ;;
	*) echo "bench.sh: unknown option $1" >&2; usage ;;
	esac
done

# default VAR TCG INSN QUICK: VAR's value unless given on the command line:
# QUICK with --quick (when not empty), else the clock's default.
default() {
	local v=${!1}
	[[ -n $v ]] && return
	if ((quick)) && [[ -n $4 ]]; then
		v=$4
	elif [[ $clock == insn ]]; then
		v=$3
	else
		v=$2
	fi
	printf -v "$1" '%s' "$v"
}
case "$clock" in
tcg | insn) ;;
*) echo "bench.sh: --clock wants tcg or insn, got '$clock'" >&2; exit 2 ;;
esac
default rounds 3 1 1
if ((quick)) && [[ $clock == insn ]]; then
	default dur 5 0.2 ""
	default warm 1 0.1 ""
	default bulk_mib 256 8 ""
else
	default dur 5 2 2
	default warm 1 0.2 0
	default bulk_mib 256 128 32
fi
default bulk_verify 1 16 ""
default idle_conns 10000 10000 1000
default rmmod_runs 5 5 1
default workloads "idle pp1 pp32 pp1000 bulk cec rmmod" "pp1 pp32 pp1000 bulk cec" ""
default repeat 1 2 ""
((rounds >= 1)) || { echo "bench.sh: --rounds must be >= 1" >&2; exit 2; }
if [[ $clock == tcg ]]; then
	((repeat == 1)) || { echo "bench.sh: --repeat is for --clock insn" >&2; exit 2; }
	((${#froms[@]} <= 1)) || { echo "bench.sh: one --from for --clock tcg" >&2; exit 2; }
else
	((repeat == 1 || repeat == 2)) || { echo "bench.sh: --repeat wants 1 or 2" >&2; exit 2; }
	((${#froms[@]} == 0)) || repeat=${#froms[@]}
	((repeat <= 2)) || { echo "bench.sh: at most two --from" >&2; exit 2; }
fi
for w in $workloads; do
	case "$w" in
	idle | pp1 | pp32 | pp1000 | bulk | cec | rmmod) ;;
	*) echo "bench.sh: unknown workload $w" >&2; exit 2 ;;
	esac
done
if [[ -n $ab_rev && " $servers " != *" fastecho-ab "* ]]; then
	servers+=" fastecho-ab"
fi
nservers=0
for s in $servers; do
	case "$s" in
	fastecho | fastecho-zc | epoll | uring | splice | sockmap) ;;
	fastecho-ab) [[ -n $ab_rev ]] || { echo "bench.sh: fastecho-ab needs --ab REV" >&2; exit 2; } ;;
	*) echo "bench.sh: unknown server $s" >&2; exit 2 ;;
	esac
	nservers=$((nservers + 1))
done

# raw output and the private tree: one place per clock and results dir, so
# that runs into different --out dirs can go on at the same time
if [[ $clock == tcg ]]; then
	work=$root/build/bench
else
	work=$root/build/bench-insn
fi
mkdir -p "$out"
[[ "$out" -ef "$root/bench" ]] || work+=-$(basename "$(cd "$out" && pwd)")
mkdir -p "$work" "$out"

# which module was measured: the sources are built at run time
rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git -C "$root" status --porcelain -- Kbuild '*.c' '*.h' 2>/dev/null |
	grep -v ' tools/\| tests/' || true)" ]]; then
	rev+=" with uncommitted module changes"
fi
qemu=$(qemu-system-x86_64 --version 2>/dev/null | head -n1 || echo unknown)
hostcpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

# Per clock: the guest output of each boot (run 1, run 2), and where its
# rounds (csv) and what was run (meta) are kept.
guest_outs=() csvs=() metas=()
for ((i = 1; i <= repeat; i++)); do
	if [[ $clock == tcg ]]; then
		guest_outs+=("$work/guest.out")
		csvs+=("$out/results.csv")
		metas+=("$out/run-tcg.txt")
	else
		sfx=""
		((i == 1)) || sfx=-$i
		guest_outs+=("$work/guest$sfx.out")
		csvs+=("$out/results-insn$sfx.csv")
		metas+=("$out/run-insn$sfx.txt")
	fi
done

# --- Run the guest --------------------------------------------------------------
rc=0
if ((${#froms[@]} == 0)); then
	# What the build, the servers (liburing) and the plots need, as make
	# run does.
	"$root/scripts/setup.sh" >&2
	# Generous limit: every run's own limit is enforced inside the guest;
	# this only catches a guest that hangs. TCG is slow, so be kind; the
	# instruction clock is slower still in host time (a guest second took
	# 10-15 host seconds on a shared 2-core host).
	if [[ -z "$timeout_s" ]]; then
		per_server=$(awk -v d="$dur" -v w="$warm" -v b="$bulk_mib" -v i="$idle_conns" \
			-v c="$clock" 'BEGIN {
				if (c == "insn") printf "%d", 20 * (4 * (d + w + 4) + b / 16 + 10)
				else printf "%d", 4 * (d + w + 40) + b / 2 + i / 50 + 60 }')
		timeout_s=$((600 + rounds * nservers * per_server + rmmod_runs * 300))
	fi

	# A private tree of links to the sources: vm.sh keeps its initramfs
	# and output in build/vm-KERNEL under its own root, and a make check
	# running at the same time must not swap them under us.
	priv=$work/root
	rm -rf "$priv"
	mkdir -p "$priv"
	for f in "$root"/Kbuild "$root"/Makefile "$root"/*.c "$root"/*.h \
		"$root"/scripts "$root"/tools "$root"/tests "$root"/bench; do
		[[ -e "$f" ]] || continue
		case "$f" in *.mod.c) continue ;; esac
		ln -s "$f" "$priv/$(basename "$f")"
	done

	# --ab: the module's own sources (Kbuild, top-level *.c and *.h) at
	# that revision, built for the guest kernel as build-module.sh builds
	# this tree's.
	add=()
	if [[ -n $ab_rev ]]; then
		abdir=$work/ab
		rm -rf "$abdir"
		mkdir -p "$abdir"
		mapfile -t absrcs < <(git -C "$root" ls-tree --name-only "$ab_rev" |
			grep -E '^(Kbuild|[^/]*\.[ch])$')
		git -C "$root" archive "$ab_rev" -- "${absrcs[@]}" | tar -x -C "$abdir"
		(
			eval "$("$root/scripts/kernel.sh" env "$kernel")"
			nice make -s -C "$FE_KDIR" M="$abdir" modules >&2
		) || { echo "bench.sh: cannot build the module at $ab_rev" >&2; exit 1; }
		cp "$abdir/fastecho.ko" "$work/fastecho-ab.ko"
		add=(--add "$work/fastecho-ab.ko")
	fi

	vmargs=(--kernel "$kernel" --smp "$smp" --mem "$mem" --timeout "$timeout_s")
	if [[ $clock == insn ]]; then
		# build once, then boot every run from the same build
		"$priv/scripts/build-guest.sh" >&2
		"$priv/scripts/build-module.sh" "$kernel" >/dev/null
		vmargs+=(--icount --no-build)
	fi
	guestargs=(rounds="$rounds" dur="$dur" warm="$warm" bulk_mib="$bulk_mib"
		bulk_verify="$bulk_verify" idle_conns="$idle_conns" cec_conns="$cec_conns"
		workloads="$workloads" rmmod_runs="$rmmod_runs" servers="$servers"
		modargs="$modargs")
	echo "bench.sh: $cmdline" >&2
	echo "bench.sh: QEMU clock=$clock smp=$smp mem=$mem timeout=${timeout_s}s," \
		"$repeat boot(s); progress below, console log in $work/console*.log" >&2
	pids=()
	for ((i = 1; i <= repeat; i++)); do
		go=${guest_outs[i - 1]}
		# what was run, kept with the output so --from can show it again
		{
			echo "HOST cmd=$cmdline"
			echo "HOST rev=$rev"
			echo "HOST clock=$clock"
			((repeat == 1)) || echo "HOST run=$i of $repeat"
			[[ -z $ab_rev ]] || echo "HOST ab=$(git -C "$root" rev-parse --short "$ab_rev")"
			echo "HOST date=$(date -u '+%Y-%m-%d %H:%M UTC')"
			echo "HOST qemu=$qemu"
			echo "HOST hostcpu=$hostcpu"
		} >"$go"
		log=$work/console.log
		((i == 1)) || log=$work/console-$i.log
		tag=""
		((repeat == 1)) || tag="run $i: "
		# the boots of --repeat run at the same time: the instruction
		# clock does not care what else the host does
		(
			set +e
			"$priv/scripts/vm.sh" "${vmargs[@]}" --log "$log" "${add[@]}" -- \
				sh /fe/bench/guest-bench.sh "${guestargs[@]}" |
				sed -u 's/\r//g' | tee -a "$go" |
				grep --line-buffered -v '^CSV ' | sed -u "s/^/$tag/" >&2
			exit "${PIPESTATUS[0]}"
		) &
		pids+=($!)
	done
	for ((i = 1; i <= repeat; i++)); do
		r=0
		wait "${pids[i - 1]}" || r=$?
		if ((r != 0)); then
			echo "bench.sh: guest run $i ended with status $r (see above);" \
				"writing what was measured" >&2
			rc=$r
		fi
	done
else
	for ((i = 1; i <= repeat; i++)); do
		tr -d '\r' <"${froms[i - 1]}" >"${guest_outs[i - 1]}.tmp"
		mv "${guest_outs[i - 1]}.tmp" "${guest_outs[i - 1]}"
	done
fi

# --- Raw rounds: results*.csv and run-*.txt -------------------------------------
cols="round workload server conns msgs_per_s mib_per_s p50_us p90_us p99_us"
cols+=" p999_us max_us secs errors ok setup_s memfree_kb slab_kb kstack_kb"
cols+=" pagetables_kb slab_active_kb server_rss_kb client_rss_kb kthreads drain_s"
cols+=" msgs bytes verified_mib win_s idle_s busy_s user_s sys_s softirq_s client_s"
for ((i = 1; i <= repeat; i++)); do
	go=${guest_outs[i - 1]}
	grep -q '^CSV ' "$go" || {
		echo "bench.sh: no results in $go" >&2
		exit 1
	}
	awk -v cols="$cols" '
		BEGIN { n = split(cols, c, " "); line = c[1]
			for (i = 2; i <= n; i++) line = line "," c[i]
			print line }
		/^CSV / {
			delete v
			for (i = 2; i <= NF; i++) {
				eq = index($i, "=")
				if (eq) v[substr($i, 1, eq - 1)] = substr($i, eq + 1)
			}
			line = v[c[1]]
			for (i = 2; i <= n; i++) line = line "," v[c[i]]
			print line
		}' "$go" >"${csvs[i - 1]}"
	# what was run: the HOST lines bench.sh wrote, the guest's META lines
	# and the module's listening line
	{
		grep -E '^(HOST|META) ' "$go"
		ml=$(grep 'fastecho: listening' "$go" | head -n1 | sed 's/^\[[^]]*\] //' || true)
		echo "HOST modline=$ml"
	} >"${metas[i - 1]}"
	[[ $rc == 0 ]] || echo "HOST status=$rc" >>"${metas[i - 1]}"
done
# --- Medians ----------------------------------------------------------------------
# An awk function for the awk programs below: median(v, n), the median of
# v[0] to v[n - 1], n > 0, which it sorts in place (an insertion sort: a
# handful of rounds).
awk_median='
function median(v, n,    i, j, t) {
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
}'

# median WORKLOAD SERVER COLUMN: the median over rounds, empty if none.
median() {
	awk -F, -v w="$1" -v s="$2" -v col="$3" "$awk_median"'
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) k = i
			if (!k) exit
			next }
		$2 == w && $3 == s && $k != "" { v[n++] = $k + 0 }
		END {
			if (!n) exit
			print median(v, n)
		}' "$csv"
}

# Per-connection memory of an idle row: expression over columns, median.
idle_median() {
	awk -F, -v s="$1" -v what="$2" "$awk_median"'
		NR == 1 { for (i = 1; i <= NF; i++) k[$i] = i; next }
		$2 == "idle" && $3 == s && $k["ok"] > 0 {
			ok = $k["ok"]
			if (what == "kernel") x = ($k["slab_kb"] + $k["kstack_kb"]) * 1024 / ok
			else if (what == "active") x = ($k["slab_active_kb"] + $k["kstack_kb"]) * 1024 / ok
			else if (what == "memfree") x = $k["memfree_kb"] * 1024 / ok
			else if (what == "rss") x = $k["server_rss_kb"] * 1024 / ok
			else if (what == "setup") x = $k["setup_s"]
			else if (what == "drain") x = $k["drain_s"]
			v[n++] = x
		}
		END {
			if (!n) exit
			print median(v, n)
		}' "$csv"
}

# fmt VALUE DECIMALS: a number, or "-" when there is none.
fmt() {
	if [[ -z "$1" ]]; then echo "-"; else printf "%.${2}f" "$1"; fi
}

# ratio A B: A/B with 2 decimals, "-" when either is missing or B is 0.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || b + 0 == 0) print "-"
		else printf "%.2f", a / b }'
}

rounds_of() {
	awk -F, -v w="$1" -v s="$2" '$2 == w && $3 == s { n++ } END { print n + 0 }' "$csv"
}

errors_of() {
	awk -F, -v w="$1" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == "errors") k = i; next }
		$2 == w { e += $k } END { print e + 0 }' "$csv"
}

# best HIGHER V...: the best of the values given (the largest when HIGHER is
# 1, the smallest when 0), empty when none is.
best() {
	local hi=$1
	shift
	awk -v hi="$hi" 'BEGIN {
		for (i = 1; i < ARGC; i++) {
			if (ARGV[i] == "") continue
			if (b == "" || (hi ? ARGV[i] + 0 > b + 0 : ARGV[i] + 0 < b + 0)) b = ARGV[i]
		}
		print b
		exit
	}' "$@"
}

# target_row LABEL VALUE REFERENCE HIGHER TARGET: one row of a targets
# table. HIGHER=1: VALUE/REFERENCE must be >= TARGET; HIGHER=0: <= TARGET.
target_row() {
	awk -v l="$1" -v f="$2" -v b="$3" -v hi="$4" -v t="$5" 'BEGIN {
		if (f == "" || b == "" || b + 0 == 0) { printf "| %s | - | - | not measured |\n", l; exit }
		r = f / b
		ok = hi ? r >= t : r <= t
		v = ok ? "met" : sprintf("missed by %.2f", hi ? t - r : r - t)
		printf "| %s | %.2f | %s %.2f | %s |\n", l, r, hi ? ">=" : "<=", t, v
	}'
}

# label_of WORKLOAD: how a round workload is named in the tables.
label_of() {
	case "$1" in
	pp1) echo "ping-pong 64 B, 1 conn" ;;
	pp32) echo "ping-pong 64 B, 32 conns" ;;
	pp1000) echo "ping-pong 64 B, 1000 conns" ;;
	cec) echo "connect-echo-close 64 B, $cec_conns in flight" ;;
	bulk) echo "bulk $bulk_mib MiB each way, 1 conn" ;;
	esac
}

# metrics_of WORKLOAD: the columns of its rows in the tables.
metrics_of() {
	case "$1" in
	bulk) echo "mib_per_s" ;;
	cec) echo "msgs_per_s p50_us p99_us" ;;
	*) echo "msgs_per_s p50_us p99_us p999_us" ;;
	esac
}

# metric_name WORKLOAD METRIC: sets mname (the row's text), dec (decimals)
# and hi (1 when higher is better).
metric_name() {
	hi=0 dec=0
	case "$2" in
	msgs_per_s)
		mname="msgs/s (higher is better)" hi=1
		if [[ $1 == cec ]]; then mname="conns/s (higher is better)"; fi
		;;
	mib_per_s) mname="MiB/s (higher is better)" dec=1 hi=1 ;;
	*) mname="${2%_us} µs (lower is better)" ;;
	esac
}

# per_round WORKLOAD METRIC: fastecho / fastecho-ab in each round that has
# both: "MEDIAN | R1, R2, ..." (two table cells).
per_round() {
	awk -F, -v w="$1" -v col="$2" "$awk_median"'
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) k = i; next }
		$2 == w && $3 == "fastecho" && $k != "" { f[$1] = $k }
		$2 == w && $3 == "fastecho-ab" && $k != "" { a[$1] = $k }
		END {
			for (r = 1; r <= 1000; r++)
				if ((r in f) && (r in a) && a[r] + 0) {
					v[n++] = f[r] / a[r]
					all = all sprintf("%s%.2f", n > 1 ? ", " : "", f[r] / a[r])
				}
			if (!n) { print "- | -"; exit }
			printf "%.2f | %s\n", median(v, n), all
		}' "$csv"
}

# cpu_median WORKLOAD SERVER WHAT: the median over rounds of a CPU figure of
# the measured window, from the client's CPU fields: WHAT=server, the guest's
# busy time less the client's own (busy_s - client_s), or client (client_s),
# in µs per unit of work (message; connection for cec; MiB echoed for bulk);
# busy, the guest's busy share of the window in %. Empty when the rounds have
# no CPU fields (runs from before they existed).
cpu_median() {
	awk -F, -v w="$1" -v s="$2" -v what="$3" "$awk_median"'
		NR == 1 { for (i = 1; i <= NF; i++) k[$i] = i
			if (!k["busy_s"]) exit
			next }
		$2 == w && $3 == s && $k["busy_s"] != "" {
			if (what == "busy") {
				if ($k["win_s"] > 0) v[n++] = 100 * $k["busy_s"] / $k["win_s"]
				next
			}
			u = w == "bulk" ? $k["bytes"] / 1048576 : $k["msgs"]
			if (u <= 0) next
			x = what == "server" ? $k["busy_s"] - $k["client_s"] : $k["client_s"]
			v[n++] = x * 1e6 / u
		}
		END {
			if (!n) exit
			print median(v, n)
		}' "$csv"
}

# unit_of WORKLOAD: the unit of work of its CPU figures.
unit_of() {
	case "$1" in
	bulk) echo "MiB" ;;
	cec) echo "conn" ;;
	*) echo "msg" ;;
	esac
}

# meta_host FILE KEY: the value of a HOST line of a run-*.txt file.
meta_host() {
	sed -n "s/^HOST $2=//p" "$1" | head -n1
}
# cpu_table: the server's CPU per unit of work, from $csv (clock: $clk).
cpu_table() {
	local w u f z e ur p k bu what wname dec
	grep -q ',busy_s,' <(head -n1 "$csv") || {
		echo "No CPU figures in this run (its client predates them)."
		return
	}
	echo "### CPU per unit of work (lower is better)"
	echo
	echo "From the client's samples at the start and end of the measured" \
		"window: /proc/stat's idle time gives the guest's busy time," \
		"getrusage(RUSAGE_SELF) the client's own (every thread, user and" \
		"system). \"server\" is busy less client: the server's threads and" \
		"everything else in the guest, which includes TCP's receive" \
		"processing run in softirq outside the client's context and the" \
		"kernel workers; TCP receive work done in softirq while the client" \
		"runs (loopback delivers in the sender's context) is charged to the" \
		"client, so each side pays for delivering its own sends (this" \
		"kernel has no IRQ_TIME_ACCOUNTING). Per message for ping-pong, per" \
		"connection for connect-echo-close, per MiB echoed for bulk."
	if [[ $clk == insn ]]; then
		echo "Instruction clock: 1 µs of guest CPU is 1000 guest instructions."
	else
		echo "TCG wall clock: µs of host time spent emulating, which weighs a" \
			"switch between two processes (CR3 write: TCG flushes its TLB)" \
			"far more than hardware does (docs/benchmark.md)."
	fi
	echo
	echo "| workload | figure | fastecho | fastecho-zc | epoll | io_uring | splice | sockmap | fastecho/best user | fastecho-zc/best user | fastecho/sockmap | fastecho-zc/sockmap |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for w in pp1 pp32 pp1000 cec bulk; do
		grep -qE "^[0-9]+,$w," "$csv" || continue
		u=$(unit_of "$w")
		for what in server client busy; do
			case "$what" in
			server) wname="server µs/$u" dec=2 ;;
			client) wname="client µs/$u" dec=2 ;;
			busy) wname="guest busy %" dec=1 ;;
			esac
			f=$(cpu_median "$w" fastecho "$what")
			z=$(cpu_median "$w" fastecho-zc "$what")
			e=$(cpu_median "$w" epoll "$what")
			ur=$(cpu_median "$w" uring "$what")
			p=$(cpu_median "$w" splice "$what")
			k=$(cpu_median "$w" sockmap "$what")
			local rf=- rz=- rfk=- rzk=-
			if [[ $what != busy ]]; then
				bu=$(best 0 "$e" "$ur" "$p")
				rf=$(ratio "$f" "$bu") rz=$(ratio "$z" "$bu")
				rfk=$(ratio "$f" "$k") rzk=$(ratio "$z" "$k")
			fi
			echo "| $(label_of "$w") | $wname | $(fmt "$f" $dec) | $(fmt "$z" $dec) |" \
				"$(fmt "$e" $dec) | $(fmt "$ur" $dec) | $(fmt "$p" $dec) |" \
				"$(fmt "$k" $dec) | $rf | $rz | $rfk | $rzk |"
		done
	done
	echo
	echo "Bulk, server CPU per MiB: fastecho-zc / splice" \
		"$(ratio "$(cpu_median bulk fastecho-zc server)" "$(cpu_median bulk splice server)"), fastecho" \
		"/ the best copy-based user-space server (epoll, io_uring)" \
		"$(ratio "$(cpu_median bulk fastecho server)" "$(best 0 "$(cpu_median bulk epoll server)" "$(cpu_median bulk uring server)")")."
}

# determinism CSV1 CSV2: the two runs of the instruction clock side by side,
# every throughput, every CPU per unit and every ratio of results.md's
# tables, with the difference of run 2 from run 1 in %.
determinism() {
	local c1=$1 c2=$2 w m what s v1 v2 hi lbl
	# a value of run N: val N KIND WORKLOAD SERVER WHAT
	val() {
		local csv
		if [[ $1 == 1 ]]; then csv=$c1; else csv=$c2; fi
		if [[ $2 == med ]]; then median "$3" "$4" "$5"; else cpu_median "$3" "$4" "$5"; fi
	}
	# diff A B: (B - A) / A in %, signed
	diffp() {
		awk -v a="$1" -v b="$2" 'BEGIN {
			if (a == "" || b == "" || a + 0 == 0) print "-"
			else printf "%+.1f", (b - a) * 100 / a }'
	}
	echo "Run 1 is results-insn.csv (the figures of bench/results.md), run 2" \
		"results-insn-2.csv: the same command, another boot at the same time."
	echo
	echo "| workload | figure | fastecho 1 | 2 | fastecho-zc 1 | 2 | epoll 1 | 2 | io_uring 1 | 2 | splice 1 | 2 | sockmap 1 | 2 | largest difference % |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for w in pp1 pp32 pp1000 cec bulk; do
		grep -qE "^[0-9]+,$w," "$c1" || continue
		for m in tput server client; do
			local row="| $w |" worst=0 d
			case "$m" in
			tput)
				if [[ $w == bulk ]]; then what=mib_per_s lbl="MiB/s"; else what=msgs_per_s lbl="msgs/s"; fi
				[[ $w == cec ]] && lbl="conns/s"
				;;
			*) what=$m lbl="$m µs/$(unit_of "$w")" ;;
			esac
			row+=" $lbl |"
			for s in fastecho fastecho-zc epoll uring splice sockmap; do
				if [[ $m == tput ]]; then
					v1=$(val 1 med "$w" "$s" "$what") v2=$(val 2 med "$w" "$s" "$what")
				else
					v1=$(val 1 cpu "$w" "$s" "$what") v2=$(val 2 cpu "$w" "$s" "$what")
				fi
				row+=" $(fmt "$v1" 2) | $(fmt "$v2" 2) |"
				d=$(diffp "$v1" "$v2")
				[[ $d == - ]] || worst=$(awk -v a="$worst" -v d="$d" 'BEGIN { d = d < 0 ? -d : d; print (d > a ? d : a) }')
			done
			echo "$row $worst |"
		done
	done
	echo
	echo "The ratios of results.md, run 1 and run 2 (throughput: higher is" \
		"better for fastecho; CPU: lower is better):"
	echo
	echo "| workload | ratio | run 1 | run 2 | difference % |"
	echo "|---|---|---:|---:|---:|"
	for w in pp1 pp32 pp1000 cec bulk; do
		grep -qE "^[0-9]+,$w," "$c1" || continue
		if [[ $w == bulk ]]; then what=mib_per_s; else what=msgs_per_s; fi
		local r
		for r in "fastecho/best user" "fastecho-zc/best user" "fastecho/sockmap" \
			"fastecho-zc/sockmap" "fastecho-zc/splice" "server CPU fastecho/best user" \
			"server CPU fastecho-zc/best user" "server CPU fastecho/sockmap" \
			"server CPU fastecho-zc/sockmap" "server CPU fastecho-zc/splice"; do
			local x=() n num den kind fig
			for n in 1 2; do
				kind=med fig=$what hi=1
				if [[ $r == server* ]]; then kind=cpu fig=server hi=0; fi
				case "$r" in
				*"fastecho/"*) num=$(val $n $kind "$w" fastecho "$fig") ;;
				*) num=$(val $n $kind "$w" fastecho-zc "$fig") ;;
				esac
				case "$r" in
				*/best\ user) den=$(best "$hi" "$(val $n $kind "$w" epoll "$fig")" \
					"$(val $n $kind "$w" uring "$fig")" "$(val $n $kind "$w" splice "$fig")") ;;
				*/sockmap) den=$(val $n $kind "$w" sockmap "$fig") ;;
				*/splice) den=$(val $n $kind "$w" splice "$fig") ;;
				esac
				x+=("$(ratio "$num" "$den")")
			done
			[[ $r == *splice && $w != bulk ]] && continue
			echo "| $w | $r | ${x[0]} | ${x[1]} | $(diffp "${x[0]}" "${x[1]}") |"
		done
	done
}
# clock_section CLOCK META: the tables of one clock's run, from $csv.
clock_section() {
	local clk=$1 m=$2 bv metaline gkernel gcpus gcpu gmem params modline mrev mcmd mdate mq mh mst
	metaline=$(grep '^META kernel=' "$m" | head -n1 || true)
	gkernel=$(sed -n 's/.*kernel=\([^ ]*\).*/\1/p' <<<"$metaline")
	gcpus=$(sed -n 's/.*cpus=\([^ ]*\).*/\1/p' <<<"$metaline")
	gcpu=$(sed -n 's/.*cpu="\([^"]*\)".*/\1/p' <<<"$metaline")
	gmem=$(sed -n 's/.*memtotal_kb=\([^ ]*\).*/\1/p' <<<"$metaline")
	params=$(grep '^META params' "$m" | head -n1 | sed 's/^META params //' || true)
	modline=$(meta_host "$m" modline)
	mcmd=$(meta_host "$m" cmd)
	mrev=$(meta_host "$m" rev)
	mdate=$(meta_host "$m" date)
	mq=$(meta_host "$m" qemu)
	mh=$(meta_host "$m" hostcpu)
	mst=$(meta_host "$m" status)
	ab=$(meta_host "$m" ab)
	rev=$mrev
	gcpus=${gcpus:-1}
	# this run's own sizes, for the labels (bash scoping: label_of sees them)
	local bulk_mib cec_conns idle_conns
	bulk_mib=$(sed -n 's/.*bulk_mib=\([0-9]*\).*/\1/p' <<<"$params")
	cec_conns=$(sed -n 's/.*cec_conns=\([0-9]*\).*/\1/p' <<<"$params")
	idle_conns=$(sed -n 's/.*idle_conns=\([0-9]*\).*/\1/p' <<<"$params")
	echo "- Command: \`$mcmd\`, started $mdate"
	if [[ $clk == insn ]]; then
		echo "- Clock: QEMU's instruction clock (\`-icount shift=0,sleep=off\`," \
			"\`-seed 1\`, \`-rtc base=2026-01-01T00:00:00,clock=vm\`): guest time is guest instructions" \
			"executed, 1 ns each, idle time skipped; host load does not enter."
	else
		echo "- Clock: the host's (TCG wall clock): guest time runs with host time," \
			"whatever TCG costs and whatever else the host runs."
	fi
	echo "- Guest: Linux $gkernel, $gcpus CPU(s), $((${gmem:-0} / 1024)) MiB," \
		"QEMU TCG (no KVM): ${mq:-unknown}, -cpu max; guest CPU string: $gcpu"
	echo "- Host CPU: ${mh:-unknown} (shared with other jobs)"
	echo "- Guest parameters: $params"
	echo "- fastecho: $modline; sources at git $mrev (when the run started)"
	bv=$(sed -n 's/.*bulk_verify=\([0-9]*\).*/\1/p' <<<"$params")
	if [[ -n $bv && $bv != 1 ]]; then
		echo "- Client: \`fastecho-bench\` (tools/), on 127.0.0.1 in the same guest;" \
			"every echoed byte of ping-pong and connect-echo-close verified; bulk:" \
			"1 in ${bv} (64 KiB blocks) copied and verified, the rest" \
			"dropped unread (\`recv(MSG_TRUNC)\`, no copy), every byte counted."
	else
		echo "- Client: \`fastecho-bench\` (tools/), on 127.0.0.1 in the same guest;" \
			"every echoed byte verified."
	fi
	[[ -z $mst ]] || echo "- **The guest run ended with status $mst**: some runs" \
		"failed or are missing; see the errors column."
	echo
	echo "### Medians over rounds"
	echo
	echo "fastecho-zc is fastecho loaded with zerocopy=1. \"best user\" is the" \
		"best of the user-space servers (epoll, io_uring, splice) in each row;" \
		"sockmap, whose data never leaves the kernel either, is compared on its own."
	echo
	echo "| workload | metric | fastecho | fastecho-zc | epoll | io_uring | splice | sockmap | fastecho/best user | fastecho-zc/best user | fastecho/sockmap | fastecho-zc/sockmap | rounds | errors |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for w in pp1 pp32 pp1000 cec bulk; do
		grep -qE "^[0-9]+,$w," "$csv" || continue
		label=$(label_of "$w")
		for m in $(metrics_of "$w"); do
			metric_name "$w" "$m"
			f=$(median "$w" fastecho "$m")
			z=$(median "$w" fastecho-zc "$m")
			e=$(median "$w" epoll "$m")
			u=$(median "$w" uring "$m")
			p=$(median "$w" splice "$m")
			k=$(median "$w" sockmap "$m")
			bu=$(best "$hi" "$e" "$u" "$p")
			rw=$(rounds_of "$w" fastecho)
			[[ $rw != 0 ]] || rw=$(rounds_of "$w" fastecho-zc)
			echo "| $label | $mname | $(fmt "$f" $dec) | $(fmt "$z" $dec) |" \
				"$(fmt "$e" $dec) | $(fmt "$u" $dec) | $(fmt "$p" $dec) |" \
				"$(fmt "$k" $dec) | $(ratio "$f" "$bu") | $(ratio "$z" "$bu") |" \
				"$(ratio "$f" "$k") | $(ratio "$z" "$k") | $rw | $(errors_of "$w") |"
		done
	done
	echo
	cpu_table
	echo
	echo "### Targets"
	echo
	echo "The zero-copy path's targets (issue 13), medians of this run:" \
		"fastecho-zc's bulk against the splice server and against the best" \
		"copy-based server (fastecho, epoll, io_uring); every ping-pong and" \
		"connect-echo-close figure of fastecho-zc against fastecho's."
	echo
	echo "| target | ratio | wanted | verdict |"
	echo "|---|---:|---:|---|"
	target_row "bulk MiB/s: fastecho-zc / splice" "$(median bulk fastecho-zc mib_per_s)" \
		"$(median bulk splice mib_per_s)" 1 1.5
	target_row "bulk MiB/s: fastecho-zc / best copy-based" \
		"$(median bulk fastecho-zc mib_per_s)" \
		"$(best 1 "$(median bulk fastecho mib_per_s)" "$(median bulk epoll mib_per_s)" \
			"$(median bulk uring mib_per_s)")" 1 2.5
	for w in pp1 pp32 pp1000 cec; do
		grep -qE "^[0-9]+,$w," "$csv" || continue
		for m in msgs_per_s p50_us p99_us p999_us; do
			[[ $w == cec && $m == p999_us ]] && continue
			hi=0
			[[ $m == msgs_per_s ]] && hi=1
			target_row "$w $m: fastecho-zc / fastecho" "$(median "$w" fastecho-zc "$m")" \
				"$(median "$w" fastecho "$m")" "$hi" 1.0
		done
	done
	echo
	echo "The earlier targets, fastecho (default path) against the better of" \
		"epoll and io_uring, the copy-based user-space servers:"
	echo
	echo "| target | fastecho / best | wanted | verdict |"
	echo "|---|---:|---:|---|"
	for t in "pp1 msgs_per_s 1 3.0" "pp32 msgs_per_s 1 1.5" \
		"pp1000 msgs_per_s 1 1.2" "bulk mib_per_s 1 1.5" \
		"cec msgs_per_s 1 1.5" "pp1 p99_us 0 1.0" "pp32 p99_us 0 1.0" \
		"pp1000 p99_us 0 1.0" "cec p99_us 0 1.0"; do
		read -r tw tm thi tt <<<"$t"
		target_row "$tw $tm" "$(median "$tw" fastecho "$tm")" \
			"$(best "$thi" "$(median "$tw" epoll "$tm")" "$(median "$tw" uring "$tm")")" \
			"$thi" "$tt"
	done
	kmem=$(idle_median fastecho kernel)
	if [[ -n "$kmem" ]]; then
		awk -v k="$kmem" 'BEGIN { printf "| idle conn Slab+KernelStack %.0f B | - | <= 49152 B | %s |\n", k, k <= 49152 ? "met" : sprintf("missed by %.0f B", k - 49152) }'
	fi
	echo
	if [[ "$out" -ef "$root/bench" ]]; then
		echo "What limits the missed ones: [docs/benchmark.md](../docs/benchmark.md#what-limits-what)."
	else
		echo "What limits the missed ones: docs/benchmark.md, \"What limits what\"."
	fi
	if grep -qE '^[0-9]+,[a-z0-9]+,fastecho-ab,' "$csv"; then
		echo
		echo "### A/B: the default path against git $ab"
		echo
		echo "fastecho is this tree (git $rev) on its default path;" \
			"fastecho-ab is the module's sources at git $ab, built the same" \
			"way and loaded in the same boot with the same arguments" \
			"(\`--ab $ab\`), in the same rotated order as every server." \
			"The ratio of the medians is followed by fastecho / fastecho-ab" \
			"within each round, where both met the same state of the host," \
			"and their median."
		echo
		echo "| workload | metric | fastecho | fastecho-ab | ratio of medians | median of round ratios | round ratios |"
		echo "|---|---|---:|---:|---:|---:|---|"
		for w in pp1 pp32 pp1000 cec bulk; do
			grep -qE "^[0-9]+,$w,fastecho-ab," "$csv" || continue
			for m in $(metrics_of "$w"); do
				metric_name "$w" "$m"
				f=$(median "$w" fastecho "$m")
				a=$(median "$w" fastecho-ab "$m")
				echo "| $(label_of "$w") | $mname | $(fmt "$f" $dec) |" \
					"$(fmt "$a" $dec) | $(ratio "$f" "$a") | $(per_round "$w" "$m") |"
			done
		done
	fi
	if grep -qE '^[0-9]+,rmmod,' "$csv"; then
		echo
		echo "### rmmod under load"
		echo
		echo "How long \`rmmod fastecho\` takes with the load of the suite's" \
			"rmmod_under_fire case: 1000 idle connections, 5 clients that" \
			"never read, 20 streams and a connect flood, the clients at nice" \
			"10; a fresh module each run, $gcpus CPU(s) (the suite's guest" \
			"has 2: \`--smp 2\`). The suite only checks that it ends (it" \
			"did not hang); the goal, under 2 s, is measured here."
		echo
		awk -F, -v goal=2 "$awk_median"'
			NR == 1 { for (i = 1; i <= NF; i++) k[$i] = i; next }
			$2 == "rmmod" && $k["ok"] == 1 { v[n++] = $k["secs"] + 0; c = $k["conns"] }
			$2 == "rmmod" && $k["ok"] != 1 { bad++ }
			END {
				m = n ? median(v, n) : 0
				all = ""
				for (i = 0; i < n; i++) all = all (i ? ", " : "") sprintf("%.2f", v[i])
				print "| runs | connections open | median | worst | goal | median vs goal | worst vs goal | every run, sorted (s) |"
				print "|---:|---:|---:|---:|---:|---|---|---|"
				if (!n) { printf "| 0 | - | - | - | < %d s | not measured | not measured | %d failed |\n", goal, bad; exit }
				w = v[n - 1]
				vm = m < goal ? "met" : sprintf("missed by %.2f s", m - goal)
				vw = w < goal ? "met" : sprintf("missed by %.2f s", w - goal)
				printf "| %d | %s | %.2f s | %.2f s | < %d s | %s | %s | %s%s |\n", n, c, m, w, goal, vm, vw, all, bad ? sprintf("; %d failed", bad) : ""
			}' "$csv"
	fi
	if grep -qE '^[0-9]+,idle,' "$csv"; then
		echo
		echo "### Idle connections: memory per connection (lower is better)"
		echo
		echo "$idle_conns connections opened and held by the client (each" \
			"echoed 16 bytes once); deltas of /proc/meminfo and /proc/slabinfo" \
			"before and after (page cache dropped and empty slabs shrunk" \
			"first). Every delta includes the client's side of each" \
			"connection (its socket; its user memory shows in MemFree), the" \
			"same for every server. Slab+KernelStack is what the brief asks" \
			"for; allocations above 8 KiB (kmalloc of pages, vmalloc) and" \
			"socket page fragments are not slab and show only in the MemFree" \
			"drop. The user-space servers' buffers are user memory (RSS)." \
			"fastecho may keep spare_threads idle threads from earlier runs:" \
			"those make its numbers slightly lower, not higher."
		echo
		echo "| metric | fastecho | fastecho-zc | epoll | io_uring | splice | sockmap | fastecho/best user | fastecho/sockmap |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
		for what in kernel active memfree rss setup drain; do
			case "$what" in
			kernel) mname="Slab+KernelStack bytes/conn (meminfo)"; dec=0 ;;
			active) mname="slab objects in use+KernelStack bytes/conn (slabinfo)"; dec=0 ;;
			memfree) mname="MemFree drop bytes/conn (all memory)"; dec=0 ;;
			rss) mname="server RSS growth bytes/conn"; dec=0 ;;
			setup) mname="seconds to open and verify all (client)"; dec=1 ;;
			drain) mname="seconds until released after close (fastecho: threads reaped; others: fixed 2 s wait)"; dec=0 ;;
			esac
			f=$(idle_median fastecho "$what")
			z=$(idle_median fastecho-zc "$what")
			e=$(idle_median epoll "$what")
			u=$(idle_median uring "$what")
			p=$(idle_median splice "$what")
			k=$(idle_median sockmap "$what")
			if [[ $what == drain || $what == rss ]]; then
				re="-" rk="-"
			else
				re=$(ratio "$f" "$(best 0 "$e" "$u" "$p")") rk=$(ratio "$f" "$k")
			fi
			echo "| $mname | $(fmt "$f" $dec) | $(fmt "$z" $dec) | $(fmt "$e" $dec) |" \
				"$(fmt "$u" $dec) | $(fmt "$p" $dec) | $(fmt "$k" $dec) | $re | $rk |"
		done
		echo
		echo "Idle runs: $(rounds_of idle epoll) per server," \
			"errors $(errors_of idle)."
	fi
}

# --- results.md -----------------------------------------------------------------
md=$out/results.md
now=$(date -u '+%Y-%m-%d %H:%M UTC')
if [[ "$out" -ef "$root/bench" ]]; then
	doclink="[docs/benchmark.md](../docs/benchmark.md)"
else
	doclink="docs/benchmark.md"
fi
{
	echo "# fastecho benchmark results"
	echo
	echo "Generated by \`scripts/bench.sh\` on $now from the runs below. Do not" \
		"edit by hand: rerun it."
	echo
	echo "Two clocks, each biased its own way ($doclink, \"Two clocks\"):"
	echo
	echo "- **Instruction clock** (\`make bench CLOCK=insn\`): QEMU's" \
		"\`-icount\`, guest time = guest instructions. Repeatable from boot" \
		"to boot and blind to host load; cache and TLB misses cost nothing," \
		"and a \`rep movs\`/\`rep stos\` string copy costs one instruction per" \
		"iteration."
	echo "- **TCG wall clock** (\`make bench\`): host time. TCG flushes its" \
		"whole software TLB on every CR3 write, so a switch between two" \
		"processes costs far more than on hardware, while a switch to a" \
		"kernel thread (no CR3 write) costs nothing extra: its ratios flatter" \
		"fastecho's thread per connection against user-space servers."
	echo
	echo "Neither is hardware. Servers: fastecho (kthread per connection," \
		"kernel_recvmsg/kernel_sendmsg), fastecho-zc (the same module" \
		"reloaded with zerocopy=1: tcp_read_sock, then sendpage or" \
		"MSG_SPLICE_PAGES), \`echo-epoll\` (SO_REUSEPORT + epoll thread per" \
		"CPU), \`echo-uring\` (io_uring, multishot accept, thread per CPU)," \
		"\`echo-splice\` (epoll + splice socket -> pipe -> socket, thread per" \
		"CPU), \`echo-sockmap\` (sk_skb verdict program redirecting each" \
		"socket to its own egress; user space only accepts). Guest sysctls:" \
		"ip_local_port_range 1024-65535, tcp_max_tw_buckets 0 (no client" \
		"TIME_WAIT), somaxconn 4096. Client and servers share the guest CPUs."
	if [[ -f $out/results-insn.csv && -f $out/run-insn.txt ]]; then
		echo
		echo "## Instruction clock"
		echo
		csv=$out/results-insn.csv
		clock_section insn "$out/run-insn.txt"
		echo
		if [[ -f $out/results-insn-2.csv ]]; then
			if [[ "$out" -ef "$root/bench" ]]; then
				echo "A second boot of the same run, at the same time, against" \
					"this one: [docs/benchmark.md](../docs/benchmark.md#two-instruction-clock-runs-side-by-side)."
			else
				echo "A second boot of the same run against this one: [insn-runs.md](insn-runs.md)."
			fi
			echo
		fi
		echo "Raw rounds: [results-insn.csv](results-insn.csv) (one row per run)."
	fi
	if [[ -f $out/results.csv && -f $out/run-tcg.txt ]]; then
		echo
		echo "## TCG wall clock"
		echo
		csv=$out/results.csv
		clock_section tcg "$out/run-tcg.txt"
		echo
		echo "Raw rounds: [results.csv](results.csv) (one row per run)."
	fi
	if [[ -f "$root/bench/tried.md" ]]; then
		echo
		echo "## What was tried to make fastecho faster"
		echo
		echo "(kept by hand in bench/tried.md, copied here by bench.sh)"
		echo
		cat "$root/bench/tried.md"
	fi
	if [[ -f $out/msgs-vs-conns.png ]]; then
		echo
		echo "## Plots (TCG wall clock)"
		echo
		echo "![messages per second vs connections](msgs-vs-conns.png)"
		echo
		echo "![latency percentiles](latency.png)"
		echo
		echo "![bulk and connect-echo-close](throughput.png)"
	fi
} >"$md"

# --- Two instruction-clock runs side by side ----------------------------------------
# Into docs/benchmark.md between its markers when the results are the
# tree's own (bench/), else into DIR/insn-runs.md.
if [[ $clock == insn && -f $out/results-insn-2.csv ]]; then
	det=$work/insn-runs.md
	{
		echo "<!-- generated by scripts/bench.sh --clock insn: do not edit by hand -->"
		echo
		determinism "$out/results-insn.csv" "$out/results-insn-2.csv"
	} >"$det"
	doc=$root/docs/benchmark.md
	if [[ "$out" -ef "$root/bench" ]] && grep -q '^<!-- insn-runs begin -->$' "$doc"; then
		awk -v f="$det" '
			/^<!-- insn-runs begin -->$/ { print; while ((getline l < f) > 0) print l; skip = 1; next }
			/^<!-- insn-runs end -->$/ { skip = 0 }
			!skip' "$doc" >"$doc.tmp"
		mv "$doc.tmp" "$doc"
		echo "bench.sh: wrote the two runs side by side into $doc" >&2
	else
		cp "$det" "$out/insn-runs.md"
		echo "bench.sh: wrote the two runs side by side into $out/insn-runs.md" >&2
	fi
fi

# --- Plots (TCG wall clock only) ----------------------------------------------------
if [[ $clock == tcg ]] && command -v gnuplot >/dev/null; then
	csv=$out/results.csv
	dat=$work/plot
	mkdir -p "$dat"
	# msgs/s by connection count: conns, then one column per server of
	# $plot_servers (empty: "-")
	plot_servers="fastecho fastecho-zc epoll uring splice sockmap"
	for w in pp1 pp32 pp1000; do
		grep -qE "^[0-9]+,$w," "$csv" || continue
		printf '%s' "${w#pp}"
		for s in $plot_servers; do
			v=$(median "$w" "$s" msgs_per_s)
			printf ' %s' "${v:--}"
		done
		printf '\n'
	done >"$dat/msgs.dat"
	# latency: one row per workload/server: label p50 p99 p999
	for w in pp1 pp32 pp1000; do
		grep -qE "^[0-9]+,$w," "$csv" || continue
		for s in $plot_servers; do
			[[ -n "$(median "$w" "$s" p50_us)" ]] || continue
			printf '"%s %s" %s %s %s\n' "${w#pp}c" "$s" \
				"$(median "$w" "$s" p50_us)" "$(median "$w" "$s" p99_us)" \
				"$(median "$w" "$s" p999_us)"
		done
	done >"$dat/latency.dat"
	# bulk MiB/s and connect-echo-close conns/s: one row per server
	for s in $plot_servers; do
		b=$(median bulk "$s" mib_per_s)
		c=$(median cec "$s" msgs_per_s)
		[[ -n "$b$c" ]] || continue
		printf '"%s" %s %s\n' "$s" "${b:--}" "${c:--}"
	done >"$dat/tput.dat"
	if [[ -s "$dat/msgs.dat" ]]; then
		gnuplot -e "msgs='$dat/msgs.dat'; lat='$dat/latency.dat'; tput='$dat/tput.dat'; outdir='$out'" \
			"$root/bench/plot.gp" || echo "bench.sh: gnuplot failed" >&2
	fi
elif [[ $clock == tcg ]]; then
	echo "bench.sh: gnuplot not installed, no plots" >&2
fi

echo "bench.sh: wrote $md and the $clock rounds in $out" >&2
cat "$md"
exit "$rc"
