"""MultiTaskRidgeCV on per-task data (one label per row) vs GridSearchCV.

Stacked per-task data: ``T`` tasks with ``n_t`` rows each, ``p`` shared
features, every row labelled for its own task only (the form
``skmtl.stack_tasks`` gives). ``MultiTaskRidgeCV`` over a 6 x 5 ``(alpha,
coupling)`` grid against ``GridSearchCV(MultiTaskRidge(), ...,
scoring=make_multitask_scorer("mse"))`` over the same grid and the same
task-stratified folds; the selected pair of each and the largest
difference between their CV errors are printed too.

One process, ``n_jobs=1``, one BLAS thread; single runs after a numba /
BLAS warm-up, so noisy on a busy machine. Ratio = GridSearchCV time /
MultiTaskRidgeCV time.

Usage::

    python benchmarks/bench_ridge_cv.py            # three problem sizes
    python benchmarks/bench_ridge_cv.py --quick    # two small ones
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_limits

from skmtl import MultiTaskRidge
from skmtl.metrics import make_multitask_scorer
from skmtl.model_selection import MultiTaskRidgeCV, TaskStratifiedKFold

FULL = [(139, 110, 28), (50, 200, 100), (20, 500, 300)]  # (T, n_t, p)
QUICK = [(139, 110, 28), (50, 200, 100)]
ALPHAS = [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0]
COUPLINGS = [0.0, 0.1, 1.0, 10.0, 100.0]


def make_data(T, n_t, p, seed=0):
    """Related tasks (a shared weight vector plus a per-task deviation)."""
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal(p)
    X = rng.standard_normal((T * n_t, p))
    Y = np.full((T * n_t, T), np.nan)
    for t in range(T):
        rows = slice(t * n_t, (t + 1) * n_t)
        w = w0 + 0.5 * rng.standard_normal(p)
        Y[rows, t] = X[rows] @ w + 2.0 * rng.standard_normal(n_t)
    return X, Y


def run(T, n_t, p):
    X, Y = make_data(T, n_t, p)
    cv = list(TaskStratifiedKFold(5, shuffle=True, random_state=0).split(X, Y))
    t0 = time.perf_counter()
    ours = MultiTaskRidgeCV(ALPHAS, COUPLINGS, cv=cv).fit(X, Y)
    t_ours = time.perf_counter() - t0
    gs = GridSearchCV(
        MultiTaskRidge(),
        {"alpha": ALPHAS, "coupling": COUPLINGS},
        cv=cv,
        scoring=make_multitask_scorer("mse"),
    )
    t0 = time.perf_counter()
    gs.fit(X, Y)
    t_gs = time.perf_counter() - t0
    # GridSearchCV's grid is coupling-major in its cv_results_ order
    mse_gs = -gs.cv_results_["mean_test_score"].reshape(len(ALPHAS), len(COUPLINGS))
    diff = np.max(np.abs(ours.mse_path_.mean(axis=2) - mse_gs) / mse_gs)
    return (
        t_ours,
        t_gs,
        ours.cv_solver_,
        f"({ours.alpha_:g}, {ours.coupling_:g})",
        f"({gs.best_params_['alpha']:g}, {gs.best_params_['coupling']:g})",
        diff,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller problems")
    args = parser.parse_args()
    threadpool_limits(1)
    warnings.simplefilter("ignore", ConvergenceWarning)
    Xw, Yw = make_data(3, 20, 5, seed=1)  # warm-up
    MultiTaskRidgeCV([1.0], [0.0, 1.0], cv=3).fit(Xw, Yw)
    print(
        "| problem (T, n_t, p) | MultiTaskRidgeCV (s) | GridSearchCV (s) | ratio "
        "| cv_solver_ | selected (ours) | selected (GridSearchCV) "
        "| max rel. CV-error difference |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for T, n_t, p in QUICK if args.quick else FULL:
        t_ours, t_gs, solver, sel_ours, sel_gs, diff = run(T, n_t, p)
        print(
            f"| ({T}, {n_t}, {p}) | {t_ours:.2f} | {t_gs:.2f} | "
            f"{t_gs / t_ours:.1f}x | {solver} | {sel_ours} | {sel_gs} | {diff:.1e} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
