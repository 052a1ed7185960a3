#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-init.sh: /init of the fastecho test guest (busybox ash, PID 1).
#
# Mounts the usual file systems, brings up loopback (127.0.0.1 and ::1),
# runs /fe/cmd.sh (written by scripts/vm.sh) with its output on the second
# serial port (/dev/ttyS1, kept apart from kernel messages), then dumps the
# full kernel log on the console between markers and powers off.
#
# Console markers read by vm.sh:
#   @@FE-BEGIN@@            the command starts
#   @@FE-RC <status>@@      the command ended with <status>
#   @@FE-DMESG-BEGIN@@ ... @@FE-DMESG-END@@   full dmesg
#   @@FE-DONE@@             about to power off

/bin/busybox mkdir -p /proc /sys /dev /tmp /run /sbin /usr/bin /usr/sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
/bin/busybox mount -t tmpfs -o mode=1777 tmpfs /tmp
/bin/busybox mount -t tmpfs -o mode=0755 tmpfs /run
/bin/busybox --install -s
export PATH=/fe/bin:/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/tmp TERM=dumb

con=/dev/console
say() { echo "$*" > $con; }

# Only emergencies on the console from here on: printk would otherwise
# interleave with our output. Everything is in dmesg, dumped at the end.
dmesg -n 1

# Loopback: up gives ::1; add 127.0.0.1 in case this kernel does not.
ip link set lo up
ip addr add 127.0.0.1/8 dev lo 2>/dev/null
# Tests open thousands of sockets: let them.
ulimit -n 65536 2>/dev/null || ulimit -n 4096 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts 2>/dev/null

# The command's output port: ttyS1 in raw mode when QEMU gave us one.
out=$con
if [ -c /dev/ttyS1 ] && stty -F /dev/ttyS1 raw -echo 2>/dev/null; then
	out=/dev/ttyS1
fi

say "@@FE-BEGIN@@ $(uname -r) $(cat /proc/cmdline)"
cd /fe 2>/dev/null || cd /
case " $(cat /proc/cmdline) " in
*" fe.interactive "*)
	# vm.sh --interactive: the command owns the console, with job control.
	setsid cttyhack /bin/sh /fe/cmd.sh
	;;
*)
	/bin/sh /fe/cmd.sh > $out 2>&1 < /dev/null
	;;
esac
rc=$?
# Let the serial port drain before we talk on the console.
sleep 1
say "@@FE-RC $rc@@"

say "@@FE-DMESG-BEGIN@@"
dmesg > $con
say "@@FE-DMESG-END@@"
say "@@FE-DONE@@"
sleep 1
sync
poweroff -f
# Not reached; if it were, do not let PID 1 exit (that panics).
while :; do sleep 60; done
