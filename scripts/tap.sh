# SPDX-License-Identifier: GPL-2.0
#
# tap.sh: TAP lines for the host-side checks (scripts/lint.sh,
# tests/host/*.sh). Sourced by bash scripts:
#   tap STATUS NAME [OUTPUT-FILE]   one case: "ok N - NAME", or "not ok"
#                                   with OUTPUT-FILE as comments
#   tap_end                         "1..N", "N passed, N failed", and the
#                                   status: 0 when none failed
# shellcheck shell=bash

tap_n=0
tap_failed=0

tap() {
	tap_n=$((tap_n + 1))
	if [[ $1 == 0 ]]; then
		echo "ok $tap_n - $2"
	else
		tap_failed=$((tap_failed + 1))
		echo "not ok $tap_n - $2"
		[[ -z ${3:-} ]] || sed 's/^/# /' "$3"
	fi
}

tap_end() {
	echo "1..$tap_n"
	echo "$((tap_n - tap_failed)) passed, $tap_failed failed"
	((tap_failed == 0))
}
