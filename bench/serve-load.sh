#!/usr/bin/env bash
# serve-load.sh [BUILDDIR] - does serving cost the sweep its cores?  The
# same sweep is run (a) by `lstmsweep run` and (b) by `lstmsweep serve`,
# submitted over HTTP while bench/serve_load loads the server with
# BENCH_SERVE_CLIENTS (100) clients on loopback, BENCH_SERVE_STREAMS (10) of
# them holding event streams, the others polling the sweep's status and
# /metrics with a 100-500 ms think time (see bench/serve_load.c), for as
# long as the sweep runs.  BENCH_SERVE_ROUNDS (3) rounds, alternating which
# of (a) and (b) goes first; the figures are medians, and the ratio is the
# median of the per-round ratios (the machine is shared and noisy).
# `make bench-serve` runs it; it is not part of `make check`.
#
# The sweep: experiments/quick.ini's 24 jobs (bitcount 16 bits H8/H24
# B100/B1000 60 epochs, MNIST 8,000 images H32/H64 1/2 layers 5 epochs,
# seeds 1-3), one thread each, so 2 jobs at once on 2 cores: about 85 s on
# an idle 2-core machine.  BENCH_SERVE_SEEDS="1" runs a third of it (a
# quick try of the script).  It needs data/mnist (`make data`);
# BENCH_SERVE_DATA names another data root.
#
# What is measured, on the wall clock (date +%s.%N, ms resolution):
#   makespan (a)  from launching `lstmsweep run` to its exit;
#   makespan (b)  from sending the POST of the sweep to the first status
#                 poll of serve_load that finds the sweep done (the server
#                 sets "done" when the last job's end is recorded; with ~150
#                 status polls a second the poll lags that by ~10 ms).
# Both thus include reading the sweep, planning it and making its data
# sets; (a) also its process start and exit (milliseconds).  Alongside:
# span = first job start to last job end from the results CSV (start_time
# has 1 s resolution, so this one is +-1 s), and the jobs' summed wall_s
# (the core-seconds the jobs took: how much the server slowed the jobs
# themselves).
#
# And (c), once before the rounds: the load's CPU cost on an idle server
# (see idle_cost below); BENCH_SERVE_ROUNDS=0 measures only that.
#
# Writes BENCH_SERVE_OUT (BUILDDIR/bench/results)/serve_load.csv (a row per
# round and way) and serve_load.md (the summary, also printed).
set -euo pipefail
bld=$(realpath "${1:-.}")
src=$(realpath "$(dirname "$0")/..")
prog=$bld/lstmsweep
load=$bld/bench/serve_load
rounds=${BENCH_SERVE_ROUNDS:-3}
# The 100 clients stand for other machines: here they share the 2 cores, so
# they run at nice 19 by default, and what the makespan measures is the
# server's cost, not theirs (their own CPU is reported apart).
# BENCH_SERVE_LOAD_NICE=0 puts them on equal terms with the jobs.
load_nice=${BENCH_SERVE_LOAD_NICE:-19}
clients=${BENCH_SERVE_CLIENTS:-100}
streams=${BENCH_SERVE_STREAMS:-10}
data=$(realpath "${BENCH_SERVE_DATA:-$src/data}")
out=${BENCH_SERVE_OUT:-$bld/bench/results}
seeds=${BENCH_SERVE_SEEDS:-1, 2, 3}
idle_s=${BENCH_SERVE_IDLE_S:-60}
[ -x "$load" ] || { echo "serve-load: build $load first (make bench/serve_load)" >&2; exit 2; }
[ -f "$data/mnist/train-images-idx3-ubyte" ] || [ -f "$data/mnist/train-images-idx3-ubyte.gz" ] ||
    { echo "serve-load: no MNIST under $data/mnist (make data)" >&2; exit 2; }
command -v curl >/dev/null || { echo "serve-load: needs curl" >&2; exit 2; }
mkdir -p "$out"
work=$(mktemp -d /tmp/ls_serveload_XXXXXX)
spid=
trap '{ [ -n "$spid" ] && kill -9 "$spid"; } 2>/dev/null || true; rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1

cat >"$work/load.ini" <<INI
[sweep]
name = load
seeds = $seeds
threads_per_job = 1
[bitcount]
bits = 16
train_size = 10000
hidden = 8, 24
batch = 100, 1000
epochs = 60
[mnist]
data = $data/mnist
train_size = 8000
eval_every = 5
hidden = 32, 64
layers = 1, 2
epochs = 5
INI
njobs=$((8 * $(echo "$seeds" | tr ',' '\n' | grep -c .)))

now() { date +%s.%N; }
# CSV -> "span_s wall_sum_s rows"
csv_facts() {
    local f=$1 h cs cw
    h=$(head -1 "$f")
    cs=$(echo "$h" | tr ',' '\n' | grep -nx start_time | cut -d: -f1)
    cw=$(echo "$h" | tr ',' '\n' | grep -nx wall_s | cut -d: -f1)
    # (one thread per job: no quoted "0,1" cpus field shifts the columns)
    tail -n +2 "$f" | awk -F, -v cs="$cs" -v cw="$cw" '{print $cs, $cw}' | while read -r st w; do
        echo "$(date -u -d "$st" +%s) $w"
    done | awk '{s = $1; e = $1 + $2; if (NR == 1 || s < lo) lo = s; if (e > hi) hi = e;
                 sum += $2} END {printf "%.1f %.2f %d\n", hi - lo, sum, NR}'
}

run_a() { # ROUND
    local t0 t1
    t0=$(now)
    "$prog" run "$work/load.ini" --quiet --set "sweep.results=$work/a$1.csv" 2>"$work/a$1.log"
    t1=$(now)
    read -r span wsum rows < <(csv_facts "$work/a$1.csv")
    [ "$rows" = "$njobs" ] || { echo "serve-load: run wrote $rows rows" >&2; exit 1; }
    echo "$1,run,$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}'),$span,$wsum$(printf ',%.0s' $(seq 13))" \
        >>"$out/serve_load.csv"
    echo "round $1 (a) run:   $(tail -1 "$out/serve_load.csv" | cut -d, -f3) s"
}

start_server() { # STATE
    "$prog" serve --state "$1" --listen 127.0.0.1:0 --data-root "$data" --max-connections 256 \
        >"$1.log" 2>&1 &
    spid=$!
    port=
    for _ in $(seq 100); do
        port=$(sed -n 's/^serving on port \([0-9]*\).*/\1/p' "$1.log")
        [ -n "$port" ] && [ -s "$1/token" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { echo "serve-load: the server did not start" >&2; cat "$1.log" >&2; exit 1; }
}

run_b() { # ROUND
    local st=$work/b$1 t0 line done_at
    start_server "$st"
    t0=$(now)
    curl -sf -m 10 -H "Authorization: Bearer $(cat "$st/token")" -H 'Content-Type: text/plain' \
        --data-binary "@$work/load.ini" "http://127.0.0.1:$port/api/v1/sweeps" >/dev/null
    nice -n "$load_nice" "$load" --url "http://127.0.0.1:$port" --token-file "$st/token" --sweep load \
        --clients "$clients" --streams "$streams" --duration 1800 --until-done >"$work/b$1.load"
    line=$(grep '^serve_load: requests=' "$work/b$1.load")
    done_at=$(echo "$line" | sed -n 's/.* done_at=\([0-9.]*\).*/\1/p')
    curl -sf -m 30 -H "Authorization: Bearer $(cat "$st/token")" \
        "http://127.0.0.1:$port/api/v1/sweeps/load/results.csv" >"$work/b$1.csv"
    kill -TERM "$spid"; wait "$spid" || true
    spid=
    read -r span wsum rows < <(csv_facts "$work/b$1.csv")
    [ "$rows" = "$njobs" ] || { echo "serve-load: serve exported $rows rows" >&2; exit 1; }
    # requests failures events status p50 p90 p99 max, metrics p50 p90 p99 max, events-ttfb p50
    k() { echo "$line" | sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
    echo "$1,serve,$(awk -v a="$t0" -v b="$done_at" 'BEGIN {printf "%.3f", b - a}'),$span,$wsum,$(k requests),$(k failures),$(k events),$(k status_p50_ms),$(k status_p90_ms),$(k status_p99_ms),$(k status_max_ms),$(k metrics_p50_ms),$(k metrics_p90_ms),$(k metrics_p99_ms),$(k metrics_max_ms),$(k events_p50_ms),$(k cpu_s)" \
        >>"$out/serve_load.csv"
    echo "round $1 (b) serve: $(tail -1 "$out/serve_load.csv" | cut -d, -f3) s under load:"
    sed 's/^/    /' "$work/b$1.load" | grep -v '^    serve_load: requests='
}

# (c) What the load itself costs the server, free of the machine's noise:
# the same load on an idle server (its one sweep, a single tiny job, done)
# for BENCH_SERVE_IDLE_S seconds, and the server's CPU time (utime + stime
# of /proc/PID/stat) over that time.  On C cores, a server using a share u
# of one core leaves the jobs about u / C less: the expected makespan cost.
idle_cost() {
    local st=$work/idle s0 s1 t0 t1 tck
    start_server "$st"
    printf '[sweep]\nname = idle\n[bitcount]\nbits = 4\ntrain_size = 8\nepochs = 1\nhidden = 4\n' \
        >"$work/idle.ini"
    curl -sf -m 10 -H "Authorization: Bearer $(cat "$st/token")" -H 'Content-Type: text/plain' \
        --data-binary "@$work/idle.ini" "http://127.0.0.1:$port/api/v1/sweeps" >/dev/null
    for _ in $(seq 100); do
        curl -s -m 10 -H "Authorization: Bearer $(cat "$st/token")" \
            "http://127.0.0.1:$port/api/v1/sweeps/idle" | grep -q '"state":"done"' && break
        sleep 0.1
    done
    tck=$(getconf CLK_TCK)
    cpu() { awk -v t="$tck" '{printf "%.2f", ($14 + $15) / t}' "/proc/$spid/stat"; }
    s0=$(cpu); t0=$(now)
    "$load" --url "http://127.0.0.1:$port" --token-file "$st/token" --sweep idle \
        --clients "$clients" --streams "$streams" --duration "$idle_s" >"$work/idle.load"
    s1=$(cpu); t1=$(now)
    kill -TERM "$spid"; wait "$spid" || true
    spid=
    awk -v s0="$s0" -v s1="$s1" -v t0="$t0" -v t1="$t1" -v c="$(env -u OMP_NUM_THREADS nproc)" \
        -v l="$(sed -n 's/.* cpu_s=\([0-9.]*\).*/\1/p' "$work/idle.load")" \
        -v r="$(sed -n 's/.* requests=\([0-9]*\) failures=\([0-9]*\).*/\1 requests, \2 failures/p' "$work/idle.load")" \
        'BEGIN {u = (s1 - s0) / (t1 - t0)
                printf "The same load on an idle server for %.0f s (%s): the server used %.2f s of CPU, %.1f%% of one core; on %d cores that leaves the jobs %.2f%% less (the expected makespan cost). serve_load itself used %.2f s.\n", t1 - t0, r, s1 - s0, 100 * u, c, 100 * u / c, l}' \
        >"$work/idle.txt"
}

echo "round,way,makespan_s,csv_span_s,jobs_wall_sum_s,requests,failures,events,status_p50_ms,status_p90_ms,status_p99_ms,status_max_ms,metrics_p50_ms,metrics_p90_ms,metrics_p99_ms,metrics_max_ms,events_first_byte_p50_ms,load_cpu_s" \
    >"$out/serve_load.csv"
idle_cost
for r in $(seq "$rounds"); do
    if [ $((r % 2)) = 1 ]; then run_a "$r"; run_b "$r"; else run_b "$r"; run_a "$r"; fi
done

# Medians over the rounds; ratios per round first.
awk -F, -v rounds="$rounds" -v njobs="$njobs" -v clients="$clients" -v streams="$streams" '
function median(a, n,   i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
NR > 1 && $2 == "run"   { am[$1] = $3; as[$1] = $4; aw[$1] = $5 }
NR > 1 && $2 == "serve" { bm[$1] = $3; bs[$1] = $4; bw[$1] = $5; req[$1] = $6; fl[$1] = $7; ev[$1] = $8
                          for (c = 9; c <= 18; c++) f[c, $1] = $c }
END {
    for (r = 1; r <= rounds; r++) {
        x[r] = am[r]; y[r] = bm[r]; q[r] = bm[r] / am[r]; s1[r] = as[r]; s2[r] = bs[r]
        w1[r] = aw[r]; w2[r] = bw[r]; qw[r] = bw[r] / aw[r]; qs[r] = bs[r] / as[r]
        lo = (r == 1 || q[r] < lo) ? q[r] : lo; hi = (r == 1 || q[r] > hi) ? q[r] : hi
        rr[r] = req[r]; ff[r] = fl[r]; ee[r] = ev[r]
        rounds_txt = rounds_txt sprintf("%s%.3f", r > 1 ? ", " : "", q[r])
    }
    printf "Serve under load: the same %d-job sweep by `lstmsweep run` and by `lstmsweep serve` with %d clients (%d event streams); medians of %d rounds, ratios the medians of the per-round ratios.\n\n", njobs, clients, streams, rounds
    printf "| | run | serve under load | serve / run |\n|---|---:|---:|---:|\n"
    printf "| makespan s (handed over to last job ended) | %.2f | %.2f | %.4f (rounds: %s) |\n", median(x, rounds), median(y, rounds), median(q, rounds), rounds_txt
    printf "| first job start to last job end s (CSV, +-1 s) | %.1f | %.1f | %.4f |\n", median(s1, rounds), median(s2, rounds), median(qs, rounds)
    printf "| jobs summed wall s | %.1f | %.1f | %.4f |\n\n", median(w1, rounds), median(w2, rounds), median(qw, rounds)
    for (c = 9; c <= 18; c++) { for (r = 1; r <= rounds; r++) t[r] = f[c, r]; m[c] = median(t, rounds) }
    printf "Load (medians over the rounds): %d requests per round, %d failures, %d events received; serve_load used %.2f s of CPU.\n\n", median(rr, rounds), median(ff, rounds), median(ee, rounds), m[18]
    printf "| endpoint | p50 ms | p90 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|\n"
    printf "| GET /api/v1/sweeps/load | %.2f | %.2f | %.2f | %.2f |\n", m[9], m[10], m[11], m[12]
    printf "| GET /metrics | %.2f | %.2f | %.2f | %.2f |\n", m[13], m[14], m[15], m[16]
    printf "| GET /api/v1/events (first byte) | %.2f | | | |\n", m[17]
}' "$out/serve_load.csv" >"$out/serve_load.md"
[ "$rounds" -gt 0 ] || : >"$out/serve_load.md"
{ echo; cat "$work/idle.txt"; } >>"$out/serve_load.md"
cat "$out/serve_load.md"
