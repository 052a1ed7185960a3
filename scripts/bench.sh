#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: benchmark fastecho (default and zerocopy=1) against user-space
# echo servers (epoll, io_uring, splice) and a BPF sockmap echo in one QEMU
# boot, and write bench/results.{csv,md} and plots.
#
#   scripts/bench.sh [options]          (make bench BENCH_ARGS="...")
#
#   --smp N          guest CPUs [1]
#   --mem SIZE       guest memory [4G: 10 000 fastecho threads need ~1 GiB]
#   --kernel NAME    guest kernel (see scripts/kernel.sh) [6.1]
#   --rounds N       interleaved rounds, >= 1 [3]
#   --dur SEC        measured seconds per ping-pong / cec run [5]
#   --warm SEC       warm-up seconds before each of those [1]
#   --bulk-mib N     MiB each way in the bulk run [256]
#   --idle-conns N   connections in the idle memory run [10000]
#   --cec-conns N    connect-echo-close cycles in flight [4]
#   --workloads "…"  subset of: idle pp1 pp32 pp1000 bulk cec rmmod [all]
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
#   --quick          a smoke run: 1 round, 2 s runs, 32 MiB bulk, 1000 idle
#   --from FILE      do not boot: re-read a saved guest output (guest.out)
#
# The guest part is bench/guest-bench.sh. In every round each workload runs
# against every server (fastecho, fastecho-zc, echo-epoll, echo-uring,
# echo-splice, echo-sockmap), in an order rotated per round; the medians
# over rounds are computed here. rmmod (how long rmmod takes under the load
# of the suite's rmmod_under_fire case) runs after the rounds,
# --rmmod-runs times; its median and worst are reported. Raw guest output and
# the console log stay in build/bench/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmdline="scripts/bench.sh${*:+ $*}"

smp=1
mem=4G
kernel=6.1
rounds=3
dur=5
warm=1
bulk_mib=256
idle_conns=10000
cec_conns=4
workloads="idle pp1 pp32 pp1000 bulk cec rmmod"
rmmod_runs=5
servers="fastecho fastecho-zc epoll uring splice sockmap"
modargs=""
ab_rev=""
timeout_s=""
out=$root/bench
from=""

usage() {
	sed -n '4,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
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
	--smp) need_num "$1" "$2"; smp=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--rounds) need_num "$1" "$2"; rounds=$2; shift 2 ;;
	--dur) need_num "$1" "$2" dec; dur=$2; shift 2 ;;
	--warm) need_num "$1" "$2" dec; warm=$2; shift 2 ;;
	--bulk-mib) need_num "$1" "$2"; bulk_mib=$2; shift 2 ;;
	--idle-conns) need_num "$1" "$2"; idle_conns=$2; shift 2 ;;
	--cec-conns) need_num "$1" "$2"; cec_conns=$2; shift 2 ;;
	--workloads) workloads=$2; shift 2 ;;
	--rmmod-runs) need_num "$1" "$2"; rmmod_runs=$2; shift 2 ;;
	--servers) servers=$2; shift 2 ;;
	--modargs) modargs=$2; shift 2 ;;
	--ab) ab_rev=$2; shift 2 ;;
	--timeout) need_num "$1" "$2"; timeout_s=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--from) from=$2; shift 2 ;;
	--quick)
		rounds=1 dur=2 warm=0 bulk_mib=32 idle_conns=1000 rmmod_runs=1
		shift
		;;
	-h | --help) usage ;;
	*) echo "bench.sh: unknown option $1" >&2; usage ;;
	esac
done
((rounds >= 1)) || { echo "bench.sh: --rounds must be >= 1" >&2; exit 2; }
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

work=$root/build/bench
mkdir -p "$work" "$out"

# which module was measured: the sources are built at run time
rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git -C "$root" status --porcelain -- Kbuild '*.c' '*.h' 2>/dev/null |
	grep -v ' tools/\| tests/' || true)" ]]; then
	rev+=" with uncommitted module changes"
fi
guest_out=$work/guest.out

# --- Run the guest --------------------------------------------------------------
if [[ -z "$from" ]]; then
	# What the build, the servers (liburing) and the plots need, as make
	# run does.
	"$root/scripts/setup.sh" >&2
	# Generous limit: every run's own limit is enforced inside the guest;
	# this only catches a guest that hangs. TCG is slow, so be kind.
	if [[ -z "$timeout_s" ]]; then
		per_server=$(awk -v d="$dur" -v w="$warm" -v b="$bulk_mib" -v i="$idle_conns" \
			'BEGIN { printf "%d", 4 * (d + w + 40) + b / 2 + i / 50 + 60 }')
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

	# what was run, kept with the output so --from can show it again
	{
		echo "HOST cmd=$cmdline"
		echo "HOST rev=$rev"
		[[ -z $ab_rev ]] || echo "HOST ab=$(git -C "$root" rev-parse --short "$ab_rev")"
		echo "HOST date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	} >"$guest_out"
	echo "bench.sh: $cmdline" >&2
	echo "bench.sh: QEMU smp=$smp mem=$mem timeout=${timeout_s}s; progress below," \
		"console log in $work/console.log" >&2
	rc=0
	"$priv/scripts/vm.sh" --kernel "$kernel" --smp "$smp" --mem "$mem" \
		--timeout "$timeout_s" --log "$work/console.log" "${add[@]}" -- \
		sh /fe/bench/guest-bench.sh rounds="$rounds" dur="$dur" warm="$warm" \
		bulk_mib="$bulk_mib" idle_conns="$idle_conns" cec_conns="$cec_conns" \
		workloads="$workloads" rmmod_runs="$rmmod_runs" servers="$servers" modargs="$modargs" |
		sed -u 's/\r//g' | tee -a "$guest_out" | grep --line-buffered -v '^CSV ' >&2 ||
		rc=${PIPESTATUS[0]}
	if ((rc != 0)); then
		echo "bench.sh: the guest run ended with status $rc (see above);" \
			"writing what was measured" >&2
	fi
else
	rc=0
	tr -d '\r' <"$from" >"$guest_out.tmp"
	mv "$guest_out.tmp" "$guest_out"
fi

grep -q '^CSV ' "$guest_out" || {
	echo "bench.sh: no results in $guest_out" >&2
	exit 1
}

# --- Raw rounds: results.csv --------------------------------------------------
cols="round workload server conns msgs_per_s mib_per_s p50_us p90_us p99_us"
cols+=" p999_us max_us secs errors ok setup_s memfree_kb slab_kb kstack_kb"
cols+=" pagetables_kb slab_active_kb server_rss_kb client_rss_kb kthreads drain_s"
csv=$out/results.csv
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
	}' "$guest_out" >"$csv"

# --- Medians ----------------------------------------------------------------------
# median WORKLOAD SERVER COLUMN: the median over rounds, empty if none.
median() {
	awk -F, -v w="$1" -v s="$2" -v col="$3" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) k = i; next }
		$2 == w && $3 == s && $k != "" { v[n++] = $k + 0 }
		END {
			if (!n) exit
			# insertion sort: a handful of rounds
			for (i = 1; i < n; i++)
				for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
					t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
				}
			m = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
			print m
		}' "$csv"
}

# Per-connection memory of an idle row: expression over columns, median.
idle_median() {
	awk -F, -v s="$1" -v what="$2" '
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
			for (i = 1; i < n; i++)
				for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
					t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
				}
			print n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
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

meta=$(grep '^META kernel=' "$guest_out" | head -n1 || true)
gkernel=$(sed -n 's/.*kernel=\([^ ]*\).*/\1/p' <<<"$meta")
gcpus=$(sed -n 's/.*cpus=\([^ ]*\).*/\1/p' <<<"$meta")
gcpu=$(sed -n 's/.*cpu="\([^"]*\)".*/\1/p' <<<"$meta")
gmem=$(sed -n 's/.*memtotal_kb=\([^ ]*\).*/\1/p' <<<"$meta")
params=$(grep '^META params' "$guest_out" | head -n1 | sed 's/^META params //' || true)
modline=$(grep 'fastecho: listening' "$guest_out" | head -n1 | sed 's/^\[[^]]*\] //' || true)
now=$(date -u '+%Y-%m-%d %H:%M UTC')
ab=""
# a saved run (--from) keeps its own command, revision and date
if grep -q '^HOST cmd=' "$guest_out"; then
	cmdline=$(sed -n 's/^HOST cmd=//p' "$guest_out" | head -n1)
	rev=$(sed -n 's/^HOST rev=//p' "$guest_out" | head -n1)
	ab=$(sed -n 's/^HOST ab=//p' "$guest_out" | head -n1)
	now=$(sed -n 's/^HOST date=//p' "$guest_out" | head -n1)
fi
qemu=$(qemu-system-x86_64 --version 2>/dev/null | head -n1 || echo unknown)
hostcpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

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
	awk -F, -v w="$1" -v col="$2" '
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
			for (i = 1; i < n; i++)
				for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
					t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
				}
			printf "%.2f | %s\n", n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, all
		}' "$csv"
}

# --- results.md -----------------------------------------------------------------
md=$out/results.md
{
	echo "# fastecho benchmark results"
	echo
	echo "Generated by \`scripts/bench.sh\` on $now. Do not edit by hand: rerun it."
	echo
	echo "- Command: \`$cmdline\`"
	echo "- Guest: Linux $gkernel, $gcpus CPU(s), $((${gmem:-0} / 1024)) MiB," \
		"QEMU TCG (no KVM): $qemu, -cpu max; guest CPU string: $gcpu"
	echo "- Host CPU: $hostcpu (shared with other jobs)"
	echo "- Guest parameters: $params"
	echo "- fastecho: $modline; sources at git $rev (when the run started)"
	echo "- Client: \`fastecho-bench\` (tools/), on 127.0.0.1 in the same guest;" \
		"every echoed byte verified."
	echo "- Servers: fastecho (kthread per connection, kernel_recvmsg/kernel_sendmsg)," \
		"fastecho-zc (the same module reloaded with zerocopy=1: tcp_read_sock," \
		"then sendpage or MSG_SPLICE_PAGES), \`echo-epoll\`" \
		"(SO_REUSEPORT + epoll thread per CPU), \`echo-uring\`" \
		"(io_uring, multishot accept, thread per CPU), \`echo-splice\`" \
		"(epoll + splice socket -> pipe -> socket, thread per CPU)," \
		"\`echo-sockmap\` (sk_skb verdict program redirecting each socket to" \
		"its own egress; user space only accepts)."
	echo "- Guest sysctls: ip_local_port_range 1024-65535, tcp_max_tw_buckets 0" \
		"(no client TIME_WAIT), somaxconn 4096."
	echo
	echo "Everything runs under TCG emulation on a shared host: absolute numbers" \
		"are far below real hardware; only the ratios between servers measured" \
		"in the same boot mean something. Client and servers share the guest CPUs."
	echo
	echo "## Medians over rounds"
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
	echo "## Targets"
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
		echo "## A/B: the default path against git $ab"
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
		echo "## rmmod under load"
		echo
		echo "How long \`rmmod fastecho\` takes with the load of the suite's" \
			"rmmod_under_fire case: 1000 idle connections, 5 clients that" \
			"never read, 20 streams and a connect flood, the clients at nice" \
			"10; a fresh module each run, $gcpus CPU(s) (the suite's guest" \
			"has 2: \`--smp 2\`). The suite only checks that it ends (it" \
			"did not hang); the goal, under 2 s, is measured here."
		echo
		awk -F, -v goal=2 '
			NR == 1 { for (i = 1; i <= NF; i++) k[$i] = i; next }
			$2 == "rmmod" && $k["ok"] == 1 { v[n++] = $k["secs"] + 0; c = $k["conns"] }
			$2 == "rmmod" && $k["ok"] != 1 { bad++ }
			END {
				for (i = 1; i < n; i++)
					for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
						t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
					}
				all = ""
				for (i = 0; i < n; i++) all = all (i ? ", " : "") sprintf("%.2f", v[i])
				print "| runs | connections open | median | worst | goal | median vs goal | worst vs goal | every run, sorted (s) |"
				print "|---:|---:|---:|---:|---:|---|---|---|"
				if (!n) { printf "| 0 | - | - | - | < %d s | not measured | not measured | %d failed |\n", goal, bad; exit }
				m = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
				w = v[n - 1]
				vm = m < goal ? "met" : sprintf("missed by %.2f s", m - goal)
				vw = w < goal ? "met" : sprintf("missed by %.2f s", w - goal)
				printf "| %d | %s | %.2f s | %.2f s | < %d s | %s | %s | %s%s |\n", n, c, m, w, goal, vm, vw, all, bad ? sprintf("; %d failed", bad) : ""
			}' "$csv"
	fi
	if grep -qE '^[0-9]+,idle,' "$csv"; then
		echo
		echo "## Idle connections: memory per connection (lower is better)"
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
	if [[ -f "$root/bench/tried.md" ]]; then
		echo
		echo "## What was tried to make fastecho faster"
		echo
		echo "(kept by hand in bench/tried.md, copied here by bench.sh)"
		echo
		cat "$root/bench/tried.md"
	fi
	echo
	echo "## Plots"
	echo
	echo "![messages per second vs connections](msgs-vs-conns.png)"
	echo
	echo "![latency percentiles](latency.png)"
	echo
	echo "![bulk and connect-echo-close](throughput.png)"
	echo
	echo "Raw rounds: [results.csv](results.csv) (one row per run)."
	if ((rc != 0)); then
		echo
		echo "**The guest run ended with status $rc**: some runs failed or are" \
			"missing; see the errors column and build/bench/guest.out."
	fi
} >"$md"

# --- Plots ------------------------------------------------------------------------
if command -v gnuplot >/dev/null; then
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
else
	echo "bench.sh: gnuplot not installed, no plots" >&2
fi

echo "bench.sh: wrote $csv, $md and plots in $out" >&2
cat "$md"
exit "$rc"
