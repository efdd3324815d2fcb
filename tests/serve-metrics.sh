#!/usr/bin/env bash
# serve-metrics.sh - GET /metrics of a running server passes
# `promtool check metrics` (the text format parses, and Prometheus' lint
# finds nothing: HELP and TYPE for every family, counters end in _total,
# base units) at three moments: idle, with a job running, and after the
# sweep; and it carries the issue's metric set (queue depth, running jobs,
# busy and total cores, jobs finished by status as counters, training
# samples per second, per-sweep progress) with labels by sweep, state and
# status only, never by job.  The values are checked too: the queue and the
# running jobs while busy, the finished counters after.
# Skips (77) without curl or promtool (Debian: the prometheus package,
# `scripts/install-deps --server-tools`).
set -u
bld=${top_builddir:-.}
ls=$bld/lstmsweep
command -v curl >/dev/null 2>&1 || { echo "SKIP: no curl"; exit 77; }
command -v promtool >/dev/null 2>&1 || {
    echo "SKIP: no promtool (Debian: apt-get install prometheus, or scripts/install-deps --server-tools)"
    exit 77
}
t=$(mktemp -d /tmp/ls_metrics_XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$t"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$t/serve.log" ] && tail -20 "$t/serve.log"; exit 1; }

# 6 small bitcount jobs, a second or two each on one core.
printf '[sweep]\nname = m1\nseeds = 1, 2\n[bitcount]\nbits = 12\ntrain_size = 2000\n' >"$t/m1.ini"
printf 'batch = 100\nepochs = 40\nhidden = 8, 12, 16\n' >>"$t/m1.ini"

OMP_NUM_THREADS=1 "$ls" serve --state "$t/state" --listen 127.0.0.1:0 --data-root "$t" \
    >"$t/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
    port=$(sed -n 's/^serving on port \([0-9]*\).*/\1/p' "$t/serve.log")
    [ -n "$port" ] && [ -s "$t/state/token" ] && break
    sleep 0.1
done
[ -n "$port" ] || fail "the server did not start"
token=$(cat "$t/state/token")
api() { curl -s -m 10 -H "Authorization: Bearer $token" "$@"; }
value() { sed -n "s/^$1 //p" "$t/$2.prom"; }   # METRIC-WITH-LABELS MOMENT

checks=0
# Fetch /metrics as MOMENT.prom and lint it: promtool must exit 0 and say nothing.
scrape() {
    api -o "$t/$1.prom" -w '%{http_code} %{content_type}\n' "http://127.0.0.1:$port/metrics" \
        >"$t/$1.code" || fail "$1: GET /metrics failed"
    case $(cat "$t/$1.code") in
    "200 text/plain; version=0.0.4"*) ;;
    *) fail "$1: GET /metrics answered $(cat "$t/$1.code")" ;;
    esac
    promtool check metrics <"$t/$1.prom" >"$t/$1.lint" 2>&1
    rc=$?
    [ "$rc" = 0 ] && [ ! -s "$t/$1.lint" ] ||
        fail "$1: promtool check metrics exited $rc: $(cat "$t/$1.lint")"
    # Labels by sweep, state and status only (a label per job would be a
    # series per job).
    labels=$(grep -v '^#' "$t/$1.prom" | grep -o '[a-z_]*="' | tr -d '="' | sort -u | tr '\n' ' ')
    for l in $labels; do
        case $l in sweep|state|status) ;; *) fail "$1: a label '$l'" ;; esac
    done
    for m in lstmsweep_queued_jobs lstmsweep_running_jobs lstmsweep_cores lstmsweep_cores_busy \
             lstmsweep_train_samples_per_second; do
        grep -q "^# TYPE $m gauge$" "$t/$1.prom" || fail "$1: no gauge $m"
    done
    grep -q '^# TYPE lstmsweep_jobs_finished_total counter$' "$t/$1.prom" ||
        fail "$1: no counter lstmsweep_jobs_finished_total"
    for s in ok diverged failed; do
        grep -q "^lstmsweep_jobs_finished_total{status=\"$s\"} " "$t/$1.prom" ||
            fail "$1: no lstmsweep_jobs_finished_total{status=\"$s\"}"
    done
    [ "$(value lstmsweep_cores "$1")" -ge 1 ] || fail "$1: lstmsweep_cores $(value lstmsweep_cores "$1")"
    checks=$((checks + 1))
    echo "$1: promtool check metrics: clean ($(grep -vc '^#' "$t/$1.prom") samples)"
}

scrape idle
[ "$(value lstmsweep_queued_jobs idle)" = 0 ] || fail "idle: queued $(value lstmsweep_queued_jobs idle)"

out=$(api -H 'Content-Type: text/plain' --data-binary "@$t/m1.ini" "http://127.0.0.1:$port/api/v1/sweeps")
case $out in *'"new_jobs":6'*) ;; *) fail "submit: $out" ;; esac
for _ in $(seq 200); do
    scrape busy
    # the store's claim comes a moment before the scheduler counts the cores
    [ "$(value lstmsweep_running_jobs busy)" -ge 1 ] &&
        [ "$(value lstmsweep_cores_busy busy)" -ge 1 ] && break
    sleep 0.1
done
[ "$(value lstmsweep_running_jobs busy)" -ge 1 ] || fail "no job ever seen running"
[ "$(value lstmsweep_cores_busy busy)" -ge 1 ] || fail "busy: cores_busy $(value lstmsweep_cores_busy busy)"
grep -q '^lstmsweep_sweep_jobs{sweep="m1",state="running"} [1-9]' "$t/busy.prom" ||
    fail "busy: no per-sweep progress for m1"
q=$(value lstmsweep_queued_jobs busy)
r=$(value lstmsweep_running_jobs busy)
[ $((q + r)) -le 6 ] && [ $((q + r)) -ge 1 ] || fail "busy: $q queued + $r running"

for _ in $(seq 600); do
    api "http://127.0.0.1:$port/api/v1/sweeps/m1" | grep -q '"state":"done"' && break
    sleep 0.2
done
scrape after
[ "$(value 'lstmsweep_jobs_finished_total{status="ok"}' after)" = 6 ] ||
    fail "after: finished ok $(value 'lstmsweep_jobs_finished_total{status="ok"}' after), not 6"
grep -q '^lstmsweep_sweep_jobs{sweep="m1",state="done"} 6$' "$t/after.prom" ||
    fail "after: m1 not 6 done: $(grep sweep_jobs "$t/after.prom")"
[ "$(value lstmsweep_running_jobs after)" = 0 ] || fail "after: still running"
grep -q '^lstmsweep_sweeps{state="done"} 1$' "$t/after.prom" || fail "after: no done sweep"

kill -TERM "$pid"; wait "$pid"; rc=$?
pid=
[ "$rc" = 0 ] || fail "the server exited $rc on SIGTERM"
echo "serve-metrics: $checks scrapes (idle, busy, after) clean under promtool check metrics"
