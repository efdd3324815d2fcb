#!/usr/bin/env bash
# run.sh BUILDDIR - the benchmark suite (`make bench`).  Writes
# bench/results/*.csv and bench/results/summary.md (the README's
# "Performance" section) with the machine it ran on.  Every comparison is
# made within this one run, as ratios, so the noise of a shared machine
# largely cancels; timings are medians.
#
# The PyTorch peer (bench/peer_torch.py, installed by scripts/install-deps
# --peer) times the same training step; it is skipped when torch is not
# importable.  Environment:
#   BENCH_TTA=1   also run "time to accuracy": bitcount H24 B1000 to 0.3% test
#                 error (at most 2000 epochs, evaluated every 25, 1 thread),
#                 lstmsweep and then PyTorch.  Long: tens of minutes or more.
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

# Markdown table joining step.csv (full_ms: lstmsweep's whole step) and the
# peer's CSV (torch_ms) on shape and threads.
join_peer() {
    awk -F, 'NR == FNR { if (FNR == 1) { for (i = 1; i <= NF; i++) if ($i == "full_ms") k = i; next }
                         ours[$1 FS $2] = $k; next }
             FNR == 1 { for (i = 1; i <= NF; i++) if ($i == "torch_ms") p = i
                        print "| shape | threads | lstmsweep ms | PyTorch ms | speed-up (PyTorch / lstmsweep) |"
                        print "|---|---:|---:|---:|---:|"; next }
             ($1 FS $2) in ours { o = ours[$1 FS $2]
                                  printf "| %s | %s | %.2f | %.2f | %.2fx |\n", $1, $2, o, $p, $p / o }' "$1" "$2"
}

# Time to accuracy, lstmsweep then PyTorch, same settings; a markdown table.
tta() {
    local opts=(--hidden 24 --batch 1000 --eval-every 25 --epochs 2000 --threads 1)
    local ours=$out/tta_ours.csv theirs=$out/tta_peer.csv
    rm -f "$ours" "$theirs"
    "$build/lstmsweep" train --task bitcount "${opts[@]}" --target-error 0.003 --quiet \
        --results "$ours" >&2 || echo "lstmsweep train failed (exit $?)"
    if have_torch; then
        peer bitcount "${opts[@]}" --target 0.003 --seed 1 --quiet --csv "$theirs" >&2 ||
            echo "peer_torch.py bitcount failed (exit $?)"
    else
        skipped
    fi
    echo "| implementation | reached 0.3% | epochs | train + eval s | s / epoch | test error |"
    echo "|---|---|---:|---:|---:|---:|"
    if [ -s "$ours" ]; then
        awk -v e="$(csv_get "$ours" epochs_run)" -v tr="$(csv_get "$ours" train_s)" \
            -v ev="$(csv_get "$ours" eval_s)" -v err="$(csv_get "$ours" test_error)" \
            'BEGIN { printf "| lstmsweep | %s | %d | %.1f | %.3f | %.4f%% |\n",
                     err <= 0.003 ? "yes" : "no", e, tr + ev, (tr + ev) / e, 100 * err }'
    fi
    if [ -s "$theirs" ]; then
        awk -v e="$(csv_get "$theirs" epochs)" -v w="$(csv_get "$theirs" wall_s)" \
            -v r="$(csv_get "$theirs" reached)" -v err="$(csv_get "$theirs" test_error)" \
            'BEGIN { printf "| PyTorch | %s | %d | %.1f | %.3f | %.4f%% |\n",
                     r == 1 ? "yes" : "no", e, w, w / e, 100 * err }'
    fi
}

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
{
    echo "Machine: ${cpu:-unknown CPU}, $(nproc) core(s) usable, $(free -g | awk '/^Mem:/ {print $2}') GiB;"
    echo "$("$build/lstmsweep" --version | tr '\n' ' ')- measured $(date -u +%Y-%m-%d)."
    echo
    echo "### Training step: lstmsweep vs the bare oneDNN primitives"
    echo
    "$build/bench/bench_step" "$out/step.csv"
    echo
    echo "### Training step: lstmsweep vs PyTorch"
    echo
    if ! have_torch; then
        skipped
    elif peer step --threads "$peer_threads" --csv "$out/peer_step.csv" >"$out/peer_step.md"; then
        {
            head -1 "$out/peer_step.md"
            echo
            join_peer "$out/step.csv" "$out/peer_step.csv"
        } >"$out/step_vs_peer.md"
        cat "$out/step_vs_peer.md"
    else
        echo "peer_torch.py step failed (exit $?)"
    fi
    echo
    echo "### Training dynamics: the same 30 Adam steps in PyTorch"
    echo
    if ! have_torch; then
        skipped
    else
        tmp=$(mktemp -d)
        echo '```'
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 \
            "$py" "$here/peer_check.py" "$build/bench/onestep" "$tmp" ||
            echo "peer_check.py: losses differ (exit $?)"
        echo '```'
        rm -rf "$tmp"
    fi
    echo
    echo "### Sweep makespan"
    echo
    "$here/makespan.sh" "$build/lstmsweep" "$out"
    if [ "${BENCH_TTA:-0}" = 1 ]; then
        echo
        echo "### Time to accuracy: bitcount H24 B1000 to 0.3% test error, 1 thread"
        echo
        tta
    fi
} | tee "$out/summary.md.tmp"
mv "$out/summary.md.tmp" "$out/summary.md"
echo "written: $out/summary.md"
