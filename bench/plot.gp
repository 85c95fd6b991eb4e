# Renders docs/performance.png from bench/results.csv: tapegrad's time as a fraction of
# PyTorch's for each workload and OpenBLAS kernel. Run: gnuplot bench/plot.gp
set terminal png size 900,500
set output 'docs/performance.png'
set datafile separator ','
set title 'tapegrad time / PyTorch time (same machine, same run, same OpenBLAS kernel; lower is better)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set yrange [0:1.2]
set ylabel 'ratio'
set grid ytics
set key top left
set xtics rotate by -15
plot '< grep "^Haswell" bench/results.csv' using ($3/$4):xtic(2) title 'Haswell (AVX2) kernels' linecolor rgb '#7570b3', \
     '< grep "^AVX-512" bench/results.csv' using ($3/$4) title 'AVX-512 kernels' linecolor rgb '#d95f02', \
     '< grep "^Zen," bench/results.csv' using ($3/$4) title 'Zen (AVX2) kernels, second machine' linecolor rgb '#1b9e77', \
     '< grep "^Zen-after," bench/results.csv' using ($3/$4) title 'Zen, after the tape and memory work' linecolor rgb '#e7298a', \
     '< grep "^Zen-after4," bench/results.csv' using ($3/$4) title 'Zen, with own threads (batch split)' linecolor rgb '#66a61e', \
     1 with lines dashtype 2 linecolor rgb 'black' title 'parity'
