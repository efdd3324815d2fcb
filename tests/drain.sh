#!/bin/sh
# drain.sh - `lstmsweep run` drains at the next training step, not at the
# end of an epoch, and a job's checkpoint outlives a failed results append.
#
# 1. One bitcount job whose single epoch takes ~45 s (train_size picked
#    from a short calibration run's speed) gets SIGUSR1, then SIGTERM 1 s
#    later: the run must exit within 10 s with status 3, the job's row
#    "interrupted" in the middle of its epoch, its checkpoint on disk; the
#    rerun must finish it with the train_loss, train_error and test_error
#    of an uninterrupted run of the same job (run alongside, 1 thread each).
# 2. A small job interrupted by SIGTERM is rerun with the results file
#    unable to grow (prlimit --fsize): the job finishes but its row cannot
#    be appended, so its checkpoint must still be there; the next rerun
#    finishes it from the checkpoint, then removes it.
# Needs the built ./lstmsweep; prints timings for diagnosis.
set -u
prog=${top_builddir:-.}/lstmsweep
[ -x "$prog" ] || { echo "no $prog: build it first"; exit 77; }
dir=$(mktemp -d /tmp/ls_drain_XXXXXX)
trap 'rm -rf "$dir"' EXIT

ms() { echo $(( $(date +%s%N) / 1000000 )); }
t0=$(ms)
say() { echo "[$(( ($(ms) - t0) / 1000 )).$(( ($(ms) - t0) % 1000 / 100 ))s] $*"; }
fail() {
    echo "FAIL: $*"
    for f in "$dir"/*.log "$dir"/*[!s].csv; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done
    exit 1
}

# Field NAME of line LINE (2: the first row) of a results CSV.
col() {
    awk -F, -v name="$2" -v line="$3" \
        'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i }
         NR == line { print $c }' "$1"
}

# The sweep NAME: one bitcount job of BITS bits, TRAIN_SIZE strings, batch
# BATCH, hidden HIDDEN, EPOCHS epochs; curves to CURVES if given.
sweep() {
    cat > "$dir/$1.ini" <<EOF
[sweep]
name = $1
results = $dir/$1.csv
${7:+curves = $7}
[bitcount]
bits = $2
train_size = $3
batch = $4
hidden = $5
epochs = $6
EOF
}

run() { # run NAME [ARGS]: in the background, output in NAME.log
    name=$1
    shift
    "$prog" run "$dir/$name.ini" --threads-per-job 1 --checkpoint-every 0 "$@" \
        >> "$dir/$name.log" 2>&1 &
}

wait_started() { # until NAME.log shows the job started (at most 60 s)
    for i in $(seq 600); do
        grep -q "^.*start " "$dir/$1.log" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "$1: the job never started"
}

ckpts() { find "$dir/$1.ckpt" -name '*.ckpt' -type f 2>/dev/null | wc -l; }

rerun_to_end() { # rerun NAME: it finishes its job, whose checkpoint then goes
    run "$1"
    wait $!
    rc=$?
    say "$1: rerun exit status $rc"
    [ $rc -eq 0 ] || fail "$1 rerun: exit status $rc"
    [ "$(col "$dir/$1.csv" status 3)" = ok ] || fail "$1 rerun: the job did not finish"
    [ "$(ckpts "$1")" -eq 0 ] || fail "$1: the checkpoint was not removed once the row was written"
}

same_results() { # same_results A.csv LINE B.csv LINE
    for c in train_loss train_error test_error; do
        a=$(col "$1" $c "$2")
        b=$(col "$3" $c "$4")
        echo "  $c: $a vs $b"
        [ -n "$a" ] && [ "$a" = "$b" ] || fail "$c differs: $a vs $b"
    done
}

# ---- 1. drain in the middle of a long epoch ----
# Two calibration runs at once, as the two jobs below will run.
for i in 1 2; do
    "$prog" train --task bitcount --bits 20 --train-size 20000 --hidden 24 --batch 1 \
        --epochs 1 --threads 1 --quiet --results "$dir/cal.csv" 2>>"$dir/cal.log" &
done
wait
[ "$(wc -l < "$dir/cal.csv")" -eq 3 ] || fail "calibration runs"
sps=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "samples_per_s") c = i }
               NR > 1 && (s == "" || $c < s) { s = $c } END { print s }' "$dir/cal.csv")
n=$(awk -v s="$sps" 'BEGIN { n = int(s * 60); if (n > 1040000) n = 1040000;
                            if (n < 20000) n = 20000; print n }')
say "calibration: $sps samples/s on one thread: train_size $n for a ~60 s epoch (at least 20 s even if the machine gets 3x faster meanwhile)"
sweep long 20 "$n" 1 24 1
sweep ref 20 "$n" 1 24 1
run ref --quiet
ref_pid=$!
run long
pid=$!
wait_started long
sleep 3
say "SIGUSR1"
kill -USR1 $pid
t_usr1=$(ms)
sleep 1
say "SIGTERM"
kill -TERM $pid 2>/dev/null || say "(it had exited already)"
t_term=$(ms)
wait $pid
rc=$?
t_exit=$(ms)
say "exit status $rc, $(( t_exit - t_usr1 )) ms after SIGUSR1, $(( t_exit - t_term )) ms after SIGTERM"
[ $rc -eq 3 ] || fail "exit status $rc, expected 3 (stopped early)"
[ $(( t_exit - t_term )) -le 10000 ] || fail "the drain took more than 10 s"
[ "$(col "$dir/long.csv" status 2)" = interrupted ] || fail "the row is not 'interrupted'"
say "row: $(col "$dir/long.csv" message 2)"
grep -q "interrupted in epoch 1 after" "$dir/long.csv" || fail "not stopped inside the epoch"
[ "$(ckpts long)" -eq 1 ] || fail "no checkpoint after the drain"
rerun_to_end long
wait $ref_pid
rc=$?
say "uninterrupted run exit status $rc; its epoch trained for $(col "$dir/ref.csv" train_s 2) s"
[ $rc -eq 0 ] || fail "uninterrupted run: exit status $rc"
same_results "$dir/long.csv" 3 "$dir/ref.csv" 2
# Before the drain stopped at the next step, it waited for the end of the
# epoch: the test shows that only if the epoch outlasts the 10 s bound.
awk -v t="$(col "$dir/ref.csv" train_s 2)" 'BEGIN { exit !(t >= 20) }' ||
    fail "the epoch took under 20 s: too short to tell a drain at the next step from one at the epoch's end"

# ---- 2. a failed results append keeps the checkpoint ----
command -v prlimit >/dev/null 2>&1 || { say "no prlimit: part 2 skipped"; exit 0; }
sweep small 10 500 10 8 400 /dev/null # only the results file may not grow
sweep smallref 10 500 10 8 400
run smallref --quiet
sref_pid=$!
run small
pid=$!
wait_started small
sleep 1
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 3 ] && [ "$(ckpts small)" -eq 1 ] || fail "small: status $rc, $(ckpts small) checkpoints"
size=$(wc -c < "$dir/small.csv")
say "small job interrupted; rerun with files limited to $size bytes"
trap '' XFSZ # a write past the limit fails with EFBIG instead of killing
prlimit --fsize="$size" "$prog" run "$dir/small.ini" --threads-per-job 1 \
    --checkpoint-every 0 --quiet 2>&1 | cat >> "$dir/small.log"
[ "$(wc -c < "$dir/small.csv")" -eq "$size" ] || fail "small: the row was appended"
grep -q "cannot append" "$dir/small.log" || fail "small: the append did not fail"
[ "$(ckpts small)" -eq 1 ] || fail "small: the checkpoint is gone after a failed append"
say "checkpoint kept after the failed append"
rerun_to_end small
wait $sref_pid || fail "small uninterrupted run failed"
same_results "$dir/small.csv" 3 "$dir/smallref.csv" 2
say "ok"
