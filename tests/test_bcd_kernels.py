"""The BCD driver's fused certificate kernels and cached per-design
quantities against the plain numpy formulas they replace."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skmtl._solvers import bcd
from skmtl._solvers.bcd import BCDSolver
from skmtl._solvers.datafits import Quadratic
from skmtl._solvers.design import (
    DesignOperator,
    centred_sq_colsums,
    column_max_abs,
    column_min_max_sum,
    cross_product,
)
from skmtl._solvers.penalties._base import col_norms
from skmtl._solvers.penalties._rows import (
    CODE_L21,
    row_update,
    row_violation,
    row_violations,
)
from skmtl._solvers.penalties._sparsity import L1, L21, ElasticNet
from skmtl._validation import make_task_data


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 101])
@pytest.mark.parametrize("order", ["C", "F"])
def test_column_min_max_sum_is_numpys(n, order):
    rng = np.random.default_rng(n)
    X = np.asarray(
        rng.normal(size=(n, 7)) * 10.0 ** rng.integers(-3, 4, 7), order=order
    )
    X[:, 3] = -2.5  # constant column
    lo, hi, total = column_min_max_sum(X)
    assert np.array_equal(lo, X.min(axis=0))
    assert np.array_equal(hi, X.max(axis=0))
    assert_allclose(total, X.sum(axis=0), rtol=1e-13, atol=1e-13)
    assert np.array_equal(column_max_abs(X), np.max(np.abs(X), axis=0))


def _gap_reference(rr, W, V, pen):
    """The generic gap of ``quadratic_gap`` (value, dual norm, Fenchel-Young
    of the penalty's own methods) without the fused kernel."""
    primal = 0.5 * rr + pen.value(W)
    s = 1.0
    if pen.mu <= 0:
        dn = pen.dual_norm(V)
        s = 1.0 if dn <= pen.lam else pen.lam / dn
    return 0.5 * (1 - s) ** 2 * rr + pen.fenchel_young(W, s * V), primal


@pytest.mark.parametrize(
    "pen", [L21(0.7), L21(1e-3), ElasticNet(0.5, 0.3), ElasticNet(2.0, 0.0)]
)
def test_fused_l21_gap_matches_the_generic_gap(pen):
    rng = np.random.default_rng(0)
    for scale in (1e-3, 0.3, 1.0, 30.0):  # inside and outside the dual ball
        W = rng.normal(size=(4, 40))
        W[:, rng.random(40) < 0.5] = 0.0
        V = rng.normal(size=(4, 40)) * scale
        V[:, 5] = 0.0  # a zero gradient row
        rr = float(rng.uniform(0.5, 5.0))
        gap, primal = bcd.quadratic_gap(rr, W, V, pen)
        ref_gap, ref_primal = _gap_reference(rr, W, V, pen)
        assert gap >= 0
        assert_allclose(gap, ref_gap, rtol=1e-11, atol=1e-14)
        assert_allclose(primal, ref_primal, rtol=1e-13)
    # at an exact optimum of a separable toy (V a subgradient) the gap is 0
    W = np.zeros((3, 4))
    W[:, 0] = [3.0, 4.0, 0.0]
    V = np.zeros((3, 4))
    V[:, 0] = pen.lam * W[:, 0] / 5.0 + pen.mu * W[:, 0]
    V[:, 1] = [0.1 * pen.lam, 0.0, 0.0]
    gap, _ = bcd.quadratic_gap(0.0, W, V, pen)
    assert gap == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("pen", [L21(0.4), ElasticNet(0.3, 0.4)])
def test_l21_violations_equal_the_row_kernel(pen):
    rng = np.random.default_rng(1)
    W = rng.normal(size=(6, 50))
    W[:, rng.random(50) < 0.5] = 0.0
    G = rng.normal(size=(6, 50)) * 0.5
    got = row_violations(CODE_L21, pen.params, W, G)
    Wt, Gt = np.ascontiguousarray(W.T), np.ascontiguousarray(G.T)
    expected = [row_violation(CODE_L21, pen.params, Wt[j], Gt[j]) for j in range(50)]
    assert np.array_equal(got, np.array(expected))
    # explicit formula: distance of -G to lam * w / ||w|| + mu w, or to the ball
    nz = col_norms(W) > 0
    d = G + pen.mu * W + pen.lam * W / np.where(nz, col_norms(W), 1.0)
    explicit = np.where(nz, col_norms(d), np.maximum(col_norms(G) - pen.lam, 0.0))
    assert_allclose(got, explicit, rtol=1e-12, atol=1e-15)


def _full_problem(weighted, seed=0):
    rng = np.random.default_rng(seed)
    n, p, T = 60, 9, 3
    X = np.asfortranarray(rng.normal(size=(n, p)) + 2.0)
    Y = rng.normal(size=(n, T))
    sw = rng.uniform(0.5, 2.0, size=n) if weighted else None
    data = make_task_data(Y, sw)
    c = data.entry_weights(np.array([1.0, 2.0, 0.5]))
    op = DesignOperator(X, data.row_ptr, data.entry_row, data.entry_task, T)
    df = Quadratic(Y[data.entry_row, data.entry_task], c, data.entry_task, T)
    return X, op, df, c


@pytest.mark.parametrize("weighted", [False, True])
def test_full_label_state_is_the_entrywise_gradient(weighted):
    # residual mode with every label present: V = X^T (c r) and sum c r^2
    # from the Fortran (n, T) residual, against the entry-wise formula
    X, op, df, c = _full_problem(weighted)
    solver = BCDSolver(X, op, df, mode="residual")
    assert solver.full and solver.uniform_rows == (not weighted)
    rng = np.random.default_rng(2)
    W = rng.normal(size=(3, 9))
    solver.set_coef(W)
    rr, V = solver._state()
    r = solver.yc - (op.matvec(W) - np.sum(solver.xmean * W, axis=1)[df.entry_task])
    assert_allclose(rr, np.dot(c, r * r), rtol=1e-12)
    assert_allclose(V, op.rmatvec(c * r), rtol=1e-11, atol=1e-12)


def test_factored_weights_cache_follows_the_weights():
    X, op, df, c = _full_problem(weighted=True)
    first = op.factored_weights(c, df.task_c)
    assert first is not None
    assert op.factored_weights(c, df.task_c) is first  # cached
    # other weights (not of the form s_i k_t): recomputed, not the cache
    c2 = c * np.random.default_rng(0).uniform(0.5, 2.0, size=c.size)
    task_c2 = np.bincount(df.entry_task, weights=c2, minlength=3)
    assert op.factored_weights(c2, task_c2) is None
    again = op.factored_weights(c, df.task_c)
    assert_allclose(again[0], first[0]) and assert_allclose(again[1], first[1])


def test_column_stats_feed_the_curvatures():
    X, op, df, c = _full_problem(weighted=True)
    lo, hi, total = op.column_stats()
    assert op.column_stats()[0] is lo  # once per design
    assert_allclose(total, X.sum(axis=0), rtol=1e-13)
    xmean = op.task_means(c, df.task_c)
    S, a = centred_sq_colsums(X, op, c, xmean)
    assert np.array_equal(a, np.max(np.abs(X), axis=0))
    for t in range(3):
        m = df.entry_task == t
        rows = op.entry_row[m]
        expected = np.sum(c[m, None] * (X[rows] - xmean[t]) ** 2, axis=0)
        assert_allclose(S[t] * a * a, expected, rtol=1e-12)


@pytest.mark.parametrize("stats_first", [False, True])
def test_task_means_with_equal_row_weights_use_the_column_sums(stats_first):
    X, op, df, c = _full_problem(weighted=False)
    if stats_first:
        op.column_stats()  # what the offset-column check leaves behind
    m = op.task_means(c, df.task_c)
    assert m.shape == (3, 9)
    assert_allclose(m, np.tile(X.mean(axis=0), (3, 1)), rtol=1e-13, atol=1e-14)


def _epoch_full_reference(X, s, k, R, W, H, m, ws, pen):
    """One cyclic epoch with numpy dot products and residual updates; the
    block step is the penalty's own row kernel (not what is under test)."""
    T = W.shape[0]
    w_new = np.empty(T)
    partial = 0  # features where some tasks moved and others did not
    for j in ws:
        g = -k * ((X[:, j] * s) @ R)
        w_old = W[:, j].copy()
        row_update(pen.code, pen.params, w_old, g, H[:, j], w_new)
        R -= np.outer(X[:, j] - m[j], w_new - w_old)
        W[:, j] = w_new
        moved = w_new != w_old
        partial += bool(moved.any() and not moved.all())
    return partial


@pytest.mark.parametrize("T", [1, 3, 4, 6, 9])
@pytest.mark.parametrize("uniform", [True, False])
@pytest.mark.parametrize("pen", [L21(0.3), L1(4.0)])
def test_full_label_epoch_is_cyclic_block_updates(T, uniform, pen):
    # the four-column dot products and residual updates of the full-label
    # epoch (including groups of four where only some tasks move, as the
    # l1 penalty leaves entries at zero) against a numpy epoch
    rng = np.random.default_rng(T)
    n, p = 37, 11
    X = np.asfortranarray(rng.normal(size=(n, p)))
    s = np.full(n, 0.7) if uniform else rng.uniform(0.2, 2.0, n)
    k = rng.uniform(0.5, 1.5, T)
    m = X.mean(axis=0)
    H = np.outer(k, ((X - m) ** 2 * s[:, None]).sum(axis=0))
    R = np.asfortranarray(rng.normal(size=(n, T)))
    W = rng.normal(size=(T, p)) * (rng.random((T, p)) < 0.5)
    ws = rng.permutation(p)[:8].astype(np.int64)
    R_ref, W_ref = R.copy(), W.copy()
    partial = _epoch_full_reference(X, s, k, R_ref, W_ref, H, m, ws, pen)
    bcd._epoch_full(X, s, k, R, W, H, m, ws, pen.code, pen.params, uniform)
    assert_allclose(W, W_ref, rtol=1e-12, atol=1e-14)
    assert_allclose(R, R_ref, rtol=1e-12, atol=1e-13)
    if isinstance(pen, L1) and T > 1:
        assert partial > 0


@pytest.mark.parametrize("T", [1, 3, 4, 6, 9])
@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("pen", [L21(0.3), L1(4.0)])
def test_gram_epoch_is_cyclic_block_updates(T, shared, pen):
    # Gram-space epoch (four tasks per pass over a shared Gram's row, and
    # groups of four where only some tasks move) against a numpy epoch on
    # the gradient QW - XtY, QW[t] = k_t Q[slot_t] W[t]
    rng = np.random.default_rng(T + 10 * shared)
    p = 13
    A = rng.normal(size=(3 * p, p))
    Q = (
        (A.T @ A)[None]
        if shared
        else np.stack([(B.T @ B) for B in rng.normal(size=(T, 2 * p, p))])
    )
    slot = np.zeros(T, np.int64) if shared else np.arange(T, dtype=np.int64)
    k = rng.uniform(0.5, 1.5, T)
    W = rng.normal(size=(T, p)) * (rng.random((T, p)) < 0.5)
    XtY = rng.normal(size=(T, p)) * 10
    QW = k[:, None] * np.einsum("tij,tj->ti", Q[slot], W)
    ws = rng.permutation(p)[:9].astype(np.int64)
    W_ref, QW_ref = W.copy(), QW.copy()
    w_new = np.empty(T)
    partial = 0
    for j in ws:
        g = QW_ref[:, j] - XtY[:, j]
        h = k * Q[slot, j, j]
        w_old = W_ref[:, j].copy()
        row_update(pen.code, pen.params, w_old, g, h, w_new)
        QW_ref += (k * (w_new - w_old))[:, None] * Q[slot, j, :]
        W_ref[:, j] = w_new
        moved = w_new != w_old
        partial += bool(moved.any() and not moved.all())
    bcd._epoch_gram(Q, slot, k, XtY, QW, W, ws, pen.code, pen.params)
    assert_allclose(W, W_ref, rtol=1e-12, atol=1e-14)
    assert_allclose(QW, QW_ref, rtol=1e-12, atol=1e-12)
    if isinstance(pen, L1) and T > 1:
        assert partial > 0


def _numpy_gram_epoch(Q, k, XtY, W, ws, lam):
    """One cyclic l21 block-coordinate epoch on the shared Gram, written in
    numpy: each feature's gradient from the current ``W``, the group
    soft-threshold with ``L = max_t k_t Q_jj``."""
    W = W.copy()
    for j in ws:
        g = k * (W @ Q[j]) - XtY[:, j]
        L = np.max(k * Q[j, j])
        z = W[:, j] - g / L
        nz = np.linalg.norm(z)
        W[:, j] = 0.0 if nz <= lam / L else (1 - lam / (L * nz)) * z
    return W


@pytest.mark.parametrize("T", [1, 2, 3, 4, 5, 6, 7, 9])  # task groups of 4, 2, 1
def test_dot_product_gram_epoch_is_the_numpy_epoch(T):
    """The dot-product Gram epoch (no ``QW``) gives numpy's cyclic epoch and
    the axpy kernel's iterates and returns the same violation / update
    maxima."""
    rng = np.random.default_rng(T)
    n, p = 60, 30
    A = rng.standard_normal((n, p))
    Q = A.T @ A / n
    k = rng.uniform(0.5, 2.0, T)
    XtY = rng.standard_normal((T, p))
    W0 = rng.standard_normal((T, p)) * (rng.random(p) < 0.5)
    ws = rng.permutation(p).astype(np.int64)
    lam = 0.3
    params = np.array([lam, 0.0])
    Wd = W0.copy()
    out_dot = bcd._epoch_gram_dot(Q, k, XtY, Wd, ws, CODE_L21, params)
    assert_allclose(Wd, _numpy_gram_epoch(Q, k, XtY, W0, ws, lam), atol=1e-12)
    Wa = W0.copy()
    QW = k[:, None] * (W0 @ Q)
    out_axpy = bcd._epoch_gram(
        Q[None], np.zeros(T, dtype=np.int64), k, XtY, QW, Wa, ws, CODE_L21, params
    )
    assert_allclose(Wd, Wa, atol=1e-12)
    assert_allclose(out_dot, out_axpy, rtol=1e-10, atol=1e-12)


def _numpy_gram_epoch_stats(Q, k, XtY, W, ws, lam):
    """:func:`_numpy_gram_epoch` with the epoch's largest l21 violation
    (at each row before its update), largest update and largest new
    coefficient."""
    W = W.copy()
    vmax = dmax = wmax = 0.0
    for j in ws:
        g = k * (W @ Q[j]) - XtY[:, j]
        w = W[:, j].copy()
        nw = np.linalg.norm(w)
        if nw == 0:
            vmax = max(vmax, max(np.linalg.norm(g) - lam, 0.0))
        else:
            vmax = max(vmax, np.linalg.norm(g + lam * w / nw))
        W[:, j] = _numpy_gram_epoch(Q, k, XtY, W, [j], lam)[:, j]
        dmax = max(dmax, np.max(np.abs(W[:, j] - w)))
        wmax = max(wmax, np.max(np.abs(W[:, j])))
    return W, vmax, dmax, wmax


def _numpy_gram_epochs(Q, k, XtY, W, ws, lam, budget, target, tol, both, go_on):
    """The loops of :func:`bcd._gram_epochs` / :func:`bcd._gram_dot_epochs`
    in numpy: epochs while ``go_on(support size)`` holds at an epoch's
    start, until the stopping rule."""
    used, ratio = 0, np.inf
    while used < budget and go_on(np.count_nonzero(np.any(W != 0, axis=0))):
        W, v, dw, wm = _numpy_gram_epoch_stats(Q, k, XtY, W, ws, lam)
        used += 1
        ratio = dw / wm if wm > 0 else 0.0
        if (v <= target and ratio <= tol) if both else (v <= target or ratio <= tol):
            return W, used, ratio, True
    return W, used, ratio, False


def _gram_epoch_problem(T, start):
    rng = np.random.default_rng(T)
    n, p = 80, 30
    A = rng.standard_normal((n, p)) + 0.5 * rng.standard_normal((n, 1))
    Q = A.T @ A / n
    k = rng.uniform(0.5, 2.0, T)
    XtY = rng.standard_normal((T, p))
    lam = 0.4 * np.sqrt(T)
    W0 = np.zeros((T, p)) if start == "zero" else rng.standard_normal((T, p))
    ws = rng.permutation(p).astype(np.int64)
    return Q, k, XtY, lam, W0, ws


#: budgets, violation targets and update tolerances that stop differently
_STOPS = [(50, 1e-3, 0.3), (50, 1e-6, 1e-5), (3, 0.0, 0.0)]


def _epoch_loop_outcomes(T, start, both, keeps_going, run_kernel):
    """Run ``run_kernel(Q, k, XtY, W, ws, params, budget, target, tol)``
    (returns ``(used, ratio, finished, QW or None)``) against numpy's loop
    for each stopping setting of ``_STOPS``: the same iterates, epoch
    count, last update ratio, stopping decision and ``QW = k_t Q W[t]``;
    returns the set of ``(epochs, finished)`` seen."""
    Q, k, XtY, lam, W0, ws = _gram_epoch_problem(T, start)
    params = np.array([lam, 0.0])
    outcomes = set()
    for budget, target, tol in _STOPS:
        W_ref, used_ref, ratio_ref, fin_ref = _numpy_gram_epochs(
            Q, k, XtY, W0, ws, lam, budget, target, tol, both, keeps_going
        )
        W = W0.copy()
        used, ratio, fin, QW = run_kernel(Q, k, XtY, W, ws, params, budget, target, tol)
        assert (used, fin) == (used_ref, fin_ref)
        assert_allclose(ratio, ratio_ref, rtol=1e-9, atol=1e-12)
        assert_allclose(W, W_ref, atol=1e-11)
        if QW is not None:
            assert_allclose(QW, k[:, None] * (W @ Q), atol=1e-11)
        outcomes.add((used, fin))
    return outcomes


@pytest.mark.parametrize("T", [1, 3, 6])
@pytest.mark.parametrize("both", [True, False])
@pytest.mark.parametrize("start", ["zero", "dense"])
@pytest.mark.parametrize("dot_frac", [np.inf, 0.0, 0.5])
def test_gram_epoch_loop_is_the_numpy_loop(T, both, start, dot_frac):
    """Several axpy Gram epochs in one call give numpy's iterates, epoch
    count, last update ratio and stopping decision, keep ``QW = k_t Q
    W[t]``, and stop before an epoch once the support reaches
    ``dot_support``."""
    p = _gram_epoch_problem(T, start)[0].shape[0]
    dot_support = dot_frac * p

    def run(Q, k, XtY, W, ws, params, budget, target, tol):
        QW = k[:, None] * (W @ Q)
        used, ratio, fin = bcd._gram_epochs(
            Q[None], np.zeros(T, dtype=np.int64), k, XtY, QW, W, ws, CODE_L21,
            params, budget, target, tol, both, dot_support,
        )  # fmt: skip
        return used, ratio, fin, QW

    outcomes = _epoch_loop_outcomes(T, start, both, lambda s: s < dot_support, run)
    if dot_frac == np.inf:  # (no hand-over: the three settings stop differently)
        assert len(outcomes) > 1


@pytest.mark.parametrize("T", [1, 3, 6])
@pytest.mark.parametrize("start", ["zero", "dense"])
@pytest.mark.parametrize("dot_frac", [0.0, 0.5, 2.0])
def test_gram_dot_epoch_loop_is_the_numpy_loop(T, start, dot_frac):
    """Several dot-product Gram epochs in one call: numpy's iterates, epoch
    count, last update ratio and stopping decision (the *or* rule), run
    while the support has at least ``dot_support`` features."""
    p = _gram_epoch_problem(T, start)[0].shape[0]
    dot_support = dot_frac * p

    def run(Q, k, XtY, W, ws, params, budget, target, tol):
        used, ratio, fin = bcd._gram_dot_epochs(
            Q, k, XtY, W, ws, CODE_L21, params, budget, target, tol, dot_support
        )
        return used, ratio, fin, None

    outcomes = _epoch_loop_outcomes(T, start, False, lambda s: s >= dot_support, run)
    if dot_frac == 0.0:  # (no hand-over: the three settings stop differently)
        assert len(outcomes) > 1


def test_gram_epoch_loops_hand_over_on_the_support_size():
    """A dense start whose support shrinks below the dot-product threshold:
    the dot loop stops before the first epoch with a smaller support, and
    the solver's run (:meth:`BCDSolver._gram_epoch_run`) goes on with axpy
    epochs on a recomputed ``QW``, as numpy's loop does."""
    Q, k, XtY, lam, W0, ws = _gram_epoch_problem(4, "dense")
    T, p = W0.shape
    XtY = 0.1 * XtY
    lam = 1.0
    params = np.array([lam, 0.0])
    ref = _numpy_gram_epochs(
        Q, k, XtY, W0, ws, lam, 50, 0.0, 0.0, False, lambda s: s >= 0.7 * p
    )
    W = W0.copy()
    out = bcd._gram_dot_epochs(
        Q, k, XtY, W, ws, CODE_L21, params, 50, 0.0, 0.0, 0.7 * p
    )
    assert 0 < out[0] < 50 and not out[2]
    assert out[0] == ref[1] and not ref[3]
    assert_allclose(W, ref[0], atol=1e-11)
    assert np.count_nonzero(np.any(W, axis=0)) < 0.7 * p
    # the axpy loop does not start while the support is large
    W = W0.copy()
    QW = k[:, None] * (W @ Q)
    assert bcd._gram_epochs(
        Q[None], np.zeros(T, dtype=np.int64), k, XtY, QW, W, ws, CODE_L21, params,
        5, 0.0, 0.0, False, 0.7 * p,
    ) == (0, np.inf, False)  # fmt: skip


def test_solver_gram_epoch_run_hands_over_between_the_kernels():
    """``BCDSolver._gram_epoch_run`` on a shared Gram of
    ``GRAM_DOT_MIN_FEATURES`` features from a dense start whose support
    shrinks: dot-product epochs, then axpy epochs on a recomputed ``QW``,
    the iterates of numpy's cyclic epochs and the same epoch count."""
    rng = np.random.default_rng(1)
    n, p, T = 3 * bcd.GRAM_DOT_MIN_FEATURES, bcd.GRAM_DOT_MIN_FEATURES, 3
    X = rng.standard_normal((n, p))
    Y = X[:, :5] @ rng.standard_normal((5, T)) + rng.standard_normal((n, T))
    from skmtl.linear_model._setup import make_problem

    _, op, df = make_problem(X, make_task_data(Y), np.ones(T))
    solver = BCDSolver(X, op, df, mode="gram")
    lam = 0.3 * float(np.max(np.linalg.norm(solver.XtY, axis=0)))
    pen = L21(lam)
    W0 = 0.05 * rng.standard_normal((T, p))
    solver.set_coef(W0)
    ws = np.arange(p, dtype=np.int64)
    # (8 epochs: the iterates reach a fixed point in floating point at 11)
    used, ratio, finished = solver._gram_epoch_run(ws, 0.0, 8, pen, 0.0)
    Q, k, XtY = solver.Q[0], solver.k, solver.XtY
    W, sizes = W0.copy(), []
    for _ in range(used):
        sizes.append(np.count_nonzero(np.any(W != 0, axis=0)))
        W, v, dw, wm = _numpy_gram_epoch_stats(Q, k, XtY, W, ws, lam)
    assert used == 8 and not finished
    # both kinds of epochs ran: the support fell below the threshold
    assert sizes[0] >= bcd.GRAM_DOT_MIN_SUPPORT * p > sizes[-1]
    assert_allclose(solver.W, W, atol=1e-10)
    assert_allclose(ratio, dw / wm, rtol=1e-8, atol=1e-12)
    assert not solver._qw_stale  # the last epochs were axpy epochs
    assert_allclose(solver.QW, k[:, None] * (solver.W @ Q), atol=1e-10)


def test_wide_shared_gram_fit_with_dot_product_epochs_matches_sklearn():
    """A fit that runs its Gram epochs by the dot-product kernel (shared Gram
    of at least ``GRAM_DOT_MIN_FEATURES`` features, a near-full support,
    ``QW`` recomputed for each certificate) reaches scikit-learn's
    solution."""
    from sklearn.linear_model import MultiTaskLasso as SkMultiTaskLasso

    from skmtl import MultiTaskLasso

    rng = np.random.default_rng(0)
    n, p, T = 4 * bcd.GRAM_DOT_MIN_FEATURES, bcd.GRAM_DOT_MIN_FEATURES, 3
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((T, p))  # a near-full support
    Y = X @ W.T + 0.5 * rng.standard_normal((n, T))
    for alpha in (0.002, 0.05):
        kw = dict(alpha=alpha, tol=1e-12, max_iter=100_000)
        ours = MultiTaskLasso(**kw).fit(X, Y)
        assert ours.solver_ == "bcd"
        ref = SkMultiTaskLasso(**kw).fit(X, Y)
        assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
        assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6, atol=1e-8)
    # the solver's state: Gram mode on one shared Gram, QW recomputed
    data = make_task_data(Y)
    from skmtl.linear_model._setup import make_problem

    _, op, df = make_problem(X, data, np.ones(T))
    solver = BCDSolver(X, op, df, mode="gram")
    pen = L21(0.002)
    solver.solve(pen, tol=1e-10, max_iter=10_000)
    assert bcd._support_size(solver.W) == np.count_nonzero(np.any(solver.W, axis=0))
    assert bcd._support_size(solver.W) >= bcd.GRAM_DOT_MIN_SUPPORT * p
    assert solver._dot_epochs(pen)
    QW = solver.k[:, None] * (solver.W @ solver.Q[0])
    rr, V = solver._state()
    assert_allclose(V, solver.XtY - QW, rtol=1e-10, atol=1e-12)


def test_outer_stats_are_the_numpy_formulas():
    """The outer loop's support, violator count and largest violation in
    one call: numpy's ``flatnonzero(any(W != 0))``, ``sum(viol > 0)`` and
    ``viol.max()`` (NaN included), and ``_support_size`` the support's size."""
    rng = np.random.default_rng(5)
    for T, p in [(1, 1), (3, 17), (10, 40)]:
        W = rng.standard_normal((T, p)) * (rng.random((T, p)) < 0.2)
        W[:, 0] = np.nan if p > 1 else W[:, 0]
        viol = np.abs(rng.standard_normal(p)) * (rng.random(p) < 0.5)
        for v in (viol, np.where(np.arange(p) == p // 2, np.nan, viol)):
            support, n_viol, vmax = bcd._outer_stats(W, v)
            assert np.array_equal(support, np.flatnonzero(np.any(W != 0, axis=0)))
            assert n_viol == int(np.sum(v > 0))
            assert np.array_equal(vmax, v.max(), equal_nan=True)
            assert bcd._support_size(W) == support.size


@pytest.mark.parametrize("mu", [0.0, 0.7])
@pytest.mark.parametrize("T", [1, 3, 10])
def test_l21_certificate_is_the_numpy_certificate(T, mu):
    """The fused certificate: numpy's l21 / elastic-net violations of
    ``-V``, the duality gap from :meth:`ElasticNet.fenchel_young` (numpy)
    at the rescaled dual point, the primal, and the outer loop's support,
    violator count and largest violation."""
    rng = np.random.default_rng(T)
    p, lam = 40, 0.8
    W = rng.standard_normal((T, p)) * (rng.random(p) < 0.4)
    V = rng.standard_normal((T, p))
    rr = 3.7
    pen = ElasticNet(lam + mu, lam / (lam + mu))
    assert bcd._fused_certificate(pen) and bcd._fused_certificate(L21(lam))
    assert not bcd._fused_certificate(L1(lam))
    viol, gap, primal, support, n_viol, vmax = bcd._l21_certificate(
        rr, W, V, pen.params
    )
    a = np.linalg.norm(W, axis=0)
    G = -V
    ref = np.where(
        a == 0,
        np.maximum(np.linalg.norm(G, axis=0) - lam, 0.0),
        np.linalg.norm(G + mu * W + lam * W / np.where(a > 0, a, 1.0), axis=0),
    )
    assert_allclose(viol, ref, rtol=1e-12, atol=1e-14)
    dn = np.max(np.linalg.norm(V, axis=0))
    sc = lam / dn if mu == 0 and dn > lam else 1.0
    ref_gap = 0.5 * (1 - sc) ** 2 * rr + pen.fenchel_young(W, sc * V)
    assert_allclose(gap, ref_gap, rtol=1e-10)
    assert_allclose(primal, 0.5 * rr + lam * a.sum() + 0.5 * mu * np.sum(W * W))
    assert np.array_equal(support, np.flatnonzero(a > 0))
    assert n_viol == np.count_nonzero(ref > 0)
    assert_allclose(vmax, ref.max())


def test_violators_outside_is_the_numpy_mask():
    rng = np.random.default_rng(0)
    for p in (1, 7, 50):
        for _ in range(20):
            viol = rng.random(p) * (rng.random(p) < 0.3)
            viol[rng.random(p) < 0.1] = np.nan
            visited = np.sort(rng.permutation(p)[: rng.integers(0, p + 1)])
            outside = np.ones(p, dtype=bool)
            outside[visited] = False
            expected = bool(np.any(viol[outside] > 0))
            assert bcd._violators_outside(visited.astype(np.int64), viol) == expected


@pytest.mark.parametrize("T", range(1, 10))
def test_dots_with_rows_is_the_matrix_vector_product(T):
    # every row-group size (4, 2, 1) and the views the kernels pass: a
    # column of a Fortran X against a Fortran residual's transpose, a row
    # of a C-ordered Gram against C-ordered coefficients
    from skmtl._solvers._dots import dots_with_rows

    rng = np.random.default_rng(T)
    X = np.asfortranarray(rng.normal(size=(23, 5)))
    R = np.asfortranarray(rng.normal(size=(23, T)))
    out = np.empty(T)
    dots_with_rows(X[:, 2], R.T, out)
    assert_allclose(out, R.T @ X[:, 2], rtol=1e-13, atol=1e-13)
    Q = rng.normal(size=(7, 7))
    W = rng.normal(size=(T, 7))
    dots_with_rows(Q[4], W, out)
    assert_allclose(out, W @ Q[4], rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("shape", [(7, 5, 3), (1100, 1000, 4)])
@pytest.mark.parametrize("order", ["C", "F"])
def test_cross_product_is_the_transposed_product(shape, order):
    """Both branches (below and above ``CROSS_PRODUCT_TRANSPOSED_MIN``
    entries): ``D^T X``, C-contiguous, against an einsum."""
    n, p, T = shape
    rng = np.random.default_rng(n)
    X = np.asarray(rng.standard_normal((n, p)), order=order)
    D = np.asarray(rng.standard_normal((n, T)), order=order)
    G = cross_product(X, D)
    assert G.shape == (T, p) and G.flags.c_contiguous
    assert_allclose(G, np.einsum("it,ij->tj", D, X), rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("weighted", [False, True])
def test_residual_update_after_a_working_set_solve(weighted):
    """``_update_residual`` (one in-place BLAS call and the intercept shift)
    leaves the residual of the moved coefficients, as a fresh residual
    from the entry-wise formula."""
    X, op, df, c = _full_problem(weighted)
    solver = BCDSolver(X, op, df, mode="residual")
    rng = np.random.default_rng(4)
    W = rng.normal(size=(3, 9))
    solver.set_coef(W)
    ws = np.array([1, 4, 5, 8])
    dW = rng.normal(size=(3, ws.size))
    solver.W[:, ws] += dW
    solver._update_residual(ws, np.asfortranarray(X[:, ws]), dW)
    W1 = solver.W
    r = solver.yc - (op.matvec(W1) - np.sum(solver.xmean * W1, axis=1)[df.entry_task])
    assert_allclose(solver.R.ravel(), r, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("T", [1, 3, 10, 101])
@pytest.mark.parametrize("pen", [L21(0.4), ElasticNet(0.3, 0.4)])
def test_l21_row_update_is_the_prox_step_and_returns_the_violation(T, pen):
    """The fused l21 row update: ``out`` is the prox of the block gradient
    step (closed form in numpy), and the returned violation is
    ``row_violation``'s at ``w``, bit for bit; zero rows, and a row without
    curvature (``h = 0``: zeros)."""
    rng = np.random.default_rng(T)
    lam, mu = pen.lam, pen.mu
    for w in (rng.normal(size=T), np.zeros(T)):
        g = rng.normal(size=T)
        h = rng.uniform(0.5, 2.0, size=T)
        out = np.empty(T)
        viol = row_update(CODE_L21, pen.params, w, g, h, out)
        assert viol == row_violation(CODE_L21, pen.params, w, g)
        L = h.max()
        z = w - g / L
        nz = np.linalg.norm(z)
        expected = max(nz - lam / L, 0.0) / (1.0 + mu / L) / nz * z
        assert_allclose(out, expected, rtol=1e-13, atol=1e-15)
        row_update(CODE_L21, pen.params, w, g, np.zeros(T), out)
        assert not out.any()


_COMPILE_ORDER_SCRIPT = """
import hashlib, sys
import numpy as np
from skmtl._solvers import bcd
from skmtl._solvers.penalties._rows import CODE_L21

rng = np.random.default_rng(0)
n, p, T = 60, 12, 3
X = np.asfortranarray(rng.standard_normal((n, p)))
R = np.asfortranarray(rng.standard_normal((n, T)))
Q = X.T @ X / n
XtY = rng.standard_normal((T, p))
W0 = 0.1 * rng.standard_normal((T, p))
ws = np.arange(p, dtype=np.int64)
k, params = np.ones(T), np.array([0.05, 0.0])
H = np.full((T, p), float(n))


def gram():
    W, QW = W0.copy(), k[:, None] * (W0 @ Q)
    slot = np.zeros(T, dtype=np.int64)
    bcd._epoch_gram(Q[None], slot, k, XtY, QW, W, ws, CODE_L21, params)
    return W


def dot():
    W = W0.copy()
    bcd._epoch_gram_dot(Q, k, XtY, W, ws, CODE_L21, params)
    return W


def full():
    W, Rw = W0.copy(), R.copy(order="F")
    s, m = np.ones(n), np.zeros(p)
    bcd._epoch_full(X, s, k / n, Rw, W, H, m, ws, CODE_L21, params, True)
    return W


kernels = {"gram": gram, "dot": dot, "full": full}
out = {name: kernels[name]() for name in sys.argv[1].split(",")}
for name in sorted(out):
    print(name, hashlib.sha256(out[name].tobytes()).hexdigest())
"""


def test_epoch_kernels_do_not_depend_on_the_compile_order(tmp_path):
    """With a fresh numba cache, compiling the dot-product or full-label
    epoch before the Gram epoch must not change any kernel's results: a
    kernel compiled with fast-math flags once handed them to the row
    update it shares with the others (whose bits then depended on which
    kernel a process compiled first)."""
    import os
    import subprocess
    import sys

    def run(order, cache):
        env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / cache)}
        done = subprocess.run(
            [sys.executable, "-c", _COMPILE_ORDER_SCRIPT, order],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        return done.stdout

    assert run("dot,full,gram", "a") == run("gram,full,dot", "b")
