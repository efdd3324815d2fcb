#!/usr/bin/env bash
# run.sh BUILDDIR - the benchmark suite (`make bench`).  Writes
# bench/results/*.csv and bench/results/summary.md (the README's
# "Performance" section) with the machine it ran on.  Every comparison is
# made within this one run, as ratios, so the noise of a shared machine
# largely cancels; timings are medians.  Sections: the f32 step panel
# against the bare primitives and PyTorch; the f32 vs bf16 panel
# (bench/bf16.sh, also `make bench-bf16`); evaluation (bench_step --eval,
# also `make bench-eval`); PyTorch's training dynamics; the makespan; the
# time-to-accuracy races.
#
# The PyTorch peer (bench/peer_torch.py, installed by scripts/install-deps
# --peer) times the same training step; it is skipped when torch is not
# importable.
#
# Time to accuracy is bitcount H24 B1000 to 0.3% test error (at most 2000
# epochs, evaluated every 25, 1 thread; Adam 1e-3 and 1e-2), and the full
# MNIST 1x128 B100 to 98.5% test accuracy (at most 15 epochs, every one
# evaluated), lstmsweep in f32 and bf16 and then PyTorch, seeds
# 1..BENCH_TTA_SEEDS.  The whole suite took 77 min on 2 cores (2026-12-03),
# 58 of them the races, most of those PyTorch's bitcount evaluations.
#
# Environment:
#   BENCH_ROUNDS  rounds of the step panel, lstmsweep then PyTorch [3];
#                 each shape's figures are medians over the rounds, and its
#                 speed-up the median of the per-round ratios
#   BENCH_TTA=0   skip "time to accuracy" (the longest part, ~60 min)
#   BENCH_TTA_SEEDS  seeds of each race [3]
#   PEER_PYTHON   interpreter of the peer [/usr/bin/python3: Debian's
#                 python3-torch is not seen by a pyenv or venv python3]
set -euo pipefail
build=$(realpath "${1:-.}")
here=$(cd "$(dirname "$0")" && pwd)
out=$here/results
mkdir -p "$out"
py=${PEER_PYTHON:-/usr/bin/python3}
peer_threads=1
[ "$(nproc)" -ge 2 ] && peer_threads=1,2 # as bench_step: 1 and 2 threads
rounds=${BENCH_ROUNDS:-3}

# The peer runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, in its
# command only, so that OpenBLAS picks its own kernel for this CPU; the
# peer's first line names that kernel.
peer() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" "$here/peer_torch.py" "$@"; }
have_torch() { "$py" -c 'import torch' >/dev/null 2>&1; }
skipped() { echo "PyTorch not installed: peer skipped (scripts/install-deps --peer)"; }

# csv_get FILE COLUMN: that column of the last row, found by its header name.
csv_get() {
    awk -F, -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next }
                       { last = $0 }
                       END { if (k && last != "") { split(last, f, ","); print f[k] } }' "$1"
}

# median_csv FILE... : one CSV with, per (shape, threads), the median over
# the files of every numeric column (files of the same header).
median_csv() {
    awk -F, 'FNR == 1 { if (NR == 1) { print; nf = NF }; next }
             { k = $1 FS $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
               c = ++cnt[k]; for (i = 3; i <= NF; i++) v[k, i, c] = $i }
             function med(k, i,   m, j, t, a) {
                 m = cnt[k]; for (j = 1; j <= m; j++) a[j] = v[k, i, j] + 0
                 for (j = 2; j <= m; j++) { t = a[j]; for (x = j - 1; x >= 1 && a[x] > t; x--) a[x + 1] = a[x]; a[x + 1] = t }
                 return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
             END { for (r = 1; r <= n; r++) { k = order[r]; line = k
                       for (i = 3; i <= nf; i++) line = line FS med(k, i)
                       print line } }' "$@"
}

# Markdown table from the rounds: round r's step_rR.csv (full_ms, ours) and
# peer_step_rR.csv (torch_ms) joined on shape and threads; medians of both
# times and of the per-round speed-ups.
join_peer() {
    local r ratios=$out/ratios.csv
    echo "shape,threads,full_ms,torch_ms,speedup" >"$ratios"
    for ((r = 1; r <= rounds; r++)); do
        [ -s "$out/peer_step_r$r.csv" ] || continue
        awk -F, 'NR == FNR { if (FNR == 1) { for (i = 1; i <= NF; i++) if ($i == "full_ms") k = i; next }
                             ours[$1 FS $2] = $k; next }
                 FNR == 1 { for (i = 1; i <= NF; i++) if ($i == "torch_ms") p = i; next }
                 ($1 FS $2) in ours { o = ours[$1 FS $2]; print $1 FS $2 FS o FS $p FS $p / o }' \
            "$out/step_r$r.csv" "$out/peer_step_r$r.csv" >>"$ratios"
    done
    echo "| shape | threads | lstmsweep ms | PyTorch ms | speed-up (PyTorch / lstmsweep) | rounds' speed-ups, lowest–highest |"
    echo "|---|---:|---:|---:|---:|---:|"
    # The spread of the per-round speed-ups shows how far the machine's
    # noise moves the median.
    median_csv "$ratios" |
        awk -F, 'NR == FNR { if (FNR > 1) { k = $1 FS $2; x = $5 + 0
                                 if (!(k in lo) || x < lo[k]) lo[k] = x
                                 if (!(k in hi) || x > hi[k]) hi[k] = x }; next }
                 FNR > 1 { k = $1 FS $2
                           printf "| %s | %s | %.2f | %.2f | %.2fx | %.2f–%.2fx |\n", $1, $2, $3, $4, $5, lo[k], hi[k] }' \
            "$ratios" -
}

# A markdown table of the step panel: times are medians over the rounds
# (step.csv); "vs bare" and "padding gain" are medians of the per-round
# ratios, since the variants of one round ran in turns and share its noise.
step_table() {
    local r ratios=$out/step_ratios.csv
    echo "shape,threads,vs_bare_pct,pad_gain" >"$ratios"
    for ((r = 1; r <= rounds; r++)); do
        awk -F, 'NR > 1 { printf "%s,%s,%.4f,%.4f\n", $1, $2, 100 * ($4 - $3) / $3,
                                 ($10 > 0 ? $10 / $4 : 0) }' "$out/step_r$r.csv" >>"$ratios"
    done
    echo "| shape | threads | bare oneDNN ms | lstmsweep ms | lstmsweep vs bare | samples/s | GFLOP/s | % of sgemm peak | lstmsweep unpadded ms | padding gain |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    median_csv "$ratios" | awk -F, 'NR == FNR { if (FNR > 1) { vb[$1 FS $2] = $3; pg[$1 FS $2] = $4 }; next }
        FNR > 1 { k = $1 FS $2
                  u = $10 > 0 ? sprintf("%.2f", $10) : "-"
                  g = pg[k] > 0 ? sprintf("%.2fx", pg[k]) : "-"
                  printf "| %s | %s | %.2f | %.2f | %+.1f%% | %.0f | %.1f | %.0f%% | %s | %s |\n", $1, $2, $3, $4, vb[k], $6, $7, $9, u, g
                  peak[$2] = $8 }
        END { for (t = 1; t <= 256; t++) if (t in peak)
                  printf "| sgemm 2048^3 | %s | | | | | %.1f | 100%% | | |\n", t, peak[t] }' - "$1"
}

# race_table TARGET ACCURACY: the markdown table of a race from rows
# "who seed epochs train_s eval_s test_error" on stdin, then each of
# lstmsweep's medians of train + eval seconds against PyTorch's.  TARGET is
# the test error to reach; ACCURACY=1 shows accuracy, 0 the error.
race_table() {
    local head=error; [ "$2" = 1 ] && head=accuracy
    echo "| implementation | seed | reached | epochs | train s | eval s | train + eval s | train s / epoch | test $head |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---:|"
    awk -v target="$1" -v acc="$2" '
        { t = $4 + $5
          printf "| %s | %s | %s | %d | %.1f | %.1f | %.1f | %.3f | %.*f%% |\n", $1, $2,
                 $6 <= target ? "yes" : "no", $3, $4, $5, t, $4 / $3, acc ? 2 : 3,
                 acc ? 100 - 100 * $6 : 100 * $6
          n[$1]++; tt[$1, n[$1]] = t }
        END { for (who in n) { m = n[who]       # the median over seeds
                  for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
                      if (tt[who, j] < tt[who, i]) { x = tt[who, i]; tt[who, i] = tt[who, j]; tt[who, j] = x }
                  med[who] = m % 2 ? tt[who, (m + 1) / 2] : (tt[who, m / 2] + tt[who, m / 2 + 1]) / 2 }
              printf "\n"
              for (who in med) if (who != "PyTorch" && "PyTorch" in med)
                  printf "Median train + eval seconds to the target: %s %.1f, PyTorch %.1f: %.2fx sooner.\n",
                         who, med[who], med["PyTorch"], med["PyTorch"] / med[who] }'
}

# race_rows OURS PEER...: race_table's input lines from lstmsweep's results
# file and the peer's CSVs (one row each; the last row of each counts).
race_rows() {
    local ours=$1 f; shift
    [ -s "$ours" ] && awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $c["status"] == "ok" { print "lstmsweep-" $c["precision"], $c["seed"], $c["epochs_run"],
                                     $c["train_s"], $c["eval_s"], $c["test_error"] }' "$ours"
    for f in "$@"; do
        [ -s "$f" ] && awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
            { last = $0 } END { split(last, v, ","); e = "epoch" in c ? "epoch" : "epochs"
              print "PyTorch", v[c["seed"]], v[c[e]], v[c["train_s"]], v[c["eval_s"]],
                    v[c["test_error"]] }' "$f"
    done
}

# Time to 0.3% test error on bitcount H24 B1000 (1 thread, evaluated every
# 25 epochs, at most 2000), lstmsweep in f32 and bf16 and then PyTorch, the
# same recipe on both sides, for seeds 1..BENCH_TTA_SEEDS; LR is Adam's
# learning rate (1e-3 is the tutorial's).  --val-size 0 is the peer's
# split (10,000 train, the rest test): the target then stops on the test
# error, as the peer's does.  A failed bf16 row (no brgemm bf16 on this
# CPU) is left out of the table.
tta() { # LR
    local lr=$1 tag=tta_lr$1 seed prec seeds
    local opts=(--hidden 24 --batch 1000 --eval-every 25 --epochs 2000 --threads 1 --lr "$lr")
    seeds=$(seq 1 "${BENCH_TTA_SEEDS:-3}")
    rm -f "$out/${tag}_ours.csv" "$out/${tag}"_peer_s*.csv
    for seed in $seeds; do
        for prec in f32 bf16; do
            "$build/lstmsweep" train --task bitcount "${opts[@]}" --seed "$seed" --val-size 0 \
                --target-error 0.003 --precision "$prec" --quiet \
                --results "$out/${tag}_ours.csv" >&2 ||
                echo "lstmsweep train --precision $prec failed (exit $?)" >&2
        done
        if have_torch; then
            peer bitcount "${opts[@]}" --target 0.003 --seed "$seed" --quiet \
                --csv "$out/${tag}_peer_s$seed.csv" >&2 ||
                echo "peer_torch.py bitcount failed (exit $?)" >&2
        fi
    done
    have_torch || skipped
    race_rows "$out/${tag}_ours.csv" "$out/${tag}"_peer_s*.csv | race_table 0.003 0
}

# Time to 98.5% test accuracy on the full MNIST (1 x 128, batch 100, 1
# thread, every epoch evaluated), lstmsweep in f32 and in bf16, then PyTorch, for seeds
# 1..BENCH_TTA_SEEDS (3): the epoch a run first crosses 98.5% varies with
# the seed, so the race is the median over seeds.  Both stop on the test
# error (the peer has no other rule; lstmsweep's target_error stops on the
# validation error): ours first runs 15 epochs per seed (a sweep, both
# cores) to find the first epoch k at 98.5% in its curves, then trains k
# epochs again alone on 1 thread (the same run: training is deterministic)
# for that row's training and evaluation seconds.  Needs data/mnist.
tta_mnist_ours() { # SEEDS...: rows into $out/tta_mnist_ours.csv
    local scan=$out/tta_mnist_scan data=$here/../data/mnist k seeds
    rm -f "$scan".csv "$scan"-curves.csv
    seeds=$(echo "$@" | tr ' ' ',')
    printf '[sweep]\nname = tta\nresults = %s.csv\ncurves = %s-curves.csv\nseeds = %s\n' \
        "$scan" "$scan" "$seeds" >"$scan.ini"
    printf '[mnist]\ndata = %s\nhidden = 128\nbatch = 100\nepochs = 15\neval_every = 1\n' \
        "$data" >>"$scan.ini"
    printf 'precision = f32, bf16\n' >>"$scan.ini"
    "$build/lstmsweep" run "$scan.ini" --threads-per-job 1 --quiet >&2 ||
        echo "lstmsweep run failed (exit $?)" >&2
    for prec in f32 bf16; do
        for seed in "$@"; do
            id=$(awk -F, -v s="$seed" -v p="$prec" '
                     NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
                     $c["seed"] == s && $c["precision"] == p && $c["status"] == "ok" { print $1 }' \
                 "$scan.csv")
            [ -n "$id" ] || continue   # bf16 not available on this CPU: a failed row
            k=$(awk -F, -v id="$id" 'NR > 1 && $1 == id && $6 != "" && $6 <= 0.015 {
                                         print $2; exit }' "$scan-curves.csv")
            "$build/lstmsweep" train --task mnist --data "$data" --hidden 128 --batch 100 \
                --precision "$prec" --seed "$seed" --epochs "${k:-15}" --eval-every 1 \
                --threads 1 --quiet --results "$out/tta_mnist_ours.csv" >&2 ||
                echo "lstmsweep train failed (exit $?)" >&2
        done
    done
}

tta_mnist() {
    local ours=$out/tta_mnist_ours.csv data=$here/../data/mnist
    local seeds; seeds=$(seq 1 "${BENCH_TTA_SEEDS:-3}")
    if [ ! -d "$data" ]; then
        echo "no $data: skipped (make data)"
        return
    fi
    rm -f "$ours" "$out"/tta_mnist_peer_s*.csv
    # shellcheck disable=SC2086
    tta_mnist_ours $seeds
    if have_torch; then
        for seed in $seeds; do
            peer mnist --data "$data" --hidden 128 --batch 100 --epochs 15 --target 0.015 \
                --seed "$seed" --threads 1 --csv "$out/tta_mnist_peer_s$seed.csv" >&2 ||
                echo "peer_torch.py mnist failed (exit $?)" >&2
        done
    else
        skipped
    fi
    race_rows "$ours" "$out"/tta_mnist_peer_s*.csv | race_table 0.015 1
}

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
{
    echo "Machine: ${cpu:-unknown CPU}, $(nproc) core(s) usable, $(free -g | awk '/^Mem:/ {print $2}') GiB;"
    echo "$("$build/lstmsweep" --version | tr '\n' ' ')- measured $(date -u +%Y-%m-%d)."
    echo
    # The rounds: our panel then the peer's, so that both meet the same
    # phases of a shared machine; progress to stderr, tables below.
    rm -f "$out"/step_r*.csv "$out"/peer_step_r*.csv
    for ((r = 1; r <= rounds; r++)); do
        echo "round $r/$rounds: lstmsweep step panel" >&2
        "$build/bench/bench_step" "$out/step_r$r.csv" >&2
        if have_torch; then
            echo "round $r/$rounds: PyTorch step panel" >&2
            peer step --threads "$peer_threads" --csv "$out/peer_step_r$r.csv" \
                >"$out/peer_step.md" || echo "peer_torch.py step failed (exit $?)" >&2
        fi
    done
    median_csv "$out"/step_r*.csv >"$out/step.csv"
    echo "### Training step: lstmsweep vs the bare oneDNN primitives"
    echo
    echo "Times are medians over $rounds rounds; \"vs bare\" and \"padding gain\" are medians of the per-round ratios."
    echo
    step_table "$out/step.csv"
    echo
    echo "### Training step: lstmsweep vs PyTorch"
    echo
    if ! have_torch; then
        skipped
    elif ls "$out"/peer_step_r*.csv >/dev/null 2>&1; then
        {
            head -1 "$out/peer_step.md"
            echo
            echo "Medians over $rounds rounds; the speed-up is the median of the per-round ratios, whose range the last column gives."
            echo
            join_peer
        } >"$out/step_vs_peer.md"
        cat "$out/step_vs_peer.md"
    else
        echo "peer_torch.py step failed in every round"
    fi
    echo
    echo "### Training step: f32 and bf16 mixed precision, with and without AMX, vs PyTorch"
    echo
    # bench/bf16.sh: its own rounds (BENCH_ROUNDS), progress to stderr
    BENCH_ROUNDS=$rounds "$here/bf16.sh" "$build"
    echo
    echo "### Evaluation: f32 on the reference RNN and on brgemm, and bf16"
    echo
    "$build/bench/bench_step" --eval "$out/eval.csv"
    echo
    echo "### Training dynamics: the same 30 Adam steps in PyTorch"
    echo
    if ! have_torch; then
        skipped
    else
        tmp=$(mktemp -d)
        echo '```'
        for cell in lstm gru lbr-gru rnn; do
            env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 \
                "$py" "$here/peer_check.py" --cell "$cell" "$build/bench/onestep" "$tmp" ||
                echo "peer_check.py --cell $cell: losses differ (exit $?)"
        done
        echo '```'
        rm -rf "$tmp"
    fi
    echo
    echo "### Sweep makespan"
    echo
    "$here/makespan.sh" "$build/lstmsweep" "$out"
    if [ "${BENCH_TTA:-1}" != 0 ]; then
        echo
        echo "### Time to accuracy: bitcount H24 B1000 to 0.3% test error, 1 thread, Adam 1e-3"
        echo
        tta 0.001
        echo
        echo "### Time to accuracy: the same with Adam 1e-2 (both sides)"
        echo
        tta 0.01
        echo
        echo "### Time to accuracy: MNIST 1 x 128, batch 100, to 98.5% test accuracy, 1 thread"
        echo
        tta_mnist
    fi
} | tee "$out/summary.md.tmp"
mv "$out/summary.md.tmp" "$out/summary.md"
echo "written: $out/summary.md"
