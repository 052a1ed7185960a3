# SPDX-License-Identifier: GPL-2.0
#
# plot.gp: the benchmark plots, called by scripts/bench.sh as
#   gnuplot -e "msgs='FILE'; lat='FILE'; tput='FILE'; outdir='DIR'" bench/plot.gp
#
# msgs: rows "CONNS fastecho fastecho-zc epoll uring splice sockmap"
#       (median msgs/s, ping-pong 64 B; "-" where a server did not run)
# lat:  rows "\"LABEL\" p50 p99 p999" (median microseconds)
# tput: rows "\"SERVER\" bulk_MiB/s cec_conns/s" (medians)

set terminal pngcairo size 1000,600 font ",11"
set grid ytics
set key top right
set datafile missing "-"

# --- messages per second against connection count -----------------------------
set output outdir . "/msgs-vs-conns.png"
set title "Ping-pong 64 B: messages/s vs connections (median over rounds, QEMU TCG)"
set xlabel "connections"
set ylabel "messages/s"
set logscale x
set xrange [0.7:1500]
set yrange [0:*]
plot msgs using 1:2 with linespoints lw 2 pt 7 title "fastecho", \
     msgs using 1:3 with linespoints lw 2 pt 13 title "fastecho zerocopy=1", \
     msgs using 1:4 with linespoints lw 2 pt 5 title "echo-epoll", \
     msgs using 1:5 with linespoints lw 2 pt 9 title "echo-uring", \
     msgs using 1:6 with linespoints lw 2 pt 11 title "echo-splice", \
     msgs using 1:7 with linespoints lw 2 pt 3 title "echo-sockmap (BPF)"

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

# --- bulk and connect-echo-close, per server -----------------------------------
set output outdir . "/throughput.png"
unset logscale y
set yrange [0:*]
set xlabel "server"
set key off
set multiplot layout 1,2 title "Bulk and connect-echo-close (median over rounds, QEMU TCG)"
set title "bulk, 1 connection: MiB/s"
set ylabel "MiB/s"
plot tput using 2:xtic(1) title "bulk"
set title "connect-echo-close 64 B: connections/s"
set ylabel "connections/s"
plot tput using 3:xtic(1) title "cec"
unset multiplot
