#!/bin/sh
# runner-taskset.sh - the runner tests again inside `taskset -c 1`: the
# runner must see only CPU 1 and place every job there (check_runner's
# placement test compares each job's CPUs with the allowed set).
# Skips (77) without taskset or on a machine with a single CPU.
command -v taskset >/dev/null 2>&1 || { echo "no taskset"; exit 77; }
[ "$(nproc --all)" -ge 2 ] || { echo "single CPU"; exit 77; }
exec taskset -c 1 "${top_builddir:-.}/tests/check_runner"
