#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh: boot a test kernel in QEMU (TCG) with a busybox initramfs and run
# one command in the guest.
#
#   scripts/vm.sh [--kernel NAME] [--append "CMDLINE"] [--smp N] [--mem SIZE]
#                 [--timeout SEC] [--log FILE] [--kmod NAME]... [--no-build]
#                 [--no-module] [--interactive] [--hostfwd HOSTPORT:GUESTPORT]
#                 [--add FILE]... [--perf] [--icount] -- GUEST_CMD...
#
# The initramfs holds busybox, /fe/fastecho.ko built for that kernel,
# /fe/bin/* (build/guest-bin), /fe/tests/* (tests/), /fe/bench/* (bench/*.sh),
# /fe/examples/* (examples/),
# /fe/kmod/NAME.ko for each --kmod (from the kernel's /lib/modules tree),
# /fe/add/BASENAME for each --add FILE (e.g. a module built elsewhere),
# and Debian's iproute2 (ip, tc, their libraries and netem tables) under
# /fe/sbin for what busybox lacks: network namespaces, veth, netem, tbf.
# --perf adds this host's perf (6.1, linux-perf) and its libraries as
# /fe/sbin/perf, for bench/guest-profile.sh parts=zcbulk; off by default,
# it makes the initramfs some 15 MB bigger.
# --icount: QEMU's instruction clock, -icount shift=0,sleep=off: guest time
# advances 1 ns per guest instruction executed and jumps over idle time, so
# timing in the guest no longer depends on the host or its load (cache and
# TLB misses cost nothing). Also -seed 1 (the guest's RDRAND from a fixed
# seed) and a real-time clock that starts at 2026-01-01 00:00 UTC and runs
# with guest time (-rtc base=...,clock=vm), so that two boots with the same
# command do the same work. Single-threaded TCG (icount rules out MTTCG), about 5-10 times
# slower in host time than a guest without it.
# The guest's /init is scripts/guest-init.sh.
#
# --interactive: the guest console is this terminal (and still logged), and
# GUEST_CMD runs on it with job control; --timeout 0 means no time limit.
# --hostfwd: an e1000 NIC on QEMU user networking, with host TCP port
# 127.0.0.1:HOSTPORT forwarded to GUESTPORT in the guest; the guest gets
# /fe/kmod/e1000.ko and configures it (see scripts/run-guest.sh).
#
# GUEST_CMD's output (stdout and stderr) comes back on a second serial port
# and is printed here as it arrives. The full console goes to the log
# (default build/vm/KERNEL-XXXXXX/console.log, linked from
# build/vm-KERNEL.log). Exit status: GUEST_CMD's, or
#   124  the guest did not finish within --timeout (QEMU killed)
#   125  a kernel splat (Oops, BUG, WARNING, lockdep, ...) is in the guest log
#   126  the guest died before GUEST_CMD finished (panic, no status marker)
set -euo pipefail

# The whole script is one block: bash reads it completely before running
# it, so an edit to this file while a (long) run goes on cannot break it.
{

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

kernel=6.1
append=""
smp=2
mem=2G
timeout_s=600
log=""
build=1
want_module=1
kmods=()
adds=()
interactive=0
hostfwd=""
perf=0
icount=()

usage() {
	sed -n '4,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while (($#)); do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--kmod) kmods+=("$2"); shift 2 ;;
	--add) adds+=("$2"); shift 2 ;;
	--no-build) build=0; shift ;;
	--no-module) want_module=0; shift ;;
	--interactive) interactive=1; shift ;;
	--hostfwd) hostfwd=$2; kmods+=(e1000); shift 2 ;;
	--perf) perf=1; shift ;;
	--icount) icount=(-icount "shift=0,sleep=off" -seed 1 -rtc "base=2026-01-01T00:00:00,clock=vm"); shift ;;
	--) shift; break ;;
	-h | --help) usage ;;
	*) echo "vm.sh: unknown option $1" >&2; usage ;;
	esac
done
(($#)) || { echo "vm.sh: no guest command" >&2; usage; }

envlines=$("$root/scripts/kernel.sh" env "$kernel")
eval "$envlines"
[[ -r "$FE_VMLINUZ" ]] || {
	echo "vm.sh: cannot read $FE_VMLINUZ (see scripts/setup.sh)" >&2
	exit 1
}

# Every run has its own directory: several vm.sh may run at once.
mkdir -p "$root/build/vm"
work=$(mktemp -d "$root/build/vm/$kernel-XXXXXX")
# Forget runs older than half a day (never a run that may still go on).
find "$root/build/vm" -mindepth 1 -maxdepth 1 -type d -mmin +720 \
	-exec rm -rf {} + 2>/dev/null || true
if [[ -z "$log" ]]; then
	log=$work/console.log
	# build/vm-KERNEL.log: the latest run's console
	ln -sfn "vm/$(basename "$work")/console.log" "$root/build/vm-$kernel.log"
fi
mkdir -p "$(dirname "$log")"

# --- Build what goes into the guest -----------------------------------------
ko=""
if ((build)); then
	"$root/scripts/build-guest.sh" || exit 1
	if ((want_module)); then
		ko=$("$root/scripts/build-module.sh" "$kernel") || exit 1
	else
		echo "vm.sh: --no-module: the guest gets no fastecho.ko" >&2
	fi
elif ((want_module)) && [[ -f "$root/build/k-$kernel/fastecho.ko" ]]; then
	ko=$root/build/k-$kernel/fastecho.ko
fi

# --- Initramfs -----------------------------------------------------------------
stage=$work/root
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,fe/bin,fe/tests,fe/bench,fe/kmod,fe/add}
cp /bin/busybox "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
install -m 0755 "$root/scripts/guest-init.sh" "$stage/init"
if [[ -f "$root/scripts/run-guest.sh" ]]; then
	install -m 0755 "$root/scripts/run-guest.sh" "$stage/fe/run-guest.sh"
fi
[[ -n "$ko" ]] && cp "$ko" "$stage/fe/fastecho.ko"
for f in "${adds[@]}"; do
	cp "$f" "$stage/fe/add/" || exit 1
done
shopt -s nullglob
for f in "$root"/build/guest-bin/*; do cp "$f" "$stage/fe/bin/"; done
for f in "$root"/tests/*; do [[ -f "$f" ]] && cp "$f" "$stage/fe/tests/"; done
for f in "$root"/bench/*.sh; do cp "$f" "$stage/fe/bench/"; done
mkdir -p "$stage/fe/examples"
for f in "$root"/examples/*; do cp "$f" "$stage/fe/examples/"; done
shopt -u nullglob
# iproute2 from this host, with the shared libraries it links and the
# dynamic loader; tc's delay distribution tables where Debian keeps them.
guest_tools=(/sbin/ip /sbin/tc)
if ((perf)); then
	[[ -x /usr/bin/perf ]] || { echo "vm.sh: /usr/bin/perf missing (apt-get install linux-perf)" >&2; exit 1; }
	guest_tools+=(/usr/bin/perf)
fi
for b in "${guest_tools[@]}"; do
	[[ -x $b ]] || { echo "vm.sh: $b missing (apt-get install iproute2)" >&2; exit 1; }
	mkdir -p "$stage/fe/sbin"
	cp -L "$b" "$stage/fe/sbin/"
	for lib in $(ldd "$b" | grep -o '/[^ ]*'); do
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
done
for d in /usr/lib/x86_64-linux-gnu/tc /usr/lib/tc; do
	[[ -d $d ]] || continue
	mkdir -p "$stage$d"
	cp -L "$d"/*.dist "$stage$d/" 2>/dev/null || true
done
for m in "${kmods[@]}"; do
	# NAME, NAME.ko or a path under the module tree; .ko.xz/.ko.zst unpacked
	# here because busybox insmod does not decompress.
	src=$(find "$FE_MODDIR" -type f \( -name "$m" -o -name "$m.ko" -o -name "$m.ko.xz" \
		-o -name "$m.ko.zst" -o -name "$m.ko.gz" \) | head -n1)
	[[ -n "$src" ]] || { echo "vm.sh: module $m not in $FE_MODDIR" >&2; exit 1; }
	base=$(basename "$src")
	base=${base%.xz}; base=${base%.zst}; base=${base%.gz}
	case "$src" in
	*.xz) xz -dc "$src" >"$stage/fe/kmod/$base" ;;
	*.zst) zstd -qdc "$src" >"$stage/fe/kmod/$base" ;;
	*.gz) gzip -dc "$src" >"$stage/fe/kmod/$base" ;;
	*) cp "$src" "$stage/fe/kmod/$base" ;;
	esac
done

# The command, each argument single-quoted for ash.
{
	printf '# generated by vm.sh\n'
	for a in "$@"; do
		printf "'%s' " "$(printf '%s' "$a" | sed "s/'/'\\\\''/g")"
	done
	printf '\n'
} >"$stage/fe/cmd.sh"

initrd=$work/initramfs.cpio.gz
(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --quiet | gzip -1) >"$initrd"

# Kernel reports that fail a run.
splat_re='Oops|BUG:|WARNING:|Kernel panic|general protection|KASAN|UBSAN'
splat_re+='|possible circular locking|possible recursive locking'
splat_re+='|inconsistent lock state|suspicious RCU'
splat_re+='|sleeping function called from invalid context|blocked for more than'
splat_re+='|soft lockup|hard LOCKUP|refcount_t|new suspected memory leak|unreferenced object'
splat_re+='|list_add corruption|list_del corruption'

# --- Boot -----------------------------------------------------------------------
out=$work/guest-out
: >"$out"
: >"$log"
# no5lvl on the debug kernel: -cpu max offers LA57, and with 5-level paging
# 6.1's KASAN reported a wild-memory-access in an interrupt during
# identify_cpu() (a direct-map address, ff11...) in 2 of 24 boots; with
# 4-level paging, in none of 24 (docs/testing.md, "Boot retry").
[[ $kernel != debug ]] || append="no5lvl${append:+ $append}"
# no_timer_check: the kernel's IO-APIC timer check counts ticks against a
# delay loop, which TCG on a loaded host can miss ("MP-BIOS bug: 8254
# timer not connected to IO-APIC"); a debug kernel boot was seen to hang
# right after it. KVM guests skip the check the same way.
cmdline="console=ttyS0 panic=-1 loglevel=4 log_buf_len=4M no_timer_check rdinit=/init $append"
nic=(-nic none)
if [[ -n "$hostfwd" ]]; then
	nic=(-nic "user,model=e1000,hostfwd=tcp:127.0.0.1:${hostfwd%%:*}-:${hostfwd##*:}")
fi
console=(-serial "file:$log")
qemu_in=/dev/null
if ((interactive)); then
	cmdline+=" fe.interactive"
	console=(-chardev "stdio,id=con0,mux=on,signal=off,logfile=$log"
		-serial chardev:con0)
	qemu_in=/dev/stdin
fi

echo "vm.sh: booting $FE_KVER ($kernel) smp=$smp mem=$mem timeout=${timeout_s}s" \
	"${icount[*]:+clock=icount }append='$append'; console log: $log" >&2
start=$(date +%s)
qemu_rc=0
boot_hung=0
boots=1
set +e
if ((interactive)); then
	# The console is this terminal: QEMU in the foreground, no output port.
	timeout --foreground --kill-after=10 "$timeout_s" qemu-system-x86_64 \
		-machine pc -cpu max -smp "$smp" -m "$mem" "${icount[@]}" \
		-nographic -no-reboot -monitor none "${nic[@]}" \
		"${console[@]}" -serial "file:$out" \
		-kernel "$FE_VMLINUZ" -initrd "$initrd" -append "$cmdline" \
		<"$qemu_in" 2>"$work/qemu.stderr"
	qemu_rc=$?
	set -e
	elapsed=$(($(date +%s) - start))
else
	# A report in the kernel's own boot, before GUEST_CMD starts (so
	# before anything of ours is loaded), gets another boot: seen on the
	# debug kernel under TCG (KASAN in an interrupt during identify_cpu).
	# So does a boot that has not reached GUEST_CMD after FE_BOOT_LIMIT
	# seconds (default 300; a boot takes 3-30 s): seen on the debug
	# kernel, QEMU idle and not a line on the console. Both were seen in
	# one run (the host loaded by other guests), so up to FE_BOOTS boots
	# (default 3) are tried. Each failed console is kept (.bootN); a last
	# such boot fails the run like any other. The elapsed time reported at the
	# end covers every boot.
	boot_limit=${FE_BOOT_LIMIT:-300}
	max_boots=${FE_BOOTS:-3}
	for ((attempt = 1; attempt <= max_boots; attempt++)); do
		boots=$attempt
		boot_start=$(date +%s)
		: >"$out"
		: >"$log"
		nice timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
			-machine pc -cpu max -smp "$smp" -m "$mem" "${icount[@]}" \
			-nographic -no-reboot -monitor none "${nic[@]}" \
			"${console[@]}" -serial "file:$out" \
			-kernel "$FE_VMLINUZ" -initrd "$initrd" -append "$cmdline" \
			</dev/null >"$work/qemu.stderr" 2>&1 &
		qpid=$!
		boot_hung=0
		while kill -0 $qpid 2>/dev/null && ! grep -q '@@FE-BEGIN@@' "$log"; do
			if (($(date +%s) - boot_start > boot_limit)); then
				boot_hung=1
				break
			fi
			sleep 0.5
		done
		boot_splat=$(sed '/@@FE-BEGIN@@/,$d' "$log" | tr -d '\r' |
			grep -E "$splat_re" | head -n 3 || true)
		((boot_hung)) && boot_splat="no guest command after ${boot_limit}s of boot"
		if [[ -z "$boot_splat" || $attempt == "$max_boots" ]]; then
			if ((boot_hung)); then
				echo "vm.sh: $boot_splat, again: giving up" >&2
				kill $qpid 2>/dev/null
			fi
			break
		fi
		echo "vm.sh: kernel report or hang during boot, before the command" \
			"started; booting once more (that console: $log.boot$attempt):" >&2
		printf '%s\n' "$boot_splat" | sed "s/^/vm.sh: boot $attempt: /" >&2
		cp "$log" "$log.boot$attempt"
		kill $qpid 2>/dev/null
		wait $qpid 2>/dev/null
	done
	# Print the guest command's output as it arrives.
	tail -n +1 -s 0.5 -f --pid=$qpid "$out" &
	tpid=$!
	wait $qpid
	qemu_rc=$?
	wait $tpid 2>/dev/null
	set -e
	elapsed=$(($(date +%s) - start))
fi

# --- Verdict ----------------------------------------------------------------------
status=0
reason=""
rc=$(sed -n 's/.*@@FE-RC \([0-9]*\)@@.*/\1/p' "$log" | tail -n1)
if ((qemu_rc == 124 || qemu_rc == 137)); then
	status=124
	reason="timeout after ${timeout_s}s (QEMU killed)"
elif ((boot_hung)); then
	status=124
	reason="two boots hung before the command started (QEMU killed)"
elif [[ -z "$rc" ]]; then
	status=126
	reason="guest died before the command finished (qemu exit $qemu_rc)"
	[[ -s "$work/qemu.stderr" ]] && reason+=": $(head -c 300 "$work/qemu.stderr")"
else
	status=$rc
fi
grep -q '@@FE-DMESG-END@@' "$log" || reason+="${reason:+; }dmesg dump incomplete"

splats=$(tr -d '\r' <"$log" | grep -E "$splat_re" | sort -u || true)
if [[ -n "$splats" ]]; then
	echo "vm.sh: KERNEL SPLAT in guest log ($log):" >&2
	printf '%s\n' "$splats" | head -n 20 | sed 's/^/vm.sh:   /' >&2
	((status == 0)) && status=125
	reason+="${reason:+; }kernel splat"
fi

# The initramfs and its tree are big and rebuilt every time.
rm -rf "$stage" "$initrd"

boots_note=""
((boots == 1)) || boots_note=" (two boots)"
echo "vm.sh: guest finished in ${elapsed}s${boots_note}, command status ${rc:-none}," \
	"vm.sh status $status${reason:+ ($reason)}" >&2
exit "$status"
}
