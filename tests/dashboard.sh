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
[ -n "$chromium" ] || { echo "SKIP: no chromium (scripts/install-deps --browser installs it)"; exit 77; }
command -v node >/dev/null 2>&1 || { echo "SKIP: no node"; exit 77; }
[ -d "$browser_dir/node_modules/puppeteer-core" ] ||
    { echo "SKIP: no $browser_dir/node_modules/puppeteer-core (scripts/install-deps --browser)"; exit 77; }
t=$(mktemp -d /tmp/ls_dashboard_XXXXXX)
pid=
trap '[ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }; rm -rf "$t"' EXIT
# two cores for the jobs at most, whatever the machine
OMP_NUM_THREADS=1 "$ls" serve --state "$t/state" --listen 127.0.0.1:0 --web-root "$src/web" \
    --data-root "$t" >"$t/log" 2>&1 &
pid=$!
port=
for _ in $(seq 100); do
    port=$(sed -n 's/^serving on port \([0-9]*\).*/\1/p' "$t/log")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "FAIL: the server did not start"; cat "$t/log"; exit 1; }
grep -q "^dashboard: http://127.0.0.1:$port/?token=" "$t/log" ||
    { echo "FAIL: the server did not print the dashboard's link"; cat "$t/log"; exit 1; }
echo "ok: the server prints the dashboard link"
[ -n "${DASHBOARD_SCREENSHOTS:-}" ] && mkdir -p "$DASHBOARD_SCREENSHOTS"
CHROMIUM=$chromium timeout 600 node "$browser_dir/dashboard.mjs" "http://127.0.0.1:$port" "$(cat "$t/state/token")"
rc=$?
[ $rc = 0 ] || { echo "--- server log (tail)"; tail -20 "$t/log"; }
exit $rc
