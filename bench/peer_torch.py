#!/usr/bin/python3
"""peer_torch.py - the PyTorch peer of lstmsweep's benchmarks.

The same model as include/lstmsweep/model.h, in PyTorch: nn.LSTM
(batch_first=False, num_layers=L, gate order i,f,g,o as ours), dropout after
every LSTM layer when given (nn.LSTM's between layers plus one on the last
step's output, as ours), nn.Linear on the last step's hidden state, mean
softmax cross-entropy, torch.optim.Adam(lr, betas=(0.9, 0.999), eps=1e-8).
Initialization as ours: input weights ~ U(+-sqrt(6/(I+4H))), recurrent
weights ~ U(+-sqrt(6/(5H))), LSTM biases 0 except the forget gate at 1, dense
weights ~ N(0, 1) truncated at 2 sigma with bias 0.1.  nn.LSTM has two bias vectors (b_ih + b_hh); b_hh is held at
zero (not trained), so the parameters and Adam's updates are those of our
single bias.

  peer_torch.py step --threads K[,K2...] [--quick] [--csv OUT]
      One full training step (zero_grad, batch expansion, forward, loss,
      backward, optimizer.step) on the five panel shapes of bench_step.c;
      median over repeats after one warm-up: at least 5 and ~2 s (0.3 s with
      --quick).  CSV: shape,threads,torch_ms,samples_per_s.  Prints a
      markdown table.

  peer_torch.py bitcount [--target 0.003] [--epochs 2000] [--eval-every 25]
                         [--seed 1] [--threads 1] [--csv OUT] ...
      Time to accuracy on bitcount: all 2^bits strings shuffled, the first
      train-size for training, the rest for test; mini-batches reshuffled
      every epoch; the whole test set evaluated every N epochs (and at the
      end) in big batches under no_grad; stops at the first evaluation with
      test error <= target.  Wall time = training + evaluation (data set
      creation and start-up excluded).  The split and shuffles come from
      torch's generator, not lstmsweep's, so they differ from ours.

  peer_torch.py mnist --data DIR [--hidden 128] [--layers 1] [--dropout 0]
                      [--epochs 10] [--batch 100] [--val-size 5000] [--seed 1]
                      [--threads 1] [--target E] [--csv OUT]
      Accuracy per epoch on MNIST with exactly lstmsweep's split: the four
      IDX files of DIR (plain or .gz), the first val-size training images
      for validation, the other training images for training, the t10k
      files for test; each image row one time step, pixels / 255.  Every
      epoch it reports train loss and the validation and test errors, and
      with --target it stops after the first epoch whose test error is at
      most E (time to accuracy, as `lstmsweep train --target-error`).  CSV:
      one row per epoch, with the training and the evaluation seconds so
      far.  Only the weights and the shuffles differ from ours (torch's
      generator).

Exit status 77 (skip) when torch is not importable.  Debian's python3-torch
lives in /usr/bin/python3's dist-packages: run it with that interpreter, not
a python3 of pyenv or a venv.  OpenMP threads are bound to cores
(OMP_PROC_BIND=close, OMP_PLACES=cores) unless the environment says
otherwise, as bench_step binds its team.
"""
import argparse
import ctypes
import math
import os
import sys
import time

os.environ.setdefault("OMP_PROC_BIND", "close")
os.environ.setdefault("OMP_PLACES", "cores")

try:
    import torch
    import torch.nn as nn
except ImportError as e:
    print(f"peer_torch: PyTorch is not importable by {sys.executable} ({e}); "
          "install it with scripts/install-deps --peer and run this script "
          "with /usr/bin/python3", file=sys.stderr)
    sys.exit(77)

# The panel of bench_step.c: name, T, I, H, N, L, C.
PANEL = [
    ("bitcount H24 B1000 L1", 20, 1, 24, 1000, 1, 21),
    ("mnist H128 B100 L1", 28, 28, 128, 100, 1, 10),
    ("mnist H256 B100 L3", 28, 28, 256, 100, 3, 10),
    ("bitcount H8 B50 L1", 20, 1, 8, 50, 1, 21),
    ("bitcount H256 B1000 L3", 20, 1, 256, 1000, 3, 21),
]

# bench_step.c's bf16 panel (bench_step --bf16, bench/bf16.sh): PyTorch in
# f32 on the same model, for the f32 vs bf16 comparison.
PANEL_BF16 = [
    ("T28 N100 I28 H128 L1", 28, 28, 128, 100, 1, 10),
    ("T28 N100 I256 H256 L1", 28, 256, 256, 100, 1, 10),
    ("T20 N1000 I1 H24 L1", 20, 1, 24, 1000, 1, 21),
    ("T20 N1000 I1 H32 L1", 20, 1, 32, 1000, 1, 21),
    ("T20 N1000 I2 H24 L1", 20, 2, 24, 1000, 1, 21),
    ("T20 N1000 I256 H256 L1", 20, 256, 256, 1000, 1, 21),
    ("T28 N100 I28 H256 L3", 28, 28, 256, 100, 3, 10),
]


class Model(nn.Module):
    def __init__(self, I, H, L, C, dropout=0.0):
        super().__init__()
        self.lstm = nn.LSTM(I, H, num_layers=L, batch_first=False,
                            dropout=dropout if L > 1 else 0.0)
        self.drop = nn.Dropout(dropout) if dropout > 0 else None
        self.dense = nn.Linear(H, C)
        with torch.no_grad():  # initialization only, not in the step
            for l in range(L):
                il = I if l == 0 else H
                a = math.sqrt(6.0 / (il + 4 * H))
                getattr(self.lstm, f"weight_ih_l{l}").uniform_(-a, a)
                a = math.sqrt(6.0 / (5 * H))
                getattr(self.lstm, f"weight_hh_l{l}").uniform_(-a, a)
                b = getattr(self.lstm, f"bias_ih_l{l}")
                b.zero_()
                b[H:2 * H] = 1.0  # forget gate
                bh = getattr(self.lstm, f"bias_hh_l{l}")
                bh.zero_()
                bh.requires_grad_(False)
            # dense as ours (and the reference tutorial): truncated N(0, 1)
            # at 2 sigma, bias 0.1
            nn.init.trunc_normal_(self.dense.weight, 0.0, 1.0, -2.0, 2.0)
            self.dense.bias.fill_(0.1)

    def forward(self, x):  # x (T, N, I)
        out, _ = self.lstm(x)
        h = out[-1]
        if self.drop is not None:
            h = self.drop(h)
        return self.dense(h)


def make_opt(model, lr):
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8)


def blas_info():
    """The BLAS torch loaded, and for OpenBLAS its config and kernel (core
    name), read from the library itself (what threadpoolctl does)."""
    torch.mm(torch.ones(256, 256), torch.ones(256, 256))  # make sure it is loaded
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            if "blas" in os.path.basename(p) and p.startswith("/"):
                libs.add(p)
    for p in sorted(libs, key=lambda s: "openblas" not in s):
        try:
            lib = ctypes.CDLL(p)
        except OSError:
            continue
        cfg = getattr(lib, "openblas_get_config", None)
        if cfg is None:
            continue
        cfg.restype = ctypes.c_char_p
        core = lib.openblas_get_corename
        core.restype = ctypes.c_char_p
        # No thread count: the OpenMP build's openblas_get_num_threads() is
        # stale; each call uses omp_get_max_threads(), which
        # torch.set_num_threads sets.
        return f"{cfg().decode()}; kernel {core().decode()}; {os.path.realpath(p)}"
    return "BLAS: " + (", ".join(sorted(libs)) or "none found in /proc/self/maps")


def header(threads):
    env = ", ".join(f"{k}={os.environ[k]}" for k in
                    ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS")
                    if k in os.environ) or "no OPENBLAS_*/OMP_NUM_THREADS set"
    return (f"PyTorch {torch.__version__} ({sys.executable}), "
            f"{torch.__config__.parallel_info().splitlines()[-1].strip()}, "
            f"{torch.get_num_threads()} thread(s) (asked {threads}); "
            f"{blas_info()}; {env}")


# ---- step ----

class StepBench:
    """A stand-in data set of the shape (as bench_step's bench_data): 10000
    bit strings for I == 1, 8000 byte images otherwise; each step takes the
    next N samples cyclically and expands them, as lstmsweep's step does."""

    def __init__(self, s, lr=1e-3):
        name, T, I, H, N, L, C = s
        self.T, self.I, self.N = T, I, N
        g = torch.Generator().manual_seed(1)
        if I == 1:
            self.n = 10000
            self.codes = torch.randint(0, 1 << T, (self.n,), generator=g)
            self.shifts = torch.arange(T - 1, -1, -1)
            self.labels = popcount(self.codes, T)
        else:
            self.n = 8000
            self.pixels = torch.randint(0, 256, (self.n, T, I), generator=g,
                                        dtype=torch.uint8)
            self.labels = torch.randint(0, C, (self.n,), generator=g)
        torch.manual_seed(1)
        self.model = Model(I, H, L, C)
        self.model.train()
        self.opt = make_opt(self.model, lr)
        self.loss = nn.CrossEntropyLoss()  # mean over the batch
        self.next = 0

    def batch(self):
        idx = (torch.arange(self.N) + self.next) % self.n
        self.next += self.N
        if self.I == 1:
            x = ((self.codes[idx].unsqueeze(0) >> self.shifts.unsqueeze(1)) & 1)
            x = x.to(torch.float32).unsqueeze(2)  # (T, N, 1)
        else:
            x = self.pixels[idx].transpose(0, 1).to(torch.float32) / 255.0
        return x.contiguous(), self.labels[idx]

    def step(self):
        self.opt.zero_grad()
        x, y = self.batch()
        loss = self.loss(self.model(x), y)
        loss.backward()
        self.opt.step()


def median_time(fn, budget):
    t = []
    start = time.perf_counter()
    fn()  # warm-up
    while len(t) < 200 and (len(t) < 5 or time.perf_counter() - start < budget):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    t.sort()
    return t[len(t) // 2]


def cmd_step(a):
    threads = [int(k) for k in a.threads.split(",")]
    budget = 0.3 if a.quick else 2.0
    csv = open(a.csv, "w") if a.csv else None
    if csv:
        csv.write("shape,threads,torch_ms,samples_per_s\n")
    first = True
    for k in threads:
        torch.set_num_threads(k)
        if first:
            print(header(k))
            print()
            print("| shape | threads | PyTorch ms | samples/s |")
            print("|---|---:|---:|---:|")
            first = False
        for s in (PANEL_BF16 if a.panel == "bf16" else PANEL):
            b = StepBench(s)
            t = median_time(b.step, budget)
            print(f"| {s[0]} | {k} | {t * 1e3:.2f} | {s[4] / t:.0f} |", flush=True)
            if csv:
                csv.write(f"{s[0]},{k},{t * 1e3:.4f},{s[4] / t:.1f}\n")
                csv.flush()
    if csv:
        csv.close()
    return 0


# ---- bitcount time to accuracy ----

def popcount(codes, bits):
    c = codes.clone()
    n = torch.zeros_like(c)
    for _ in range(bits):
        n += c & 1
        c >>= 1
    return n


def expand(codes, shifts):
    """(n,) codes -> (T, n, 1) float bits, most significant bit first."""
    return ((codes.unsqueeze(0) >> shifts.unsqueeze(1)) & 1).to(torch.float32).unsqueeze(2)


def cmd_bitcount(a):
    torch.set_num_threads(a.threads)
    T, n_all = a.bits, 1 << a.bits
    if not 1 <= a.train_size < n_all:
        print(f"peer_torch: --train-size must be in [1, {n_all})", file=sys.stderr)
        return 2
    print(header(a.threads), flush=True)
    g = torch.Generator().manual_seed(a.seed)
    codes = torch.randperm(n_all, generator=g)
    labels = popcount(codes, T)
    shifts = torch.arange(T - 1, -1, -1)
    tr_codes, te_codes = codes[:a.train_size], codes[a.train_size:]
    tr_x = expand(tr_codes, shifts)  # (T, n_train, 1)
    tr_y, te_y = labels[:a.train_size], labels[a.train_size:]
    n_test = te_codes.numel()

    torch.manual_seed(a.seed)
    model = Model(1, a.hidden, a.layers, T + 1, a.dropout)
    opt = make_opt(model, a.lr)
    lossf = nn.CrossEntropyLoss()

    def evaluate():
        model.eval()
        wrong = 0
        with torch.no_grad():
            for i in range(0, n_test, a.eval_batch):
                c = te_codes[i:i + a.eval_batch]
                pred = model(expand(c, shifts)).argmax(1)
                wrong += int((pred != te_y[i:i + a.eval_batch]).sum())
        model.train()
        return wrong / n_test

    train_s = eval_s = 0.0
    err, loss_v, epochs, reached = float("nan"), float("nan"), 0, False
    for ep in range(1, a.epochs + 1):
        t0 = time.perf_counter()
        perm = torch.randperm(a.train_size, generator=g)
        tot = 0.0
        for i in range(0, a.train_size, a.batch):  # the partial batch too
            idx = perm[i:i + a.batch]
            opt.zero_grad()
            loss = lossf(model(tr_x[:, idx]), tr_y[idx])
            loss.backward()
            opt.step()
            tot += float(loss) * idx.numel()
        loss_v = tot / a.train_size
        train_s += time.perf_counter() - t0
        epochs = ep
        if not math.isfinite(loss_v):
            print(f"epoch {ep}: loss {loss_v}: diverged", flush=True)
            break
        if ep % a.eval_every == 0 or ep == a.epochs:
            t0 = time.perf_counter()
            err = evaluate()
            eval_s += time.perf_counter() - t0
            if not a.quiet:
                print(f"epoch {ep:5d}/{a.epochs}  loss {loss_v:.4f}  test err "
                      f"{100 * err:.4f}%  {train_s + eval_s:.1f}s", flush=True)
            if err <= a.target:
                reached = True
                break
    wall = train_s + eval_s
    print(f"PyTorch bitcount-{T} H{a.hidden} B{a.batch} L{a.layers}: "
          f"{'reached' if reached else 'did not reach'} test error <= {a.target} "
          f"after {epochs} epochs, test error {100 * err:.4f}% of {n_test}, "
          f"train loss {loss_v:.4f}; {wall:.1f}s wall (train {train_s:.1f}s, "
          f"eval {eval_s:.1f}s) on {a.threads} thread(s)")
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("impl,bits,train_size,hidden,batch,layers,lr,seed,threads,target,"
                    "reached,epochs,wall_s,train_s,eval_s,test_error,train_loss\n")
            f.write(f"pytorch-{torch.__version__},{T},{a.train_size},{a.hidden},"
                    f"{a.batch},{a.layers},{a.lr},{a.seed},{a.threads},{a.target},"
                    f"{int(reached)},{epochs},{wall:.3f},{train_s:.3f},{eval_s:.3f},"
                    f"{err:.6f},{loss_v:.6f}\n")
    return 0


# ---- mnist accuracy per epoch, on lstmsweep's split ----

def read_idx(path):
    """An IDX file (plain or path + '.gz') as a uint8 tensor of its shape."""
    import gzip
    import struct
    if not os.path.exists(path):
        path += ".gz"
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    nd = magic & 0xff
    dims = struct.unpack(">" + "I" * nd, data[4:4 + 4 * nd])
    t = torch.frombuffer(bytearray(data[4 + 4 * nd:]), dtype=torch.uint8)
    return t.reshape(dims)


def cmd_mnist(a):
    torch.set_num_threads(a.threads)
    print(header(a.threads), flush=True)
    tr_x = read_idx(os.path.join(a.data, "train-images-idx3-ubyte"))
    tr_y = read_idx(os.path.join(a.data, "train-labels-idx1-ubyte")).long()
    te_x = read_idx(os.path.join(a.data, "t10k-images-idx3-ubyte"))
    te_y = read_idx(os.path.join(a.data, "t10k-labels-idx1-ubyte")).long()
    if not 0 <= a.val_size < tr_x.shape[0]:
        print(f"peer_torch: --val-size must be in [0, {tr_x.shape[0]})", file=sys.stderr)
        return 2
    va_x, va_y = tr_x[:a.val_size], tr_y[:a.val_size]
    tr_x, tr_y = tr_x[a.val_size:], tr_y[a.val_size:]
    n, T, I = tr_x.shape
    to_seq = lambda x: x.transpose(0, 1).to(torch.float32) / 255.0  # (T, n, I)
    g = torch.Generator().manual_seed(a.seed)
    torch.manual_seed(a.seed)
    model = Model(I, a.hidden, a.layers, 10, a.dropout)
    opt = make_opt(model, a.lr)
    lossf = nn.CrossEntropyLoss()

    def error(x, y):
        if x.shape[0] == 0:
            return float("nan")
        model.eval()
        wrong = 0
        with torch.no_grad():
            for i in range(0, x.shape[0], 1000):
                wrong += int((model(to_seq(x[i:i + 1000])).argmax(1) != y[i:i + 1000]).sum())
        model.train()
        return wrong / x.shape[0]

    csv = open(a.csv, "w") if a.csv else None
    if csv:
        csv.write("impl,hidden,layers,dropout,batch,seed,threads,epoch,train_loss,"
                  "val_error,test_error,train_s,eval_s\n")
    print(f"PyTorch mnist H{a.hidden} L{a.layers} dropout {a.dropout} B{a.batch}: "
          f"{n} train / {va_x.shape[0]} validation / {te_x.shape[0]} test images")
    train_s = eval_s = 0.0
    for ep in range(1, a.epochs + 1):
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=g)
        tot = 0.0
        for i in range(0, n, a.batch):
            idx = perm[i:i + a.batch]
            opt.zero_grad()
            loss = lossf(model(to_seq(tr_x[idx])), tr_y[idx])
            loss.backward()
            opt.step()
            tot += float(loss) * idx.numel()
        train_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        ve, te = error(va_x, va_y), error(te_x, te_y)
        eval_s += time.perf_counter() - t0
        print(f"epoch {ep:3d}  loss {tot / n:.4f}  val err {100 * ve:.2f}%  test err "
              f"{100 * te:.2f}% (accuracy {100 - 100 * te:.2f}%)  {train_s:.1f}s", flush=True)
        if csv:
            csv.write(f"pytorch-{torch.__version__},{a.hidden},{a.layers},{a.dropout},"
                      f"{a.batch},{a.seed},{a.threads},{ep},{tot / n:.6f},{ve:.6f},"
                      f"{te:.6f},{train_s:.3f},{eval_s:.3f}\n")
            csv.flush()
        if te <= a.target:
            break
    if csv:
        csv.close()
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("step", help="training-step time on the bench_step panel")
    s.add_argument("--threads", default="1", help="thread count(s), comma-separated")
    s.add_argument("--quick", action="store_true", help="0.3 s per timing instead of 2 s")
    s.add_argument("--csv", help="write shape,threads,torch_ms,samples_per_s here")
    s.add_argument("--panel", choices=["step", "bf16"], default="step",
                   help="bench_step's panel, or its --bf16 panel")
    b = sub.add_parser("bitcount", help="time to accuracy on bitcount")
    b.add_argument("--target", type=float, default=0.003, help="test error fraction")
    b.add_argument("--epochs", type=int, default=2000)
    b.add_argument("--eval-every", type=int, default=25)
    b.add_argument("--seed", type=int, default=1)
    b.add_argument("--threads", type=int, default=1)
    b.add_argument("--bits", type=int, default=20)
    b.add_argument("--train-size", type=int, default=10000)
    b.add_argument("--hidden", type=int, default=24)
    b.add_argument("--batch", type=int, default=1000)
    b.add_argument("--layers", type=int, default=1)
    b.add_argument("--lr", type=float, default=1e-3)
    b.add_argument("--dropout", type=float, default=0.0)
    b.add_argument("--eval-batch", type=int, default=65536)
    b.add_argument("--quiet", action="store_true", help="no per-evaluation lines")
    b.add_argument("--csv", help="write the result row here")
    m = sub.add_parser("mnist", help="accuracy per epoch on MNIST, lstmsweep's split")
    m.add_argument("--data", default="data/mnist", help="directory of the four IDX files")
    m.add_argument("--hidden", type=int, default=128)
    m.add_argument("--layers", type=int, default=1)
    m.add_argument("--dropout", type=float, default=0.0)
    m.add_argument("--epochs", type=int, default=10)
    m.add_argument("--batch", type=int, default=100)
    m.add_argument("--lr", type=float, default=1e-3)
    m.add_argument("--val-size", type=int, default=5000)
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--threads", type=int, default=1)
    m.add_argument("--target", type=float, default=-1,
                   help="stop after the first epoch with test error <= this (-1: never)")
    m.add_argument("--csv", help="write one row per epoch here")
    a = p.parse_args()
    if a.mode in ("bitcount", "mnist") and (a.batch < 1 or a.threads < 1 or
                                            getattr(a, "eval_every", 1) < 1):
        p.error("--eval-every, --batch and --threads must be >= 1")
    return {"step": cmd_step, "bitcount": cmd_bitcount, "mnist": cmd_mnist}[a.mode](a)


if __name__ == "__main__":
    sys.exit(main())
