#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# leaks.sh: kmemleak, once everything else has run.
# Sourced by suite.sh, after lib.sh.

fe_case kmemleak "kmemleak: no leak reported once the module is removed"

# On a kernel with kmemleak (make check-debug): the suite starts by
# scanning and clearing what the kernel itself left (kmemleak_baseline), and
# this case, run last with the module removed, scans again: any
# unreferenced object now is ours.
kmemleak_baseline() {
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	[ -w $KMEMLEAK ] || return 0
	echo scan > $KMEMLEAK
	echo clear > $KMEMLEAK
	diag "kmemleak: baseline scanned and cleared"
}

t_kmemleak() {
	if [ ! -w $KMEMLEAK ]; then
		echo "no kmemleak in this kernel (make check-debug has it)" > $W/skip
		return 0
	fi
	is_loaded && fail "fastecho is still loaded"
	# kmemleak reports only objects older than 5 s; scan twice, as its
	# documentation advises, to drop transient false positives.
	sleep 6
	echo scan > $KMEMLEAK
	sleep 1
	echo scan > $KMEMLEAK
	n=$(grep -c '^unreferenced object' $KMEMLEAK)
	[ "$n" = 0 ] && return 0
	head -n 40 $KMEMLEAK | while IFS= read -r l; do diag "kmemleak: $l"; done
	fail "$n unreferenced objects after the suite"
}
