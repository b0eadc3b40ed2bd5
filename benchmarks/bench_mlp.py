"""Benchmark: multi-task MLP vs scikit-learn's MLPRegressor vs PyTorch (CPU).

Problem: n=20000 rows (80% train), p=50 features, T=8 regression tasks sharing
a nonlinear representation, every label present (so scikit-learn's
multi-output MLPRegressor solves the same problem). All models: trunk
(128, 64) with ReLU, one linear output per task, Adam (lr 1e-3), batch 256,
alpha 1e-4, a fixed number of epochs (no early stopping). Reports seconds per
epoch (best of --repeat fits, run interleaved, to resist noise from other
processes) and mean / min per-task test R².

Second table (``--part arch``): every ``architecture`` ("hard", "soft",
"cross_stitch", "mmoe" with 4 experts) in float32 against an equivalent
PyTorch CPU model written here with the same layout (columns as batched
products, the same soft-sharing penalty, cross-stitch units, softmax gates on
the input), same sizes, threads, batch, Adam and initialisation scheme
(PyTorch's U(+-1/sqrt(fan_in)), ``weight_init="fan_in"``; gates start at 0,
cross-stitch units at 0.9 / 0.1 / (T - 1)).

Run:  python benchmarks/bench_mlp.py [--epochs 20] [--threads 2] [--repeat 3]
      [--part all|base|arch]

PyTorch is optional (skipped with a message if not installed); it is never a
dependency of skmtl.
"""

import argparse
import os
import time
import warnings


def parse():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--repeat", type=int, default=3, help="fits per model; best time kept"
    )
    ap.add_argument("--part", choices=("all", "base", "arch"), default="all")
    return ap.parse_args()


ARGS = parse()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, str(ARGS.threads))

import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402

from skmtl.metrics import r2_score  # noqa: E402
from skmtl.neural_network import MultiTaskMLPRegressor  # noqa: E402

P, T, TRUNK, BATCH, LR, ALPHA = 50, 8, (128, 64), 256, 1e-3, 1e-4


def make_problem(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, P))
    A = rng.normal(size=(P, 6)) / np.sqrt(P)
    H = np.c_[np.tanh(2 * X @ A), (X @ A[:, :3]) ** 2]
    B = rng.normal(size=(H.shape[1], T))
    F = H @ B + 0.3 * (X[:, :T] * X[:, T : 2 * T])
    Y = F + 0.1 * rng.normal(size=F.shape)
    Y = (Y - Y.mean(0)) / Y.std(0)
    n_tr = int(0.8 * n)
    return X[:n_tr], Y[:n_tr], X[n_tr:], Y[n_tr:]


def scores(Yte, pred):
    r = r2_score(Yte, pred, aggregate="raw_values")
    return float(r.mean()), float(r.min())


def bench_skmtl(Xtr, Ytr, Xte, Yte, dtype, weight_init="glorot"):
    m = MultiTaskMLPRegressor(
        TRUNK,
        batch_size=BATCH,
        learning_rate_init=LR,
        alpha=ALPHA,
        max_iter=ARGS.epochs,
        tol=0.0,
        n_iter_no_change=10**9,
        random_state=0,
        weight_init=weight_init,
    )
    Xtr, Xte = Xtr.astype(dtype), Xte.astype(dtype)
    t = time.perf_counter()
    m.fit(Xtr, Ytr)
    dt = (time.perf_counter() - t) / m.n_iter_
    return dt, scores(Yte, m.predict(Xte))


def bench_sklearn(Xtr, Ytr, Xte, Yte, dtype):
    m = MLPRegressor(
        hidden_layer_sizes=TRUNK,
        batch_size=BATCH,
        learning_rate_init=LR,
        alpha=ALPHA,
        max_iter=ARGS.epochs,
        tol=0.0,
        n_iter_no_change=10**9,
        random_state=0,
    )
    Xtr, Xte = Xtr.astype(dtype), Xte.astype(dtype)
    t = time.perf_counter()
    m.fit(Xtr, Ytr.astype(dtype))
    dt = (time.perf_counter() - t) / m.n_iter_
    return dt, scores(Yte, m.predict(Xte))


def bench_torch(Xtr, Ytr, Xte, Yte, init="default"):
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    torch.set_num_threads(ARGS.threads)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk = torch.nn.Sequential(
                torch.nn.Linear(P, TRUNK[0]),
                torch.nn.ReLU(),
                torch.nn.Linear(TRUNK[0], TRUNK[1]),
                torch.nn.ReLU(),
            )
            self.heads = torch.nn.ModuleList(
                [torch.nn.Linear(TRUNK[1], 1) for _ in range(T)]
            )

        def forward(self, x):
            h = self.trunk(x)
            return torch.cat([head(h) for head in self.heads], dim=1)

    net = Net()
    if init == "glorot":  # scikit-learn's / skmtl's Glorot-uniform scheme
        for mod in net.modules():
            if isinstance(mod, torch.nn.Linear):
                bound = np.sqrt(6.0 / (mod.in_features + mod.out_features))
                torch.nn.init.uniform_(mod.weight, -bound, bound)
                torch.nn.init.uniform_(mod.bias, -bound, bound)
    # L2 on weights only, alpha / (2 batch) * ||W||^2 as in scikit-learn
    decay = [p for n, p in net.named_parameters() if n.endswith("weight")]
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    Xt = torch.from_numpy(Xtr.astype(np.float32))
    Yt = torch.from_numpy(Ytr.astype(np.float32))
    n = Xt.shape[0]
    g = torch.Generator().manual_seed(0)
    t = time.perf_counter()
    for _ in range(ARGS.epochs):
        perm = torch.randperm(n, generator=g)
        for s in range(0, n, BATCH):
            idx = perm[s : s + BATCH]
            xb, yb = Xt[idx], Yt[idx]
            opt.zero_grad()
            # per-task mean of 1/2 squared error, summed over tasks
            loss = 0.5 * ((net(xb) - yb) ** 2).mean(0).sum()
            loss = loss + ALPHA / (2 * len(idx)) * sum((w**2).sum() for w in decay)
            loss.backward()
            opt.step()
    dt = (time.perf_counter() - t) / ARGS.epochs
    with torch.no_grad():
        pred = net(torch.from_numpy(Xte.astype(np.float32))).numpy()
    return dt, scores(Yte, pred), torch.__version__


ARCHS = ("hard", "soft", "cross_stitch", "mmoe")
N_EXPERTS, STRENGTH = 4, 1.0


def bench_arch_skmtl(Xtr, Ytr, Xte, Yte, arch):
    m = MultiTaskMLPRegressor(
        TRUNK,
        architecture=arch,
        n_experts=N_EXPERTS,
        sharing_strength=STRENGTH,
        batch_size=BATCH,
        learning_rate_init=LR,
        alpha=ALPHA,
        max_iter=ARGS.epochs,
        tol=0.0,
        n_iter_no_change=10**9,
        random_state=0,
        weight_init="fan_in",
        standardize_targets=False,  # Y is standardised already
    )
    Xtr, Xte = Xtr.astype(np.float32), Xte.astype(np.float32)
    t = time.perf_counter()
    m.fit(Xtr, Ytr)
    dt = (time.perf_counter() - t) / m.n_iter_
    return dt, scores(Yte, m.predict(Xte))


def bench_arch_torch(Xtr, Ytr, Xte, Yte, arch):
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    torch.set_num_threads(ARGS.threads)
    C = N_EXPERTS if arch == "mmoe" else T
    h1, h2 = TRUNK

    def uniform(shape, fan_in):
        b = 1.0 / np.sqrt(fan_in)
        return torch.nn.Parameter(torch.empty(shape).uniform_(-b, b))

    class Columns(torch.nn.Module):
        """C columns (128, 64) as batched products, then per-task heads."""

        def __init__(self):
            super().__init__()
            if arch == "hard":
                self.W0, self.b0 = uniform((P, h1), P), uniform((h1,), P)
                self.W1, self.b1 = uniform((h1, h2), h1), uniform((h2,), h1)
            else:
                self.W0, self.b0 = uniform((P, C * h1), P), uniform((C * h1,), P)
                self.W1, self.b1 = uniform((C, h1, h2), h1), uniform((C, 1, h2), h1)
            if arch == "cross_stitch":
                S = torch.full((T, T), 0.1 / (T - 1)) + (0.9 - 0.1 / (T - 1)) * (
                    torch.eye(T)
                )
                self.S0 = torch.nn.Parameter(S.clone())
                self.S1 = torch.nn.Parameter(S.clone())
            if arch == "mmoe":
                self.Wg = torch.nn.Parameter(torch.zeros(P, T * C))
                self.bg = torch.nn.Parameter(torch.zeros(T * C))
            self.Wh, self.bh = uniform((T, h2, 1), h2), uniform((T, 1, 1), h2)

        def forward(self, x):
            n = x.shape[0]
            if arch == "hard":
                h = torch.relu(torch.relu(x @ self.W0 + self.b0) @ self.W1 + self.b1)
                return h @ self.Wh[:, :, 0].T + self.bh[:, 0, 0]
            a = torch.relu(x @ self.W0 + self.b0).reshape(n, C, h1).transpose(0, 1)
            if arch == "cross_stitch":
                a = torch.einsum("ts,snh->tnh", self.S0, a)
            a = torch.relu(torch.bmm(a, self.W1) + self.b1)
            if arch == "cross_stitch":
                a = torch.einsum("ts,snh->tnh", self.S1, a)
            if arch == "mmoe":
                g = torch.softmax((x @ self.Wg + self.bg).reshape(n, T, C), dim=2)
                a = torch.einsum("nte,end->tnd", g, a)
            return (torch.bmm(a, self.Wh) + self.bh)[:, :, 0].T

    net = Columns()
    weights = [p for name, p in net.named_parameters() if name.startswith("W")]
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    Xt = torch.from_numpy(Xtr.astype(np.float32))
    Yt = torch.from_numpy(Ytr.astype(np.float32))
    n = Xt.shape[0]
    g = torch.Generator().manual_seed(0)
    t = time.perf_counter()
    for _ in range(ARGS.epochs):
        perm = torch.randperm(n, generator=g)
        for s in range(0, n, BATCH):
            idx = perm[s : s + BATCH]
            xb, yb = Xt[idx], Yt[idx]
            opt.zero_grad()
            loss = 0.5 * ((net(xb) - yb) ** 2).mean(0).sum()
            loss = loss + ALPHA / (2 * len(idx)) * sum((w**2).sum() for w in weights)
            if arch == "soft":
                parts = [
                    net.W0.reshape(P, C, h1).transpose(0, 1),
                    net.b0.reshape(C, h1),
                    net.W1,
                    net.b1,
                ]
                loss = loss + STRENGTH / (2 * len(idx)) * sum(
                    ((q - q.mean(0, keepdim=True)) ** 2).sum() for q in parts
                )
            loss.backward()
            opt.step()
    dt = (time.perf_counter() - t) / ARGS.epochs
    with torch.no_grad():
        pred = net(torch.from_numpy(Xte.astype(np.float32))).numpy()
    return dt, scores(Yte, pred), torch.__version__


def main_arch(Xtr, Ytr, Xte, Yte):
    runs = {}
    for _ in range(ARGS.repeat):
        for arch in ARCHS:
            runs.setdefault(("skmtl", arch), []).append(
                bench_arch_skmtl(Xtr, Ytr, Xte, Yte, arch)
            )
            res = bench_arch_torch(Xtr, Ytr, Xte, Yte, arch)
            if res is not None:
                runs.setdefault(("torch", arch), []).append(res[:2])
    if not any(k[0] == "torch" for k in runs):
        print("PyTorch not installed: skipping the PyTorch CPU models.")
    best = {k: (min(r[0] for r in v), v[-1][1]) for k, v in runs.items()}
    hard = best[("skmtl", "hard")][0]
    print()
    print(
        "| architecture | skmtl s / epoch | PyTorch s / epoch | skmtl / PyTorch "
        "| skmtl / hard | skmtl R² (mean, min) | PyTorch R² (mean, min) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for arch in ARCHS:
        dt, (rm, rn) = best[("skmtl", arch)]
        tor = best.get(("torch", arch))
        tdt = f"{tor[0]:.4f}" if tor else "-"
        ratio = f"{dt / tor[0]:.2f}" if tor else "-"
        tr = f"{tor[1][0]:.4f}, {tor[1][1]:.4f}" if tor else "-"
        print(
            f"| {arch} | {dt:.4f} | {tdt} | {ratio} | {dt / hard:.2f} "
            f"| {rm:.4f}, {rn:.4f} | {tr} |"
        )


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    Xtr, Ytr, Xte, Yte = make_problem(ARGS.n, ARGS.seed)
    if ARGS.part in ("all", "arch"):
        print(
            f"architectures: n_train={len(Xtr)}, p={P}, T={T}, trunk={TRUNK}, "
            f"batch={BATCH}, epochs={ARGS.epochs}, threads={ARGS.threads}, "
            f"n_experts={N_EXPERTS}, sharing_strength={STRENGTH}"
        )
        main_arch(Xtr, Ytr, Xte, Yte)
        if ARGS.part == "arch":
            return
    print(
        f"n_train={len(Xtr)}, p={P}, T={T}, trunk={TRUNK}, batch={BATCH}, "
        f"epochs={ARGS.epochs}, threads={ARGS.threads}"
    )
    runs = {}
    for _ in range(ARGS.repeat):
        for dtype in (np.float64, np.float32):
            name = np.dtype(dtype).name
            for label, fn in (
                (f"skmtl MultiTaskMLPRegressor ({name})", bench_skmtl),
                (f"sklearn MLPRegressor ({name})", bench_sklearn),
            ):
                runs.setdefault(label, []).append(fn(Xtr, Ytr, Xte, Yte, dtype))
        # PyTorch's nn.Linear initialisation, U(+-1/sqrt(fan_in))
        label = "skmtl MultiTaskMLPRegressor (float32, weight_init='fan_in')"
        res = bench_skmtl(Xtr, Ytr, Xte, Yte, np.float32, weight_init="fan_in")
        runs.setdefault(label, []).append(res)
        for init in ("default", "glorot"):
            res = bench_torch(Xtr, Ytr, Xte, Yte, init)
            if res is not None:
                label = f"PyTorch {res[2]} CPU (float32, {init} init)"
                runs.setdefault(label, []).append(res[:2])
    if not any(k.startswith("PyTorch") for k in runs):
        print("PyTorch not installed: skipping the PyTorch CPU model.")
    rows = [(label, min(r[0] for r in rs), rs[-1][1]) for label, rs in runs.items()]
    print()
    print("| model | s / epoch | mean test R² | min task R² |")
    print("|---|---:|---:|---:|")
    for name, dt, (r_mean, r_min) in rows:
        print(f"| {name} | {dt:.4f} | {r_mean:.4f} | {r_min:.4f} |")


if __name__ == "__main__":
    main()
