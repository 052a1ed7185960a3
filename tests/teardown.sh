#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# teardown.sh: rmmod under load, load/unload cycles, modprobe.
# Sourced by suite.sh, after lib.sh.

fe_case rmmod_under_fire "rmmod_under_fire: rmmod under load ends (bound ${RMMOD_LIMIT} s), nothing left, reload echoes"
fe_case cycles "cycles: 50 load/echo/unload"
fe_case modprobe "modprobe: installed with depmod, modprobe.d example options, modprobe -r"

t_rmmod_under_fire() {
	# more than the default 1024: 1000 idle + 20 + 5 + the flood
	load_ok max_conns=4096
	# Build the load up step by step (1000 connections first: with the
	# streams running they would take much longer to open on TCG). The
	# clients run at nice 10: on 2 emulated CPUs, 20 streams and a flood
	# at full priority starve rmmod itself (what is measured is how long
	# teardown takes, not how much CPU the load generators leave it).
	fc_bg_nice hold hold -c 1000 -r $W/r1 -u $W/stop -t 280
	ready_or_fail hold $W/r1 200
	fc_bg_nice noread noread -c 5 -r $W/r3 -u $W/stop -t 280
	ready_or_fail noread $W/r3 60
	fc_bg_nice stream stream -c 20 -r $W/r2 -u $W/stop -t 280
	ready_or_fail stream $W/r2 60
	fc_bg_nice flood flood -c 2 -d 200 -r $W/r4 -u $W/stop -t 220
	ready_or_fail flood $W/r4 30
	sleep 1
	a=$(stat_get active) n=$(conn_threads)
	diag "before rmmod: active $a, connection threads $n, accepted $(stat_get accepted)"
	[ "$a" -ge 1025 ] || fail "only $a active before rmmod (want >= 1025)"
	rmmod_loaded flood stream noread hold
	# Same port, at once.
	load_ok
	fc_ok echo -n 100000 -t 30
	fc_ok echo -h ::1 -n 1000 -t 30
	unload_ok
}

t_cycles() {
	load_cycles 50
	[ "$(all_fe_threads)" = 0 ] || fail "fastecho threads left after 50 cycles"
}

# Installed as `make install` does (extra/ + depmod), with the example
# /etc/modprobe.d file: modprobe applies its options, the command line
# overrides them, modprobe -r unloads.
t_modprobe() {
	rel=$(uname -r)
	mods=/lib/modules/$rel
	mkdir -p $mods/extra /etc/modprobe.d
	cp $KO $mods/extra/fastecho.ko
	depmod -a || fail "depmod failed"
	grep -q 'fastecho.ko' $mods/modules.dep || fail "fastecho not in modules.dep"
	cp /fe/examples/fastecho-modprobe.conf /etc/modprobe.d/fastecho.conf
	modprobe fastecho 2> $W/modprobe.err ||
		fail "modprobe fastecho: $(cat $W/modprobe.err)"
	P=/sys/module/fastecho/parameters
	[ "$(cat $P/idle_timeout)" = 300 ] ||
		fail "modprobe.d options not applied: idle_timeout=$(cat $P/idle_timeout)"
	fc_ok echo -n 10000 -t 20
	modprobe -r fastecho || fail "modprobe -r fastecho failed"
	is_loaded && fail "still loaded after modprobe -r"
	modprobe fastecho port=12399 2> $W/modprobe.err ||
		fail "modprobe fastecho port=12399: $(cat $W/modprobe.err)"
	[ "$(cat $P/port)" = 12399 ] || fail "port= on the command line not applied"
	fc_ok echo -p 12399 -n 10000 -t 20
	modprobe -r fastecho || fail "modprobe -r fastecho failed"
	rm -rf $mods/extra /etc/modprobe.d/fastecho.conf
}
