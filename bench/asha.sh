#!/usr/bin/env bash
# asha.sh [BUILDDIR] - ASHA against the full grid (README "Adaptive search").
# For each task (BENCH_ASHA_TASKS: "bitcount mnist"), the grid of
# bench/asha/TASK.ini (24 configurations x 2 seeds, every rung epoch an
# evaluation epoch) is run in full, then the same file as an asha search
# (--set search.method=asha), side by side on this machine; then
# bench/asha_replay replays the grid's logged curves through ASHA's decision
# code over BENCH_ASHA_ORDERS (200) random completion orders on as many
# workers as cores, with the file's min_epochs and eta and then with each
# MIN:ETA of BENCH_ASHA_SETTINGS_<task> (a table: how the first rung and eta
# trade compute for the choice).  Results and summaries go to BENCH_ASHA_OUT
# (BUILDDIR/bench/results/asha): TASK-grid.csv, TASK-asha.csv (and their
# curves and search logs), TASK.md, summary.md.  A rerun resumes: finished
# jobs and searches are not run again.  About 40 min on 2 cores for both
# tasks; needs data/mnist (make data).  Run from anywhere.
set -euo pipefail
bld=$(realpath "${1:-.}")
src=$(realpath "$(dirname "$0")/..")
out=${BENCH_ASHA_OUT:-$bld/bench/results/asha}
orders=${BENCH_ASHA_ORDERS:-200}
mkdir -p "$out"
cd "$src" # the sweep files name data/mnist
: >"$out/summary.md"
for t in ${BENCH_ASHA_TASKS:-bitcount mnist}; do
    ini=bench/asha/$t.ini
    min=$(sed -n 's/^min_epochs *= *//p' "$ini")
    eta=$(sed -n 's/^eta *= *//p' "$ini")
    echo "$(date -u +%T) $t: the grid" >&2
    "$bld/lstmsweep" run "$ini" --quiet --set "sweep.results=$out/$t-grid.csv"
    echo "$(date -u +%T) $t: the asha search" >&2
    "$bld/lstmsweep" run "$ini" --quiet --set search.method=asha \
        --set "sweep.name=asha-$t-search" --set "sweep.results=$out/$t-asha.csv"
    "$bld/bench/asha_replay" --orders "$orders" --workers "$(nproc)" --min-epochs "$min" \
        --eta "$eta" "$out/$t-grid.csv" "$out/$t-grid-curves.csv" "$out/$t-asha.csv" \
        | tee "$out/$t.md" >>"$out/summary.md"
    settings_var=BENCH_ASHA_SETTINGS_$t
    settings=${!settings_var:-$([ "$t" = bitcount ] && echo "5:3 5:2 10:2 15:3 15:2 45:3" || echo "1:3 1:2 2:2 3:3")}
    {
        echo
        echo "The same grid replayed with other settings ($orders orders each; compute and regret: median (10th–90th percentile) and median (90th percentile); best: the orders that chose the grid's best; grid's choice: those that chose what the full grid picks by validation; within noise: the choice within the seed noise of the best):"
        echo
        echo "| shards | min_epochs | eta | rungs | compute / grid | regret, points | best | grid's choice | within noise |"
        echo "|---:|---:|---:|---|---:|---:|---:|---:|---:|"
        for s in $settings; do
            "$bld/bench/asha_replay" --row --orders "$orders" --workers "$(nproc)" \
                --min-epochs "${s%%:*}" --eta "${s##*:}" "$out/$t-grid.csv" "$out/$t-grid-curves.csv"
        done
        for k in 2 4; do # Slurm arrays: each shard its own search
            "$bld/bench/asha_replay" --row --shards "$k" --orders "$orders" --workers "$(nproc)" \
                --min-epochs "$min" --eta "$eta" "$out/$t-grid.csv" "$out/$t-grid-curves.csv"
        done
        echo
    } | tee -a "$out/$t.md" >>"$out/summary.md"
done
cat "$out/summary.md"
