#!/usr/bin/python3
"""peer_check.py [--cell CELL] ONESTEP DIR - lstmsweep's training step against PyTorch.

Runs bench/onestep (built by `make bench`), which writes its initial weights
and a batch to DIR and prints its loss over 30 Adam steps; loads the same
weights into PyTorch, takes the same 30 steps with torch.optim.Adam(lr 1e-3,
betas 0.9/0.999, eps 1e-8) and prints both loss columns with their largest
relative difference.  Exit 1 if it exceeds 1e-4, 77 if PyTorch is not
installed.  The recurrent layers, by --cell (default lstm):
  lstm     nn.LSTM: gate order i, f, g, o is oneDNN's too; b_hh held at 0
  lbr-gru  nn.GRU, which is the linear-before-reset GRU: PyTorch's gates
           (r, z, n) are oneDNN's (r, u, o); b_ih = (B_r, B_u, B_o),
           b_hh = (0, 0, B_u'), its first two thirds held at 0
  rnn      nn.RNN(nonlinearity="tanh"); b_hh held at 0
  gru      PyTorch has no module for this form (Keras' reset_after=False:
           the reset gate multiplies h before the recurrent product), so
           it is written here from torch operations and differentiated by
           autograd: u, r = sig(x W + h U + b), o = tanh(x W_o +
           (r * h) U_o + b_o), h = u * h + (1 - u) * o
Every bias that is "held at 0" gets a zero gradient, so Adam never moves it.
"""
import argparse
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
GATES = {"lstm": (4, 4), "gru": (3, 3), "lbr-gru": (3, 4), "rnn": (1, 1)}


def hold_zero(param, keep):
    """Zero param's gradient outside the mask `keep` (1 = trained)."""
    with torch.no_grad():
        param.mul_(keep)
    param.register_hook(lambda g: g * keep)


class KerasGRU(nn.Module):
    """L layers of the reset-before GRU, weights in oneDNN's (u, r, o) order:
    wl (I, 3H), wi (H, 3H), b (3H) per layer."""

    def __init__(self, layers):
        super().__init__()
        self.p = nn.ParameterList([nn.Parameter(torch.tensor(a)) for a in layers])

    def forward(self, x):
        for k in range(0, len(self.p), 3):
            wl, wi, b = self.p[k], self.p[k + 1], self.p[k + 2]
            h = torch.zeros(x.shape[1], H)
            out = []
            gx = x @ wl + b                                  # (T, N, 3H)
            for t in range(x.shape[0]):
                ur = torch.sigmoid(gx[t, :, :2 * H] + h @ wi[:, :2 * H])
                u, r = ur[:, :H], ur[:, H:]
                o = torch.tanh(gx[t, :, 2 * H:] + (r * h) @ wi[:, 2 * H:])
                h = u * h + (1 - u) * o
                out.append(h)
            x = torch.stack(out)
        return x, None


def torch_layers(cell, p):
    """The recurrent layers loaded from the flat parameters p (model.h's
    layout), and the offset of the dense layer's in p."""
    G, Gb = GATES[cell]
    sections, o = [], 0
    for layer in range(L):
        i_l = I if layer == 0 else H
        wl = p[o:o + i_l * G * H].reshape(i_l, G * H); o += i_l * G * H
        wi = p[o:o + H * G * H].reshape(H, G * H); o += H * G * H
        bi = p[o:o + Gb * H]; o += Gb * H
        sections.append((wl, wi, bi))
    if cell == "gru":
        return KerasGRU([a for s in sections for a in s]), o
    rnn = {"lstm": lambda: nn.LSTM(I, H, num_layers=L),
           "lbr-gru": lambda: nn.GRU(I, H, num_layers=L),
           "rnn": lambda: nn.RNN(I, H, num_layers=L, nonlinearity="tanh")}[cell]()
    # oneDNN gate order -> PyTorch's: the same for the LSTM, (u, r, o) ->
    # (r, z=u, n=o) for the GRU
    order = [1, 0, 2] if cell == "lbr-gru" else list(range(G))
    with torch.no_grad():
        for layer, (wl, wi, bi) in enumerate(sections):
            def gates(m):  # (K, G*H) -> PyTorch's (G*H, K) in its order
                return np.concatenate([m[:, g * H:(g + 1) * H].T for g in order])
            getattr(rnn, f"weight_ih_l{layer}").copy_(torch.tensor(gates(wl)))
            getattr(rnn, f"weight_hh_l{layer}").copy_(torch.tensor(gates(wi)))
            getattr(rnn, f"bias_ih_l{layer}").copy_(
                torch.tensor(np.concatenate([bi[g * H:(g + 1) * H] for g in order])))
            b_hh = getattr(rnn, f"bias_hh_l{layer}")
            b_hh.zero_()
            keep = torch.zeros(G * H)
            if cell == "lbr-gru":  # B_u', the candidate's recurrent bias
                b_hh[2 * H:] = torch.tensor(bi[3 * H:])
                keep[2 * H:] = 1
            hold_zero(b_hh, keep)
    return rnn, o


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cell", default="lstm", choices=sorted(GATES))
    ap.add_argument("onestep")
    ap.add_argument("dir")
    a = ap.parse_args()
    d = a.dir
    for f in ("init.bin", "batch.bin"):
        open(f"{d}/{f}", "wb").close()
    out = subprocess.run([a.onestep, d, *map(str, (T, I, H, L, C, N, STEPS)), a.cell],
                         check=True, capture_output=True, text=True).stdout
    ours = [float(line.split()[1]) for line in out.split("\n") if line]

    torch.set_num_threads(1)
    p = np.fromfile(f"{d}/init.bin", np.float32)
    b = np.fromfile(f"{d}/batch.bin", np.float32)
    x = torch.tensor(b[:T * N * I].reshape(T, N, I))
    y = torch.tensor(b[T * N * I:].view(np.int32).astype(np.int64))
    rnn, o = torch_layers(a.cell, p)
    dense = nn.Linear(H, C)
    with torch.no_grad():
        dense.weight.copy_(torch.tensor(p[o:o + H * C].reshape(H, C).T)); o += H * C
        dense.bias.copy_(torch.tensor(p[o:o + C])); o += C
    assert o == p.size, (o, p.size)
    params = list(rnn.parameters()) + list(dense.parameters())
    opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    loss_fn = nn.CrossEntropyLoss()
    theirs = []
    for _ in range(STEPS):
        opt.zero_grad()
        out, _ = rnn(x)
        loss = loss_fn(dense(out[-1]), y)
        loss.backward()
        opt.step()
        theirs.append(loss.item())
    worst = max(abs(a - b) / abs(b) for a, b in zip(ours, theirs))
    print(f"{STEPS} Adam steps, {a.cell} T{T} I{I} H{H} L{L} C{C} N{N}: "
          "loss lstmsweep vs PyTorch")
    for s in (0, 1, 2, 5, 10, 20, STEPS - 1):
        print(f"  step {s:2d}: {ours[s]:.6f}  {theirs[s]:.6f}")
    print(f"  largest relative difference: {worst:.2e}")
    sys.exit(0 if worst < 1e-4 else 1)


if __name__ == "__main__":  # bench/cells_step.py imports torch_layers
    main()
