"""What the path-based CV estimators share: folds, per-fold paths, scoring.

CV score of a fold (``mse_path_``): the path's error on the fold's test rows,
over labelled entries only, per task and then averaged over tasks with the
task weights,

    err(alpha) = sum_t w_t err_t(alpha) / sum_t w_t,
    err_t(alpha) = sum_{i in test, labelled for t} s_i loss_it / sum_i s_i

(tasks without a test label in the fold are left out of both sums). The loss
is the squared error ``(y - f)^2`` (not halved, as scikit-learn's
``mse_path_``) or the logistic loss ``log(1 + exp(-y f))``. This is the
objective's normalisation (each task's mean loss, weighted by ``w_t``), and
with every label present and no weights it is scikit-learn's
``MultiTaskLassoCV`` ``mse_path_`` (mean over samples and tasks).
"""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import KFold, check_cv

from .._solvers.datafits import get_datafit_class
from .._validation import make_task_data
from ..linear_model._setup import make_problem
from ._path import solve_path
from ._split import TaskStratifiedKFold

_MAX_PRED_FLOATS = 2**23


def default_cv(cv, Y2):
    """``TaskStratifiedKFold`` when ``Y`` has missing labels, else ``KFold``
    (for ``None`` or an int); anything else through ``check_cv``."""
    if cv is None or (isinstance(cv, numbers.Integral) and not isinstance(cv, bool)):
        n_splits = 5 if cv is None else int(cv)
        if np.isnan(Y2).any():
            return TaskStratifiedKFold(n_splits)
        return KFold(n_splits)
    return check_cv(cv)


def path_errors(X_test, Y_test, sw_test, coefs, intercepts, task_weights, loss):
    """Test error (see module doc) of every point of a path: shape (n_alphas,)."""
    entry_loss = get_datafit_class(loss).entry_loss
    A, T, p = coefs.shape
    active = np.flatnonzero(np.any(coefs != 0, axis=(0, 1)))
    M = ~np.isnan(Y_test)
    Y0 = np.where(M, Y_test, 0.0)
    Wm = (M * sw_test[:, None]).astype(np.float64)
    den = Wm.sum(axis=0)
    has = den > 0
    if not has.any():
        return np.full(A, np.nan)
    if active.size:
        Xa = X_test[:, active]
        if sp.issparse(Xa):
            Xa = Xa.toarray() if Xa.shape[0] * active.size <= _MAX_PRED_FLOATS else Xa
    n_te = Y_test.shape[0]
    chunk = max(1, _MAX_PRED_FLOATS // max(1, n_te * T))
    out = np.empty(A)
    w = task_weights[has]
    for a0 in range(0, A, chunk):
        a1 = min(A, a0 + chunk)
        if active.size:
            C = coefs[a0:a1][:, :, active].reshape((a1 - a0) * T, active.size)
            P = np.asarray(Xa @ C.T).reshape(n_te, a1 - a0, T)
        else:
            P = np.zeros((n_te, a1 - a0, T))
        P += intercepts[None, a0:a1]
        E = entry_loss(Y0[:, None, :], P)
        num = np.einsum("iat,it->at", E, Wm)
        per_task = num[:, has] / den[has]
        out[a0:a1] = per_task @ w / w.sum()
    return out


def fold_path(
    X,
    Y2,
    sample_weight,
    train,
    test,
    fold_index,
    task_weights,
    alphas,
    path_kwargs,
    scoring=None,
):
    """Path on the training rows, errors on the test rows of one fold.

    Returns ``(errors (n_alphas,), total iterations, all converged)``, and
    the scores of every point when ``scoring`` (a checked spec of
    :func:`~._scoring.check_cv_scoring`) is given.
    """
    sw = np.ones(Y2.shape[0]) if sample_weight is None else sample_weight
    try:
        data = make_task_data(Y2[train], sw[train])
    except ValueError as exc:
        raise ValueError(
            f"CV fold {fold_index}: {exc} (in the fold's training rows). Use "
            "skmtl.model_selection.TaskStratifiedKFold as cv, which keeps every "
            "task in every training set."
        ) from exc
    path_kwargs = dict(path_kwargs)
    loss = path_kwargs.pop("loss")
    Xtr, op, datafit = make_problem(X[train], data, task_weights, loss)
    out = solve_path(Xtr, op, datafit, alphas=alphas, **path_kwargs)
    test_path = (X[test], Y2[test], sw[test], out["coefs"], out["intercepts"])
    err = path_errors(*test_path, task_weights, loss)
    result = (err, int(out["n_iters"].sum()), bool(out["converged"].all()))
    if scoring is None:
        return result
    from ._scoring import path_scores

    return (*result, path_scores(*test_path, task_weights, loss, scoring))
