#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run-guest.sh: the guest side of `make run` (busybox ash, started by
# scripts/vm.sh --interactive --hostfwd). Brings up the e1000 NIC on QEMU's
# user network, loads fastecho with the given parameters, shows its dmesg
# lines as they come, and gives a shell. Leaving the shell (exit, Ctrl-D)
# unloads fastecho and powers the VM off.
#
#   run-guest.sh HOSTPORT [insmod parameters...]

hostport=$1
shift

insmod /fe/kmod/e1000.ko
ip link set eth0 up
# QEMU's user network: the guest is 10.0.2.15/24 (no route beyond it).
ip addr add 10.0.2.15/24 dev eth0

# From here on, kernel messages at info level show on this console.
dmesg -n 7
if ! insmod /fe/fastecho.ko "$@"; then
	echo "run-guest: insmod fastecho.ko $* failed; dmesg says:"
	dmesg | grep fastecho | tail -n 3
fi

cat <<MSG

  fastecho is loaded in this VM: $(uname -r).
  On the host:     nc 127.0.0.1 $hostport
  Here:            cat /proc/net/fastecho ; ls /sys/module/fastecho/parameters
  To stop:         exit (or Ctrl-D): rmmod fastecho, then power off.

MSG
PS1='fastecho-vm# ' /bin/sh -i
lsmod | grep -q '^fastecho ' && rmmod fastecho
sleep 0.2
exit 0
