"""Default-``tol`` fits of ``MultiTaskLasso`` / ``MultiTaskElasticNet``:
epochs, time and accuracy, skmtl against scikit-learn in the same process.

What a user who keeps ``tol=1e-4`` gets: ``n_iter_`` (epochs), the median
wall time, the relative suboptimality ``(P(W) - P*) / P*`` and the largest
coefficient error relative to ``max |W*|`` (``W*``: skmtl at ``tol=1e-13``).
Problems: bench_l21.py's ``--quick`` shared-X problems (alpha_max / 10 and
/ 100), its per-task problem, and an ill-conditioned design
(``make_regression(effective_rank=5)``) where the duality-gap tolerance is
met long before the coefficients settle.

Run:  python benchmarks/bench_default_tol.py [--repeat 5]

One BLAS thread (threadpoolctl). To compare two versions of skmtl, run the
script with each on ``PYTHONPATH`` (alternating, on a busy machine) and
compare the skmtl / scikit-learn time ratios.
"""

import argparse
import warnings

import numpy as np
from _common import median_time
from bench_l21 import alpha_max, per_task_problem, shared_problem
from sklearn.datasets import make_regression
from threadpoolctl import threadpool_limits

warnings.filterwarnings("ignore")


def objective(X, Y, W, b, alpha, l1_ratio):
    out = 0.0
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        r = Y[m, t] - X[m] @ W[t] - b[t]
        out += 0.5 * float(r @ r) / m.sum()
    norms = np.sqrt((W**2).sum(axis=0))
    lam, mu = alpha * l1_ratio, alpha * (1 - l1_ratio)
    return out + lam * float(norms.sum()) + 0.5 * mu * float(np.sum(W * W))


def problems():
    for n, p, T in [(1000, 400, 10), (10000, 50, 5)]:
        X, Y = shared_problem(n, p, T)
        for ratio in (10, 100):
            yield (
                f"shared n={n} p={p} T={T}",
                f"amax/{ratio}",
                X,
                Y,
                (alpha_max(X, Y) / ratio),
                1.0,
            )
    X, Y, _, _ = per_task_problem(20, 100, 100)
    yield "per-task T=20 n_t=100 p=100", "0.05", X, Y, 0.05, 1.0
    X, Y = make_regression(
        n_samples=300, n_features=100, n_targets=3, effective_rank=5,
        n_informative=50, noise=1.0, random_state=0,
    )  # fmt: skip
    yield "ill-conditioned n=300 p=100 T=3", "0.01, l1_ratio=0.5", X, Y, 0.01, 0.5


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    threadpool_limits(1)
    from sklearn.linear_model import MultiTaskElasticNet as SkEnet

    from skmtl import MultiTaskElasticNet

    MultiTaskElasticNet(alpha=0.1).fit(*shared_problem(50, 20, 2))  # numba warm-up
    print(
        "| problem | alpha | skmtl epochs | skmtl (s) | sklearn epochs | sklearn (s) "
        "| sklearn / skmtl | skmtl subopt | sklearn subopt | skmtl coef err "
        "| sklearn coef err |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, alpha_name, X, Y, alpha, l1_ratio in problems():
        kw = dict(alpha=alpha, l1_ratio=l1_ratio)
        # (tol=1e-13: the Gram-mode fixed point is within ~1e-12 of the
        # optimum, so a smaller tol only runs to max_iter)
        exact = MultiTaskElasticNet(tol=1e-13, max_iter=3000, **kw).fit(X, Y)
        p_star = objective(X, Y, exact.coef_, exact.intercept_, alpha, l1_ratio)
        w_max = np.max(np.abs(exact.coef_))
        cells = []
        peers = [MultiTaskElasticNet]
        if not np.isnan(Y).any():
            peers.append(SkEnet)
        for cls in peers:
            t, m = median_time(lambda cls=cls: cls(**kw).fit(X, Y), args.repeat)
            sub = (objective(X, Y, m.coef_, m.intercept_, alpha, l1_ratio) - p_star) / (
                p_star
            )
            err = np.max(np.abs(m.coef_ - exact.coef_)) / w_max
            cells.append((m.n_iter_, t, sub, err))
        if len(cells) == 1:
            cells.append((np.nan, np.nan, np.nan, np.nan))
        (e0, t0, s0, c0), (e1, t1, s1, c1) = cells
        print(
            f"| {name} | {alpha_name} | {e0} | {t0:.4f} | {e1} | {t1:.4f} "
            f"| {t1 / t0:.2f} | {s0:.1e} | {s1:.1e} | {c0:.1e} | {c1:.1e} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
