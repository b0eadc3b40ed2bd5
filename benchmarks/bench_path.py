"""Regularization paths and CV estimators against scikit-learn.

Shared-X dense problems (every task labelled on every row, as scikit-learn
needs). For each problem:

* ``path``: a 100-alpha l21 path, ``skmtl.model_selection.regularization_path``
  vs ``sklearn.linear_model.lasso_path`` on the 2-D ``Y`` (scikit-learn's
  multi-task coordinate descent), same grid, same ``tol``;
* ``lasso_cv``: 5-fold ``MultiTaskLassoCV`` (100 alphas), skmtl vs
  scikit-learn, same folds (``KFold(5)``), with the selected ``alpha_``;
* ``ridge_cv``: ``MultiTaskRidgeCV`` over a 6 x 5 ``(alpha, coupling)`` grid
  vs ``GridSearchCV(MultiTaskRidge)`` over the same grid and folds.
* ``one-alpha path vs fit``: a one-alpha ``regularization_path`` (what every
  CV estimator's final refit runs) against ``MultiTaskLasso.fit`` at the same
  alpha (``alpha_max / 20``, ``tol=1e-6``), with every label and with 30 %
  missing labels; here the "peer" column is the fit, the ratio path / fit
  should be 1 (the same driver runs both). Median of 3 runs.

Everything runs in one process with ``n_jobs=1`` and one BLAS thread; times are single runs
(after a warm-up on a tiny problem for numba), so they are noisy on a busy
machine. Ratios are scikit-learn (or GridSearchCV) time / skmtl time.

Usage::

    python benchmarks/bench_path.py            # n=5000,p=2000,T=20 and n=50000,p=100,T=10
    python benchmarks/bench_path.py --quick    # smaller sizes, a few seconds
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskLassoCV as SkMultiTaskLassoCV
from sklearn.linear_model import lasso_path
from sklearn.model_selection import GridSearchCV, KFold
from threadpoolctl import threadpool_limits

from skmtl import MultiTaskLasso, MultiTaskRidge
from skmtl.metrics import make_multitask_scorer
from skmtl.model_selection import (
    MultiTaskLassoCV,
    MultiTaskRidgeCV,
    regularization_path,
)

FULL = [(5000, 2000, 20), (50000, 100, 10)]
QUICK = [(1000, 300, 10), (10000, 50, 5)]


def make_data(n, p, T, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    k = max(2, p // 20)
    W = np.zeros((T, p))
    support = rng.choice(p, k, replace=False)
    W[:, support] = rng.standard_normal((T, k))
    Y = X @ W.T + 2.0 * rng.standard_normal((n, T))
    return X, Y


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def one_alpha_rows(n, p, T, tol=1e-6):
    """One-alpha path against a plain fit, full and 30 % missing labels."""
    rows = []
    for missing in (0.0, 0.3):
        X, Y = make_data(n, p, T, seed=2)
        if missing:
            Y[np.random.default_rng(3).random(Y.shape) < missing] = np.nan
        alpha = regularization_path(X, Y, "l21", n_alphas=1).alpha_max / 20

        def median3(fn):
            return float(np.median([timed(fn)[0] for _ in range(3)]))

        t_fit = median3(lambda: MultiTaskLasso(alpha=alpha, tol=tol).fit(X, Y))
        t_path = median3(
            lambda: regularization_path(X, Y, "l21", alphas=[alpha], tol=tol)
        )
        rows.append(
            (f"one-alpha path vs fit, {int(100 * missing)}% missing",
             t_path, t_fit, "-", "-")
        )  # fmt: skip
    return rows


def run(n, p, T, n_alphas=100, tol=1e-4):
    X, Y = make_data(n, p, T)
    rows = []
    # ---- path
    t_ours, path = timed(
        lambda: regularization_path(X, Y, "l21", n_alphas=n_alphas, tol=tol)
    )
    t_sk, _ = timed(
        lambda: lasso_path(X - X.mean(0), Y - Y.mean(0), alphas=path.alphas, tol=tol)
    )
    rows.append((f"path ({n_alphas} alphas)", t_ours, t_sk, "-", "-"))
    # ---- MultiTaskLassoCV
    cv = KFold(5)
    t_ours, ours = timed(
        lambda: MultiTaskLassoCV(alphas=n_alphas, cv=cv, tol=tol).fit(X, Y)
    )
    t_sk, sk = timed(
        lambda: SkMultiTaskLassoCV(alphas=n_alphas, cv=cv, tol=tol).fit(X, Y)
    )
    rows.append(
        (
            "MultiTaskLassoCV 5-fold",
            t_ours,
            t_sk,
            f"{ours.alpha_:.4g}",
            f"{sk.alpha_:.4g}",
        )
    )
    # ---- MultiTaskRidgeCV vs GridSearchCV
    alphas = [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0]
    couplings = [0.0, 0.1, 1.0, 10.0, 100.0]
    t_ours, rcv = timed(lambda: MultiTaskRidgeCV(alphas, couplings, cv=cv).fit(X, Y))
    gs = GridSearchCV(
        MultiTaskRidge(),
        {"alpha": alphas, "coupling": couplings},
        cv=cv,
        scoring=make_multitask_scorer("mse"),
    )
    t_gs, gs = timed(lambda: gs.fit(X, Y))
    rows.append(
        (
            "MultiTaskRidgeCV 6x5 grid, 5-fold",
            t_ours,
            t_gs,
            f"({rcv.alpha_:g}, {rcv.coupling_:g})",
            f"({gs.best_params_['alpha']:g}, {gs.best_params_['coupling']:g})",
        )
    )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller problems")
    parser.add_argument("--blas-threads", default=1, help="BLAS threads (default 1)")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    # One BLAS thread for both sides: on a shared 2-core machine OpenBLAS's
    # threads spin against other processes and small products get up to
    # 100x slower (measured: (10, 1000) @ (1000, 300) 58 ms vs 0.5 ms).
    threadpool_limits(int(args.blas_threads))
    warnings.simplefilter("ignore", ConvergenceWarning)
    # numba warm-up: every kernel the timed runs use is loaded from the cache
    # (or compiled) here, not in the first timed run (the Gram epochs by dot
    # products need 128+ features with most of them in the support)
    Xw, Yw = make_data(200, 20, 3, seed=1)
    MultiTaskLassoCV(alphas=5, cv=3).fit(Xw, Yw)
    regularization_path(*make_data(300, 150, 3, seed=1)[:2], "l21", n_alphas=20)
    MultiTaskRidgeCV([1.0], [1.0], cv=3).fit(Xw, Yw)
    print(
        "| problem (n, p, T) | task | skmtl (s) | peer (s) | peer / skmtl | skmtl selected | peer selected |"
    )
    print("|---|---|---|---|---|---|---|")
    one_alpha = [(1000, 100, 5)] if args.quick else [(5000, 400, 10)]
    for n, p, T in one_alpha:
        for name, t_ours, t_peer, _, _ in one_alpha_rows(n, p, T):
            print(
                f"| ({n}, {p}, {T}) | {name} | {t_ours:.3f} | {t_peer:.3f} | "
                f"{t_peer / t_ours:.2f}x (fit / path) | - | - |",
                flush=True,
            )
    for n, p, T in sizes:
        for name, t_ours, t_peer, sel_ours, sel_peer in run(n, p, T):
            print(
                f"| ({n}, {p}, {T}) | {name} | {t_ours:.2f} | {t_peer:.2f} | "
                f"{t_peer / t_ours:.1f}x | {sel_ours} | {sel_peer} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
