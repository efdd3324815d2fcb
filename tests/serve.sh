#!/usr/bin/env bash
# serve.sh - the experiment server end to end, on loopback: two sweeps of
# small jobs of both tasks (bitcount, and mnist on a few hundred images
# when data/mnist is there), one submitted with curl and one with
# `lstmsweep submit`, the server killed with kill -9 at 10 random moments
# and restarted each time on the same state directory; at the end every
# job of both sweeps has exactly one row, all ok, and each sweep's exported
# CSV (curl, and `lstmsweep fetch`) holds the same job ids and statuses as
# `lstmsweep run` of the same sweep file.  LS_SERVE_SEED replays the kill
# timings.  Skips (77) without curl; without MNIST data it runs bitcount
# only and says so.
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
kills=10

# MNIST as `make data` leaves it (plain or gzipped IDX files)
mnist=
for d in "$bld/data/mnist" "${top_srcdir:-.}/data/mnist"; do
    if [ -e "$d/train-images-idx3-ubyte" ] || [ -e "$d/train-images-idx3-ubyte.gz" ]; then
        mnist=$(cd "$d" && pwd -P); break
    fi
done
[ -n "$mnist" ] || echo "serve test: no data/mnist (make data): bitcount jobs only"

sweep() { # NAME HIDDEN MNIST_HIDDEN: 2 seeds x the hidden sizes, about a second each
    printf '[sweep]\nname = %s\nseeds = 1, 2\n[bitcount]\nbits = 12\ntrain_size = 2000\n' "$1" >"$t/$1.ini"
    printf 'batch = 100\nepochs = 80\nhidden = %s\n' "$2" >>"$t/$1.ini"
    [ -n "$mnist" ] && printf '[mnist]\ndata = %s\ntrain_size = 300\nbatch = 100\nepochs = 3\nhidden = %s\n' \
        "$mnist" "$3" >>"$t/$1.ini"
}
sweep a "4, 8, 12, 16, 20, 24" "8, 16"
sweep b "5, 6, 7, 9, 10, 11" "12, 20"
njobs=$([ -n "$mnist" ] && echo 16 || echo 12)

# The port comes from STATE/server.url, which each start rewrites (a
# killed server's stays behind: removed first, so we wait for the new one).
start() {
    rm -f "$t/state/server.url"
    OMP_NUM_THREADS=1 "$ls" serve --state "$t/state" --listen 127.0.0.1:0 \
        --data-root "$t" ${mnist:+--data-root "$(dirname "$mnist")"} >>"$t/serve.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        [ -s "$t/state/server.url" ] && [ -s "$t/state/token" ] && break
        sleep 0.1
    done
    url=$(cat "$t/state/server.url" 2>/dev/null)
    [ -n "$url" ] || fail "the server did not start"
    token=$(cat "$t/state/token")
}
api() { curl -s -m 10 -H "Authorization: Bearer $token" "$@"; }

start
out=$(api -H 'Content-Type: text/plain' --data-binary "@$t/a.ini" "$url/api/v1/sweeps")
case $out in *"\"new_jobs\":$njobs"*) ;; *) fail "submit a with curl: $out" ;; esac
out=$("$ls" submit --state "$t/state" "$t/b.ini" 2>&1)
case $out in "b: $njobs jobs, $njobs new"*) ;; *) fail "lstmsweep submit b: $out" ;; esac
for k in $(seq $kills); do
    sleep "$((RANDOM % 3)).$((RANDOM % 10))"
    kill -9 "$pid"; wait "$pid" 2>/dev/null
    : >"$t/serve.log"
    start
    echo "kill -9 number $k; restarted: $(grep -o 'requeued [0-9]* jobs' "$t/serve.log" || echo 'nothing to requeue')"
done
for _ in $(seq 300); do
    done_a=$(api "$url/api/v1/sweeps/a" | grep -c '"state":"done"')
    done_b=$(api "$url/api/v1/sweeps/b" | grep -c '"state":"done"')
    [ "$done_a$done_b" = 11 ] && break
    sleep 0.5
done
[ "$done_a$done_b" = 11 ] || fail "the sweeps did not finish"

# Exactly one row per job, all ok, and the ids of `run` on the same files.
api "$url/api/v1/sweeps/a/results.csv" >"$t/a.served.csv"
"$ls" fetch --state "$t/state" b -o "$t/b.served.csv" 2>/dev/null || fail "lstmsweep fetch b"
for s in a b; do
    st=$(head -1 "$t/$s.served.csv" | tr ',' '\n' | grep -nx status | cut -d: -f1)
    tail -n +2 "$t/$s.served.csv" | cut -d, -f1,"$st" | sort >"$t/$s.served"
    [ "$(wc -l <"$t/$s.served")" = "$njobs" ] || fail "$s: $(wc -l <"$t/$s.served") rows, not $njobs"
    [ "$(cut -d, -f1 "$t/$s.served" | sort -u | wc -l)" = "$njobs" ] || fail "$s: a job twice"
    grep -qv ',ok$' "$t/$s.served" && fail "$s: a job not ok: $(grep -v ',ok$' "$t/$s.served")"
    OMP_NUM_THREADS=1 "$ls" run "$t/$s.ini" --quiet --set "sweep.results=$t/$s.run.csv" \
        >/dev/null 2>&1 || fail "run $s"
    tail -n +2 "$t/$s.run.csv" | cut -d, -f1,"$st" | sort >"$t/$s.ran"
    cmp -s "$t/$s.served" "$t/$s.ran" || fail "$s: served and run differ: $(diff "$t/$s.served" "$t/$s.ran")"
done
kill -TERM "$pid"; wait "$pid"; rc=$?
pid=
[ "$rc" = 0 ] || fail "the server exited $rc on SIGTERM"
echo "serve: 2 sweeps of $njobs jobs$([ -n "$mnist" ] && echo ' (bitcount and mnist)') through $kills kill -9 restarts: every job once, ok, the ids of run"
