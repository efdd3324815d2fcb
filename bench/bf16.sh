#!/usr/bin/env bash
# bf16.sh BUILDDIR - the f32 vs bf16 mixed-precision step panel (issue #20;
# `make bench-bf16`).  Each round runs bench/bench_step --bf16 twice: as
# oneDNN dispatches on this CPU, and with ONEDNN_MAX_CPU_ISA=
# AVX512_CORE_BF16, which keeps brgemm's avx512_bf16 kernels but not AMX
# (on a CPU without AMX both runs are the same), then the PyTorch peer (f32,
# the same model: bench/peer_torch.py step --panel bf16) where torch is
# importable.  Within a run the f32 and bf16 steps are timed in turns;
# figures are medians over the rounds, and a speed-up is the median of the
# per-round ratios.  Writes bench/results/bf16_r*.csv,
# bench/results/bf16_noamx_r*.csv, bench/results/peer_bf16_r*.csv and
# bench/results/bf16.md.
#   BENCH_ROUNDS  rounds [3]
#   BENCH_QUICK=1 a smoke run (short timing budget)
#   BENCH_TABLE_ONLY=1  only remake bench/results/bf16.md from the CSVs
#   PEER_PYTHON   interpreter of the peer [/usr/bin/python3]
set -euo pipefail
build=$(realpath "${1:-.}")
here=$(cd "$(dirname "$0")" && pwd)
out=$here/results
mkdir -p "$out"
rounds=${BENCH_ROUNDS:-3}
quick=()
[ "${BENCH_QUICK:-0}" = 1 ] && quick=(--quick)
py=${PEER_PYTHON:-/usr/bin/python3}
# as run.sh: OpenBLAS picks its own kernel for this CPU
peer() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" "$here/peer_torch.py" "$@"; }
have_torch() { "$py" -c 'import torch' >/dev/null 2>&1; }

[ "${BENCH_TABLE_ONLY:-0}" = 1 ] && rounds=0
[ "$rounds" -gt 0 ] && rm -f "$out"/bf16_r*.csv "$out"/bf16_noamx_r*.csv "$out"/peer_bf16_r*.csv
for ((r = 1; r <= rounds; r++)); do
    echo "round $r/$rounds: f32 vs bf16 (oneDNN's own ISA)" >&2
    "$build/bench/bench_step" "${quick[@]}" --bf16 "$out/bf16_r$r.csv" >&2
    echo "round $r/$rounds: f32 vs bf16 without AMX (ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16)" >&2
    ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16 \
        "$build/bench/bench_step" "${quick[@]}" --bf16 "$out/bf16_noamx_r$r.csv" >&2
    if have_torch; then
        echo "round $r/$rounds: PyTorch (f32) on the same panel" >&2
        peer step --panel bf16 --threads 1,2 "${quick[@]}" --csv "$out/peer_bf16_r$r.csv" >&2 ||
            echo "peer_torch.py step failed (exit $?)" >&2
    fi
done

# One table: per (shape, threads) the medians over the rounds of f32 ms,
# bf16 ms, bf16-without-AMX ms, and of the per-round ratios: f32/bf16 and
# f32/bf16-without-AMX (each timed in turns within its run, the robust
# figures), and noamx/bf16 (across the two runs: noisier), with bf16
# GFLOP/s and its % of the same run's f32 sgemm peak and bf16 matmul peak
# (oneDNN's matmul, bf16 x bf16 -> f32, 2048^3: AMX where there is AMX).
awk -F, '
    FNR == 1 { noamx = FILENAME ~ /noamx/; torch = FILENAME ~ /peer/; next }
    torch { k = $1 FS $2; pt[k, ++cp[k]] = $3; next }
    { k = $1 FS $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
      if (noamx) { na[k, ++cn[k]] = $4; nsp[k, cn[k]] = $3 / $4 }
      else { c = ++cb[k]; f32[k, c] = $3; bf[k, c] = $4; sp[k, c] = $3 / $4
             gf[k, c] = $6; pk[k, c] = $8; impl[k] = $9; bp[k, c] = $12 } }
    function med(arr, k, m,   a, j, x, t) {
        for (j = 1; j <= m; j++) a[j] = arr[k, j] + 0
        for (j = 2; j <= m; j++) { t = a[j]; for (x = j - 1; x >= 1 && a[x] > t; x--) a[x + 1] = a[x]; a[x + 1] = t }
        return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
    END {
        print "| shape | threads | f32 ms | bf16 ms | bf16 speed-up | bf16 without AMX ms | its speed-up | AMX gain | PyTorch f32 ms | bf16 vs PyTorch | bf16 GFLOP/s | % of f32 sgemm peak | % of bf16 GEMM peak | oneDNN bf16 impl |"
        print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        for (i = 1; i <= n; i++) { k = order[i]; m = cb[k]; split(k, s, FS)
            # the AMX gain pairs round r of each run: the ratio of medians
            # is over the rounds, as the runs were apart in time
            for (j = 1; j <= m && j <= cn[k]; j++) ag[k, j] = na[k, j] / bf[k, j]
            # PyTorch ran after both of round r: ratio with that round
            for (j = 1; j <= m && j <= cp[k]; j++) tr[k, j] = pt[k, j] / bf[k, j]
            pm = m < cp[k] ? m : cp[k]
            printf "| %s | %s | %.2f | %.2f | %.2fx | %.2f | %.2fx | %.2fx | %s | %s | %.1f | %.0f%% | %.0f%% | %s |\n",
                   s[1], s[2], med(f32, k, m), med(bf, k, m), med(sp, k, m),
                   cn[k] ? med(na, k, cn[k]) : 0, cn[k] ? med(nsp, k, cn[k]) : 0,
                   cn[k] ? med(ag, k, (m < cn[k] ? m : cn[k])) : 0,
                   pm ? sprintf("%.2f", med(pt, k, cp[k])) : "-",
                   pm ? sprintf("%.2fx", med(tr, k, pm)) : "-",
                   med(gf, k, m), med(pk, k, m), med(bp, k, m), impl[k] } }' \
    $(ls "$out"/bf16_r*.csv | sort -V) $(ls "$out"/bf16_noamx_r*.csv | sort -V) \
    $(ls "$out"/peer_bf16_r*.csv 2>/dev/null | sort -V) | tee "$out/bf16.md"
