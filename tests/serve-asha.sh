#!/bin/sh
# serve-asha.sh - an asha search in `lstmsweep serve`, whole, beside a grid
# of the same configurations, the server killed twice while it runs
# (tests/serve-asha.py says what is checked).  About a minute on 2 cores.
prog=${top_builddir:-.}/lstmsweep
src=${srcdir:-.}
[ -x "$prog" ] || { echo "no $prog: build it first"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "no python3"; exit 77; }
dir=$(mktemp -d /tmp/ls_serve_asha_XXXXXX)
trap 'rm -rf "$dir"' EXIT
python3 "$src/tests/serve-asha.py" "$prog" "$dir"
