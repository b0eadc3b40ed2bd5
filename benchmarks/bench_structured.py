"""Structured penalties: logistic l21 / trace / l1, trace-norm regression, and
the non-convex (mcp, scad, capped_l1) and composite (dirty, robust,
sparse_low_rank) models.

For each problem and model:

* ``p*``: objective of a very tight skmtl run (``tol=1e-9``), cross-checked
  against cvxpy's optimum (CLARABEL, SCS as fallback) where cvxpy finishes
  within ``CVXPY_TIMEOUT`` seconds (run in a forked process and killed
  otherwise). Every objective is the DESIGN objective
  ``sum_t 1/n_t sum_i loss + penalty`` evaluated by this script in numpy.
* Time for skmtl to reach a relative suboptimality ``(F - p*) / p*`` of 1e-4
  and 1e-6 (cold fits at decreasing ``tol``; ``_common.time_to_suboptimality``).
* cvxpy: wall time of one solve at its default tolerances, and the relative
  suboptimality it reaches.
* ``penalty="l1"`` logistic: scikit-learn ``LogisticRegression(l1_ratio=1,
  C=1/(n_t alpha), solver="saga")`` fitted task by task, same time ladder.
* Per-iteration cost of skmtl (tight fit time / ``n_iter_``) against the
  two-matrix-product floor: one ``X @ W.T`` plus one ``R.T @ X`` with numpy
  on the stacked ``X`` (``R`` of shape ``(n, T)``), and, for per-task data,
  the per-task floor (``X_t @ w_t`` and ``X_t.T @ r_t`` over each task's own
  rows, i.e. two passes over ``X``).

Problems: per-task (each row labelled for one task; T tasks with 100-300
rows each) and shared-X (all tasks labelled on the same rows).
``alpha = 0.1 * alpha_max`` for every penalty (``alpha_max``: smallest
alpha giving ``W = 0``); composite models use ``beta = alpha``; non-convex
ones their default ``gamma`` (cvxpy cannot solve them: ``p*`` is the tight
skmtl run, a stationary point).

The dirty model is also timed against mutar's ``DirtyModel`` where mutar
installs (it does not build with Cython 3; skipped otherwise).

Run:  python benchmarks/bench_structured.py [--quick] [--large] [--no-cvxpy]
"""

import argparse
import multiprocessing as mp
import sys
import time
import warnings

import numpy as np
from _common import data_term, median_time, pm1, time_to_suboptimality

from skmtl import MultiTaskLinearRegression, MultiTaskLogisticRegression
from skmtl.datasets import make_multitask_classification, make_multitask_regression

warnings.filterwarnings("ignore")

TARGETS = (1e-4, 1e-6)
TOLS = [10.0**-k for k in range(2, 10)]
TIGHT_TOL = 1e-9  # below ~1e-10 the gap is at rounding level (benchmarks/README.md)
MAX_ITER = 20_000
CVXPY_TIMEOUT = 120.0
CVXPY_MAX_ENTRIES = 300_000  # X.size above this: cvxpy takes > 2 min, skipped
ALPHA_FRACTION = 0.1


# ----------------------------------------------------------------- problems
def per_task_problem(kind, T, p, seed=0):
    rng = np.random.default_rng(seed)
    n_t = rng.integers(100, 301, size=T).tolist()
    make = make_multitask_classification if kind == "clf" else make_multitask_regression
    X, Y = make(
        n_tasks=T,
        n_samples=n_t,
        n_features=p,
        structure="low_rank",
        rank=3,
        random_state=seed,
    )
    return np.ascontiguousarray(X), Y


def shared_problem(kind, n, T, p, seed=0):
    make = make_multitask_classification if kind == "clf" else make_multitask_regression
    X, Y = make(
        n_tasks=T,
        n_samples=n,
        n_features=p,
        structure="low_rank",
        rank=3,
        shared_X=True,
        random_state=seed,
    )
    return np.ascontiguousarray(X), Y


# --------------------------------------------------------------- objectives
GAMMA = {"mcp": 3.0, "scad": 3.7, "capped_l1": 1.0}
COMPOSITE = {
    "dirty": ("l21", "l1"),
    "robust": ("trace", "task_group"),
    "sparse_low_rank": ("l1", "trace"),
}


def penalty_value(W, penalty, alpha):
    """The penalty from its definition; ``W`` is a dict of parts for a
    composite model (both strengths ``alpha``)."""
    if penalty in COMPOSITE:
        return sum(
            penalty_value(part, name, alpha)
            for part, name in zip(W.values(), COMPOSITE[penalty], strict=True)
        )
    col = np.sqrt((W**2).sum(axis=0))
    if penalty == "l21":
        return alpha * float(col.sum())
    if penalty == "trace":
        return alpha * float(np.linalg.svd(W, compute_uv=False).sum())
    if penalty == "l1":
        return alpha * float(np.abs(W).sum())
    if penalty == "task_group":
        return alpha * float(np.sqrt((W**2).sum(axis=1)).sum())
    g = GAMMA.get(penalty)
    if penalty == "mcp":
        return float(np.where(col <= g * alpha, alpha * col - col**2 / (2 * g),
                              g * alpha**2 / 2).sum())  # fmt: skip
    if penalty == "scad":
        mid = (2 * g * alpha * col - col**2 - alpha**2) / (2 * (g - 1))
        v = np.where(col <= alpha, alpha * col,
                     np.where(col <= g * alpha, mid, alpha**2 * (g + 1) / 2))  # fmt: skip
        return float(v.sum())
    if penalty == "capped_l1":
        return alpha * float(np.minimum(np.abs(W).sum(axis=0), g).sum())
    raise ValueError(penalty)


def objective(X, Y, W, b, kind, penalty, alpha):
    pen = penalty_value(W, penalty, alpha)
    if isinstance(W, dict):
        W = sum(W.values())
    return data_term(X, Y, W, b, kind) + pen


def alpha_max(X, Y, kind, penalty):
    """Smallest alpha with W = 0 optimal (intercepts at their optimum)."""
    G = np.zeros((Y.shape[1], X.shape[1]))
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        y = Y[m, t]
        if kind == "clf":
            r = (y > 0.5) - (y > 0.5).mean()
        else:
            r = y - y.mean()
        G[t] = X[m].T @ r / m.sum()
    dual = {
        "l21": float(np.sqrt((G**2).sum(axis=0)).max()),
        "trace": float(np.linalg.norm(G, 2)),
        "l1": float(np.abs(G).max()),
        "task_group": float(np.sqrt((G**2).sum(axis=1)).max()),
    }
    dual.update(mcp=dual["l21"], scad=dual["l21"], capped_l1=dual["l1"])
    if penalty in COMPOSITE:  # beta = alpha: W = 0 needs both dual norms <= alpha
        return max(dual[part] for part in COMPOSITE[penalty])
    return dual[penalty]


# ------------------------------------------------------------------- models
def skmtl_model(kind, penalty, alpha, tol, max_iter=MAX_ITER):
    cls = MultiTaskLogisticRegression if kind == "clf" else MultiTaskLinearRegression
    return cls(
        penalty=penalty, alpha=alpha, tol=tol, max_iter=max_iter,
        gamma=GAMMA.get(penalty),
    )  # fmt: skip


def fitted_coef(model):
    """What the objective needs: the parts of a composite model, else coef_."""
    return getattr(model, "coef_components_", model.coef_)


def mutar_dirty(X, Y, alpha):
    """mutar's DirtyModel on the same objective, or None where mutar is
    missing. mutar scales the loss by 1/(2n) on a shared X with all labels,
    as ours, and takes the two strengths as ``alpha`` (l21 part) and
    ``beta`` (l1 part)."""
    try:
        from mutar import DirtyModel
    except ImportError:
        return None

    def make_fit(tol):
        def fit():
            m = DirtyModel(alpha=alpha, beta=alpha, tol=tol, max_iter=100_000)
            m.fit(np.repeat(X[None], Y.shape[1], axis=0), Y.T)
            P, Q = np.asarray(m.coef_shared_).T, np.asarray(m.coef_specific_).T
            b = np.asarray(m.intercept_).ravel()
            return {"shared": P, "specific": Q}, b

        return fit

    return make_fit


def sklearn_per_task(X, Y, alpha, tol):
    from sklearn.linear_model import LogisticRegression

    T, p = Y.shape[1], X.shape[1]

    def fit():
        W, b = np.zeros((T, p)), np.zeros(T)
        for t in range(T):
            m = ~np.isnan(Y[:, t])
            clf = LogisticRegression(
                l1_ratio=1.0,
                C=1.0 / (m.sum() * alpha),
                solver="saga",
                tol=tol,
                max_iter=100_000,
            ).fit(X[m], Y[m, t] > 0.5)
            W[t], b[t] = clf.coef_[0], clf.intercept_[0]
        return W, b

    return fit


def cvxpy_solve(X, Y, kind, penalty, alpha):
    import cvxpy as cp

    T, p = Y.shape[1], X.shape[1]
    parts = None
    if penalty in COMPOSITE:
        parts = {"P": cp.Variable((T, p)), "Q": cp.Variable((T, p))}
        W = parts["P"] + parts["Q"]
    else:
        W = cp.Variable((T, p))
    b = cp.Variable(T)
    terms = []
    for t in range(T):
        m = ~np.isnan(Y[:, t])
        f = X[m] @ W[t] + b[t]
        if kind == "clf":
            terms.append(cp.sum(cp.logistic(cp.multiply(-pm1(Y[m, t]), f))) / m.sum())
        else:
            terms.append(0.5 * cp.sum_squares(Y[m, t] - f) / m.sum())

    def norm(V, name):
        if name == "l21":
            return cp.sum(cp.norm(V, 2, axis=0))
        if name == "trace":
            return cp.normNuc(V)
        if name == "task_group":
            return cp.sum(cp.norm(V, 2, axis=1))
        return cp.sum(cp.abs(V))

    if parts is None:
        pen = norm(W, penalty)
    else:
        first, second = COMPOSITE[penalty]
        pen = norm(parts["P"], first) + norm(parts["Q"], second)
    prob = cp.Problem(cp.Minimize(cp.sum(terms) + alpha * pen))
    t0 = time.perf_counter()
    try:
        prob.solve(solver="CLARABEL")
        solver = "CLARABEL"
    except Exception:  # noqa: BLE001
        prob.solve(solver="SCS", eps=1e-9, max_iters=100_000)
        solver = "SCS"
    return {
        "time": time.perf_counter() - t0,
        "status": prob.status,
        "solver": solver,
        "value": float(prob.value),
        "W": W.value if parts is None else {k: v.value for k, v in parts.items()},
        "b": b.value,
    }


def _cvxpy_worker(q, args):
    try:
        q.put(cvxpy_solve(*args))
    except Exception as exc:  # noqa: BLE001
        q.put({"error": repr(exc)})


def cvxpy_with_timeout(X, Y, kind, penalty, alpha, timeout):
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    proc = ctx.Process(target=_cvxpy_worker, args=(q, (X, Y, kind, penalty, alpha)))
    proc.start()
    try:
        res = q.get(timeout=timeout)
    except Exception:  # noqa: BLE001  (queue.Empty)
        res = {"error": f"skipped: did not finish within {timeout:.0f} s"}
    proc.join(5)
    if proc.is_alive():
        proc.kill()
        proc.join()
    return res


# ------------------------------------------------------------------- floors
def floors(X, Y):
    T = Y.shape[1]
    W = np.random.default_rng(0).standard_normal((T, X.shape[1]))
    R = np.random.default_rng(1).standard_normal((X.shape[0], T))
    t_dense, _ = median_time(lambda: (X @ W.T, R.T @ X), repeat=7)
    masks = [np.flatnonzero(~np.isnan(Y[:, t])) for t in range(T)]
    per_task = all(m.size < X.shape[0] for m in masks)
    if not per_task:
        return t_dense, np.nan
    # rows are grouped by task: contiguous views, no copies
    blocks = [(m[0], m[-1] + 1) for m in masks]
    r = R[:, 0].copy()

    def task_products():
        for t, (s, e) in enumerate(blocks):
            X[s:e] @ W[t]
            r[s:e] @ X[s:e]

    t_task, _ = median_time(task_products, repeat=7)
    return t_dense, t_task


# -------------------------------------------------------------------- bench
def bench_case(label, X, Y, kind, penalty, use_cvxpy, repeat, log):
    amax = alpha_max(X, Y, kind, penalty)
    alpha = ALPHA_FRACTION * amax
    obj = lambda W, b: objective(X, Y, W, b, kind, penalty, alpha)  # noqa: E731

    # reference: very tight skmtl run (timed, for the per-iteration cost)
    ref = skmtl_model(kind, penalty, alpha, tol=TIGHT_TOL)
    t0 = time.perf_counter()
    ref.fit(X, Y)
    t_ref = time.perf_counter() - t0
    p_ref = obj(fitted_coef(ref), ref.intercept_)
    row = {
        "problem": label,
        "model": f"{'logistic' if kind == 'clf' else 'regression'} {penalty}",
        "alpha/alpha_max": ALPHA_FRACTION,
        "p_skmtl_tight": p_ref,
        "n_iter_tight": int(ref.n_iter_),
        "per_iter": t_ref / max(int(ref.n_iter_), 1),
    }
    p_star = p_ref
    if use_cvxpy and penalty in GAMMA:
        row["cvxpy"] = "n/a (non-convex)"
    elif use_cvxpy and X.size > CVXPY_MAX_ENTRIES:
        row["cvxpy"] = f"skipped (X has {X.size:.1e} > {CVXPY_MAX_ENTRIES:.0e} entries)"
    elif use_cvxpy:
        res = cvxpy_with_timeout(X, Y, kind, penalty, alpha, CVXPY_TIMEOUT)
        if "error" in res:
            row["cvxpy"] = res["error"]
        else:
            p_cvx = obj(res["W"], res["b"])
            row["cvxpy"] = (
                f"{res['solver']} {res['status']}, {res['time']:.1f} s, "
                f"own value vs p_skmtl {(res['value'] - p_ref) / p_ref:+.1e}, "
                f"our objective at its solution vs p_skmtl {(p_cvx - p_ref) / p_ref:+.1e}"
            )
            row["cvxpy_time"] = res["time"]
            p_star = min(p_ref, p_cvx)
            row["cvxpy_subopt"] = (p_cvx - p_star) / p_star
    row["p_star"] = p_star

    def make_fit(tol):
        def fit():
            m = skmtl_model(kind, penalty, alpha, tol).fit(X, Y)
            return fitted_coef(m), m.intercept_

        return fit

    tts = time_to_suboptimality(make_fit, obj, p_star, TARGETS, TOLS, repeat=repeat)
    for tgt in TARGETS:
        row[f"skmtl_{tgt:.0e}"] = tts[tgt]
    if penalty == "l1" and kind == "clf":
        tts = time_to_suboptimality(
            lambda tol: sklearn_per_task(X, Y, alpha, tol),
            obj,
            p_star,
            TARGETS,
            TOLS,
            repeat=1,
        )
        for tgt in TARGETS:
            row[f"sklearn_{tgt:.0e}"] = tts[tgt]
    if penalty == "dirty" and kind == "reg" and not np.isnan(Y).any():
        make = mutar_dirty(X, Y, alpha)
        if make is not None:
            tts = time_to_suboptimality(make, obj, p_star, TARGETS, TOLS, repeat=1)
            for tgt in TARGETS:
                row[f"mutar_{tgt:.0e}"] = tts[tgt]
    t_dense, t_task = floors(X, Y)
    row["floor_dense"], row["floor_task"] = t_dense, t_task
    log(row)
    return row


def fmt_t(v):
    if v is None or not np.isfinite(v):
        return "not reached"
    return f"{v:.3g} s"


def table(rows):
    out = [
        "| problem | model | skmtl to 1e-4 | skmtl to 1e-6 | cvxpy (time, subopt.) "
        "| sklearn / mutar to 1e-4 / 1e-6 | skmtl iters (tight) | time/iter "
        "| floor X@W.T+R.T@X | per-task floor | iter/floor |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "cvxpy_time" in r:
            cvx = f"{r['cvxpy_time']:.2f} s, {r['cvxpy_subopt']:.1e}"
        else:
            cvx = r.get("cvxpy", "not run")
        skl = "n/a"
        for peer in ("sklearn", "mutar"):
            if f"{peer}_1e-04" in r:
                skl = (
                    f"{peer}: {fmt_t(r[f'{peer}_1e-04'])} / {fmt_t(r[f'{peer}_1e-06'])}"
                )
        floor = r["floor_task"] if np.isfinite(r["floor_task"]) else r["floor_dense"]
        task_floor = (
            f"{1e3 * r['floor_task']:.3g} ms" if np.isfinite(r["floor_task"]) else "-"
        )
        out.append(
            f"| {r['problem']} | {r['model']} | {fmt_t(r['skmtl_1e-04'])} "
            f"| {fmt_t(r['skmtl_1e-06'])} | {cvx} | {skl} | {r['n_iter_tight']} "
            f"| {1e3 * r['per_iter']:.3g} ms | {1e3 * r['floor_dense']:.3g} ms "
            f"| {task_floor} "
            f"| {r['per_iter'] / floor:.1f} |"
        )
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-cvxpy", action="store_true")
    ap.add_argument("--large", action="store_true", help="add per-task p=200 and p=500")
    ap.add_argument(
        "--only-new",
        action="store_true",
        help="only the non-convex and composite models",
    )
    args = ap.parse_args()
    if args.quick:
        per_task_sizes = [(20, 50)]
        shared_sizes = [(300, 10, 50)]
        repeat = 1
    else:
        per_task_sizes = [(20, 50), (100, 50)]
        if args.large:  # slow: logistic trace needs > 20 min at p=200 here
            per_task_sizes += [(100, 200), (100, 500)]
        shared_sizes = [(1000, 20, 200)]
        repeat = 1
    new_models = ("mcp", "scad", "capped_l1", "dirty", "robust", "sparse_low_rank")
    cases = []
    for T, p in per_task_sizes[:1]:
        cases.append((f"per-task T={T} p={p}", "reg", new_models, T, p, None))
        cases.append((f"per-task T={T} p={p}", "clf", ("mcp", "dirty"), T, p, None))
    for n, T, p in shared_sizes:
        cases.append((f"shared-X n={n} T={T} p={p}", "reg", new_models, T, p, n))
        cases.append((f"shared-X n={n} T={T} p={p}", "clf", ("mcp", "dirty"), T, p, n))
    if args.only_new:
        per_task_sizes, shared_sizes = [], []
    for T, p in per_task_sizes:
        cases.append(
            (f"per-task T={T} p={p}", "clf", ("l21", "trace", "l1"), T, p, None)
        )
        cases.append((f"per-task T={T} p={p}", "reg", ("trace",), T, p, None))
    for n, T, p in shared_sizes:
        cases.append(
            (f"shared-X n={n} T={T} p={p}", "clf", ("l21", "trace", "l1"), T, p, n)
        )
        cases.append((f"shared-X n={n} T={T} p={p}", "reg", ("trace",), T, p, n))

    def log(row):
        print({k: v for k, v in row.items()}, flush=True)

    # warm-up: every model once on a tiny problem (numba compilation or cache
    # loading must not land in the first timed fit)
    for _, kind, penalties, *_ in cases:
        Xw, Yw = shared_problem(kind, 40, 3, 5, seed=1)
        for penalty in penalties:
            skmtl_model(kind, penalty, 0.01, 1e-3, max_iter=50).fit(Xw, Yw)
    rows = []
    t0 = time.perf_counter()
    for label, kind, penalties, T, p, n in cases:
        if n is None:
            X, Y = per_task_problem(kind, T, p)
        else:
            X, Y = shared_problem(kind, n, T, p)
        print(
            f"# {label} ({kind}): X {X.shape}, Y {Y.shape}", file=sys.stderr, flush=True
        )
        for penalty in penalties:
            rows.append(
                bench_case(label, X, Y, kind, penalty, not args.no_cvxpy, repeat, log)
            )
    print(f"\ntotal time {time.perf_counter() - t0:.0f}s\n")
    print(table(rows))


if __name__ == "__main__":
    main()
