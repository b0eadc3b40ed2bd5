"""Trace (nuclear) norm: tasks share a low-rank subspace."""

import numpy as np
from numba import njit
from scipy.linalg import lapack

from ._base import Penalty

#: the eigendecomposition route of :func:`singular_value_shrink` is taken while
#: ``s_max <= _GRAM_RATIO * thresh``: its error on the result is about ``eps
#: s_max / thresh`` relative (see there), ~1e-13 at this ratio
_GRAM_RATIO = 1e3
#: at most this fraction of the singular values above the threshold (at the
#: previous call): only those eigenpairs are computed (MRRR on a subset);
#: beyond it the full eigendecomposition is cheaper
_PARTIAL_FRACTION = 0.15


def singular_value_shrink(
    W, thresh, *, return_values=False, n_kept=None, recount=False
):
    """``U max(s - thresh, 0) V^T``: the trace norm's proximal operator
    (with ``return_values``, also the kept singular values ``max(s -
    thresh, 0) > 0``: those of the result, whose trace norm is their sum).

    ``n_kept`` (optional) is a guess of how many singular values exceed
    ``thresh`` (e.g. from the previous call on a nearby matrix): when few do,
    only those are computed. With ``recount`` (the guess is likely too high,
    e.g. the counts are falling) a guess up to twice the partial route's
    limit is checked by counting the Gram's eigenvalues above ``thresh^2``
    (:func:`_count_above`) before the route is chosen. Any guess gives the
    same result.

    Computed from the eigendecomposition of the smaller Gram (``W^T W`` or
    ``W W^T``, about half the cost of an SVD, less when few values exceed
    the threshold) when the largest singular value is at most
    :data:`_GRAM_RATIO` times the threshold, else from the SVD. With the
    eigenpairs ``(s_i^2, v_i)`` of ``W^T W`` the result is ``sum_{s_i >
    thresh} (1 - thresh / s_i) (W v_i) v_i^T`` (``s_i = ||W v_i||``). The
    Gram's rounding error (``~eps s_max^2``) is divided by the eigenvalue
    gaps in the eigenvectors, but the shrink factor ``1 - thresh / s``
    varies as slowly across those gaps: the result's error is about ``eps
    s_max^2 / thresh`` against the SVD route's ``eps s_max``.
    """
    res = _shrink_by_gram(W, thresh, n_kept, recount)
    if res is None:
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        s = np.maximum(s - thresh, 0.0)
        k = int(np.count_nonzero(s))
        res = ((U[:, :k] * s[:k]) @ Vt[:k], s[:k])
    return res if return_values else res[0]


def _smaller_gram(W):
    """``(W^T W, True)`` for a tall ``W``, else ``(W W^T, False)``: the
    smaller Gram, overflow and underflow left to the caller's checks."""
    tall = W.shape[0] >= W.shape[1]
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        return (W.T @ W if tall else W @ W.T), tall


def _shrink_by_gram(W, thresh, n_kept, recount=False):
    """:func:`singular_value_shrink` from the smaller Gram's eigenpairs above
    ``thresh^2``; None where the SVD route is needed (a large ratio
    ``s_max / thresh``, a Gram that loses range, a small matrix).

    One numba call (:func:`_shrink_all`: the Gram, its checks, LAPACK's
    ``dsyevd`` and the result) when every eigenpair is computed; with a
    small ``n_kept`` the Gram (:func:`_checked_gram`), scipy's ``dsyevr`` on
    the interval above ``thresh^2`` and :func:`_shrink_from_eigenpairs`.
    """
    m, n = W.shape
    k = min(m, n)
    if k < 8 or not thresh > 0.0:
        return None
    # the kernels take a tall matrix: a wide W's result is the transpose of
    # its transpose's (the same Gram W W^T, the same sums)
    wide = m < n
    W = np.ascontiguousarray(W.T if wide else W, dtype=np.float64)
    partial = n_kept is not None and n_kept <= _PARTIAL_FRACTION * k
    recount = (
        recount and n_kept is not None and not partial
        and n_kept <= 2 * _PARTIAL_FRACTION * k
    )  # fmt: skip
    if partial or recount:
        status, A, top = _checked_gram(W, thresh)
        if status == _OK and recount:
            partial = _count_above(A, thresh * thresh) <= _PARTIAL_FRACTION * k
        if status == _OK and partial:
            # only the eigenpairs above thresh^2 (MRRR on that interval)
            lam, V, found, _, info = lapack.dsyevr(
                A, compute_v=1, range="V", vl=thresh * thresh, vu=top
            )
            if info != 0:
                return None
            status, out, s = _shrink_from_eigenpairs(
                W, lam[:found], np.ascontiguousarray(V[:, :found]), thresh, _GRAM_RATIO
            )
        elif status == _OK:
            try:
                status, out, s = _shrink_eigh(W, A, thresh, _GRAM_RATIO)
            except np.linalg.LinAlgError:  # dsyevd did not converge
                return None
    else:
        try:
            status, out, s = _shrink_all(W, thresh, _GRAM_RATIO)
        except np.linalg.LinAlgError:  # dsyevd did not converge
            return None
    if status == _SVD:
        return None
    if status == _ZERO:  # every singular value is below the threshold
        return np.zeros((m, n)), np.zeros(0)
    return (np.ascontiguousarray(out.T) if wide else out), s


# statuses of the numba kernels below: result computed, the SVD route is
# needed, every singular value is below the threshold
_OK, _SVD, _ZERO = 0, 1, 2


@njit(cache=True)
def _checked_gram(W, thresh):
    """``(status, A, top)``: the Gram ``A = W^T W`` of the C-ordered, tall
    ``W`` and ``top = 2 trace(A) + 1`` (above every eigenvalue); status
    ``_SVD`` where ``A`` is not finite or ``thresh^2`` underflows, ``_ZERO``
    where ``thresh^2 >= top``."""
    A = np.dot(W.T, W)
    k = A.shape[0]
    nan_or_inf = 0.0  # inf * 0 and nan * 0 are NaN
    trace = 0.0
    for i in range(k):
        trace += A[i, i]
        for j in range(k):
            nan_or_inf += A[i, j] * 0.0
    top = 2.0 * trace + 1.0
    t2 = thresh * thresh
    if not (nan_or_inf == 0.0 and np.isfinite(top) and t2 > 1e-290):
        return _SVD, A, top
    if t2 >= top:
        return _ZERO, A, top
    return _OK, A, top


@njit(cache=True)
def _shrink_all(W, thresh, ratio):
    """``(status, out, s)``: :func:`_shrink_from_eigenpairs` with every
    eigenpair of the smaller Gram (``np.linalg.eigh``: LAPACK's ``dsyevd``)."""
    status, A, _ = _checked_gram(W, thresh)
    if status != _OK:
        return status, W, np.zeros(0)
    return _shrink_eigh(W, A, thresh, ratio)


@njit(cache=True)
def _shrink_eigh(W, A, thresh, ratio):
    """:func:`_shrink_from_eigenpairs` with every eigenpair of the Gram
    ``A`` of ``W`` (``np.linalg.eigh``: LAPACK's ``dsyevd``)."""
    lam, V = np.linalg.eigh(A)
    return _shrink_from_eigenpairs(W, lam, np.ascontiguousarray(V), thresh, ratio)


@njit(cache=True)
def _count_above(A, level):
    """How many eigenvalues of the symmetric ``A`` exceed ``level``: the
    positive pivots of ``A - level I`` by an ``LDL^T`` factorisation without
    pivoting (Sylvester's law of inertia; ``n^3 / 6`` multiply-adds, a tiny
    pivot is taken as negative, as in a Sturm count). Exact up to rounding
    for eigenvalues near ``level``: it only chooses a route."""
    n = A.shape[0]
    L = np.zeros((n, n))
    d = np.empty(n)
    tiny = 1e-300 + 1e-14 * max(abs(level), 1e-300)
    above = 0
    for j in range(n):
        dj = A[j, j] - level
        for k in range(j):
            dj -= L[j, k] * L[j, k] * d[k]
        if abs(dj) < tiny:
            dj = -tiny
        d[j] = dj
        above += dj > 0.0
        for i in range(j + 1, n):
            acc = A[i, j]
            for k in range(j):
                acc -= L[i, k] * L[j, k] * d[k]
            L[i, j] = acc / dj
    return above


@njit(cache=True)
def _shrink_from_eigenpairs(W, lam, V, thresh, ratio):
    """``(status, out, s)`` from eigenpairs ``(lam_i, V[:, i])`` of the
    Gram ``W^T W`` of the tall ``W`` (those above ``thresh^2`` are used):
    ``out = sum (1 - thresh / s_i) (W v_i) v_i^T``, ``s_i = ||W v_i||`` in
    decreasing order, ``s - thresh`` the kept values; status ``_SVD`` where
    the largest eigenvalue exceeds ``(ratio thresh)^2``."""
    m, n = W.shape
    t2 = thresh * thresh
    cols = np.empty(lam.size, dtype=np.int64)
    r = 0
    lam_max = 0.0
    for i in range(lam.size):
        if lam[i] > t2:
            cols[r] = i
            r += 1
            lam_max = max(lam_max, lam[i])
    if r and lam_max > (ratio * thresh) ** 2:
        return _SVD, W, np.zeros(0)
    Vk = np.empty((n, r))
    for i in range(n):
        for j in range(r):
            Vk[i, j] = V[i, cols[j]]
    # the singular values from the vectors (second order in their error)
    B = np.dot(W, Vk)
    s = np.zeros(r)
    for i in range(m):
        for j in range(r):
            s[j] += B[i, j] * B[i, j]
    s = np.sqrt(s)
    order = np.argsort(-s)
    q = 0
    while q < r and s[order[q]] > thresh:
        q += 1
    kept = np.empty(q)
    Bf = np.empty((m, q))
    Vq = np.empty((q, n))
    for c in range(q):
        j = order[c]
        f = 1.0 - thresh / s[j]
        kept[c] = s[j] - thresh
        for i in range(m):
            Bf[i, c] = B[i, j] * f
        for i in range(n):
            Vq[c, i] = Vk[i, j]
    out = np.dot(Bf, Vq) if q else np.zeros((m, n))
    return _OK, out, kept


def trace_norm(W):
    return float(np.linalg.svd(W, compute_uv=False).sum()) if W.size else 0.0


def spectral_norm(V):
    """Largest singular value of ``V``: the square root of the largest
    eigenvalue of the smaller of ``V^T V`` and ``V V^T`` (one eigenvalue of
    a symmetric matrix, about half the cost of the singular values), or the
    singular values where that Gram could lose range (non-finite) or is
    tiny."""
    if V.size == 0:
        return 0.0
    m, n = V.shape
    if min(m, n) >= 8:
        A, _ = _smaller_gram(V)
        if np.all(np.isfinite(A)):
            k = A.shape[0]
            # LAPACK's dsyevr for the top eigenvalue only (scipy.linalg.eigvalsh
            # adds tens of microseconds of checks to a ~40 us call)
            lam, _, m, _, info = lapack.dsyevr(A, compute_v=0, range="I", il=k, iu=k)
            top = float(lam[0]) if info == 0 and m == 1 else 0.0
            # (below ~1e-290 the squares lose their digits: exact route)
            if top > 1e-290:
                return float(np.sqrt(top))
    return float(np.linalg.norm(V, 2))


@njit(cache=True)
def _spectral_lower(V, u, n_steps):
    """``(lo, u)``: ``lo = max ||V u_j|| / ||u_j||`` over ``n_steps`` power
    steps ``u_{j+1} = V^T V u_j`` from ``u`` (of length ``V.shape[1]``; an
    empty ``u``: the largest row of ``V``), a lower bound of the spectral
    norm of ``V`` (each ratio is one); ``u`` the last step's vector, scaled
    to unit norm (a warm start for a nearby matrix; left as it is when zero
    or not finite)."""
    m, n = V.shape
    if u.size != n:
        u = np.zeros(n)
        best = -1.0
        for i in range(m):
            r = 0.0
            for j in range(n):
                r += V[i, j] * V[i, j]
            if r > best:
                best = r
                u[:] = V[i]
    else:
        u = u.copy()
    t = np.empty(m)
    lo = 0.0
    for step in range(n_steps + 1):
        uu = 0.0
        for j in range(n):
            uu += u[j] * u[j]
        if not (uu > 0.0 and np.isfinite(uu)):
            break
        scale = 1.0 / np.sqrt(uu)
        for j in range(n):
            u[j] *= scale
        if step == n_steps:
            break
        tt = 0.0
        for i in range(m):
            acc = 0.0
            for j in range(n):
                acc += V[i, j] * u[j]
            t[i] = acc
            tt += acc * acc
        lo = max(lo, np.sqrt(tt))
        for j in range(n):
            u[j] = 0.0
        for i in range(m):
            ti = t[i]
            for j in range(n):
                u[j] += V[i, j] * ti
    return lo, u


@njit(cache=True)
def _spectral_at_most(V, bound):
    """Whether the spectral norm of ``V`` is certainly at most ``bound``:
    ``c I - G`` is positive definite (an ``LDL^T`` with positive pivots:
    Cholesky) for the smaller Gram ``G`` of ``V`` and ``c = bound^2`` less a
    margin for the rounding of ``G`` (``~m eps ||V||_F^2``) and of the
    factorisation (``~k^2 eps c``), taken far above both. False also for
    non-finite input: the caller's norm decides."""
    m, n = V.shape
    if m >= n:
        G = np.dot(V.T, V)
    else:
        G = np.dot(V, V.T)
    k = G.shape[0]
    fro2 = 0.0
    for i in range(k):
        fro2 += G[i, i]
    b2 = bound * bound
    c = b2 - 1e-10 * b2 - 1e-12 * fro2
    if not (np.isfinite(fro2) and np.isfinite(c) and c > 0.0):
        return False
    L = np.zeros((k, k))
    d = np.empty(k)
    for j in range(k):
        dj = c - G[j, j]
        for q in range(j):
            dj -= L[j, q] * L[j, q] * d[q]
        if not dj > 0.0:
            return False
        d[j] = dj
        for i in range(j + 1, k):
            acc = -G[i, j]
            for q in range(j):
                acc -= L[i, q] * L[j, q] * d[q]
            L[i, j] = acc / dj
    return True


class Trace(Penalty):
    """``alpha * ||W||_*`` (nuclear norm): tasks share a low-rank subspace.

    The proximal operator remembers the singular values of its last result:
    the trace norm of that very array (the objective and the duality gap at
    the iterate the solver has just taken; the solvers never write into
    their iterates) then costs no second SVD.
    """

    has_gap = True
    _last_prox = None  # (result of the last prox, its singular values)
    _kept_before = None  # how many values the prox before the last kept

    def _trace_norm(self, W):
        last = self._last_prox
        if last is not None and last[0] is W:
            return float(last[1].sum())
        return trace_norm(W)

    def nonsmooth_value(self, W):
        return self.alpha * self._trace_norm(W)

    def prox(self, W, step):
        # the last prox's count is the guess of this one's; while the counts
        # fall (early iterations), a guess above the partial route's limit is
        # checked by a count first
        last = self._last_prox
        guess = None if last is None else last[1].size
        before, self._kept_before = self._kept_before, guess
        out, s = singular_value_shrink(
            W, step * self.alpha, return_values=True, n_kept=guess,
            recount=guess is not None and before is not None and before > guess,
        )  # fmt: skip
        self._last_prox = (out, s)
        return out

    def dual_norm(self, V):
        return spectral_norm(V)

    def dual_norm_at_most(self, V, bound):
        """A Cholesky test of ``bound^2 I - V^T V`` (less a rounding
        margin): ~20 us for ``(100, 50)`` against ~60 us for the norm."""
        return V.size > 0 and bool(_spectral_at_most(V, float(bound)))

    _top = np.zeros(0)  # dual_norm_lower's start: its last vector

    def dual_norm_lower(self, V):
        """Two power steps on ``V^T V`` from the last call's vector (the
        largest row of ``V`` at the first call): a lower bound of the
        spectral norm, close to it for a matrix near the last one (the
        gradients of successive iterates)."""
        lo, self._top = _spectral_lower(V, self._top, 2)
        return float(lo)

    @classmethod
    def alpha_max(cls, G0, params=None):
        return float(np.linalg.norm(G0, 2)) if G0.size else 0.0
