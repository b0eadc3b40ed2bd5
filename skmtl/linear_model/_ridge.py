"""Multi-task ridge regression with soft parameter sharing over a task graph.

The problem is a linear system. After profiling out the unpenalised
intercepts (``b_t = ybar_t - xbar_t . w_t`` with per-task weighted means),
the normal equations are, for every task ``t``,

    H_t w_t + alpha w_t + coupling * sum_s L_ts w_s = r_t

with ``H_t = w_t / n_t * sum_{i in t} s_i (x_i - xbar_t)(x_i - xbar_t)^T``
and ``r_t = w_t / n_t * sum_{i in t} s_i (x_i - xbar_t)(y_it - ybar_t)``.
Two exact solvers exploit the block structure; neither ever forms the
``(T p) x (T p)`` matrix:

* ``"eigen"`` (every label present): all ``H_t`` are ``w_t K`` with one
  Gram ``K``. In ``K``'s eigenbasis the system splits into one ``T x T``
  system per eigenvalue, and with equal task weights diagonalising ``L``
  too makes it fully diagonal. Cost ``O(n p min(n, p) + min(n, p)^3 +
  p T^3)``; the Laplacian's null space is set exactly, so the pooled limit
  stays accurate for any ``coupling``.
* ``"cg"`` (any pattern of labels): preconditioned conjugate gradient on
  the full system, run to a relative residual of ``tol``. The
  preconditioner is two-level: exact per-task blocks
  ``(H_t + (alpha + coupling L_tt) I)^{-1}`` (Cholesky, ``T p^3``) plus a
  coarse correction with the pooled model of each connected component of
  the graph (``sum_t H_t + alpha |g| I``), which keeps the iteration count
  bounded as ``coupling`` grows. With ``coupling=0`` it converges in one
  iteration. Memory ``T p^2``. When the per-task Grams would not fit
  (large ``p``), the same iteration runs matrix-free on products with ``X``
  and a diagonal two-level preconditioner. The coupling product removes its
  rounding error along each component's pooled direction, so a huge
  ``coupling`` (tested to 1e13) still gives the pooled model to ~1e-12.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from .._dask import any_dask
from .._graph import check_task_graph, graph_laplacian
from .._solvers.design import DesignOperator
from .._solvers.ridge import (
    _components,
    _coupling_operator,
    _pcg,
    solve_cg_from_grams,
)
from .._validation import as_float64_X, check_task_weights
from ._base import BaseMultiTaskRegressor

__all__ = ["MultiTaskRidge"]

# Per-task Grams are formed when they fit in about 400 MB and p is moderate.
_GRAM_MAX_FEATURES = 3000
_GRAM_MAX_FLOATS = 5e7
# The eigen solver factorises a min(n, p)-sized (dense) or p-sized (sparse)
# matrix.
_EIGEN_MAX_DIM = 4000


def _entry_matrix(data, values):
    """``(T, n)`` sparse matrix with ``values[e]`` at ``(task(e), row(e))``."""
    return sp.csr_array(
        (values, (data.entry_task, data.entry_row)),
        shape=(data.n_tasks, data.n_samples),
    )


def _dense_rows(X, rows):
    Xt = X[rows]
    if sp.issparse(Xt):
        return Xt
    return np.asarray(Xt, dtype=np.float64)


def _as_dense(M):
    return M.toarray() if sp.issparse(M) else np.asarray(M)


def _task_statistics(X, data, task_weights, fit_intercept):
    """Per-task means ``xbar`` (T, p), ``ybar`` (T,) and right-hand side ``R``.

    ``R[t] = w_t / n_t * sum_{i in t} s_i (y_it - ybar_t) x_i``, which equals
    the centered form because the residuals sum to zero.
    """
    T = data.n_tasks
    if fit_intercept:
        c0 = data.entry_weights()  # s_i / n_t (safe for tiny weights)
        S = _entry_matrix(data, c0)
        xbar = _as_dense(S @ X).astype(np.float64, copy=False)
        ybar = np.bincount(data.entry_task, weights=c0 * data.y, minlength=T)
    else:
        xbar = np.zeros((T, X.shape[1]))
        ybar = np.zeros(T)
    c = data.entry_weights(task_weights)
    D = _entry_matrix(data, c * (data.y - ybar[data.entry_task]))
    R = _as_dense(D @ X).astype(np.float64, copy=False)
    return xbar, ybar, R


def _task_gram(X, rows, c, xbar):
    """``sum_e c_e (x_i - xbar)(x_i - xbar)^T`` over one task's rows."""
    Xt = _dense_rows(X, rows)
    if sp.issparse(Xt):
        G = _as_dense(Xt.T @ Xt.multiply(c[:, None]))
        G = G.astype(np.float64, copy=False) - c.sum() * np.outer(xbar, xbar)
        return 0.5 * (G + G.T)
    Xt -= xbar
    return (Xt * c[:, None]).T @ Xt


def _laplacian_eigh(L, A):
    """Eigendecomposition of ``L`` with its null space (one zero eigenvalue
    per connected component of the graph) set exactly to zero, so that
    ``coupling * mu`` stays zero there for any ``coupling``."""
    mu, Q = np.linalg.eigh(L)
    n_components, _ = connected_components(sp.csr_array(A > 0), directed=False)
    mu[:n_components] = 0.0
    return np.clip(mu, 0.0, None), Q


def _solve_eigen(X, data, task_weights, alpha, coupling, A, L, fit_intercept):
    """Exact solution when every label is present (one shared Gram)."""
    n, p = X.shape
    w = task_weights
    # Right-hand side without task weights: R[t] = w_t * R0[t].
    xbar, ybar, R0 = _task_statistics(X, data, np.ones_like(w), fit_intercept)
    s = data.sample_weight.reshape(n, data.n_tasks)[:, 0]
    n_total = s.sum()
    if sp.issparse(X):
        K = _as_dense(X.T @ X.multiply(s[:, None] / n_total))
        K = K.astype(np.float64, copy=False) - np.outer(xbar[0], xbar[0])
        lam, V = np.linalg.eigh(0.5 * (K + K.T))
    else:
        B = np.asarray(X, dtype=np.float64) - xbar[0]
        B *= np.sqrt(s / n_total)[:, None]
        if n >= p:
            lam, V = np.linalg.eigh(B.T @ B)
        else:
            _, sigma, Vt = np.linalg.svd(B, full_matrices=False)
            lam, V = sigma**2, Vt.T
    # Eigenvalues at rounding level are exact zeros (as lstsq's rcond); this
    # matters only when alpha = 0, where they would otherwise blow up.
    lam[lam <= max(n, p) * np.finfo(float).eps * max(lam.max(initial=0.0), 0.0)] = 0
    Z = V.T @ R0.T * w  # (k, T): right-hand side in K's eigenbasis

    mu, Q = _laplacian_eigh(L, A)
    mu *= coupling
    Zq = Z @ Q
    if np.all(w == w[0]):
        denom = w[0] * lam[:, None] + alpha + mu[None, :]
        U = np.divide(Zq, denom, out=np.zeros_like(Zq), where=denom > 0)
    else:
        # One T x T system per eigenvalue of K, written in L's eigenbasis so
        # that the large entries (coupling * mu) sit on the diagonal.
        M = lam[:, None, None] * (Q.T * w) @ Q + np.diag(alpha + mu)[None]
        try:
            U = np.linalg.solve(M, Zq[..., None])[..., 0]
        except np.linalg.LinAlgError:
            U = (np.linalg.pinv(M, hermitian=True) @ Zq[..., None])[..., 0]
    U = U @ Q.T
    W = (V @ U).T
    b = ybar - np.einsum("tj,tj->t", xbar, W)
    return W, b


def _task_rows(data, t):
    ent = data.task_entries[data.task_ptr[t] : data.task_ptr[t + 1]]
    return ent, data.entry_row[ent]


def _solve_cg_gram(
    X, data, task_weights, alpha, coupling, A, L, fit_intercept, tol, max_iter, verb
):
    """Per-task Grams, two-level block preconditioner, PCG."""
    T, p = data.n_tasks, X.shape[1]
    xbar, ybar, R = _task_statistics(X, data, task_weights, fit_intercept)
    c = data.entry_weights(task_weights)
    H = np.empty((T, p, p))
    for t in range(T):
        ent, rows = _task_rows(data, t)
        H[t] = _task_gram(X, rows, c[ent], xbar[t])
    W, n_iter, converged = solve_cg_from_grams(
        H, R, alpha, coupling, A, L, tol, max_iter, verb
    )
    b = ybar - np.einsum("tj,tj->t", xbar, W)
    return W, b, n_iter, converged


def _solve_cg_matrix_free(
    X, data, task_weights, alpha, coupling, A, L, fit_intercept, tol, max_iter, verb
):
    """PCG with products by ``X`` only and a two-level diagonal preconditioner."""
    T, p = data.n_tasks, X.shape[1]
    X = as_float64_X(X)
    xbar, ybar, R = _task_statistics(X, data, task_weights, fit_intercept)
    c = data.entry_weights(task_weights)
    op = DesignOperator(X, data.row_ptr, data.entry_row, data.entry_task, T)
    C = _entry_matrix(data, c)
    if sp.issparse(X):
        diagH = _as_dense(C @ X.multiply(X))
    else:
        diagH = np.zeros((T, p))
        step = max(1, int(2**22 // max(p, 1)))
        for i0 in range(0, X.shape[0], step):
            diagH += C[:, i0 : i0 + step] @ (X[i0 : i0 + step] ** 2)
    diagH = np.clip(diagH - task_weights[:, None] * xbar**2, 0.0, None)
    block = diagH + (alpha + coupling * np.diag(L))[:, None]
    block_inv = np.divide(1.0, block, out=np.zeros_like(block), where=block > 0)
    coarse = []
    groups = _components(A, coupling)
    for g in groups:
        cg_diag = diagH[g].sum(axis=0) + alpha * len(g)
        inv = np.divide(1.0, cg_diag, out=np.zeros_like(cg_diag), where=cg_diag > 0)
        coarse.append((g, inv))
    couple = _coupling_operator(L, coupling, groups)
    et = data.entry_task

    def apply_M(V):
        F = op.matvec(V)
        if fit_intercept:
            F -= np.einsum("tj,tj->t", xbar, V)[et]
        return op.rmatvec(c * F) + alpha * V + couple(V)

    def apply_P(Rv):
        Z = block_inv * Rv
        for g, inv in coarse:
            Z[g] += inv * Rv[g].sum(axis=0)
        return Z

    W, n_iter, converged = _pcg(apply_M, apply_P, R, tol, max_iter, verb)
    b = ybar - np.einsum("tj,tj->t", xbar, W)
    return W, b, n_iter, converged


class MultiTaskRidge(BaseMultiTaskRegressor):
    """Multi-task ridge regression with soft parameter sharing.

    Minimises, over ``W`` of shape ``(n_tasks, n_features)`` and per-task
    intercepts ``b``,

    ``sum_t w_t / n_t * sum_{i labelled for t} s_i / 2 (y_it - x_i.w_t - b_t)^2
    + alpha / 2 ||W||_F^2 + coupling / 2 * sum_{s<t} A_st ||w_s - w_t||^2``

    where NaN in ``Y`` marks a missing label, ``s_i`` are sample weights,
    ``n_t`` the task's total sample weight and ``w_t`` the ``task_weights``.
    The coupling term equals ``coupling / 2 * tr(W^T L W)`` with ``L`` the
    Laplacian of the task graph ``A``. With the default graph
    (``A_st = 1 / n_tasks``, see :func:`skmtl._graph.mean_graph`) it is
    ``coupling / 2 * sum_t ||w_t - w_bar||^2``: every task is pulled toward
    the mean model (mean-regularized multi-task learning, Evgeniou & Pontil,
    2004). ``coupling=0`` fits one ridge per task (``alpha`` here is
    scikit-learn's ``Ridge`` ``alpha`` divided by ``n_t``); a very large
    ``coupling`` fits one pooled model per connected component of the graph,
    intercepts staying per task.

    The solution is exact: no dense ``(T p) x (T p)`` system is formed (see
    ``solver``).

    Parameters
    ----------
    alpha : float, default=0.01
        Ridge strength, ``>= 0``. The loss is averaged over each task's
        samples, so ``alpha`` is scikit-learn's ``Ridge`` ``alpha`` divided
        by ``n_t``: the default 0.01 equals ``Ridge()`` (``alpha=1``) on 100
        samples per task, a light shrinkage on standardised features. With
        ``alpha=0`` the problem may be singular; the solvers then return one
        of the minimisers.
    coupling : float, default=1.0
        Strength of the pull between tasks linked in ``task_graph``, ``>= 0``.
    task_graph : array-like of shape (n_tasks, n_tasks), sparse matrix or \
            list of edges, default=None
        Symmetric non-negative task adjacency, or a list of edges ``(s, t)``
        / ``(s, t, weight)``; see :func:`skmtl._graph.check_task_graph`.
        ``None`` pulls every task toward the mean of all tasks.
    fit_intercept : bool, default=True
        Fit one unpenalised intercept per task.
    task_weights : array-like of shape (n_tasks,), default=None
        Non-negative weight ``w_t`` of each task's loss (default all 1). A
        task of weight 0 takes its coefficients from its neighbours in the
        task graph and its intercept from its own labels.
    solver : {"auto", "eigen", "cg"}, default="auto"
        - ``"eigen"``: joint eigendecomposition of the shared Gram matrix and
          the graph Laplacian; needs every label present (no NaN in ``Y``).
          Cost ``O(n p min(n, p) + p^3 + p T^3)`` (``p T^2`` with equal task
          weights).
        - ``"cg"``: conjugate gradient on the full system with a two-level
          preconditioner (exact per-task Cholesky blocks plus the pooled
          model of each connected component of the graph), run to a
          relative residual of ``tol``. Cost ``O(n_labels p^2 + T p^3)`` to
          set up and ``O(T p^2)`` per iteration; the iteration count stays
          small for any ``coupling``. For large ``p`` (per-task Grams over
          about 400 MB) it runs matrix-free with products by ``X`` and a
          diagonal preconditioner.
        - ``"auto"``: ``"eigen"`` when every label is present and the
          factorisation is small enough, ``"cg"`` otherwise.
    tol : float, default=1e-10
        Relative residual ``||r - M w|| / ||r||`` at which CG stops.
        Unused by ``"eigen"``.
    max_iter : int, default=None
        Maximum number of CG iterations; ``None`` means
        ``max(1000, n_tasks * n_features)``.
    verbose : int, default=0
        Print the CG residual at every iteration.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        Weight vectors, one row per task.
    intercept_ : ndarray of shape (n_tasks,)
        Per-task intercepts (zeros when ``fit_intercept=False``).
    n_iter_ : int
        CG iterations, or 1 for the direct ``"eigen"`` solver.
    solver_ : str
        The solver used: ``"eigen"``, ``"cg"`` or ``"cg-matrix-free"``.
    n_tasks_ : int
        Number of tasks (columns of ``Y``).
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Only when ``X`` has string column names.
    task_names_ : ndarray of shape (n_tasks,)
        Only when ``Y`` is a DataFrame.

    See Also
    --------
    sklearn.linear_model.Ridge : Single-task ridge regression.
    MultiTaskLinearRegression : Multi-task models with structured penalties.

    References
    ----------
    T. Evgeniou and M. Pontil, "Regularized multi-task learning", KDD 2004.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model._ridge import MultiTaskRidge
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 4))
    >>> w = np.array([1.0, -2.0, 0.5, 0.0])
    >>> Y = np.column_stack([X @ (w + 0.1 * rng.normal(size=4)) for _ in range(3)])
    >>> Y[:40, 2] = np.nan                      # task 2 has only 20 labels
    >>> model = MultiTaskRidge(alpha=0.01, coupling=1.0).fit(X, Y)
    >>> model.coef_.shape, model.solver_
    ((3, 4), 'cg')
    >>> bool(np.abs(model.coef_.mean(axis=0) - w).max() < 0.2)
    True
    >>> model.predict(X[:2]).shape
    (2, 3)
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "coupling": [Interval(Real, 0, None, closed="left")],
        "task_graph": ["array-like", "sparse matrix", None],
        "fit_intercept": ["boolean"],
        "task_weights": ["array-like", None],
        "solver": [StrOptions({"auto", "eigen", "cg"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        alpha=0.01,
        coupling=1.0,
        *,
        task_graph=None,
        fit_intercept=True,
        task_weights=None,
        solver="auto",
        tol=1e-10,
        max_iter=None,
        verbose=0,
    ):
        self.alpha = alpha
        self.coupling = coupling
        self.task_graph = task_graph
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose

    def _choose_solver(self, X, data):
        n, p = X.shape
        T = data.n_tasks
        gram_fits = p <= _GRAM_MAX_FEATURES and T * p * p <= _GRAM_MAX_FLOATS
        eigen_dim = p if sp.issparse(X) else min(n, p)
        if self.solver == "eigen":
            if not data.is_full:
                raise ValueError(
                    "solver='eigen' needs every label present (no NaN in Y); "
                    "use solver='cg' or 'auto' for missing labels."
                )
            return "eigen"
        if self.solver == "auto" and data.is_full and eigen_dim <= _EIGEN_MAX_DIM:
            return "eigen"
        return "cg" if gram_fits else "cg-matrix-free"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. float32 input is computed in float64; sparse input
            is never densified.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; NaN marks a missing label. A DataFrame gives
            ``task_names_``.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights. They replace counts in each task's normalisation
            ``n_t``, so integer weights equal repeating rows.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if any_dask(X, y, sample_weight):  # statistics reduced on the cluster
            from .._dask._fit import fit_ridge_dask

            return fit_ridge_dask(self, X, y, sample_weight)
        X, _, data = self._validate_fit_data(X, y, sample_weight)
        T, p = data.n_tasks, X.shape[1]
        task_weights = check_task_weights(self.task_weights, T, allow_zero=True)
        A = check_task_graph(self.task_graph, T)
        L = graph_laplacian(A)
        alpha, coupling = float(self.alpha), float(self.coupling)
        solver = self._choose_solver(X, data)
        if solver == "eigen":
            W, b = _solve_eigen(
                X, data, task_weights, alpha, coupling, A, L, self.fit_intercept
            )
            n_iter, converged = 1, True
        else:
            impl = _solve_cg_gram if solver == "cg" else _solve_cg_matrix_free
            W, b, n_iter, converged = impl(
                X, data, task_weights, alpha, coupling, A, L,
                self.fit_intercept, self.tol, self._cg_max_iter(T, p), self.verbose,
            )  # fmt: skip
        return self._set_solution(W, b, n_iter, converged, solver)

    def _cg_max_iter(self, n_tasks, n_features):
        if self.max_iter is None:
            return max(1000, n_tasks * n_features)
        return self.max_iter

    def _set_solution(self, W, b, n_iter, converged, solver):
        """Store the fitted attributes; warn when conjugate gradient stopped
        on ``max_iter`` (also used by the dask fit)."""
        if not converged:
            warnings.warn(
                f"Conjugate gradient did not reach the relative residual "
                f"tol={self.tol} within {n_iter} iterations (max_iter="
                f"{self._cg_max_iter(*W.shape)}). The model is usable but not "
                "exact; increase max_iter or tol, or increase alpha if the "
                "system is singular.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.coef_ = W
        self.intercept_ = b if self.fit_intercept else np.zeros(W.shape[0])
        self.n_iter_ = int(n_iter)
        self.solver_ = solver
        return self
