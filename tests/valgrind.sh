#!/usr/bin/env bash
# valgrind.sh - memcheck on a short `train` (with --save and --results), one
# of a GRU, and a short sweep: no invalid accesses, no definite leaks.  Skips (77)
# without valgrind, and under the sanitizer build (ASan and valgrind do not
# mix).
set -uo pipefail
command -v valgrind >/dev/null 2>&1 || { echo "SKIP: no valgrind"; exit 77; }
ls=$(realpath "${top_builddir:-.}/lstmsweep")
if nm -D "$ls" 2>/dev/null | grep __asan_init >/dev/null; then echo "SKIP: sanitizer build"; exit 77; fi
t=$(mktemp -d /tmp/ls_vg_XXXXXX)
trap 'rm -rf "$t"' EXIT
vg=(valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9)
fail=0
"${vg[@]}" "$ls" train --task bitcount --bits 8 --train-size 100 --hidden 8 --batch 32 \
    --epochs 2 --threads 1 --quiet --save "$t/m.lsm" --results "$t/r.csv" || fail=$((fail + 1))
"${vg[@]}" "$ls" predict --model "$t/m.lsm" 01010011 >/dev/null || fail=$((fail + 1))
# a cell without a cell state: no c memories, h alone down the prefix tree
"${vg[@]}" "$ls" train --task bitcount --bits 8 --train-size 100 --hidden 8 --batch 32 \
    --epochs 2 --threads 1 --quiet --cell lbr-gru || fail=$((fail + 1))
printf '[sweep]\nresults = %s/s.csv\n[bitcount]\nbits = 8\ntrain_size = 100\nbatch = 32\nhidden = 4, 8\nepochs = 2\n' "$t" > "$t/s.ini"
"${vg[@]}" "$ls" run "$t/s.ini" --quiet || fail=$((fail + 1))
echo "valgrind: $((4 - fail)) passed, $fail failed"
[ "$fail" = 0 ]
