#!/usr/bin/env bash
# slurm-integration.sh - `lstmsweep slurm` against a real Slurm cluster.
#
#  1. A small sweep as a 2-task job array + merge job: the merged results
#     hold every job exactly once, all ok, and each array task ran on the
#     single CPU Slurm bound it to (the results' cpus column); the merged
#     curves hold every epoch of every job exactly once.
#  2. The same with one array task cancelled mid-run: the merge (afterany)
#     still runs; resubmitting the script completes the sweep (results and
#     curves) with nothing lost or run twice.
#  3. An asha search (tests/asha.py's: 9 configurations x 2 seeds) as 2
#     tasks: each task searches its shard's configurations; the merged
#     results hold every job once, ok or stopped, with two search tags
#     (one per shard); each shard's audit log gives each of its
#     configurations one end, 9 in all; the logs are not merged as results.
#
# Skips (exit 77) when no Slurm cluster answers.  For a local one:
#   ../shared/tools/slurm-local.sh start   (.ci/run does this)
set -euo pipefail
if [ -z "${SLURM_CONF:-}" ] && [ -r /tmp/slurm-local/etc/slurm.conf ]; then
    export SLURM_CONF=/tmp/slurm-local/etc/slurm.conf
fi
command -v sbatch >/dev/null 2>&1 || { echo "SKIP: no sbatch"; exit 77; }
timeout 10 sinfo -h >/dev/null 2>&1 || { echo "SKIP: no Slurm cluster answers"; exit 77; }

prog=$(realpath "${top_builddir:-.}/lstmsweep")
work=$(mktemp -d /tmp/ls_slurm_XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; for f in "$work"/*.out; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done >&2; exit 1; }

# wait_jobs ID... : until none of the jobs is queued or running (5 min max)
wait_jobs() {
    local end=$((SECONDS + 300)) ids
    ids=$(IFS=,; echo "$*")
    # (output captured, not piped into grep -q: with pipefail an early exit
    # of grep could make the pipeline fail at random)
    while [ -n "$(squeue -h -j "$ids" 2>/dev/null)" ]; do
        [ $SECONDS -lt $end ] || fail "jobs $ids still queued after 300 s"
        sleep 1
    done
}

# submit SCRIPT: submit, set $array and $merge
submit() {
    local out
    out=$(bash "$1") || fail "submission failed: $out"
    array=$(sed -n 's/^array job(s): //p' <<<"$out")
    merge=$(sed -n 's/^merge job: \([0-9]*\).*/\1/p' <<<"$out")
    if [ -z "$array" ] || [ -z "$merge" ]; then fail "no job ids in: $out"; fi
}

# check_complete CSV NJOBS: one final row per job, NJOBS jobs
check_complete() {
    local csv=$1 n=$2 idc stc rows uniq
    [ -s "$csv" ] || fail "$csv missing"
    idc=$(head -1 "$csv" | tr ',' '\n' | grep -nx job_id | cut -d: -f1)
    stc=$(head -1 "$csv" | tr ',' '\n' | grep -nx status | cut -d: -f1)
    rows=$(tail -n +2 "$csv" | wc -l)
    uniq=$(tail -n +2 "$csv" | cut -d, -f"$idc" | sort -u | wc -l)
    if [ "$rows" != "$n" ] || [ "$uniq" != "$n" ]; then
        fail "$csv: $rows rows, $uniq jobs, want $n"
    fi
    local statuses
    statuses=$(tail -n +2 "$csv" | cut -d, -f"$stc" | sort -u)
    [ "$statuses" = ok ] || fail "$csv: statuses $statuses, want all ok"
    return 0
}

# check_curves CSV CURVES EPOCHS: the merged curves hold a row for each
# epoch of each job of CSV, and one only
check_curves() {
    local csv=$1 cur=$2 epochs=$3 idc ids cids rows keys
    [ -s "$cur" ] || fail "$cur missing: the merge job did not merge the curves"
    [ "$(head -1 "$cur")" = "job_id,epoch,train_loss,train_error,val_error,test_error,elapsed_s" ] ||
        fail "$cur: not a curves file"
    idc=$(head -1 "$csv" | tr ',' '\n' | grep -nx job_id | cut -d: -f1)
    ids=$(tail -n +2 "$csv" | cut -d, -f"$idc" | sort -u)
    cids=$(tail -n +2 "$cur" | cut -d, -f1 | sort -u)
    [ "$ids" = "$cids" ] || fail "$cur: its jobs are not those of $csv"
    rows=$(tail -n +2 "$cur" | wc -l)
    keys=$(tail -n +2 "$cur" | cut -d, -f1,2 | sort -u | wc -l)
    [ "$rows" = "$keys" ] || fail "$cur: $rows rows for $keys (job, epoch) pairs"
    [ "$rows" = $(($(wc -l <<<"$ids") * epochs)) ] ||
        fail "$cur: $rows rows, want $epochs per job"
    return 0
}

sweep() { # sweep NAME EPOCHS: writes $work/NAME.ini
    cat > "$work/$1.ini" <<INI
[sweep]
name = $1
results = $work/$1.csv
seeds = 1, 2, 3
[bitcount]
bits = 10
train_size = 500
batch = 50
lr = 0.01
hidden = 8, 16
epochs = $2
eval_every = 50
INI
}

# 1. the whole sweep
sweep a 20
# --max-array-size 1 splits the 2 tasks into two arrays; the merge job must
# wait for both.
"$prog" slurm "$work/a.ini" -o "$work/a.sbatch" --tasks 2 --cpus-per-task 1 --time 10 --max-array-size 1
submit "$work/a.sbatch"
[ "$(wc -w <<<"$array")" = 2 ] || fail "expected two arrays, got: $array"
# shellcheck disable=SC2086
wait_jobs $array "$merge"
check_complete "$work/a.csv" 6
check_curves "$work/a.csv" "$work/a-curves.csv" 20
cpuc=$(head -1 "$work/a.csv" | tr ',' '\n' | grep -nx cpus | cut -d: -f1)
cpus=$(tail -n +2 "$work/a.csv" | cut -d, -f"$cpuc")
case "$cpus" in *-*|*\"*) fail "an array task used more than one CPU: $cpus" ;; esac
echo "ok: 2 tasks as 2 arrays (MaxArraySize 1), 6 jobs, each task on one CPU ($(tail -n +2 "$work/a.csv" | cut -d, -f"$cpuc" | sort -u | tr '\n' ' ')), curves merged"

# 2. cancel array task 1 mid-run, then resubmit
sweep b 1500
"$prog" slurm "$work/b.ini" -o "$work/b.sbatch" --tasks 2 --cpus-per-task 1 --time 10
submit "$work/b.sbatch"
for _ in $(seq 60); do
    case "$(squeue -h -t R -j "$array" -o %i)" in *_1*) break ;; esac
    sleep 0.5
done
sleep 2
scancel "${array}_1"
wait_jobs "$array" "$merge"
got=$(tail -n +2 "$work/b.csv" 2>/dev/null | grep -c ',ok,' || true)
[ "$got" -lt 6 ] || fail "the cancel came too late: all 6 jobs already ok"
submit "$work/b.sbatch"
wait_jobs "$array" "$merge"
check_complete "$work/b.csv" 6
check_curves "$work/b.csv" "$work/b-curves.csv" 1500
echo "ok: cancelled task ($got of 6 jobs done then); resubmission completed all 6 exactly once, and their curves"

# 3. an asha search, one per shard
cat > "$work/c.ini" <<INI
[sweep]
name = c
results = $work/c.csv
seeds = 1, 2
[search]
method = asha
min_epochs = 1
eta = 3
[bitcount]
bits = 10
train_size = 300
val_size = 200
batch = 50
hidden = 4, 8, 16
lr = 0.001, 0.01, 0.03
epochs = 27
INI
"$prog" slurm "$work/c.ini" -o "$work/c.sbatch" --tasks 2 --cpus-per-task 1 --time 10
submit "$work/c.sbatch"
wait_jobs "$array" "$merge"
python3 - "$work" <<'PY' || fail "the asha search under Slurm (above)"
import csv, glob, sys
w = sys.argv[1]
rows = list(csv.DictReader(open(f"{w}/c.csv")))
ends = {"ok": "27", "stopped": None}
ok = (len(rows) == 18 and len({r["job_id"] for r in rows}) == 18 and
      all(r["status"] in ends for r in rows) and
      all(r["status"] != "ok" or r["epochs_run"] == "27" for r in rows))
tags = {r["search"] for r in rows}
logs = sorted(glob.glob(f"{w}/c.shard-*-search.csv"))
units = []
for f in logs:
    fate = {}
    for r in list(csv.reader(open(f)))[1:]:
        if r[6] in ("done", "stopped"):
            fate.setdefault(r[2], []).append(r[6])
    units.append(len(fate) if all(len(v) == 1 for v in fate.values()) else -1)
print(f"merged: {len(rows)} rows, statuses {sorted({r['status'] for r in rows})}, "
      f"tags {sorted(tags)}; logs {logs}, configurations ended per log {units}")
sys.exit(0 if ok and len(tags) == 2 and "" not in tags and len(logs) == 2 and
         sum(units) == 9 and min(units) >= 1 else 1)
PY
echo "ok: an asha search as 2 tasks: 18 jobs merged once each (ok or stopped), a search per shard, 9 configurations ended in their logs"
