#!/usr/bin/python3
"""cells_step.py ONESTEP DIR [ROUNDS] - the training step of each cell, lstmsweep
against PyTorch, at the tutorials' shapes, one thread each.

For each cell (lstm, gru, lbr-gru, rnn) and shape (bitcount: T 20, I 1,
H 24, batch 1000, 21 classes; mnist: T 28, I 28, H 128, batch 100, 10
classes; one layer), in ROUNDS rounds (3): bench/onestep takes 60 Adam
steps and reports each step's time (forward, backward, Adam; the first 10
are warm-up and dropped); then PyTorch takes 60 steps of the same model
from the same weights (peer_check.py's torch_layers: nn.LSTM, nn.GRU for
lbr-gru, nn.RNN; the Keras GRU, which PyTorch has no module for, is
written from torch operations, a Python loop over time steps: a peer for
the numbers, not a fair one for speed), timed the same way.  Prints a
markdown table of median step times and the median of the per-round
ratios.  Exit 77 if PyTorch is not installed.  `make bench` does not run
it; bench/run.sh's step panel is the LSTM's."""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import numpy as np
    import torch
    from torch import nn
    import peer_check as pc
except ImportError:
    print("cells_step: PyTorch not installed: skipped (scripts/install-deps --peer)")
    sys.exit(77)

SHAPES = {"bitcount": (20, 1, 24, 1, 21, 1000), "mnist": (28, 28, 128, 1, 10, 100)}
STEPS, WARM = 60, 10


def ours(onestep, d, shape, cell):
    for f in ("init.bin", "batch.bin"):
        open(f"{d}/{f}", "wb").close()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([onestep, d, *map(str, shape), str(STEPS), cell], env=env,
                         check=True, capture_output=True, text=True).stdout
    return statistics.median(float(line.split()[2]) for line in out.split("\n")[WARM:] if line)


def theirs(d, shape, cell):
    pc.T, pc.I, pc.H, pc.L, pc.C, pc.N = shape
    p = np.fromfile(f"{d}/init.bin", np.float32)
    b = np.fromfile(f"{d}/batch.bin", np.float32)
    T, I, N = pc.T, pc.I, pc.N
    x = torch.tensor(b[:T * N * I].reshape(T, N, I))
    y = torch.tensor(b[T * N * I:].view(np.int32).astype(np.int64))
    rnn, o = pc.torch_layers(cell, p)
    dense = nn.Linear(pc.H, pc.C)
    opt = torch.optim.Adam(list(rnn.parameters()) + list(dense.parameters()), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for _ in range(STEPS):
        t0 = time.perf_counter()
        opt.zero_grad()
        out, _ = rnn(x)
        loss_fn(dense(out[-1]), y).backward()
        opt.step()
        times.append(1e3 * (time.perf_counter() - t0))
    return statistics.median(times[WARM:])


def main():
    onestep, d = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    torch.set_num_threads(1)
    res = {}
    for r in range(rounds):
        for task, shape in SHAPES.items():
            for cell in ("lstm", "gru", "lbr-gru", "rnn"):
                a, t = ours(onestep, d, shape, cell), theirs(d, shape, cell)
                res.setdefault((task, cell), []).append((a, t))
                print(f"round {r + 1}: {task} {cell}: lstmsweep {a:.3f} ms, PyTorch {t:.3f} ms",
                      file=sys.stderr)
    print(f"PyTorch {torch.__version__}, 1 thread each; medians of {rounds} rounds of "
          f"{STEPS - WARM} timed steps; the ratio is the median of the per-round ratios.\n")
    print("| task | cell | lstmsweep ms | PyTorch ms | PyTorch / lstmsweep |")
    print("|---|---|---:|---:|---:|")
    for (task, cell), v in res.items():
        a = statistics.median(x for x, _ in v)
        t = statistics.median(y for _, y in v)
        q = statistics.median(y / x for x, y in v)
        note = " (Python loop)" if cell == "gru" else ""
        print(f"| {task} | `{cell}` | {a:.3f} | {t:.3f}{note} | {q:.2f}x |")


if __name__ == "__main__":
    main()
