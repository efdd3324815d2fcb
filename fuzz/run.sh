#!/usr/bin/env bash
# run.sh [BUILDDIR] - build the libFuzzer targets and fuzz each in turn
# (`make fuzz`).  BUILDDIR is the configured build tree, for config.h
# [default: the current directory, else the source tree].
#
# The library sources the targets need are compiled with clang into
# fuzz/build (ASan + UBSan + coverage instrumentation), each target linked
# with -fsanitize=fuzzer, and run one after the other, each for
# FUZZ_SECONDS, on a working corpus fuzz/build/corpus/<target> (kept between
# runs) plus the seeds in fuzz/corpus/<target>.  Crashing, leaking, slow and
# memory-hungry inputs go to fuzz/findings/<target>/; copy each one, once
# fixed, into tests/fuzz-regress/<target>/ so `make check` replays it.
#
# Environment:
#   FUZZ_SECONDS  seconds per target [300]; 0 builds the targets only
#   FUZZ_TARGETS  which targets, in order ["sweep idx csv model"]
#   FUZZ_CC       the clang to use [clang]; needs libclang-rt-*-dev
#                 (scripts/install-deps --fuzz)
#   FUZZ_NICE     nice level of the fuzzing processes [10]
#   FUZZ_ARGS     extra libFuzzer flags, e.g. "-jobs=2 -workers=2"
# Exit status: 0 no findings, 1 findings (listed at the end), 2 build error.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
fz=$src/fuzz
bld=$fz/build
cc=${FUZZ_CC:-clang}
seconds=${FUZZ_SECONDS:-300}
targets=${FUZZ_TARGETS:-sweep idx csv model}

# The sources the four targets reach, directly or through each other.
lib_sources="base/alloc base/error base/sysinfo base/rng base/durable sweep/job sweep/sweep
             data/idx data/dataset results/csv results/results results/schema results/merge
             results/curves nn/lstm
             nn/model train/modelfile train/checkpoint"

die() { echo "fuzz: $*" >&2; exit 2; }

# -max_len per target: a few sweep-file lines (inih's lines are <= 1 KB);
# an IDX header plus some images; a results file of a few rows; a model or
# checkpoint of the small seed model (256 and 768 bytes) and room to grow.
max_len() {
    case $1 in
    sweep) echo 4096 ;; idx) echo 2048 ;; csv) echo 4096 ;; model) echo 2048 ;;
    *) die "unknown target '$1' (sweep, idx, csv, model)" ;;
    esac
}

# -malloc_limit_mb per target: a loader must not allocate much more than
# its small input holds (a header announcing gigabytes is an error, found
# before allocating); the others keep libFuzzer's default, -rss_limit_mb.
malloc_limit() {
    case $1 in idx) echo 64 ;; model) echo 128 ;; *) echo 2048 ;; esac
}

# ---- build ------------------------------------------------------------------
config=
for d in "${1:-.}" "$src"; do
    [ -f "$d/config.h" ] && config=$(cd "$d" && pwd)/config.h && break
done
[ -n "$config" ] || die "no config.h: run ./configure first"
command -v "$cc" >/dev/null 2>&1 || die "$cc not found (scripts/install-deps --fuzz)"
mkdir -p "$bld/obj" "$bld/tmp" || die "cannot create $bld"
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' \
    > "$bld/probe.c"
"$cc" -fsanitize=fuzzer "$bld/probe.c" -o "$bld/probe" >/dev/null 2>&1 ||
    die "$cc cannot link -fsanitize=fuzzer (install libclang-rt-dev: scripts/install-deps --fuzz)"

pkg_cflags=$(pkg-config --cflags hwloc zlib inih) || die "pkg-config: hwloc, zlib or inih missing"
pkg_libs=$(pkg-config --libs hwloc zlib inih)
# No -fopenmp: the one OpenMP loop these sources hold (Adam's update) is
# never reached by a loader, and oneDNN brings its own libgomp.
cflags="-std=c11 -g -O1 -fno-omit-frame-pointer -Wall -Wno-unused-parameter
        -Wno-source-uses-openmp -fsanitize=address,undefined
        -fno-sanitize-recover=undefined -include $config -I$src/include -I$src/src $pkg_cflags"
libs="-ldnnl $pkg_libs -lm -lpthread"

# Compile $1 into $2 with extra flags $3, if $2 is older than $1 or the headers.
compile() {
    if [ -f "$2" ] && [ -z "$(find "$1" "$src/include" "$src/src/base" "$fz/fuzz.h" \
                               -newer "$2" -name '*.[ch]' 2>/dev/null | head -n 1)" ]; then
        return 0
    fi
    echo "  CC       ${1#"$src"/}"
    # shellcheck disable=SC2086
    "$cc" $cflags $3 -c "$1" -o "$2"
}

objs=
for s in $lib_sources; do
    o=$bld/obj/$(echo "$s" | tr / _).o
    compile "$src/src/$s.c" "$o" "-fsanitize=fuzzer-no-link" || die "build failed"
    objs="$objs $o"
done
for t in $targets; do
    max_len "$t" >/dev/null
    compile "$fz/fuzz_$t.c" "$bld/obj/fuzz_$t.o" "-fsanitize=fuzzer-no-link" || die "build failed"
    echo "  LD       fuzz/build/fuzz_$t"
    # shellcheck disable=SC2086
    "$cc" -fsanitize=fuzzer,address,undefined "$bld/obj/fuzz_$t.o" $objs $libs \
        -o "$bld/fuzz_$t" || die "link failed"
done
[ "$seconds" = 0 ] && { echo "fuzz: targets built in fuzz/build (FUZZ_SECONDS=0: not run)"; exit 0; }

# ---- fuzz -------------------------------------------------------------------
# One OpenMP thread and a nice level: this runs on shared machines.
export OMP_NUM_THREADS=1 TMPDIR=$bld/tmp
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
summary=
for t in $targets; do
    out=$fz/findings/$t
    mkdir -p "$bld/corpus/$t" "$out"
    before=$(find "$out" -type f | wc -l)
    echo "fuzz: $t for ${seconds}s (log: fuzz/build/$t.log)"
    # Run from the source tree, where [mnist] data = data/mnist may exist.
    # shellcheck disable=SC2086
    (cd "$src" && nice -n "${FUZZ_NICE:-10}" "$bld/fuzz_$t" \
        -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 \
        -rss_limit_mb=2048 -malloc_limit_mb="$(malloc_limit "$t")" -artifact_prefix="$out/" -print_final_stats=1 \
        ${FUZZ_ARGS:-} "$bld/corpus/$t" "$fz/corpus/$t") > "$bld/$t.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$bld/$t.log" | tail -n 1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$bld/$t.log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$bld/$t.log" | tail -n 1)
    new=$(( $(find "$out" -type f | wc -l) - before ))
    line="$t: ${runs:-?} runs, ${eps:-?}/s, ${cov:-cov: ?}, $new new finding(s), exit $rc"
    echo "fuzz: $line"
    summary="$summary$line"$'\n'
    if [ "$rc" != 0 ] || [ "$new" -gt 0 ]; then
        status=1
        grep -m 3 -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: )|runtime error' "$bld/$t.log" | sed 's/^/    /'
    fi
done
rm -rf "${TMPDIR:?}"/lsfuzz.*
printf '\nfuzz summary (%ss per target):\n%s' "$seconds" "$summary"
[ "$status" = 0 ] || echo "fuzz: findings in fuzz/findings/ (see fuzz/build/<target>.log)"
exit "$status"
