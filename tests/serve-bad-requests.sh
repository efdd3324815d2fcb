#!/usr/bin/env bash
# serve-bad-requests.sh - bad requests to `lstmsweep serve`, on loopback:
# each gets its 4xx and a JSON {"error": ...}, and the server stays up and
# keeps answering (a good request after each).  --markdown prints the
# README's table.  Skips (77) without curl.
set -u
bld=${top_builddir:-.}
ls=$bld/lstmsweep
command -v curl >/dev/null 2>&1 || { echo "SKIP: no curl"; exit 77; }
md=0; [ "${1:-}" = --markdown ] && md=1
t=$(mktemp -d /tmp/ls_badreq_XXXXXX)
pid=
trap '[ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }; rm -rf "$t"' EXIT
mkdir -p "$t/data" "$t/elsewhere"
"$ls" serve --state "$t/state" --listen 127.0.0.1:0 --data-root "$t/data" >"$t/log" 2>&1 &
pid=$!
for _ in $(seq 100); do
    port=$(sed -n 's/^serving on port \([0-9]*\).*/\1/p' "$t/log")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "FAIL: the server did not start"; cat "$t/log"; exit 1; }
token=$(cat "$t/state/token")
url=http://127.0.0.1:$port
pass=0 fail=0

ini() { printf '[sweep]\nname = %s\n[bitcount]\nbits = 8\ntrain_size = 100\n%s' "$1" "${2:-}"; }
ini ok >"$t/ok.ini"
ini bad 'hidden = x12\n' | sed 's/\\n/\n/g' >"$t/bad.ini"
printf '[sweep]\nname = paths\nresults = /etc/passwd\n[bitcount]\nbits = 8\ntrain_size = 100\n' >"$t/paths.ini"
printf '[sweep]\nname = ../up\n[bitcount]\nbits = 8\ntrain_size = 100\n' >"$t/traversal.ini"
printf '[sweep]\nname = away\n[mnist]\ndata = %s\n' "$t/elsewhere" >"$t/data.ini"
head -c 1100000 /dev/zero | tr '\0' ';' >"$t/big.ini"

# check WHAT STATUS CURL-ARGS...: the status and a JSON error; the server then
# still answers /healthz and an authorized listing.
check() {
    local what=$1 want=$2 got body; shift 2
    body=$(curl -s -m 20 -o "$t/body" -w '%{http_code}' "$@"); got=$body
    local msg; msg=$(sed -n 's/.*"error":"\(.*\)"}.*/\1/p' "$t/body" | cut -c1-220)
    local alive; alive=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url/api/v1/sweeps")
    if [ "$got" = "$want" ] && [ -n "$msg" ] && [ "$alive" = 200 ]; then
        pass=$((pass + 1))
        [ $md = 1 ] && printf '| %s | %s | `%s` |\n' "$what" "$got" "$msg" || echo "ok: $what: $got $msg"
    else
        fail=$((fail + 1)); echo "FAIL: $what: status $got (want $want), error '$msg', then $alive"
        cat "$t/body"; echo
    fi
}
auth=(-H "Authorization: Bearer $token")
post=(-H 'Content-Type: text/plain' --data-binary)
[ $md = 1 ] && printf '| bad request | status | error |\n|---|---:|---|\n'
check "no token" 401 "$url/api/v1/sweeps"
check "a wrong token" 401 -H "Authorization: Bearer x$token" "$url/api/v1/sweeps"
check "a malformed sweep" 400 "${auth[@]}" "${post[@]}" "@$t/bad.ini" "$url/api/v1/sweeps"
check "a body over 1 MiB" 413 "${auth[@]}" "${post[@]}" "@$t/big.ini" "$url/api/v1/sweeps"
check "not text/plain" 415 "${auth[@]}" -H 'Content-Type: application/json' --data '{}' "$url/api/v1/sweeps"
check "an unknown sweep" 404 "${auth[@]}" "$url/api/v1/sweeps/nope"
check "a path-traversal name" 400 "${auth[@]}" "${post[@]}" "@$t/traversal.ini" "$url/api/v1/sweeps"
check "results = in the sweep" 400 "${auth[@]}" "${post[@]}" "@$t/paths.ini" "$url/api/v1/sweeps"
check "data = outside --data-root" 400 "${auth[@]}" "${post[@]}" "@$t/data.ini" "$url/api/v1/sweeps"
check "an unknown route" 404 "${auth[@]}" "$url/api/v1/nothing"
check "a wrong method" 405 "${auth[@]}" -X DELETE "$url/api/v1/sweeps"
curl -s -o /dev/null "${auth[@]}" "${post[@]}" "@$t/ok.ini" "$url/api/v1/sweeps"
curl -s -o /dev/null "${auth[@]}" -X POST "$url/api/v1/sweeps/ok/cancel"
check "resume a cancelled sweep" 409 "${auth[@]}" -X POST "$url/api/v1/sweeps/ok/resume"

# A slow client, its headers a byte a second: cut off, and a good request
# meanwhile is answered at once.
( exec 3<>/dev/tcp/127.0.0.1/"$port"
  for c in G E T ' ' / h e a l t h z ' ' H T T P; do printf '%s' "$c" >&3 || exit 0; sleep 1; done ) &
slow=$!
sleep 2
t0=$(date +%s%N)
h=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$url/healthz")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
for _ in $(seq 30); do kill -0 "$slow" 2>/dev/null || break; sleep 0.5; done
if [ "$h" = 200 ] && [ "$ms" -lt 2000 ] && ! kill -0 "$slow" 2>/dev/null; then
    pass=$((pass + 1))
    [ $md = 1 ] && printf '| %s | %s | `%s` |\n' "a client sending its headers a byte a second" "cut off" "(a concurrent request answered in ${ms} ms)" \
                || echo "ok: slow client cut off; a concurrent /healthz took $ms ms"
else
    fail=$((fail + 1)); kill "$slow" 2>/dev/null
    echo "FAIL: slow client: concurrent healthz $h in $ms ms; slow client still connected: $(kill -0 "$slow" 2>/dev/null && echo yes || echo no)"
fi
echo "serve-bad-requests: $pass passed, $fail failed"
[ "$fail" = 0 ]
