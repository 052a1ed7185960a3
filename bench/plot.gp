# SPDX-License-Identifier: GPL-2.0
#
# plot.gp: the benchmark plots, called by scripts/bench.sh as
#   gnuplot -e "msgs='FILE'; lat='FILE'; outdir='DIR'" bench/plot.gp
#
# msgs: rows "CONNS fastecho epoll uring" (median msgs/s, ping-pong 64 B)
# lat:  rows "\"LABEL\" p50 p99 p999" (median microseconds)

set terminal pngcairo size 900,560 font ",11"
set grid ytics
set key top right

# --- messages per second against connection count -----------------------------
set output outdir . "/msgs-vs-conns.png"
set title "Ping-pong 64 B: messages/s vs connections (median over rounds, QEMU TCG)"
set xlabel "connections"
set ylabel "messages/s"
set logscale x
set xrange [0.7:1500]
set yrange [0:*]
plot msgs using 1:2 with linespoints lw 2 pt 7 title "fastecho", \
     msgs using 1:3 with linespoints lw 2 pt 5 title "echo-epoll", \
     msgs using 1:4 with linespoints lw 2 pt 9 title "echo-uring"

# --- latency percentiles -------------------------------------------------------
set output outdir . "/latency.png"
unset logscale x
unset xrange
set title "Ping-pong 64 B latency percentiles (median over rounds, QEMU TCG)"
set xlabel "connections, server"
set ylabel "microseconds (log scale)"
set logscale y
set yrange [*:*]
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -35
set key top left
plot lat using 2:xtic(1) title "p50", \
     '' using 3 title "p99", \
     '' using 4 title "p99.9"
