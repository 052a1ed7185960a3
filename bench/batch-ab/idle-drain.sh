#!/bin/sh
# idle-drain experiment: 10000 idle conns, client exits, how many server conns stay
bin=/fe/bin
ulimit -n 65536
echo "1024 65535" >/proc/sys/net/ipv4/ip_local_port_range
echo 0 >/proc/sys/net/ipv4/tcp_max_tw_buckets
echo 4096 >/proc/sys/net/core/somaxconn
echo "max_orphans $(cat /proc/sys/net/ipv4/tcp_max_orphans) backlog $(cat /proc/sys/net/core/netdev_max_backlog)"
insmod /fe/fastecho.ko port=12345 max_conns=12000
drops() { awk '{ s += strtonum("0x" $2) } END { print s }' /proc/net/softnet_stat 2>/dev/null || awk '{print $2}' /proc/net/softnet_stat; }
tcpext() { awk -v k="$1" 'NR%2==1 { for (i=1;i<=NF;i++) n[i]=$i } NR%2==0 && $1=="TcpExt:" { for (i=1;i<=NF;i++) if (n[i]==k) print $i }' /proc/net/netstat; }
for bc in ${BCS:-2 0 2 0}; do
	echo $bc > /sys/module/fastecho/parameters/batch_conns
	d0=$(cat /proc/net/softnet_stat | awk '{print $2}' | head -1)
	a0=$(tcpext TCPAbortOnMemory)
	$bin/fastecho-bench -m idle -c 10000 -d 600 -T 900 127.0.0.1 12345 >/tmp/idle.out 2>&1 &
	cpid=$!
	while ! grep -q '^RESULT' /tmp/idle.out && kill -0 $cpid 2>/dev/null; do sleep 0.2; done
	sleep 3
	kill -USR1 $cpid; wait $cpid
	t=0
	while [ $t -lt 40 ] && [ "$(awk '$1=="active"{print $2}' /proc/net/fastecho)" != 0 ]; do sleep 1; t=$((t+1)); done
	d1=$(cat /proc/net/softnet_stat | awk '{print $2}' | head -1)
	echo "RES bc=$bc active_after=$(awk '$1=="active"{print $2}' /proc/net/fastecho) wait=$t softnet_drops=$((0x$d1 - 0x$d0)) abort_on_memory=$a0->$(tcpext TCPAbortOnMemory) $(grep RESULT /tmp/idle.out | cut -c1-80)"
	# clean: reset leftover conns by writing idle_timeout? just reload module
	rmmod fastecho; insmod /fe/fastecho.ko port=12345 max_conns=12000
done
rmmod fastecho
