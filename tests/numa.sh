#!/usr/bin/env bash
# numa.sh - the runner on a real machine of two NUMA nodes x two cores: a
# throwaway QEMU virtual machine booted by ../shared/tools/numa-vm.sh (real
# Linux NUMA: placement, thread and memory binding are real; timings are
# not, under emulation), which runs tests/numa-guest.py inside it (see
# there for the checks).  `make check-numa` runs it; .ci/run does.  Skips
# (77) where the tool is missing, cannot run (root), or cannot boot a VM.
set -u
src=${srcdir:-.}
bld=${top_builddir:-.}
tool=${NUMA_VM:-$src/../shared/tools/numa-vm.sh}
skip() { echo "SKIP: $*"; exit 77; }
[ -f "$tool" ] || skip "no $tool"
[ "$(id -u)" = 0 ] || skip "numa-vm.sh needs root"
command -v python3 >/dev/null 2>&1 || skip "no python3"
src=$(cd "$src" && pwd) bld=$(cd "$bld" && pwd) tool=$(readlink -f "$tool")
work=$(mktemp -d /tmp/ls_numa_XXXXXX)
trap 'rm -rf "$work"' EXIT
shares=(--share "$work" --share "$bld")
[ "$src" = "$bld" ] || shares+=(--share "$src")
mnist=
if [ -f "$src/data/mnist/train-images-idx3-ubyte" ] || [ -f "$src/data/mnist/train-images-idx3-ubyte.gz" ]; then
    mnist=$(readlink -f "$src/data/mnist")
    case $mnist in "$src"/*|"$bld"/*) ;; *) shares+=(--share "$(dirname "$mnist")") ;; esac
else
    echo "note: no MNIST in $src/data/mnist (make data): the bitcount jobs only"
fi
cd "$work" || exit 1
bash "$tool" run --cpus 4 --nodes 2 --mem 4096 "${shares[@]}" --timeout 1500 -- \
    python3 "$src/tests/numa-guest.py" "$bld/lstmsweep" "$work" $mnist
rc=$?
[ "$rc" = 125 ] && skip "numa-vm.sh could not boot a VM here"
exit "$rc"
