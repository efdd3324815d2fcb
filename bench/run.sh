#!/usr/bin/env bash
# run.sh BUILDDIR - the benchmark suite (`make bench`).  Writes
# bench/results/*.csv and bench/results/summary.md (the README's
# "Performance" section) with the machine it ran on.  Every comparison is
# made within this one run, as ratios, so the noise of a shared machine
# largely cancels; timings are medians.
set -euo pipefail
build=$(realpath "${1:-.}")
here=$(cd "$(dirname "$0")" && pwd)
out=$here/results
mkdir -p "$out"

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
{
    echo "Machine: ${cpu:-unknown CPU}, $(nproc) core(s) usable, $(free -g | awk '/^Mem:/ {print $2}') GiB;"
    echo "$("$build/lstmsweep" --version | tr '\n' ' ')- measured $(date -u +%Y-%m-%d)."
    echo
    echo "### Training step: lstmsweep vs the bare oneDNN primitives"
    echo
    "$build/bench/bench_step" "$out/step.csv"
    echo
    echo "### Sweep makespan"
    echo
    "$here/makespan.sh" "$build/lstmsweep" "$out"
} | tee "$out/summary.md.tmp"
mv "$out/summary.md.tmp" "$out/summary.md"
echo "written: $out/summary.md"
