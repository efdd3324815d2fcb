#!/usr/bin/env bash
# slurm-script.sh - the sbatch script `lstmsweep slurm` writes, run without
# Slurm: its task role once per shard (as the array tasks would, with
# SLURM_ARRAY_TASK_ID set), then its merge role, which must write the
# sweep's results file (one row per job) and its curves file (rows for
# every job, one per job and epoch, the later of two rows of an epoch
# kept).  Needs no cluster: tests/slurm-integration.sh runs the same script
# through a real one.
set -uo pipefail
prog=$(realpath "${top_builddir:-.}/lstmsweep")
t=$(mktemp -d /tmp/ls_sscript_XXXXXX)
trap 'rm -rf "$t"' EXIT
pass=0
fail=0

# ok WHAT CMD...: one check
ok() {
    local what=$1
    shift
    if "$@"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $what" >&2
    fi
}

# the distinct values of column NAME of CSV (data rows), sorted
column() {
    local c
    c=$(head -1 "$2" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1)
    tail -n +2 "$2" | cut -d, -f"$c" | sort -u
}

cat > "$t/s.ini" <<INI
[sweep]
name = s
results = $t/out/s.csv
seeds = 1, 2
[bitcount]
bits = 6
train_size = 40
batch = 20
hidden = 4, 8
epochs = 3
INI
"$prog" slurm "$t/s.ini" -o "$t/s.sbatch" --tasks 2 2>/dev/null
ok "the script is valid bash" bash -n "$t/s.sbatch"
for k in 0 1; do
    SLURM_ARRAY_TASK_ID=$k bash "$t/s.sbatch" task 0 >"$t/task$k.log" 2>&1
    ok "task $k runs its shard" test $? = 0
done
bash "$t/s.sbatch" merge 2>"$t/merge.log"
ok "the merge role succeeds" test $? = 0
res=$t/out/s.csv
cur=$t/out/s-curves.csv
ok "results: one row per job" test "$(tail -n +2 "$res" | wc -l)" = 4 -a \
    "$(column job_id "$res" | wc -l)" = 4
ok "curves: merged into results/<name>-curves.csv" test -s "$cur"
ok "curves: the curves header" test "$(head -1 "$cur")" = \
    "job_id,epoch,train_loss,train_error,val_error,test_error,elapsed_s"
ok "curves: rows for every job of the results" \
    test "$(column job_id "$cur" 2>/dev/null)" = "$(column job_id "$res")"
ok "curves: one row per job and epoch, 3 epochs each" \
    test "$(tail -n +2 "$cur" | cut -d, -f1,2 | sort -u | wc -l)" = 12 -a \
    "$(tail -n +2 "$cur" | wc -l)" = 12

# a job resumed from a checkpoint older than its last epoch trains epoch 2
# again, appending a second row for it: the later row is the one kept
shard0=$t/out/s.shard-0000-curves.csv
id=$(awk -F, '$2 == 2 { print $1; exit }' "$shard0")
echo "$id,2,9.5,0.5,,,1.000" >> "$shard0"
bash "$t/s.sbatch" merge 2>"$t/merge2.log"
ok "curves: a repeated epoch keeps the later row" \
    test "$(grep -c "^$id,2," "$cur")" = 1 -a "$(grep "^$id,2," "$cur")" = "$id,2,9.5,0.5,,,1.000"
ok "curves: the merge says one repeated row was dropped" \
    grep -q "1 repeated epoch row(s) dropped" "$t/merge2.log"

if [ "$fail" != 0 ]; then
    for f in "$t"/*.log; do echo "--- $f"; cat "$f"; done >&2
fi
echo "slurm-script: $pass passed, $fail failed"
[ "$fail" = 0 ]
