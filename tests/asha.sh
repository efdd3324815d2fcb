#!/bin/sh
# asha.sh - an asha search of `lstmsweep run`, whole (tests/asha.py: the
# search to its end, curves of promoted jobs against a straight grid run,
# kill -9 at random moments).  About a minute on 2 cores.  ASHA_TEST=FILE.py
# runs another of its kind (tests/serve-asha.sh).
prog=${top_builddir:-.}/lstmsweep
src=${srcdir:-.}
[ -x "$prog" ] || { echo "no $prog: build it first"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "no python3"; exit 77; }
dir=$(mktemp -d /tmp/ls_asha_XXXXXX)
trap 'rm -rf "$dir"' EXIT
python3 "$src/tests/${ASHA_TEST:-asha.py}" "$prog" "$dir"
