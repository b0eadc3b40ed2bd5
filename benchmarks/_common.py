"""Helpers shared by the benchmark scripts: timing and suboptimality."""

import time
import warnings

import numpy as np


def median_time(fn, repeat=3, warmup=True, clock=time.perf_counter):
    """Median wall time of ``fn()`` over ``repeat`` runs (after one warm-up);
    ``clock=time.process_time`` for CPU time (a loaded machine's waits are
    not counted)."""
    if warmup:
        fn()
    times = []
    out = None
    for _ in range(repeat):
        t0 = clock()
        out = fn()
        times.append(clock() - t0)
    return float(np.median(times)), out


def l21_objective(X, Y, W, b, alpha):
    """DESIGN objective with squared loss and the l21 penalty (NaN = missing)."""
    out = 0.0
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        r = Y[m, t] - X[m] @ W[t] - b[t]
        out += 0.5 * float(r @ r) / m.sum()
    return out + alpha * float(np.sqrt((W**2).sum(axis=0)).sum())


def time_to_suboptimality(
    make_fit, objective, p_star, targets, tols, repeat=3, clock=time.perf_counter
):
    """Smallest median time at which a solver reaches each relative suboptimality.

    ``make_fit(tol)`` returns a zero-argument function that fits and returns
    ``(W, b)``. The solver is run cold at each tolerance in ``tols``
    (decreasing); the time to reach a target is that of the first tolerance
    whose solution is within the target. ``clock`` as in :func:`median_time`.
    """
    results = {t: np.nan for t in targets}
    for tol in tols:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t, (W, b) = median_time(make_fit(tol), repeat=repeat, clock=clock)
        subopt = (objective(W, b) - p_star) / p_star
        for target in targets:
            if np.isnan(results[target]) and subopt <= target:
                results[target] = t
        if all(np.isfinite(v) for v in results.values()):
            break
    return results


def pm1(y):
    """0/1 (or -1/1) labels as -1/1."""
    return np.where(y > 0.5, 1.0, -1.0)


def data_term(X, Y, W, b, kind):
    """DESIGN's data term: the sum over tasks of each task's mean loss over
    its labelled rows (``kind``: ``"clf"`` logistic, else squared / 2)."""
    out = 0.0
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        f = X[m] @ W[t] + b[t]
        if kind == "clf":
            out += float(np.logaddexp(0.0, -pm1(Y[m, t]) * f).mean())
        else:
            r = Y[m, t] - f
            out += 0.5 * float(r @ r) / m.sum()
    return out
