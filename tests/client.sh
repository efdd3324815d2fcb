#!/usr/bin/env bash
# client.sh - the server's command-line clients against a real server on
# loopback: submit (new, again, malformed, --set, --priority), status (all
# and one), pause/resume/cancel/priority, watch until a sweep ends (and
# across a kill -9 of the server), fetch -o against curl, finding the
# server through XDG_STATE_HOME, --state, --server and LSTMSWEEP_SERVER /
# LSTMSWEEP_TOKEN and a unix socket, a wrong token, and no server at all.
# Tiny bitcount jobs: well under a minute.  Skips (77) without curl or
# timeout.
set -u
bld=${top_builddir:-.}
ls=$(cd "$bld" && pwd)/lstmsweep
for tool in curl timeout; do
    command -v $tool >/dev/null 2>&1 || { echo "SKIP: no $tool"; exit 77; }
done
t=$(mktemp -d /tmp/ls_client_XXXXXX)
pid= upid=
cleanup() {
    for p in $pid $upid; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$t"
}
trap cleanup EXIT
pass=0
fail() { echo "FAIL: $*"; [ -f "$t/serve.log" ] && tail -20 "$t/serve.log"; exit 1; }
ok() { pass=$((pass + 1)); echo "ok: $*"; }
# expect WHAT RC PATTERN CMD...: CMD exits RC and prints PATTERN (grep -E,
# stdout and stderr together); the output is kept in $t/out.
expect() {
    local what=$1 want=$2 pat=$3 rc; shift 3
    "$@" >"$t/out" 2>&1; rc=$?
    [ "$rc" = "$want" ] || fail "$what: exit $rc, not $want: $(cat "$t/out")"
    grep -Eq -- "$pat" "$t/out" || fail "$what: no '$pat' in: $(cat "$t/out")"
    ok "$what"
}

# A state directory found the default way: serve without --state, under
# XDG_STATE_HOME, and HOME somewhere empty so that nothing real is used.
mkdir -p "$t/home" "$t/xdg"
export HOME=$t/home XDG_STATE_HOME=$t/xdg
unset LSTMSWEEP_SERVER LSTMSWEEP_TOKEN
state=$t/xdg/lstmsweep
start() {
    # a killed server leaves its server.url: wait for the new one
    rm -f "$state/server.url"
    : >"$t/serve.log"
    OMP_NUM_THREADS=1 "$ls" serve --listen 127.0.0.1:0 --data-root "$t" >>"$t/serve.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        [ -s "$state/server.url" ] && grep -q '^clients find it' "$t/serve.log" && break
        sleep 0.1
    done
    url=$(cat "$state/server.url" 2>/dev/null)
    case $url in http://127.0.0.1:[1-9]*) ;; *) fail "the server did not write server.url ($url)" ;; esac
    token=$(cat "$state/token")
}
start
[ "$(stat -c %a "$state")" = 700 ] || fail "the default state dir is not mode 700"
ok "serve: its default state dir is \$XDG_STATE_HOME/lstmsweep; server.url: $url"

ini() { # NAME EPOCHS HIDDEN [SEEDS]
    printf '[sweep]\nname = %s\nseeds = %s\n[bitcount]\nbits = 8\ntrain_size = 100\n' "$1" "${4:-1}"
    printf 'epochs = %s\nhidden = %s\n' "$2" "$3"
}
ini s1 5 "4, 8" >"$t/s1.ini"
expect "submit: new" 0 '^s1: 2 jobs, 2 new \(active\)' "$ls" submit "$t/s1.ini"
expect "submit: the same again" 0 '^s1: 2 jobs, 0 new' "$ls" submit "$t/s1.ini"
printf '[sweep]\nname = bad\n[bitcount]\nbits = 8\n\nhidden = x12\n' >"$t/bad.ini"
expect "submit: malformed, FILE:LINE" 1 "^$t/bad.ini:6: \[bitcount\] hidden: 'x12' is not an integer" \
    "$ls" submit "$t/bad.ini"
expect "submit: a bad --set names itself" 1 "^--set bitcount.batch=y: \[bitcount\] batch:" \
    "$ls" submit "$t/bad.ini" --set bitcount.hidden=4 --set bitcount.batch=y
expect "submit: --set for a missing task section" 2 "no such section" \
    "$ls" submit "$t/s1.ini" --set mnist.hidden=4
expect "submit: --set and --priority" 0 '^s2: 6 jobs, 6 new' \
    "$ls" submit "$t/s1.ini" --set sweep.name=s2 --set "bitcount.hidden=3, 5" \
    --set "sweep.seeds=1,2,3" --priority 2
expect "status s2: its priority" 0 '^sweep s2: [a-z]+, priority 2' "$ls" status s2
expect "submit: a negative --priority" 0 '^s3: 1 jobs, 1 new' \
    "$ls" submit --priority -1 "$t/s1.ini" --set sweep.name=s3 --set bitcount.hidden=2
expect "status s3: its priority" 0 '^sweep s3: [a-z]+, priority -1' "$ls" status s3
expect "status s2: its jobs" 0 'jobs: +6 in all' "$ls" status s2

# watch to the end (not a TTY: a line per change, the last one done)
expect "watch s2 until done" 0 '^s2 done: 6/6 done \(6 ok' timeout 60 "$ls" watch s2
expect "watch a finished sweep returns at once" 0 '^s1 done: 2/2 done' timeout 10 "$ls" watch s1
expect "status: all" 0 '^  s2 +done +2 +6 +6 +0 +0 +0' "$ls" status
grep -Eq '^  s1 +done' "$t/out" || fail "status: no s1 row: $(cat "$t/out")"

# pause, priority, resume, cancel: a sweep long enough to catch
ini p 3000 "4, 5, 6, 7, 8, 9, 10, 11" >"$t/p.ini"
"$ls" submit "$t/p.ini" >/dev/null || fail "submit p"
expect "pause" 0 '^p: paused' "$ls" pause p
expect "status after pause" 0 '^sweep p: paused' "$ls" status p
expect "priority" 0 '^p: paused, priority -3' "$ls" priority p -3
expect "resume" 0 '^p: active' "$ls" resume p
expect "cancel" 0 '^p: cancelled' "$ls" cancel p
expect "resume a cancelled sweep: the server's 409" 1 "sweep 'p' is cancelled" "$ls" resume p
expect "an unknown sweep" 1 "no sweep named 'nope'" "$ls" status nope
expect "bad usage" 2 'expected' "$ls" priority p

# fetch -o: the very bytes curl gets
expect "fetch -o --curves" 0 "s2.csv: 6 rows" "$ls" fetch s2 -o "$t/s2.csv" --curves "$t/s2-curves.csv"
curl -s -H "Authorization: Bearer $token" "$url/api/v1/sweeps/s2/results.csv" >"$t/s2.curl.csv"
cmp -s "$t/s2.csv" "$t/s2.curl.csv" || fail "fetch -o and curl differ"
curl -s -H "Authorization: Bearer $token" "$url/api/v1/sweeps/s2/curves.csv" >"$t/s2-curves.curl.csv"
cmp -s "$t/s2-curves.csv" "$t/s2-curves.curl.csv" || fail "fetch --curves and curl differ"
[ "$(wc -l <"$t/s2-curves.csv")" = 31 ] || fail "curves: $(wc -l <"$t/s2-curves.csv") lines, not 31"
ok "fetch: the same CSVs as curl"
"$ls" fetch s2 >"$t/s2.stdout.csv" 2>/dev/null && cmp -s "$t/s2.stdout.csv" "$t/s2.curl.csv" ||
    fail "fetch to stdout differs"

# finding the server
expect "--state" 0 '^  s1 ' env -u XDG_STATE_HOME "$ls" status --state "$state"
expect "LSTMSWEEP_SERVER and LSTMSWEEP_TOKEN" 0 '^  s1 ' \
    env -u XDG_STATE_HOME LSTMSWEEP_SERVER="$url" LSTMSWEEP_TOKEN="$token" "$ls" status
expect "--server and LSTMSWEEP_TOKEN" 0 '^  s1 ' \
    env -u XDG_STATE_HOME LSTMSWEEP_TOKEN="$token" "$ls" status --server "$url"
expect "a wrong token" 4 "the server at $url refused the token \(token from LSTMSWEEP_TOKEN\)" \
    env LSTMSWEEP_SERVER="$url" LSTMSWEEP_TOKEN=0123 "$ls" status
expect "no token at all" 4 "refused the token \(no token: LSTMSWEEP_TOKEN is unset and $t/home/.local/state/lstmsweep/token: No such file" \
    env -u XDG_STATE_HOME "$ls" status --server "$url"
expect "nothing in ~/.local/state: the default address" 3 \
    "no lstmsweep server answers at http://127.0.0.1:8470 .*state dir $t/home/.local/state/lstmsweep" \
    env -u XDG_STATE_HOME "$ls" status

# a unix socket, found through its state directory
OMP_NUM_THREADS=1 "$ls" serve --state "$t/ustate" --listen "unix:$t/ls.sock" \
    --data-root "$t" >"$t/userve.log" 2>&1 &
upid=$!
for _ in $(seq 100); do [ -s "$t/ustate/server.url" ] && break; sleep 0.1; done
[ "$(cat "$t/ustate/server.url")" = "unix:$t/ls.sock" ] || fail "unix: server.url"
expect "unix: submit through --state" 0 '^s1: 2 jobs, 2 new' "$ls" submit --state "$t/ustate" "$t/s1.ini"
kill -TERM "$upid"; wait "$upid"; upid=
[ -e "$t/ustate/server.url" ] && fail "server.url left after a clean stop"
ok "a clean stop removes server.url"

# watch across a kill -9 of the server: it reconnects and sees the end
ini r 4000 "4, 5, 6, 7, 8, 9" >"$t/r.ini"
"$ls" submit "$t/r.ini" >/dev/null || fail "submit r"
timeout 120 "$ls" watch r >"$t/watch.out" 2>"$t/watch.err" &
wpid=$!
sleep 1.5
kill -9 "$pid"; wait "$pid" 2>/dev/null
sleep 1
start
wait "$wpid"; rc=$?
[ "$rc" = 0 ] || fail "watch across a restart: exit $rc: $(cat "$t/watch.out" "$t/watch.err")"
tail -1 "$t/watch.out" | grep -q '^r done: 6/6 done (6 ok' || fail "watch across a restart: $(cat "$t/watch.out")"
grep -q 'reconnecting' "$t/watch.err" || fail "watch did not say it reconnects: $(cat "$t/watch.err")"
ok "watch across a kill -9 and restart of the server"

# no server: the clear message and exit 3, with the URL it tried
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
[ "$rc" = 0 ] || fail "the server exited $rc on SIGTERM"
expect "no server answers" 3 "no lstmsweep server answers at $url \(is .lstmsweep serve. running" \
    "$ls" status --server "$url"
expect "no server, found by the state dir" 3 "no lstmsweep server answers at http://127.0.0.1:8470 .*state dir $state" \
    "$ls" watch s1
echo "client: $pass passed, 0 failed"
