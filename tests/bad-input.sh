#!/usr/bin/env bash
# bad-input.sh [--markdown] - the bad-input matrix: every bad input tried,
# through the real program, with the exit status and message it must give.
# Each row is a test; --markdown prints the table with the messages seen
# (the README's troubleshooting section is made from it).
set -uo pipefail
ls=$(realpath "${top_builddir:-.}/lstmsweep")
t=$(mktemp -d /tmp/ls_badin_XXXXXX)
trap 'rm -rf "$t"' EXIT
cd "$t" || exit 99

# ---- fixtures --------------------------------------------------------------
sweep() { printf '[sweep]\nname = s\nresults = %s/r.csv\n[bitcount]\nbits = 8\ntrain_size = 100\n%s\n' "$t" "$2" > "$1"; }
sweep unknown-section.ini $'epochs = 1\n[cifar]\nhidden = 8'
sweep unknown-key.ini 'hiden = 8'
sweep bad-number.ini 'hidden = 8, x12'
sweep empty-list.ini 'hidden ='
sweep zero-hidden.ini 'hidden = 0'
sweep big-val.ini 'val_size = 156'
sweep ok.ini $'hidden = 4\nepochs = 1'
printf '[sweep]\nresults = %s/r.csv\n[mnist]\ndata = %s/nowhere\n' "$t" "$t" > missing-data.ini
# IDX: 2 images of 28x28 announced, 100 bytes present
mkdir trunc magic
{ printf '\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x1c\x00\x00\x00\x1c'; head -c 100 /dev/zero; } > trunc/train-images-idx3-ubyte
{ printf 'P5\n28 28\n'; head -c 1568 /dev/zero; } > magic/train-images-idx3-ubyte
for d in trunc magic; do
    printf '\x00\x00\x08\x01\x00\x00\x00\x02\x01\x02' > "$d/train-labels-idx1-ubyte"
    cp "$d/train-images-idx3-ubyte" "$d/t10k-images-idx3-ubyte"
    cp "$d/train-labels-idx1-ubyte" "$d/t10k-labels-idx1-ubyte"
done
"$ls" train --task bitcount --bits 4 --train-size 8 --hidden 2 --epochs 1 --quiet --save m.lsm 2>/dev/null
head -c 100 m.lsm > trunc.lsm
cp m.lsm corrupt.lsm
printf '\xff' | dd of=corrupt.lsm bs=1 seek=80 conv=notrunc 2>/dev/null
printf 'job_id,status\n0123456789abcdef,ok\n' > other-header.csv
cp other-header.csv r.csv.keep
"$ls" train --bits 4 --train-size 8 --hidden 2 --epochs 1 --quiet --results short.csv 2>/dev/null
head -1 short.csv > short-row.csv
echo '0123456789abcdef,s,bitcount' >> short-row.csv

# ---- the matrix: what | exit status | message must contain | command ----
rows=(
"sweep: unknown section|2|unknown-section.ini:8: [cifar]: unknown section|run unknown-section.ini"
"sweep: unknown key|2|unknown-key.ini:7: [bitcount] hiden: unknown key|run unknown-key.ini"
"sweep: bad number|2|bad-number.ini:7: [bitcount] hidden: 'x12'|run bad-number.ini"
"sweep: empty list|2|empty-list.ini:7: [bitcount] hidden|run empty-list.ini"
"sweep: value out of range|2|zero-hidden.ini:7: [bitcount] hidden|run zero-hidden.ini"
"sweep: missing data directory|2|missing-data.ini:4: [mnist] data|run missing-data.ini"
"sweep: file missing|2|nope.ini|run nope.ini"
"--set with a bad value|2|--set bitcount.layers=0|run ok.ini --set bitcount.layers=0"
"--set with no section|2|--set hidden=8|run ok.ini --set hidden=8"
"hidden 0|2|hidden must be in 1..8192, got 0|train --hidden 0"
"negative hidden|2|hidden must be in 1..8192, got -5|train --hidden -5"
"batch 0|2|batch must be in 1..1000000, got 0|train --batch 0"
"layers 0|2|layers must be in 1..16, got 0|train --layers 0"
"bits > 30|2|bits must be in 1..30, got 31|train --bits 31"
"train size >= 2^bits|2|train_size must be in 1..255 for bits=8|train --bits 8 --train-size 256"
"val_size leaving no test strings|2|val_size must be in 0..55 for bits=8 and train_size=200|train --bits 8 --train-size 200 --val-size 56"
"negative val_size|2|val_size must be >= 0 (or -1 for the task's default), got -5|train --val-size -5"
"sweep: val_size leaving no test strings|2|big-val.ini:7: [bitcount] val_size: val_size must be in 0..155|run big-val.ini"
"dropout 1|2|dropout must be in [0, 1)|train --dropout 1"
"not a number|2|lr: 'fast' is not a number|train --lr fast"
"unknown task|2|task: 'cifar' is not bitcount or mnist|train --task cifar"
"unknown cell|2|cell: 'gruu' is not lstm, gru, lbr-gru or rnn|train --cell gruu"
"more memory than exists|1|GiB of memory, only|train --hidden 8192 --batch 100000 --epochs 1"
"--threads-per-job 0|2|--threads-per-job '0'|run ok.ini --threads-per-job 0"
"--shard out of range|2|--shard '3/2'|run ok.ini --shard 3/2"
"--mem-limit unparsable|2|--mem-limit '12Q'|run ok.ini --mem-limit 12Q"
"IDX file truncated|1|trunc/train-images-idx3-ubyte: truncated|train --task mnist --data trunc"
"IDX file with wrong magic|1|magic/train-images-idx3-ubyte: not an IDX file|train --task mnist --data magic"
"IDX directory missing|1|nowhere/train-images-idx3-ubyte: not found|train --task mnist --data nowhere"
"model file truncated|1|trunc.lsm: truncated|predict --model trunc.lsm 0101"
"model file corrupt|1|corrupt.lsm: checksum mismatch|predict --model corrupt.lsm 0101"
"not a model file|1|ok.ini: not an lstmsweep model file|predict --model ok.ini 0101"
"bit string of another length|1|has 5 bits; the model was trained on 4|predict --model m.lsm 01010"
"not a bit string|1|'01x1'|predict --model m.lsm 01x1"
"results CSV with another header|1|other-header.csv:1: unexpected header|merge -o m.csv other-header.csv"
"results CSV with a short row|1|short-row.csv:2: 3 fields, expected|merge -o m.csv short-row.csv"
"appending to a CSV of another format|1|exists with a different header|train --bits 4 --train-size 8 --hidden 2 --epochs 1 --quiet --results other-header.csv"
)

pass=0 fail=0
[ "${1:-}" = --markdown ] && { echo "| bad input | command | exit | message |"; echo "|---|---|---:|---|"; }
for row in "${rows[@]}"; do
    IFS='|' read -r what want_rc want_msg cmd <<<"$row"
    # shellcheck disable=SC2086
    out=$("$ls" $cmd 2>&1 >/dev/null)
    rc=$?
    msg=$(grep -m1 'lstmsweep' <<<"$out" || grep -m1 -F -- "$want_msg" <<<"$out" || true)
    msg=${msg#"${msg%%[! ]*}"} # without leading blanks
    if [ "$rc" = "$want_rc" ] && grep -qF -- "$want_msg" <<<"$out"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $what: \`lstmsweep $cmd\` gave exit $rc (want $want_rc), output: $out" >&2
    fi
    if [ "${1:-}" = --markdown ]; then
        msg=${msg//|/\\|}
        echo "| $what | \`lstmsweep $cmd\` | $rc | \`${msg#lstmsweep: }\` |"
    fi
done
echo "bad-input: $pass passed, $fail failed"
[ "$fail" = 0 ]
