"""Exact solves of multi-task ridge systems on per-task Gram matrices.

The squared loss plus a quadratic task coupling, ``alpha / 2 ||W||_F^2 +
coupling / 2 tr(W^T L W)`` (``L`` the Laplacian of a task graph ``A``), has
normal equations ``H_t w_t + alpha w_t + coupling (L W)_t = R_t`` with the
weighted centred per-task Grams ``H_t``. This module is the one place that
solves them: ``MultiTaskRidge``, its dask fit, and the graph penalty without
an l1 part (``solver="exact"`` of the penalised estimators) all call it.
"""

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .result import SolverResult


def _psd_inverse(M):
    """A callable applying ``M^{-1}`` (Cholesky) or its pseudo-inverse."""
    try:
        factor = sla.cho_factor(M, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        Minv = sla.pinvh(M)
        return lambda v: Minv @ v
    return lambda v: sla.cho_solve(factor, v, check_finite=False)


def _pcg_run(apply_M, apply_P, r, target, max_iter, verbose, norm0):
    W = np.zeros_like(r)
    r = r.copy()
    z = apply_P(r)
    d = z.copy()
    rz = np.vdot(r, z)
    k = 0
    for k in range(1, max_iter + 1):
        Md = apply_M(d)
        dMd = np.vdot(d, Md)
        if not dMd > 0:
            # Only a singular system (alpha = 0) gets here: stop at the
            # current least-squares iterate.
            return W, k, False
        a = rz / dMd
        W += a * d
        r -= a * Md
        rnorm = np.linalg.norm(r)
        if verbose:
            print(
                f"[MultiTaskRidge] CG iteration {k}: relative residual "
                f"{rnorm / norm0:.3e}"
            )
        if rnorm <= target:
            return W, k, True
        z = apply_P(r)
        rz_new = np.vdot(r, z)
        d = z + (rz_new / rz) * d
        rz = rz_new
    return W, k, False


def _pcg(apply_M, apply_P, R, tol, max_iter, verbose):
    """Preconditioned CG on ``(T, p)`` arrays from zero, to ``tol * ||R||``."""
    norm0 = np.linalg.norm(R)
    if norm0 == 0:
        return np.zeros_like(R), 0, True
    return _pcg_run(apply_M, apply_P, R, tol * norm0, max_iter, verbose, norm0)


def _coupling_operator(L, coupling, groups):
    """``V -> coupling * L @ V`` with each group's sum forced to zero.

    Mathematically ``1_g^T L = 0`` on every connected component ``g``.
    In floating point ``coupling * L @ V`` has an error of order
    ``coupling * eps * ||V||`` along ``1_g``, the direction that decides the
    pooled model; removing it keeps large ``coupling`` accurate.
    """
    CL = coupling * L

    def apply(V):
        Y = CL @ V
        for g in groups:
            Y[g] -= Y[g].mean(axis=0)
        return Y

    return apply


def _components(A, coupling):
    """Connected components (of size >= 2) of the task graph."""
    if coupling == 0:
        return []
    _, labels = connected_components(sp.csr_array(A > 0), directed=False)
    groups = [np.flatnonzero(labels == g) for g in np.unique(labels)]
    return [g for g in groups if len(g) > 1]


def solve_cg_from_grams(H, R, alpha, coupling, A, L, tol, max_iter, verb):
    """PCG on ``H_t w_t + alpha w_t + coupling (L W)_t = R_t`` given the
    weighted centred per-task Grams ``H`` (T, p, p): also the solve of fits
    from reduced statistics (dask data). Returns ``(W, n_iter, converged)``."""
    T, p = R.shape
    eye = np.eye(p)
    block_inv = [
        _psd_inverse(H[t] + (alpha + coupling * L[t, t]) * eye) for t in range(T)
    ]
    groups = _components(A, coupling)
    coarse = [
        (g, _psd_inverse(H[g].sum(axis=0) + alpha * len(g) * eye)) for g in groups
    ]
    couple = _coupling_operator(L, coupling, groups)

    def apply_M(V):
        return np.einsum("tij,tj->ti", H, V) + alpha * V + couple(V)

    def apply_P(Rv):
        Z = np.empty_like(Rv)
        for t in range(T):
            Z[t] = block_inv[t](Rv[t])
        for g, solve in coarse:
            Z[g] += solve(Rv[g].sum(axis=0))
        return Z

    return _pcg(apply_M, apply_P, R, tol, max_iter, verb)


def ridge_from_state(state, alpha, coupling, A, L, tol, max_iter, verbose=0):
    """``MultiTaskRidge``'s solution from a Gram state.

    Without coupling each task is one linear system: with a shared Gram, one
    eigendecomposition serves every task (exact); otherwise one Cholesky per
    task. With coupling, the block-preconditioned CG of
    :func:`solve_cg_from_grams`.

    Returns ``(W, b, n_iter, converged, solver)``.
    """
    Q, slot, k, R = state["Q"], state["slot"], state["k"], state["XtY"]
    T, p = R.shape
    if coupling == 0 and Q.shape[0] == 1:
        d, V = np.linalg.eigh(Q[0])
        d = np.clip(d, 0.0, None)
        den = k[:, None] * d[None, :] + alpha
        U = R @ V
        U = np.divide(U, den, out=np.zeros_like(U), where=den > 1e-12 * den.max())
        W, n_iter, converged, solver = U @ V.T, 1, True, "eigen"
    else:
        H = k[:, None, None] * Q[slot]
        W, n_iter, converged = solve_cg_from_grams(
            H, R, alpha, coupling, A, L, tol, max_iter, verbose
        )
        solver = "cg"
    b = state["ymean"] - np.einsum("tj,tj->t", state["xmean"], W)
    return W, b, n_iter, converged, solver


def adjacency(L):
    """The task graph of a Laplacian (``-L`` off the diagonal)."""
    A = -np.asarray(L, dtype=np.float64)
    np.fill_diagonal(A, 0.0)
    return A


def solve_ridge_form(state, penalty, *, tol=1e-10, max_iter=1000, verbose=0):
    """Exact minimiser of the squared loss plus a quadratic penalty (one
    whose :meth:`~skmtl.penalties.Penalty.ridge_form` is not None), from a
    Gram state: the normal equations solved by :func:`ridge_from_state`
    (conjugate gradient to a relative residual of ``min(tol, 1e-10)``).

    Returns a :class:`~skmtl._solvers.result.SolverResult` (``n_iter``: CG
    iterations; no duality gap).
    """
    ridge, coupling, L = penalty.ridge_form()
    W, b, n_iter, converged, _ = ridge_from_state(
        state, ridge, coupling, adjacency(L), L, min(tol, 1e-10), max_iter, verbose
    )
    Q, slot, k = state["Q"], state["slot"], state["k"]
    if Q.shape[0] == 1:
        QW = k[:, None] * (W @ Q[0])
    else:
        QW = k[:, None] * np.einsum("tij,tj->ti", Q[slot], W)
    loss = 0.5 * (float(state["yy"]) - 2 * float(np.sum(W * state["XtY"])))
    objective = loss + 0.5 * float(np.sum(W * QW)) + penalty.value(W)
    return SolverResult(W, b, n_iter, np.nan, converged, objective, penalty=penalty)
