# SPDX-License-Identifier: GPL-2.0
#
# kport-bench plots, run by tools/bench/report.py:
#   gnuplot -e "dat='F.dat'; png='F.png'; kind='latency|throughput'; \
#               pass='icount'; nblocks=N; dts='1 1 2 ...'" tools/bench/plots.gp
# The data file holds one block per mechanism (two blank lines apart), each
# starting with the mechanism's name in quotes: size, then p50 and p99 in
# microseconds (latency) or MiB/s (throughput).  dts holds a dash type per
# block: 1 (solid) for kport and memcpy, 2 (dashed) for the peers.

set terminal pngcairo size 1100,700 font ",10" noenhanced
set output png
set logscale x 2
set grid xtics ytics mxtics mytics lc rgb "#dddddd"
set key outside right top
set xtics ("8" 8, "64" 64, "256" 256, "1K" 1024, "4K" 4096, "8K" 8192, \
	   "16K" 16384, "64K" 65536, "256K" 262144, "1M" 1048576, \
	   "4M" 4194304, "16M" 16777216, "64M" 67108864)
set xlabel "message size (bytes)"
set offsets graph 0.02, graph 0.02, 0, 0

if (kind eq "latency") {
	set title sprintf("Round-trip latency by message size (pass %s): p50, bars to p99", pass)
	set ylabel "round trip (us)"
	set yrange [0:*]
	plot for [i=0:nblocks-1] dat index i using 1:2:2:3 with yerrorlines \
		title columnheader(1) lw 2 pt 7 ps 0.8 dt int(word(dts, i + 1))
} else {
	set title sprintf("One-way throughput by message size (pass %s); receiver reads every byte", pass)
	set ylabel "MiB/s"
	set logscale y 10
	plot for [i=0:nblocks-1] dat index i using 1:2 with linespoints \
		title columnheader(1) lw 2 pt 7 ps 0.8 dt int(word(dts, i + 1))
}
