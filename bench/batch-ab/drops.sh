#!/bin/sh
# softnet drops and results: idle close burst and pp1000, batch_conns 2/0, epoll; backlog 1000 vs 20000
bin=/fe/bin
ulimit -n 65536
echo "1024 65535" >/proc/sys/net/ipv4/ip_local_port_range
echo 0 >/proc/sys/net/ipv4/tcp_max_tw_buckets
echo 4096 >/proc/sys/net/core/somaxconn
insmod /fe/fastecho.ko port=12345 max_conns=12000
$bin/echo-epoll 12346 & epid=$!
sleep 1
drop() { awk '{ print $2 }' /proc/net/softnet_stat | head -1; }
act() { awk '$1=="active"{print $2}' /proc/net/fastecho; }
for bl in 1000 20000 1000 20000; do
	echo $bl > /proc/sys/net/core/netdev_max_backlog
	for bc in 2 0; do
		echo $bc > /sys/module/fastecho/parameters/batch_conns
		d0=$(drop)
		$bin/fastecho-bench -m idle -c 10000 -d 600 -T 900 127.0.0.1 12345 >/tmp/idle.out 2>&1 &
		cpid=$!
		while ! grep -q '^RESULT' /tmp/idle.out && kill -0 $cpid 2>/dev/null; do sleep 0.2; done
		d1=$(drop)
		kill -USR1 $cpid; wait $cpid
		t=0
		while [ $t -lt 60 ] && [ "$(act)" != 0 ]; do sleep 1; t=$((t+1)); done
		echo "RES idle backlog=$bl bc=$bc setup_drops=$d0->$d1 close_drops=$d1->$(drop) active_after=$(act) wait=$t"
		[ "$(act)" = 0 ] || { rmmod fastecho; insmod /fe/fastecho.ko port=12345 max_conns=12000 batch_conns=$bc; }
		for srv in fastecho epoll; do
			port=12345; [ $srv = epoll ] && port=12346
			d0=$(drop)
			r=$($bin/fastecho-bench -m pingpong -c 1000 -s 64 -d 5 -w 1 -T 300 127.0.0.1 $port 2>/dev/null | grep ^RESULT)
			echo "RES pp1000 backlog=$bl bc=$bc srv=$srv drops=$d0->$(drop) $(echo "$r" | grep -o 'msgs_per_s=[0-9.]*\|p99_us=[0-9]*\|errors=[0-9]*' | tr '\n' ' ')"
			[ $srv = epoll ] && [ $bc = 0 ] && continue
		done
	done
done
kill $epid; wait
rmmod fastecho
