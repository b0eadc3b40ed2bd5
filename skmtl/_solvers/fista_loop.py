"""The FISTA iteration, one loop for every smooth part.

:func:`run_fista` minimises ``smooth(x) + penalty(x)`` where the smooth part
is an object that knows how to evaluate itself at a point it keeps a
*state* for (predictions for a datafit on ``X``, Gram products ``Q W`` on
per-task statistics; see :class:`~.fista.ResidualSmooth` and
:class:`~.gram_fista.GramSmooth`):

* ``gradient(y, ys)`` -> ``(G, ctx)``: the smooth part's gradient at ``y``
  (without the penalty's smooth part) and what the step test needs;
* ``trial(x_new, y, ctx, L)`` -> ``(state, sq, curv)``: the state at a trial
  point, the squared step length and the curvature along the step (the
  Bregman divergence, computed without cancellation);
* ``extrapolate(new, old, beta)``: the state at ``new + beta (new - old)``
  by linearity (no product);
* ``objective(x, state)`` (monotone steps), ``gap(x, state)`` ->
  ``(gap, primal)``, ``check_stalled(x, state)`` (raises on a non-finite
  objective);
* optionally ``gap_lower(x, state)``: a cheap lower bound of ``gap`` (a
  check it proves too large is skipped: the same decisions, fewer exact
  gaps);
* ``check_due(it, gap_freq)``: whether to check the gap at iteration
  ``it`` (every ``gap_freq`` iterations, or more often where a check is
  cheap against an iteration);
* ``name`` (for ``verbose``), ``gap_scale`` and ``g_scale`` (the stopping
  scales of the gap and of the proximal-gradient residual).

The method (step search, adaptive restart, monotone steps for non-convex
penalties, stopping) is described in :mod:`skmtl._solvers.fista`.
"""

import math

import numpy as np
from numba import njit

#: doublings of ``L`` allowed in one step search before giving up (2^60 times
#: the curvature at hand: far beyond any real curvature on a scaled variable)
MAX_BACKTRACK = 60


def check_finite(value, what):
    if not np.all(np.isfinite(value)):
        raise ValueError(
            f"FISTA: the {what} is not finite (overflow or NaN): the data's "
            "magnitudes are beyond float64 arithmetic. Scale X and Y (e.g. "
            "StandardScaler) before fitting."
        )


@njit(cache=True)
def all_finite(A):
    """Whether every entry of the 2-d ``A`` is finite, in one vectorised
    pass (``inf * 0`` and ``nan * 0`` are NaN; no overflow, no warning)."""
    acc = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            acc += A[i, j] * 0.0
    return acc == 0.0


@njit(cache=True)
def gradient_step(y, G, L):
    """``y - G / L`` (2-d) in one pass: the prox's argument."""
    out = np.empty(y.shape)
    for i in range(y.shape[0]):
        for j in range(y.shape[1]):
            out[i, j] = y[i, j] - G[i, j] / L
    return out


@njit(cache=True)
def momentum_step(y, x_new, x, t):
    """``(y_next, t_next)``: the adaptive restart and the extrapolation of
    one FISTA iteration in one pass over the (2-d) iterates: momentum is
    reset (``t = 1``) when it points against the step just taken
    (``<y - x_new, x_new - x> > 0``), then ``y_next = x_new + beta (x_new -
    x)`` with ``beta = (t - 1) / t_next``, ``t_next = (1 + sqrt(1 + 4
    t^2)) / 2``. (Five numpy calls and their temporaries before: 0.05x the
    two products of an iteration on small problems.)"""
    n, m = x_new.shape
    dot = 0.0
    for i in range(n):
        for j in range(m):
            dot += (y[i, j] - x_new[i, j]) * (x_new[i, j] - x[i, j])
    if dot > 0.0:
        t = 1.0
    t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
    beta = (t - 1.0) / t_next
    y_next = np.empty((n, m))
    for i in range(n):
        for j in range(m):
            y_next[i, j] = x_new[i, j] + beta * (x_new[i, j] - x[i, j])
    return y_next, t_next, beta


class FistaRun:
    """Where :func:`run_fista` stopped: the iterate ``x`` and its ``state``,
    ``n_iter``, the last ``gap`` and the ``primal`` objective of that check
    (NaN without one), the last ``residual``, ``converged`` and ``stalled``
    (the step search found no decrease: the objective is flat to
    rounding)."""

    def __init__(self, x, state, n_iter, gap, primal, residual, converged, stalled):
        self.x, self.state, self.n_iter = x, state, n_iter
        self.gap, self.primal, self.residual = gap, primal, residual
        self.converged, self.stalled = converged, stalled


def run_fista(smooth, penalty, x, xs, L, *, max_iter, tol, gap_freq, use_gap,
              verbose=0):  # fmt: skip
    """FISTA from ``x`` (with state ``xs``) and the curvature estimate ``L``
    on ``smooth + penalty``. Returns a :class:`FistaRun`."""
    accelerate = penalty.convex
    L_floor = 1e-6 * L
    y, ys = x.copy(), xs
    t = 1.0
    obj_x = None  # objective at x (monotone mode)
    gap = primal = np.nan
    residual = np.inf
    converged = stalled = False
    gap_lower = getattr(smooth, "gap_lower", None)
    target = tol * smooth.gap_scale
    it = 0
    for it in range(1, max_iter + 1):
        G, ctx = smooth.gradient(y, ys)
        sg = penalty.smooth_grad(y)
        if sg is not None:
            G = G + sg
        if not all_finite(G):
            check_finite(G, "gradient")
        # step search: try a slightly longer step each iteration (the local
        # curvature is often far below the global bound), back off on failure;
        # bounded: when no step length gives a decrease the objective is flat
        # to rounding error, and the solver stops (not converged).
        # The test is F(x) <= F(y) + <G, x - y> + L/2 ||x - y||^2 written as
        # the curvature along the step (the Bregman divergence, computed
        # without cancellation) against L/2 ||x - y||^2: the difference of
        # objective values would drown in rounding error at high precision
        # and let too long steps through.
        L = max(L * 0.9, L_floor)
        for _ in range(MAX_BACKTRACK + 1):
            x_new = penalty.prox(gradient_step(y, G, L), 1.0 / L)
            new, sq, curv = smooth.trial(x_new, y, ctx, L)
            if sg is not None:  # (no smooth part: no curvature from it)
                curv += penalty.smooth_bregman(x_new, y)
            if curv <= 0.5 * L * sq or sq == 0.0:
                break
            L *= 2.0
        else:
            smooth.check_stalled(x_new, new)
            stalled = True
            break
        residual = L * math.sqrt(sq)
        if not accelerate:
            # non-convex penalty: keep the iterates monotone (Beck & Teboulle's
            # MFISTA); a step that increases the objective is refused and the
            # momentum restarted, so the next step is a plain proximal one
            obj_new = smooth.objective(x_new, new)
            # (with slack for rounding: a plain step cannot really increase it)
            if obj_x is not None and obj_new > obj_x + 1e-13 * abs(obj_x):
                y, ys, t = x, xs, 1.0
                continue
            obj_x = obj_new
        # restart when the momentum points against the step just taken
        y, t_new, beta = momentum_step(y, x_new, x, t)
        ys = smooth.extrapolate(new, xs, beta)
        x, xs, t = x_new, new, t_new
        if use_gap and (smooth.check_due(it, gap_freq) or it == max_iter):
            if gap_lower is not None and it < max_iter:
                lower = gap_lower(x, xs)
                if lower > target:  # this check cannot pass
                    if verbose:
                        print(f"[{smooth.name}] iter {it}: gap >= {lower:.3e}")
                    continue
            gap, primal = smooth.gap(x, xs)
            if verbose:
                print(
                    f"[{smooth.name}] iter {it}: objective {primal:.6e}, gap {gap:.3e}"
                )
            if gap <= target:
                converged = True
                break
        elif not use_gap and residual <= tol * smooth.g_scale:
            converged = True
            break
    return FistaRun(x, xs, it, gap, primal, residual, converged, stalled)
