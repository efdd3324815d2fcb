#!/usr/bin/env bash
# makespan.sh LSTMSWEEP OUTDIR - the sweep runner against the ideal bound
# and the two naive ways of running the same jobs, in one run:
#
#   lstmsweep   `lstmsweep run` on the sweep (pinned, one core per job,
#               largest first)
#   xargs       `xargs -P <cores>` starting one `lstmsweep train` process
#               per job, no pinning, train's default thread count (all
#               cores, fewer for steps too small to use them)
#   xargs-passive  the same with OMP_WAIT_POLICY=passive: OpenMP threads
#               that wait at a barrier sleep instead of spinning, which
#               matters when two processes' teams share the cores
#   serial      one job after another, each with all cores
#   bound       max(total single-core work / cores, longest job), with the
#               single-core times taken from the lstmsweep run's rows
#
# The sweep: 16 mixed bitcount jobs (hidden 8..64, batch 100 and 1000,
# 1 and 2 layers), a few to ~30 seconds each on one core.
set -euo pipefail
prog=$(realpath "$1")
out=$2
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cores=$(nproc)

hiddens=(8 16 32 64)
batches=(100 1000)
layers=(1 2)
common=(--task bitcount --bits 14 --train-size 4000 --epochs 40 --eval-every 40 --quiet)

join() { local IFS=,; local s="$*"; echo "${s//,/, }"; }
cat > "$work/sweep.ini" <<INI
[sweep]
name = makespan
results = $work/lstmsweep.csv
[bitcount]
bits = 14
train_size = 4000
epochs = 40
eval_every = 40
hidden = $(join "${hiddens[@]}")
batch = $(join "${batches[@]}")
layers = $(join "${layers[@]}")
INI

jobs_file=$work/jobs.txt
: > "$jobs_file"
for h in "${hiddens[@]}"; do for b in "${batches[@]}"; do for l in "${layers[@]}"; do
    echo "--hidden $h --batch $b --layers $l" >> "$jobs_file"
done; done; done
njobs=$(wc -l < "$jobs_file")

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.3f", b - a}'; }
declare -A took

# timed NAME CMD...: run CMD, its wall seconds into took[NAME].
timed() {
    local name=$1 t0
    shift
    t0=$(now)
    "$@"
    took[$name]=$(since "$t0")
}
# xargs_jobs [POLICY]: every job by xargs, under OMP_WAIT_POLICY=POLICY if given.
xargs_jobs() {
    env ${1:+OMP_WAIT_POLICY="$1"} xargs -P "$cores" -L 1 "$prog" train "${common[@]}" \
        < "$jobs_file" 2>/dev/null
}
serial_jobs() {
    while read -r args; do
        # shellcheck disable=SC2086
        "$prog" train "${common[@]}" --threads "$cores" $args 2>/dev/null
    done < "$jobs_file"
}

timed runner "$prog" run "$work/sweep.ini" --quiet 2>/dev/null
timed xargs xargs_jobs
timed xargs-passive xargs_jobs passive
timed serial serial_jobs

# Single-core seconds of each job, from the runner's rows (column wall_s).
col=$(head -1 "$work/lstmsweep.csv" | tr ',' '\n' | grep -nx wall_s | cut -d: -f1)
read -r total longest < <(tail -n +2 "$work/lstmsweep.csv" | cut -d, -f"$col" |
    awk '{s += $1; if ($1 > m) m = $1} END {print s, m}')
bound=$(awk -v t="$total" -v m="$longest" -v c="$cores" 'BEGIN {b = t / c; if (m > b) b = m; printf "%.3f", b}')

{
    echo "way,makespan_s,ratio_to_bound"
    printf "bound,%.2f,1.000\n" "$bound"
    for w in runner xargs xargs-passive serial; do
        awk -v w="$w" -v v="${took[$w]}" -v b="$bound" 'BEGIN {printf "%s,%.2f,%.3f\n", w, v, v / b}'
    done
} > "$out/makespan.csv"
{
    echo "Sweep makespan: $njobs mixed bitcount jobs on $cores core(s)."
    echo
    echo "| way | makespan s | / bound |"
    echo "|---|---:|---:|"
    tail -n +2 "$out/makespan.csv" | while IFS=, read -r w s r; do
        case $w in
        bound) w="ideal bound max(work/cores, longest job)";;
        runner) w="\`lstmsweep run\` (pinned, 1 core/job, largest first)";;
        xargs) w="\`xargs -P $cores\` of \`lstmsweep train\`, unpinned";;
        xargs-passive) w="the same with \`OMP_WAIT_POLICY=passive\`";;
        serial) w="one after another, $cores threads each";;
        esac
        echo "| $w | $s | $r |"
    done
} > "$out/makespan.md"
cat "$out/makespan.md"
