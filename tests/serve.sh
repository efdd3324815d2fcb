#!/usr/bin/env bash
# serve.sh - the experiment server end to end, on loopback: two sweeps of
# small bitcount jobs submitted over HTTP, the server killed with kill -9
# at random moments and restarted each time on the same state directory;
# at the end every job of both sweeps has exactly one row, all ok, and each
# sweep's exported CSV holds the same job ids and statuses as `lstmsweep
# run` of the same sweep file.  LS_SERVE_SEED replays the kill timings.
# Skips (77) without curl.
set -u
bld=${top_builddir:-.}
ls=$bld/lstmsweep
command -v curl >/dev/null 2>&1 || { echo "SKIP: no curl"; exit 77; }
t=$(mktemp -d /tmp/ls_serve_XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$t"; }
trap cleanup EXIT
seed=${LS_SERVE_SEED:-$RANDOM}
RANDOM=$seed
echo "serve test: seed $seed (LS_SERVE_SEED to replay)"
fail() { echo "FAIL: $*"; [ -f "$t/serve.log" ] && tail -20 "$t/serve.log"; exit 1; }

sweep() { # NAME HIDDEN...: 2 seeds x the hidden sizes, a second or two each
    printf '[sweep]\nname = %s\nseeds = 1, 2\n[bitcount]\nbits = 12\ntrain_size = 2000\n' "$1" >"$t/$1.ini"
    printf 'batch = 100\nepochs = 40\nhidden = %s\n' "$2" >>"$t/$1.ini"
}
sweep a "4, 8, 12, 16, 20, 24"
sweep b "5, 6, 7, 9, 10, 11"

start() {
    OMP_NUM_THREADS=1 "$ls" serve --state "$t/state" --listen 127.0.0.1:0 \
        --data-root "$t" >>"$t/serve.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        port=$(sed -n 's/^serving on port \([0-9]*\).*/\1/p' "$t/serve.log" | tail -1)
        [ -n "$port" ] && [ -s "$t/state/token" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || fail "the server did not start"
    token=$(cat "$t/state/token")
}
api() { curl -s -m 10 -H "Authorization: Bearer $token" "$@"; }

start
for s in a b; do
    out=$(api -H 'Content-Type: text/plain' --data-binary "@$t/$s.ini" \
          "http://127.0.0.1:$port/api/v1/sweeps")
    case $out in *'"new_jobs":12'*) ;; *) fail "submit $s: $out" ;; esac
done
for k in 1 2 3 4 5; do
    sleep "$((RANDOM % 3)).$((RANDOM % 10))"
    kill -9 "$pid"; wait "$pid" 2>/dev/null
    : >"$t/serve.log"
    start
    echo "kill -9 number $k; restarted: $(grep -o 'requeued [0-9]* jobs' "$t/serve.log" || echo 'nothing to requeue')"
done
for _ in $(seq 300); do
    done_a=$(api "http://127.0.0.1:$port/api/v1/sweeps/a" | grep -c '"state":"done"')
    done_b=$(api "http://127.0.0.1:$port/api/v1/sweeps/b" | grep -c '"state":"done"')
    [ "$done_a$done_b" = 11 ] && break
    sleep 0.5
done
[ "$done_a$done_b" = 11 ] || fail "the sweeps did not finish"

# Exactly one row per job, all ok, and the ids of `run` on the same files.
for s in a b; do
    api "http://127.0.0.1:$port/api/v1/sweeps/$s/results.csv" >"$t/$s.served.csv"
    st=$(head -1 "$t/$s.served.csv" | tr ',' '\n' | grep -nx status | cut -d: -f1)
    tail -n +2 "$t/$s.served.csv" | cut -d, -f1,"$st" | sort >"$t/$s.served"
    [ "$(wc -l <"$t/$s.served")" = 12 ] || fail "$s: $(wc -l <"$t/$s.served") rows, not 12"
    [ "$(cut -d, -f1 "$t/$s.served" | sort -u | wc -l)" = 12 ] || fail "$s: a job twice"
    grep -qv ',ok$' "$t/$s.served" && fail "$s: a job not ok: $(grep -v ',ok$' "$t/$s.served")"
    OMP_NUM_THREADS=1 "$ls" run "$t/$s.ini" --quiet --set "sweep.results=$t/$s.run.csv" \
        >/dev/null 2>&1 || fail "run $s"
    tail -n +2 "$t/$s.run.csv" | cut -d, -f1,"$st" | sort >"$t/$s.ran"
    cmp -s "$t/$s.served" "$t/$s.ran" || fail "$s: served and run differ: $(diff "$t/$s.served" "$t/$s.ran")"
done
kill -TERM "$pid"; wait "$pid"; rc=$?
pid=
[ "$rc" = 0 ] || fail "the server exited $rc on SIGTERM"
echo "serve: 2 sweeps of 12 jobs through 5 kill -9 restarts: every job once, ok, the ids of run"
