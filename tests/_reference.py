"""Independent reference solutions (cvxpy) of the DESIGN objective."""

import numpy as np


def cvxpy_solve(
    X,
    Y,
    penalty,
    alpha,
    l1_ratio=0.5,
    fit_intercept=True,
    sample_weight=None,
    laplacian=None,
    loss="squared",
    beta=None,
    task_weights=None,
):
    """Solve the DESIGN objective with cvxpy (CLARABEL, tight tolerances).

    Composite penalties ("dirty", "robust", "sparse_low_rank") use two
    variables ``P, Q`` with ``W = P + Q``; ``beta`` is the second strength.
    ``penalty`` may also be a callable ``W -> (expression, constraints)``
    (a penalty written in the test). Returns ``(W, b, objective)``.
    """
    import cvxpy as cp

    n, p = X.shape
    T = Y.shape[1]
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    tw = np.ones(T) if task_weights is None else np.asarray(task_weights, float)
    composite = isinstance(penalty, str) and penalty in (
        "dirty",
        "robust",
        "sparse_low_rank",
    )
    if composite:
        P, Q = cp.Variable((T, p)), cp.Variable((T, p))
        W = P + Q
    else:
        W = cp.Variable((T, p))
    b = cp.Variable(T) if fit_intercept else np.zeros(T)
    terms = []
    for t in range(T):
        m = ~np.isnan(Y[:, t])
        f = X[m] @ W[t] + (b[t] if fit_intercept else 0)
        w = tw[t] * sw[m] / sw[m].sum()
        if loss == "squared":
            terms.append(0.5 * cp.sum(cp.multiply(w, cp.square(Y[m, t] - f))))
        else:
            ysign = Y[m, t]
            terms.append(cp.sum(cp.multiply(w, cp.logistic(-cp.multiply(ysign, f)))))
    data = sum(terms)
    col = cp.norm(W, 2, axis=0)
    constraints = []
    if callable(penalty):
        pen, constraints = penalty(W)
    elif penalty == "l21":
        pen = alpha * cp.sum(col)
    elif penalty == "l1":
        pen = alpha * cp.sum(cp.abs(W))
    elif penalty == "elasticnet":
        pen = alpha * l1_ratio * cp.sum(col) + 0.5 * alpha * (
            1 - l1_ratio
        ) * cp.sum_squares(W)
    elif penalty == "sparse_group":
        pen = alpha * (l1_ratio * cp.sum(cp.abs(W)) + (1 - l1_ratio) * cp.sum(col))
    elif penalty == "trace":
        pen = alpha * cp.normNuc(W)
    elif penalty == "graph":
        q = alpha * (1 - l1_ratio)
        pen = 0.5 * q * cp.trace(W.T @ laplacian @ W) + alpha * l1_ratio * cp.sum(
            cp.abs(W)
        )
        # Laplacian is PSD: write it as a sum of squares for DCP
        evals, evecs = np.linalg.eigh(laplacian)
        evals = np.clip(evals, 0, None)
        R = (evecs * np.sqrt(evals)).T
        pen = 0.5 * q * cp.sum_squares(R @ W) + alpha * l1_ratio * cp.sum(cp.abs(W))
    elif penalty == "dirty":
        pen = alpha * cp.sum(cp.norm(P, 2, axis=0)) + beta * cp.sum(cp.abs(Q))
    elif penalty == "robust":
        pen = alpha * cp.normNuc(P) + beta * cp.sum(cp.norm(Q, 2, axis=1))
    elif penalty == "sparse_low_rank":
        pen = alpha * cp.sum(cp.abs(P)) + beta * cp.normNuc(Q)
    else:
        raise ValueError(penalty)
    prob = cp.Problem(cp.Minimize(data + pen), constraints)
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    bval = b.value if fit_intercept else np.zeros(T)
    return W.value, bval, prob.value


def objective(X, Y, W, b, penalty_value, sample_weight=None):
    n = X.shape[0]
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    out = 0.0
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        r = Y[m, t] - X[m] @ W[t] - b[t]
        out += 0.5 * np.sum(sw[m] * r * r) / sw[m].sum()
    return out + penalty_value


def data_term(X, Y, W, b, loss="squared"):
    """The DESIGN datafit without weights: each task's mean loss over its
    labelled rows (``Y`` in {-1, +1} for the logistic loss), summed."""
    out = 0.0
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        f = X[m] @ W[t] + b[t]
        if loss == "squared":
            out += 0.5 * np.mean((Y[m, t] - f) ** 2)
        else:
            out += np.mean(np.logaddexp(0, -Y[m, t] * f))
    return out
