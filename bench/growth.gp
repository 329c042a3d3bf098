# SPDX-License-Identifier: LGPL-2.1-or-later
# The growth curves of bench/run: time and peak RSS against the domain XML's size, log-log,
# each program's medians (bars: min to max) and its least-squares line a + b*size.
# gnuplot -e "dat='growth.dat'; png='growth.png'; ht_a=..; ht_b=..; hr_a=..; hr_b=..;
#             xt_a=..; xt_b=..; xr_a=..; xr_b=..; hi_a=..; hi_b=..; xi_a=..; xi_b=.." growth.gp
# growth.dat: size, then for vgpu-hook and for vgpu-xml: median, min, max (s), RSS (KiB),
# then the instructions of each.
set terminal pngcairo size 1800,560 font ',11'
set output png
set multiplot layout 1,3 title "vgpu-hook prepare and vgpu-xml edit against domain XML size"
set logscale xy
set grid
set key top left
set samples 400
set xrange [4:16384]
set xlabel 'domain XML (KiB)'
set format x '%g'
set format y '%g'

set ylabel 'time (ms), median, bars min..max'
plot dat using ($1/1024):($2*1e3):($3*1e3):($4*1e3) with yerrorbars pt 7 lc 1 title 'vgpu-hook prepare', \
     (ht_a + ht_b*x*1024)*1e3 with lines lc 1 dt 2 title 'fit: a + b*size', \
     dat using ($1/1024):($6*1e3):($7*1e3):($8*1e3) with yerrorbars pt 5 lc 2 title 'vgpu-xml edit', \
     (xt_a + xt_b*x*1024)*1e3 with lines lc 2 dt 2 title 'fit: a + b*size'

set ylabel 'instructions (millions, callgrind)'
plot dat using ($1/1024):($10/1e6) with points pt 7 lc 1 title 'vgpu-hook prepare', \
     (hi_a + hi_b*x*1024)/1e6 with lines lc 1 dt 2 title 'fit: a + b*size', \
     dat using ($1/1024):($11/1e6) with points pt 5 lc 2 title 'vgpu-xml edit', \
     (xi_a + xi_b*x*1024)/1e6 with lines lc 2 dt 2 title 'fit: a + b*size'

set ylabel 'peak RSS (MiB)'
plot dat using ($1/1024):($5/1024) with points pt 7 lc 1 title 'vgpu-hook prepare', \
     (hr_a + hr_b*x*1024)/1024 with lines lc 1 dt 2 title 'fit: a + b*size', \
     dat using ($1/1024):($9/1024) with points pt 5 lc 2 title 'vgpu-xml edit', \
     (xr_a + xr_b*x*1024)/1024 with lines lc 2 dt 2 title 'fit: a + b*size'
unset multiplot
