"""Regularization paths: warm-started fits over a decreasing grid of ``alpha``.

The grid starts at ``alpha_max``, the smallest ``alpha`` for which ``W = 0``
is optimal. It is exact: the datafit gradient ``G0`` at ``W = 0`` with the
optimal intercepts (weighted label means for the squared loss, log-odds for
the logistic loss) goes through the penalty's ``alpha_max(G0, params)``
(the dual norm of ``G0``). Each ``alpha`` starts from the previous solution,
on the one solver driver that fits use
(:class:`skmtl._solvers.dispatch.ProblemSolver`): for block coordinate
descent its per-problem state (Gram matrix or residual, curvatures) is built
once for the whole path.

Composite penalties ("dirty", "robust", "sparse_low_rank") follow the path
with ``beta = beta_ratio * alpha``.
"""

import warnings
from numbers import Integral

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Bunch

from .._solvers.datafits import get_datafit_class
from .._solvers.dispatch import SOLVERS, ProblemSolver
from .._solvers.fista import lipschitz_estimate
from .._solvers.penalties import get_penalty_class, make_penalty
from .._validation import check_array_X, check_task_weights, make_task_data
from ..linear_model._setup import gradient_at_zero, make_problem

__all__ = ["regularization_path"]


def compute_alpha_max(op, datafit, penalty, params=None, fit_intercept=True, X=None):
    """Smallest ``alpha`` with ``W = 0`` optimal (``inf`` if there is none).

    Penalties that learn their structure from the data first complete
    ``params`` (:meth:`Penalty.complete_params`, given ``X``); penalties that
    are never zero-optimal but have an ``alpha_scale`` (quadratic growth at
    0) return that grid top instead of ``inf``.
    """
    cls = get_penalty_class(penalty)
    if X is not None:
        params = cls.complete_params(X, op, datafit, fit_intercept, params)
    G0, _ = gradient_at_zero(op, datafit, fit_intercept)
    a_max = cls.alpha_max(G0, params)
    if not np.isfinite(a_max) and cls.has_alpha_scale:
        a_max = cls.alpha_scale(
            G0, lipschitz_estimate(op, datafit, fit_intercept), params
        )
    return a_max


def alpha_grid(alpha_max, n_alphas=100, eps=1e-3):
    """``n_alphas`` values from ``alpha_max`` down to ``eps * alpha_max``,
    evenly spaced on a log scale."""
    if not np.isfinite(alpha_max):
        raise ValueError(
            "Automatic alpha grid generation is not supported for l1_ratio=0. "
            "Please supply a grid by providing your estimator with the "
            "appropriate `alphas=` argument. (No penalty without a finite "
            "alpha_max has an automatic grid: l1_ratio=0, or 'graph' without "
            "an l1 part; there W = 0 is never optimal.)"
        )
    if alpha_max <= np.finfo(float).resolution:
        # all-constant targets: scikit-learn's convention
        return np.full(n_alphas, np.finfo(float).resolution)
    return np.geomspace(alpha_max, alpha_max * eps, num=n_alphas)


def solve_path(
    X, op, datafit, penalty, alphas, *, penalty_params=None, fit_intercept=True,
    tol=1e-4, max_iter=1000, solver="auto", verbose=0,
):  # fmt: skip
    """Warm-started path over ``alphas`` (in the given order) on one problem.

    ``penalty_params`` maps hyperparameter names (``l1_ratio``,
    ``task_graph``, ``gamma``, ``beta_ratio``, ...) to values.

    Returns a dict of arrays ``coefs`` (n_alphas, T, p), ``intercepts``
    (n_alphas, T), ``dual_gaps``, ``n_iters``, ``converged``, for a
    composite penalty ``components`` (name -> (n_alphas, T, p)), and
    ``fitted`` (the penalty's learned structure at the last ``alpha``).
    """
    T, p = op.n_tasks, op.n_features
    alphas = np.asarray(alphas, dtype=np.float64)
    n_alphas = alphas.shape[0]
    coefs = np.zeros((n_alphas, T, p))
    intercepts = np.zeros((n_alphas, T))
    gaps = np.full(n_alphas, np.nan)
    n_iters = np.zeros(n_alphas, dtype=np.int64)
    converged = np.zeros(n_alphas, dtype=bool)
    components = None
    problem = ProblemSolver(
        X, op, datafit, fit_intercept=fit_intercept, path=n_alphas > 1
    )
    for k, alpha in enumerate(alphas):
        pen = make_penalty(penalty, alpha, T, penalty_params)
        pen.setup(X, op, datafit, fit_intercept)
        res = problem.solve(
            pen, solver=solver, max_iter=max_iter, tol=tol,
            verbose=max(0, verbose - 1),
        )  # fmt: skip
        coefs[k] = res.coef
        intercepts[k] = res.intercept
        if pen.n_parts > 1:
            if components is None:
                components = {
                    name: np.zeros((n_alphas, T, p)) for name in pen.part_names
                }
            for name, part in pen.split(res.parts).items():
                components[name][k] = part
        gaps[k] = res.gap if pen.has_gap else np.nan
        n_iters[k] = res.n_iter
        converged[k] = res.converged
        if verbose:
            print(
                f"[regularization_path] alpha {k + 1}/{n_alphas} = {alpha:.4g}: "
                f"{res.n_iter} iterations, gap {gaps[k]:.3e}, "
                f"{int(np.count_nonzero(np.any(res.coef != 0, axis=0)))} "
                "active features"
            )
    out = {
        "coefs": coefs,
        "intercepts": intercepts,
        "dual_gaps": gaps,
        "n_iters": n_iters,
        "converged": converged,
    }
    if components is not None:
        out["components"] = components
    out["fitted"] = dict(pen.fitted_attributes(res.parts)) if n_alphas else {}
    return out


def warn_not_converged(converged, alphas, max_iter, tol):
    if not np.all(converged):
        bad = np.asarray(alphas)[~np.asarray(converged)]
        warnings.warn(
            f"The solver did not converge within max_iter={max_iter} at "
            f"{bad.size} alpha(s) of the path (smallest {bad.min():.3g}, "
            f"tol={tol}). Increase max_iter or tol, or scale the features.",
            ConvergenceWarning,
            stacklevel=3,
        )


def check_alphas(alphas, n_alphas):
    """``(explicit_alphas or None, n_alphas)`` from the ``alphas`` parameter.

    ``alphas`` may be None (use ``n_alphas``), an int (the number of alphas,
    scikit-learn >= 1.7's convention) or an array of positive values (sorted
    decreasing).
    """
    if alphas is None:
        return None, int(n_alphas)
    if isinstance(alphas, Integral) and not isinstance(alphas, bool):
        if alphas < 1:
            raise ValueError(f"alphas as a count must be >= 1, got {alphas}.")
        return None, int(alphas)
    a = np.asarray(alphas, dtype=np.float64).reshape(-1)
    if a.size == 0:
        raise ValueError("alphas is empty.")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError("alphas must be finite and non-negative.")
    return np.sort(a)[::-1].copy(), a.size


def encode_targets(Y, loss, n_samples):
    """Targets as a float ``(n, T)`` array in the datafit's encoding:
    ``(Y2, task_names, classes)`` (see the datafits' ``encode_targets``)."""
    return get_datafit_class(loss).encode_targets(Y, n_samples)


def regularization_path(
    X,
    Y,
    penalty="l21",
    *,
    alphas=None,
    n_alphas=100,
    eps=1e-3,
    l1_ratio=None,
    task_graph=None,
    gamma=None,
    beta_ratio=None,
    n_clusters=None,
    task_tree=None,
    fit_intercept=True,
    sample_weight=None,
    task_weights=None,
    tol=1e-4,
    max_iter=1000,
    solver="auto",
    loss="squared",
    verbose=0,
):
    """Compute a multi-task model over a grid of ``alpha``, warm-started.

    Solves the problem of :class:`skmtl.MultiTaskLinearRegression` (squared
    loss) or :class:`skmtl.MultiTaskLogisticRegression` (logistic loss) for
    each ``alpha``, from the largest down, each fit starting from the
    previous solution.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    Y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Targets, NaN for a missing label (two classes per task for
        ``loss="logistic"``).
    penalty : str or Penalty subclass, default="l21"
        As in :class:`skmtl.MultiTaskLinearRegression`.
    alphas : array-like or int, default=None
        The ``alpha`` values (sorted decreasing), or their number. ``None``:
        ``n_alphas`` values from ``alpha_max`` to ``eps * alpha_max``.
    n_alphas : int, default=100
        Number of ``alpha`` values when ``alphas`` is None.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid.
    l1_ratio : float, default=None
        Mixing parameter of "elasticnet", "sparse_group", "graph".
    task_graph : array-like, sparse matrix or list of edges, default=None
        Task adjacency for ``penalty="graph"``.
    gamma : float, default=None
        Concavity ("mcp", "scad") or cap ("capped_l1"), fixed along the path.
    beta_ratio : float, default=None
        Composite penalties ("dirty", "robust", "sparse_low_rank"): the
        second part's strength is ``beta = beta_ratio * alpha`` at every
        ``alpha`` (default 1); "relationship", "clustered", "tree": the ridge
        strength ``beta = beta_ratio * alpha`` (defaults 0, 0.1, 0).
    n_clusters : int, default=None
        Number of task clusters of "clustered" (None: 2).
    task_tree : linkage matrix or nested lists, default=None
        Task hierarchy of "tree" (None: learned once from the data, see
        :class:`skmtl.MultiTaskLinearRegression`).
    fit_intercept : bool, default=True
        One unpenalised intercept per task.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.
    task_weights : array-like of shape (n_tasks,), default=None
        Weight of each task's loss.
    tol : float, default=1e-4
        Tolerance of each fit (see :class:`skmtl.MultiTaskLinearRegression`).
    max_iter : int, default=1000
        Maximum epochs (bcd) or iterations (fista) per ``alpha``.
    solver : {"auto", "bcd", "fista"}, default="auto"
        "auto": block coordinate descent for the squared loss with a
        feature-separable penalty, FISTA otherwise.
    loss : {"squared", "logistic"}, default="squared"
    verbose : int, default=0
        1 prints one line per ``alpha``; 2 also prints solver progress.

    Returns
    -------
    path : Bunch
        - ``alphas``: ndarray of shape (n_alphas,), decreasing.
        - ``coefs``: ndarray of shape (n_alphas, n_tasks, n_features).
        - ``intercepts``: ndarray of shape (n_alphas, n_tasks).
        - ``dual_gaps``: ndarray of shape (n_alphas,); NaN where the penalty
          has no duality gap ("graph", the non-convex penalties).
        - ``n_iters``: ndarray of shape (n_alphas,), epochs or iterations.
        - ``converged``: ndarray of bool of shape (n_alphas,).
        - ``alpha_max``: float, the exact ``alpha_max`` of the data (NaN if
          ``alphas`` were given); for "relationship" and "clustered", which
          are never zero at a finite ``alpha``, the grid top where the
          penalty's largest curvature is 10 times the loss's.
        - ``fitted``: dict, the penalty's learned structure at the last
          ``alpha`` (``task_covariance_``, ``cluster_matrix_`` and
          ``task_clusters_``, ``task_tree_`` ...; empty for the others).
        - ``components``: dict of ndarray of shape (n_alphas, n_tasks,
          n_features), the parts of a composite penalty (only for those).

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.model_selection import regularization_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 8))
    >>> Y = X[:, :2] @ rng.normal(size=(2, 3)) + 0.1 * rng.normal(size=(50, 3))
    >>> Y[:10, 0] = np.nan
    >>> path = regularization_path(X, Y, "l21", n_alphas=5)
    >>> path.coefs.shape
    (5, 3, 8)
    >>> [int(np.any(W != 0, axis=0).sum()) for W in path.coefs]
    [0, 2, 2, 8, 8]
    """
    datafit_cls = get_datafit_class(loss)
    get_penalty_class(penalty)
    if solver not in SOLVERS:
        raise ValueError(f"Unknown solver {solver!r}; expected one of {SOLVERS}.")
    if not (isinstance(n_alphas, Integral) and n_alphas >= 1):
        raise ValueError(f"n_alphas must be a positive integer, got {n_alphas!r}.")
    if not 0 < eps <= 1:
        raise ValueError(f"eps must be in (0, 1], got {eps}.")
    # (one pass over a float64 X: the finite check and the column statistics)
    X, stats = check_array_X(X, return_column_stats=True)
    Y2, names, _ = datafit_cls.encode_targets(Y, X.shape[0])
    data = make_task_data(Y2, sample_weight, names)
    w = check_task_weights(task_weights, data.n_tasks)
    X, op, datafit = make_problem(X, data, w, loss, column_stats=stats)
    params = {
        "l1_ratio": l1_ratio,
        "task_graph": task_graph,
        "gamma": gamma,
        "beta_ratio": beta_ratio,
        "n_clusters": n_clusters,
        "task_tree": task_tree,
    }
    explicit, n = check_alphas(alphas, n_alphas)
    a_max = np.nan
    if explicit is None:
        a_max = compute_alpha_max(op, datafit, penalty, params, fit_intercept, X)
        explicit = alpha_grid(a_max, n, eps)
    out = solve_path(
        X, op, datafit, penalty, explicit, penalty_params=params,
        fit_intercept=fit_intercept, tol=tol, max_iter=max_iter, solver=solver,
        verbose=verbose,
    )  # fmt: skip
    warn_not_converged(out["converged"], explicit, max_iter, tol)
    return Bunch(alphas=explicit, alpha_max=float(a_max), **out)
