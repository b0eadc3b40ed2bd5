"""Learned task structure: solver speed against cvxpy and the product floor.

For ``penalty`` in "relationship", "clustered" (``n_clusters=3``,
``beta = 0.1 alpha``) and "tree" (the tree learned by a first fit, then
passed as ``task_tree`` so that cvxpy solves the same problem):

* ``p*``: cvxpy's optimum (CLARABEL, tight tolerances; the clustered
  penalty as ``matrix_frac`` with an SDP variable ``M``), cross-checked
  against a very tight skmtl run (the lower of the two is ``p*``);
* skmtl's time to a relative suboptimality ``(F - p*) / p*`` of 1e-4 and
  1e-6 (cold fits at decreasing ``tol``, ``_common.time_to_suboptimality``);
* cvxpy's wall time (one solve);
* per-iteration cost of skmtl (tight fit time / ``n_iter_``) against the
  two-product floor on the per-task data (``X_t @ w_t`` and ``X_t.T @ r_t``
  over each task's rows).

Problems: per-task regression and classification, T tasks with 100-300
rows each, p features, tasks drawn from 3 clusters
(``make_multitask_regression(structure="clustered")``). One BLAS thread for
everything (threadpoolctl; see README "BLAS threads").

Run:  python benchmarks/bench_learned_structure.py [--T 20] [--p 30]
"""

import argparse
import time
import warnings

import numpy as np
from _common import median_time, time_to_suboptimality

from skmtl import MultiTaskLinearRegression, MultiTaskLogisticRegression
from skmtl._validation import make_task_data
from skmtl.datasets import make_multitask_classification, make_multitask_regression
from skmtl.linear_model._setup import make_problem
from skmtl.model_selection._path import compute_alpha_max

warnings.filterwarnings("ignore")
TARGETS = (1e-4, 1e-6)
TOLS = [10.0**-k for k in range(2, 11)]


def problem(kind, T, p, seed=0):
    rng = np.random.default_rng(seed)
    n_t = rng.integers(100, 301, size=T).tolist()
    make = make_multitask_classification if kind == "clf" else make_multitask_regression
    X, Y = make(
        n_tasks=T, n_samples=n_t, n_features=p, structure="clustered",
        n_clusters=3, relatedness=0.8, random_state=seed,
    )  # fmt: skip
    if kind == "clf":
        Y = np.where(np.isnan(Y), np.nan, 2.0 * Y - 1.0)
    return X, Y


def data_term(X, Y, W, b, kind):
    out = 0.0
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        f = X[m] @ W[t] + b[t]
        if kind == "reg":
            out += 0.5 * np.mean((Y[m, t] - f) ** 2)
        else:
            out += np.mean(np.logaddexp(0, -Y[m, t] * f))
    return out


def penalty_value(name, W, alpha, beta, k, groups):
    if name == "relationship":
        return 0.5 * alpha * np.linalg.svd(W, compute_uv=False).sum() ** 2
    if name == "clustered":
        from skmtl._solvers.penalties._structure import Clustered

        pen = Clustered(alpha, beta, k)
        return pen.smooth_value(W)
    return alpha * sum(w * np.linalg.norm(W[g], axis=0).sum() for g, w in groups)


def cvxpy_value(X, Y, name, kind, alpha, beta, k, groups):
    import cvxpy as cp

    T, p = Y.shape[1], X.shape[1]
    W, b = cp.Variable((T, p)), cp.Variable(T)
    terms, cons = [], []
    for t in range(T):
        m = ~np.isnan(Y[:, t])
        f = X[m] @ W[t] + b[t]
        if kind == "reg":
            terms.append(0.5 * cp.sum_squares(Y[m, t] - f) / m.sum())
        else:
            terms.append(cp.sum(cp.logistic(-cp.multiply(Y[m, t], f))) / m.sum())
    if name == "relationship":
        pen = 0.5 * alpha * cp.square(cp.normNuc(W))
    elif name == "clustered":
        eta = beta / alpha
        M = cp.Variable((T, T), symmetric=True)
        cons = [M >> 0, np.eye(T) - M >> 0, cp.trace(M) == k]
        pen = alpha * eta * (1 + eta) * cp.matrix_frac(W, eta * np.eye(T) + M)
    else:
        pen = alpha * sum(
            w * cp.sum(cp.norm(W[list(g), :], 2, axis=0)) for g, w in groups
        )
    prob = cp.Problem(cp.Minimize(sum(terms) + pen), cons)
    t0 = time.perf_counter()
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10,
               tol_feas=1e-10)  # fmt: skip
    return prob.value, time.perf_counter() - t0


def task_floor(X, Y):
    T = Y.shape[1]
    W = np.random.default_rng(0).standard_normal((T, X.shape[1]))
    blocks = []
    for t in range(T):
        m = np.flatnonzero(~np.isnan(Y[:, t]))
        blocks.append((m[0], m[-1] + 1))
    r = np.random.default_rng(1).standard_normal(X.shape[0])

    def products():
        for t, (s, e) in enumerate(blocks):
            X[s:e] @ W[t]
            r[s:e] @ X[s:e]

    return median_time(products, repeat=7)[0]


def bench(kind, name, X, Y, log):
    est = MultiTaskLinearRegression if kind == "reg" else MultiTaskLogisticRegression
    Yfit = Y if kind == "reg" else np.where(np.isnan(Y), np.nan, (Y > 0) * 1.0)
    T = Y.shape[1]
    data = make_task_data(Y if kind == "reg" else Y)
    _, op, datafit = make_problem(
        X, data, np.ones(T), "squared" if kind == "reg" else "logistic"
    )
    k, groups, extra = 3, None, {}
    if name == "tree":
        first = est("tree", 1.0).fit(X, Yfit)
        extra["task_tree"] = first.task_tree_
        groups = [
            (g, w)
            for g, w in zip(first.task_groups_, first.task_group_weights_, strict=True)
            if w > 0
        ]
        alpha = 0.1 * compute_alpha_max(op, datafit, "tree", extra)
        beta = 0.0
    else:
        top = compute_alpha_max(op, datafit, name, {}, True, X)
        alpha = 1e-2 * top
        beta = 0.1 * alpha if name == "clustered" else 0.0
    if name == "clustered":
        extra.update(beta=beta, n_clusters=k)

    def obj(W, b):
        return data_term(X, Y, W, b, kind) + penalty_value(
            name, W, alpha, beta, k, groups
        )

    def make_fit(tol):
        def fit():
            m = est(name, alpha, tol=tol, max_iter=100_000, **extra).fit(X, Yfit)
            return m.coef_, m.intercept_

        return fit

    tight = est(name, alpha, tol=1e-11, max_iter=200_000, **extra)
    t0 = time.perf_counter()
    tight.fit(X, Yfit)
    t_tight = time.perf_counter() - t0
    p_skmtl = obj(tight.coef_, tight.intercept_)
    p_cvx, t_cvx = cvxpy_value(X, Y, name, kind, alpha, beta, k, groups)
    p_star = min(p_skmtl, p_cvx)
    times = time_to_suboptimality(make_fit, obj, p_star, TARGETS, TOLS, repeat=3)
    row = dict(
        model=f"{'regression' if kind == 'reg' else 'logistic'} {name}",
        solver=tight.solver_,
        alpha=alpha,
        rel_diff=(p_skmtl - p_cvx) / abs(p_cvx),
        t4=times[1e-4],
        t6=times[1e-6],
        t_cvx=t_cvx,
        per_iter=t_tight / max(tight.n_iter_, 1),
    )
    log(row)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=int, default=20)
    ap.add_argument("--p", type=int, default=30)
    args = ap.parse_args()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        run(args)


def run(args):
    rows = []
    for kind in ("reg", "clf"):
        X, Y = problem(kind, args.T, args.p)
        floor = task_floor(X, Y)
        for name in ("relationship", "clustered", "tree"):
            row = bench(kind, name, X, Y, print)
            row["floor"] = floor
            rows.append(row)
    print(
        f"\nT={args.T}, p={args.p}, per-task rows 100-300\n\n"
        "| model | solver | (F_skmtl - F_cvxpy) / F_cvxpy at tol=1e-11 "
        "| skmtl to 1e-4 | skmtl to 1e-6 | cvxpy | per iteration | product floor "
        "| iter/floor |\n|---|---|---|---|---|---|---|---|---|"
    )
    for r in rows:
        print(
            f"| {r['model']} | {r['solver']} | {r['rel_diff']:.1e} "
            f"| {1e3 * r['t4']:.3g} ms | {1e3 * r['t6']:.3g} ms "
            f"| {1e3 * r['t_cvx']:.3g} ms | {1e3 * r['per_iter']:.3g} ms "
            f"| {1e3 * r['floor']:.3g} ms | {r['per_iter'] / r['floor']:.1f} |"
        )


if __name__ == "__main__":
    main()
