#!/usr/bin/python3
"""peer_check.py ONESTEP DIR - lstmsweep's training step against PyTorch.

Runs bench/onestep (built by `make bench`), which writes its initial weights
and a batch to DIR and prints its loss over 30 Adam steps; loads the same
weights into nn.LSTM + nn.Linear (gate order i, f, g, o is oneDNN's too; the
second bias b_hh is held at zero), takes the same 30 steps with
torch.optim.Adam(lr 1e-3, betas 0.9/0.999, eps 1e-8) and prints both loss
columns with their largest relative difference.  Exit 1 if it exceeds 1e-4,
77 if PyTorch is not installed.
"""
import subprocess
import sys

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError:
    print("peer_check: PyTorch not installed: skipped (scripts/install-deps --peer)")
    sys.exit(77)

T, I, H, L, C, N, STEPS = 28, 28, 64, 2, 10, 100, 30


def main():
    onestep, d = sys.argv[1], sys.argv[2]
    for f in ("init.bin", "batch.bin"):
        open(f"{d}/{f}", "wb").close()
    out = subprocess.run([onestep, d, *map(str, (T, I, H, L, C, N, STEPS))],
                         check=True, capture_output=True, text=True).stdout
    ours = [float(line.split()[1]) for line in out.split("\n") if line]

    torch.set_num_threads(1)
    p = np.fromfile(f"{d}/init.bin", np.float32)
    b = np.fromfile(f"{d}/batch.bin", np.float32)
    x = torch.tensor(b[:T * N * I].reshape(T, N, I))
    y = torch.tensor(b[T * N * I:].view(np.int32).astype(np.int64))
    lstm, dense = nn.LSTM(I, H, num_layers=L), nn.Linear(H, C)
    o = 0
    with torch.no_grad():
        for layer in range(L):
            i_l = I if layer == 0 else H
            wl = p[o:o + i_l * 4 * H].reshape(i_l, 4 * H); o += i_l * 4 * H
            wi = p[o:o + H * 4 * H].reshape(H, 4 * H); o += H * 4 * H
            bi = p[o:o + 4 * H]; o += 4 * H
            getattr(lstm, f"weight_ih_l{layer}").copy_(torch.tensor(wl.T))
            getattr(lstm, f"weight_hh_l{layer}").copy_(torch.tensor(wi.T))
            getattr(lstm, f"bias_ih_l{layer}").copy_(torch.tensor(bi))
            getattr(lstm, f"bias_hh_l{layer}").zero_()
            getattr(lstm, f"bias_hh_l{layer}").requires_grad_(False)
        dense.weight.copy_(torch.tensor(p[o:o + H * C].reshape(H, C).T)); o += H * C
        dense.bias.copy_(torch.tensor(p[o:o + C]))
    params = [q for q in list(lstm.parameters()) + list(dense.parameters()) if q.requires_grad]
    opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    loss_fn = nn.CrossEntropyLoss()
    theirs = []
    for _ in range(STEPS):
        opt.zero_grad()
        out, _ = lstm(x)
        loss = loss_fn(dense(out[-1]), y)
        loss.backward()
        opt.step()
        theirs.append(loss.item())
    worst = max(abs(a - b) / abs(b) for a, b in zip(ours, theirs))
    print(f"{STEPS} Adam steps, T{T} I{I} H{H} L{L} C{C} N{N}: loss lstmsweep vs PyTorch")
    for s in (0, 1, 2, 5, 10, 20, STEPS - 1):
        print(f"  step {s:2d}: {ours[s]:.6f}  {theirs[s]:.6f}")
    print(f"  largest relative difference: {worst:.2e}")
    sys.exit(0 if worst < 1e-4 else 1)


main()
