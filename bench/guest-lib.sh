# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# guest-lib.sh: what the guest's benchmark scripts (guest-bench.sh,
# guest-profile.sh) share. Sourced by them in the QEMU guest (busybox ash),
# where scripts/vm.sh puts bench/*.sh in /fe/bench/.

# shellcheck disable=SC2034 # used by the scripts that source this file
bin=/fe/bin
# shellcheck disable=SC2034
host=127.0.0.1

# The port of a server: fastecho, fastecho-zc and fastecho-ab (the module,
# in either mode, or another build of it), epoll (/fe/bin/echo-epoll), uring (/fe/bin/echo-uring), splice
# (/fe/bin/echo-splice), sockmap (/fe/bin/echo-sockmap).
port_of() {
	case "$1" in
	fastecho | fastecho-zc | fastecho-ab) echo 12345 ;;
	epoll) echo 12346 ;;
	uring) echo 12347 ;;
	splice) echo 12348 ;;
	sockmap) echo 12349 ;;
	esac
}

# A field of /proc/meminfo, in kB.
meminfo() {
	awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo
}

# Many short connections: many open files, a wide port range, and no
# client-side TIME_WAIT (the client closes first; its TIME_WAIT sockets
# would fill the port range in connect-echo-close runs and make the slab
# numbers drift in idle runs).
net_setup() {
	# shellcheck disable=SC3045 # busybox ash has ulimit -n
	ulimit -n 65536
	echo "1024 65535" >/proc/sys/net/ipv4/ip_local_port_range
	echo 0 >/proc/sys/net/ipv4/tcp_max_tw_buckets
	echo 4096 >/proc/sys/net/core/somaxconn
}
