#!/usr/bin/env bash
# scaling.sh [SWEEP.ini] - the planner on the machines lstmsweep's users
# have, from hwloc synthetic descriptions (no such machine needed): for
# each, the makespan the runner's policy plans for the sweep against its
# lower bound, and the fullest NUMA node's memory.  A markdown table on
# stdout; the README's scaling study is its output for experiments/grid.ini.
#   bench/scaling.sh experiments/grid.ini
set -eu
ls=${LSTMSWEEP:-./lstmsweep}
sweep=${1:-experiments/grid.ini}
machines=(
    "16|1 socket, 2 nodes (SNC2)|pack:1 numa:2(memory=32GB) core:8 pu:2"
    "64|2 sockets, 4 nodes|pack:2 numa:2(memory=64GB) core:16 pu:2"
    "128|2-socket EPYC, NPS4|pack:2 numa:4(memory=64GB) l3:2 core:8 pu:2"
    "256|2-socket EPYC, NPS4, 128 GB a node|pack:2 numa:4(memory=128GB) l3:4 core:8 pu:2"
)
echo "| cores | machine | makespan (h) | lower bound (h) | ratio | work / cores (h) | longest job at its widest (h) | fullest node: jobs + data / node (GiB) |"
echo "|---:|---|---:|---:|---:|---:|---:|---|"
for m in "${machines[@]}"; do
    IFS='|' read -r cores what desc <<<"$m"
    out=$("$ls" plan "$sweep" --topology "$desc")
    line=$(grep '^work ' <<<"$out")
    work=$(sed 's/^work \([0-9.]*\) core-hours.*/\1/' <<<"$line")
    widest=$(sed 's/.*one core, \([0-9.]*\) h at its widest.*/\1/' <<<"$line")
    span=$(sed 's/.*makespan \([0-9.]*\) h.*/\1/' <<<"$line")
    bound=$(sed 's/.*lower bound \([0-9.]*\) h.*/\1/' <<<"$line")
    node=$(grep '^node ' <<<"$out" | awk '{ j = $7; d = $12; n = $15; if (j + d > best) { best = j + d; s = sprintf("%.2f + %.2f / %s", j, d, n) } } END { print s }')
    awk -v c="$cores" -v w="$what" -v s="$span" -v b="$bound" -v wk="$work" -v wd="$widest" -v nd="$node" \
        'BEGIN { printf "| %d | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %s |\n", c, w, s, b, s / b, wk / c, wd, nd }'
done
