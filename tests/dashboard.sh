#!/usr/bin/env bash
# dashboard.sh - the dashboard of `lstmsweep serve` in a real browser:
# headless Debian chromium driven by puppeteer-core (tests/browser/, put
# there by `scripts/install-deps --browser`), against a server on a free
# loopback port with a fresh state directory.  tests/browser/dashboard.mjs
# has the checks: the login only without the token, a submitted sweep
# appearing, a job's status changing and the connection coming back without
# a reload, a curve chart drawn, cancel from the page, the CSRF refusal,
# and the 10,000-job sweep's load time and scrolling frame times.
# DASHBOARD_SCREENSHOTS=DIR saves the views as PNGs (the README's are from
# DASHBOARD_SCREENSHOTS=docs/img); DASHBOARD_FIGURES=FILE the measured figures.
# Skips (77) without chromium, node or the npm driver.  Bounded: every
# wait in the driver has a timeout, and the whole run a `timeout` of 10 min.
set -u
src=${top_srcdir:-.}
bld=${top_builddir:-.}
ls=$bld/lstmsweep
browser_dir=$src/tests/browser
chromium=${CHROMIUM:-$(command -v chromium || true)}
if [ "${DASHBOARD_BROWSER:-}" = firefox ]; then     # the same checks in Firefox
    command -v "${FIREFOX:-firefox-esr}" >/dev/null 2>&1 || { echo "SKIP: no firefox-esr"; exit 77; }
else
    [ -n "$chromium" ] || { echo "SKIP: no chromium (scripts/install-deps --browser installs it)"; exit 77; }
fi
command -v node >/dev/null 2>&1 || { echo "SKIP: no node"; exit 77; }
[ -d "$browser_dir/node_modules/puppeteer-core" ] ||
    { echo "SKIP: no $browser_dir/node_modules/puppeteer-core (scripts/install-deps --browser)"; exit 77; }
# start_server STATE_DIR LISTEN WEB_ROOT: in the background, its pid in
# STATE_DIR/../pid, its output in STATE_DIR/../log.
start_server() {
    local d; d=$(dirname "$1")
    OMP_NUM_THREADS=1 "$ls" serve --state "$1" --listen "$2" --web-root "$3" \
        --data-root "$d" >>"$d/log" 2>&1 </dev/null &
    echo $! >"$d/pid"
}
# wait_port DIR: the port of the latest "serving on port" line.
wait_port() {
    local port= n
    for _ in $(seq 100); do
        n=$(grep -c "^serving on port" "$1/log")
        [ "$n" -ge "$2" ] && port=$(sed -n 's/^serving on port \([0-9]*\).*/\1/p' "$1/log" | tail -1)
        [ -n "$port" ] && break
        sleep 0.1
    done
    echo "$port"
}
# --restart DIR PORT: what the driver calls to drop every connection: the
# server stopped (SIGTERM) and started again on the same port and state.
if [ "${1:-}" = --restart ]; then
    d=$2; old=$(cat "$d/pid"); n=$(grep -c "^serving on port" "$d/log")
    kill "$old"; for _ in $(seq 200); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
    start_server "$d/state" "127.0.0.1:$3" "$4"
    [ -n "$(wait_port "$d" $((n + 1)))" ]
    exit
fi
t=$(mktemp -d /tmp/ls_dashboard_XXXXXX)
trap '[ -f "$t/pid" ] && { kill "$(cat "$t/pid")" 2>/dev/null; while kill -0 "$(cat "$t/pid")" 2>/dev/null; do sleep 0.1; done; }; rm -rf "$t"' EXIT
touch "$t/log"
web=$(cd "$src/web" && pwd)
start_server "$t/state" 127.0.0.1:0 "$web"
port=$(wait_port "$t" 1)
[ -n "$port" ] || { echo "FAIL: the server did not start"; cat "$t/log"; exit 1; }
grep -q "^dashboard: http://127.0.0.1:$port/?token=" "$t/log" ||
    { echo "FAIL: the server did not print the dashboard's link"; cat "$t/log"; exit 1; }
echo "ok: the server prints the dashboard link"
[ -n "${DASHBOARD_SCREENSHOTS:-}" ] && mkdir -p "$DASHBOARD_SCREENSHOTS"
DASHBOARD_RESTART="bash $0 --restart $t $port $web" CHROMIUM=$chromium \
    timeout 600 node "$browser_dir/dashboard.mjs" "http://127.0.0.1:$port" "$(cat "$t/state/token")"
rc=$?
[ $rc = 0 ] || { echo "--- server log (tail)"; tail -20 "$t/log"; }
exit $rc
