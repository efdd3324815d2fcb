#!/usr/bin/env bash
# serve-share.sh - the server's scheduler across sweeps, whole program, on
# ONE core (taskset) so that the start order is the scheduler's:
#  - a sweep submitted while another runs gets the core as soon as a job
#    ends (fair share by core-seconds), not after the whole first sweep:
#    the first job to start after the server took it in (its "sweep b:"
#    line in the log) is its own, while the first sweep still has jobs
#    queued (on a fast machine a's second job may start before b is in:
#    the test asks what the scheduler does once b is there);
#  - while it runs, the busy cores are counted per sweep;
#  - pausing one sweep drains its running job (back to the queue, resumed
#    later from its checkpoint) while the other goes on; resuming it ends
#    with every job ok;
#  - a sweep whose data cannot be read is paused with the reason in its
#    "error" field, and the rest of the server goes on.
# Skips (77) without curl or taskset.
set -u
bld=${top_builddir:-.}
ls=$bld/lstmsweep
command -v curl >/dev/null 2>&1 || { echo "SKIP: no curl"; exit 77; }
command -v taskset >/dev/null 2>&1 || { echo "SKIP: no taskset"; exit 77; }
t=$(mktemp -d /tmp/ls_share_XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$t"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$t/serve.log" ] && tail -20 "$t/serve.log"; exit 1; }

sweep() { # NAME EPOCHS HIDDEN...
    printf '[sweep]\nname = %s\n[bitcount]\nbits = 12\ntrain_size = 2000\n' "$1" >"$t/$1.ini"
    printf 'batch = 100\nepochs = %s\nhidden = %s\n' "$2" "$3" >>"$t/$1.ini"
}
sweep a 100 "4, 8, 12, 16"
sweep b 30 "5, 6"
sweep slow 1500 "7"
mkdir -p "$t/data/empty"
printf '[sweep]\nname = broken\n[mnist]\ndata = %s/data/empty\nhidden = 4\n' "$t" >"$t/broken.ini"

cpu=$(taskset -pc $$ | sed 's/.*: //; s/[,-].*//')
OMP_NUM_THREADS=1 taskset -c "$cpu" "$ls" serve --state "$t/state" --listen 127.0.0.1:0 \
    --data-root "$t/data" >>"$t/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
    port=$(sed -n 's/^serving on port \([0-9]*\).*/\1/p' "$t/serve.log" | tail -1)
    [ -n "$port" ] && [ -s "$t/state/token" ] && break
    sleep 0.1
done
[ -n "$port" ] || fail "the server did not start"
token=$(cat "$t/state/token")
url=http://127.0.0.1:$port/api/v1
api() { curl -s -m 10 -H "Authorization: Bearer $token" "$@"; }
submit() { api -H 'Content-Type: text/plain' --data-binary "@$t/$1.ini" "$url/sweeps"; }
field() { # SWEEP KEY: a top-level number or string of GET /sweeps/SWEEP
    api "$url/sweeps/$1" | grep -o "\"$2\":[^,}]*" | head -1 | cut -d: -f2- | tr -d '"'
}
wait_for() { # SWEEP KEY VALUE, for up to 2 minutes (the cores may be shared)
    for _ in $(seq 480); do
        [ "$(field "$1" "$2")" = "$3" ] && return 0
        sleep 0.25
    done
    fail "sweep $1: $2 is not $3 ($(api "$url/sweeps/$1"))"
}
start_line() { # CSV N: the server log's line of the n-th of the sweep's jobs to start
    for id in $(tail -n +2 "$1" | cut -d, -f1); do
        grep -n " start $id " "$t/serve.log" | head -1 | cut -d: -f1
    done | sort -n | sed -n "${2}p"
}

# 1. b, submitted while a's first job runs, starts next.
submit a | grep -q '"new_jobs":4' || fail "submit a"
wait_for a busy_cores 1
submit b | grep -q '"new_jobs":2' || fail "submit b"
wait_for a state done
wait_for b state done
api "$url/sweeps/a/results.csv" >"$t/a.csv"
api "$url/sweeps/b/results.csv" >"$t/b.csv"
b_in=$(grep -n " sweep b: " "$t/serve.log" | head -1 | cut -d: -f1)
b1=$(start_line "$t/b.csv" 1) a_last=$(start_line "$t/a.csv" 4)
[ -n "$b_in" ] && [ -n "$b1" ] && [ -n "$a_last" ] || fail "no sweep or start lines in the log"
next=$(awk -v n="$b_in" 'NR > n && / start / { print NR; exit }' "$t/serve.log")
[ "$a_last" -gt "$b_in" ] || fail "a had no job left when b came in (line $b_in): make a longer"
[ "$next" = "$b1" ] || fail "b came in at log line $b_in, but the next job to start (line $next) was not b's (b's first: $b1)"
echo "share: b came in at log line $b_in and its first job was the next to start (line $b1), with a's last still queued (line $a_last)"

# 2. Pausing a sweep drains it; the other runs; resume finishes it.
submit slow | grep -q '"new_jobs":1' || fail "submit slow"
wait_for slow busy_cores 1
api -X POST "$url/sweeps/slow/pause" >/dev/null
wait_for slow busy_cores 0
[ "$(field slow state)" = paused ] || fail "slow is not paused"
grep -q "interrupted" "$t/serve.log" || fail "the paused job did not drain"
sweep c 30 "9"
submit c | grep -q '"new_jobs":1' || fail "submit c"
wait_for c state done
api -X POST "$url/sweeps/slow/resume" >/dev/null
wait_for slow state done
api "$url/sweeps/slow/results.csv" | tail -n +2 | grep -q ',ok,' || fail "slow did not end ok"
echo "share: a paused sweep drained, another ran meanwhile, the resumed one ended ok"

# 3. A sweep that cannot be loaded is paused with the reason.
submit broken | grep -q '"new_jobs":1' || fail "submit broken"
wait_for broken state paused
err=$(api "$url/sweeps/broken" | grep -o '"error":"[^"]*"')
[ -n "$err" ] || fail "broken has no error: $(api "$url/sweeps/broken")"
echo "share: an unreadable sweep was paused with $err"
api "$url/sweeps/a" | grep -q '"state":"done"' || fail "the server stopped answering"

kill -TERM "$pid"; wait "$pid"; rc=$?
pid=
[ "$rc" = 0 ] || fail "the server exited $rc on SIGTERM"
