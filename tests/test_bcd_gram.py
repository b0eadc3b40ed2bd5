"""The BCD driver's reused Gram blocks and one-pass curvatures against
explicit numpy formulas, and a fit that extends its working-set Gram to
every feature against scikit-learn."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skmtl import MultiTaskLasso
from skmtl._solvers import bcd
from skmtl._solvers.datafits import Quadratic
from skmtl._solvers.design import DesignOperator, centred_sq_colsums
from skmtl._validation import make_task_data


def _ar1(n, p, T, rho, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * X[:, j]
    W = np.zeros((T, p))
    W[:, rng.choice(p, size=5, replace=False)] = rng.standard_normal((T, 5))
    return X, X @ W.T + 1.0 + rng.standard_normal((n, T))


def _problem(missing, weighted, order="F", seed=0):
    rng = np.random.default_rng(seed)
    X, Y = _ar1(40, 12, 3, 0.5, seed)
    X = np.asarray(X, order=order)
    if missing:
        Y[rng.random(Y.shape) < 0.3] = np.nan
    sw = rng.uniform(0.5, 2.0, size=40) if weighted else None
    data = make_task_data(Y, sw)
    c = data.entry_weights(np.array([1.0, 2.0, 0.5]) if weighted else None)
    op = DesignOperator(X, data.row_ptr, data.entry_row, data.entry_task, 3)
    y = Y[data.entry_row, data.entry_task]
    return X, data, c, op, y


def _explicit_centred(X, data, c, t):
    """Rows of task ``t`` centred at their weighted means, and their weights."""
    e = np.flatnonzero(data.entry_task == t)
    Xt, ct = X[data.entry_row[e]], c[e]
    return Xt - (ct @ Xt) / ct.sum(), ct


@pytest.mark.parametrize("order", ["F", "C"])
@pytest.mark.parametrize("weighted", [False, True])
def test_one_pass_curvatures_match_explicit_sums(order, weighted):
    # every label present: c_(i,t) = s_i k_t, one pass over X serves all tasks
    X, data, c, op, _ = _problem(False, weighted, order)
    assert op.factored_weights(c, np.bincount(data.entry_task, weights=c)) is not None
    task_c = np.bincount(data.entry_task, weights=c, minlength=3)
    xmean = op.task_means(c, task_c)
    S, a = centred_sq_colsums(X, op, c, xmean)
    for t in range(3):
        Xt, ct = _explicit_centred(X, data, c, t)
        assert_allclose(S[t] * a * a, ct @ (Xt * Xt), rtol=1e-12)


@pytest.mark.parametrize("missing", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_extended_working_set_gram_matches_explicit_gram(missing, weighted):
    X, data, c, op, y = _problem(missing, weighted)
    solver = bcd.BCDSolver(X, op, Quadratic(y, c, data.entry_task, 3), mode="residual")
    first = np.array([0, 2, 3, 5, 7, 8, 9, 11], dtype=np.int64)
    grown = np.array([0, 1, 2, 3, 5, 7, 8, 9, 10, 11], dtype=np.int64)  # 2 new
    solver._ws_gram(first, X[:, first])
    assert solver._ws_gram_new(grown) == 2
    Q = solver._ws_gram(grown, X[:, grown])
    for t in range(3):
        Xt, ct = _explicit_centred(X, data, c, t)
        expected = Xt[:, grown].T @ (Xt[:, grown] * ct[:, None])
        got = solver.k_full[t] * Q[0] if solver.full else Q[t]
        assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    assert solver.full == (not missing)


def test_fit_extending_the_gram_to_every_feature_matches_sklearn(monkeypatch):
    # correlated features, alpha_max / 100: the working set grows to every
    # feature, and its last Gram is the previous one plus a few rows
    sk = pytest.importorskip("sklearn.linear_model")
    X, Y = _ar1(100, 60, 5, 0.5)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    alpha = np.max(np.linalg.norm(Xc.T @ Yc, axis=1)) / 100 / 100
    sizes = []
    original = bcd.BCDSolver._ws_gram

    def spy(self, ws, Xw):
        sizes.append((ws.size, self._ws_gram_new(ws)))
        return original(self, ws, Xw)

    monkeypatch.setattr(bcd.BCDSolver, "_ws_gram", spy)
    # (n >= p here: the full Gram would replace the working-set Gram once the
    # set reaches every feature; this test is about the extension)
    monkeypatch.setattr(bcd, "FULL_GRAM_PER_TASK", 0)
    ours = MultiTaskLasso(alpha=alpha, tol=1e-10, max_iter=100_000).fit(X, Y)
    assert any(k == 60 and 0 < new <= 30 for k, new in sizes), sizes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sk.MultiTaskLasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(X, Y)
    assert np.sum(np.any(ref.coef_ != 0, axis=0)) > 30
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-7)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-5, atol=1e-7)


def test_near_full_support_jumps_to_every_feature_on_the_full_gram(monkeypatch):
    # alpha_max / 100 on correlated features, n >= p, p <= 40 T: the support
    # fills the first working set, the next one is every violator (every
    # feature), solved on the full Gram; the solution is scikit-learn's, and
    # the one of residual epochs (the switch disabled) to far below tol
    sk = pytest.importorskip("sklearn.linear_model")
    X, Y = _ar1(300, 120, 5, 0.5)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    alpha = np.max(np.linalg.norm(Xc.T @ Yc, axis=1)) / 300 / 100
    sizes, builds = [], []
    build, choose = bcd.BCDSolver._build_gram, bcd.BCDSolver._choose_ws_size

    def spy_build(self):
        builds.append(self.mode)
        return build(self)

    def spy_choose(self, run, support, n_viol):
        out = choose(self, run, support, n_viol)
        sizes.append((out, support.size))
        return out

    monkeypatch.setattr(bcd.BCDSolver, "_build_gram", spy_build)
    monkeypatch.setattr(bcd.BCDSolver, "_choose_ws_size", spy_choose)
    ours = MultiTaskLasso(alpha=alpha, tol=1e-10, max_iter=100_000).fit(X, Y)
    assert builds == ["gram"], builds  # built once, by the switch
    # first set sqrt(2 p T) = 34, filled by the support; then every feature
    # at once (no 68-feature doubling step)
    assert sizes[0][0] < 120 and sizes[1][0] >= 120, sizes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sk.MultiTaskLasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(X, Y)
    assert np.sum(np.any(ref.coef_ != 0, axis=0)) > 100
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6, atol=1e-8)
    monkeypatch.setattr(bcd, "FULL_GRAM_PER_TASK", 0)
    builds.clear()
    resid = MultiTaskLasso(alpha=alpha, tol=1e-10, max_iter=100_000).fit(X, Y)
    assert builds == []
    assert_allclose(ours.coef_, resid.coef_, rtol=1e-8, atol=1e-10)


def test_full_gram_switch_respects_an_explicit_mode():
    X, Y = _ar1(100, 40, 4, 0.5)  # p <= n < 4 p: starts with residual epochs
    data = make_task_data(Y)
    c = data.entry_weights(None)
    op = DesignOperator(X, data.row_ptr, data.entry_row, data.entry_task, 4)
    df = Quadratic(Y[data.entry_row, data.entry_task], c, data.entry_task, 4)
    auto = bcd.BCDSolver(X, op, df, mode="auto", full_gram_switch=True)
    assert auto.mode == "residual" and auto._full_gram_pays(0) is True
    residual = bcd.BCDSolver(X, op, df, mode="residual", full_gram_switch=True)
    assert residual._full_gram_pays(40) is False
    # off by default: subproblem solvers (proximal Newton's) keep their mode
    assert bcd.BCDSolver(X, op, df)._full_gram_pays(40) is False
    # wider than n: no full Gram
    Xw, Yw = _ar1(30, 40, 4, 0.5)
    dw = make_task_data(Yw)
    opw = DesignOperator(Xw, dw.row_ptr, dw.entry_row, dw.entry_task, 4)
    dfw = Quadratic(
        Yw[dw.entry_row, dw.entry_task], dw.entry_weights(None), dw.entry_task, 4
    )
    assert (
        bcd.BCDSolver(Xw, opw, dfw, full_gram_switch=True)._full_gram_pays(40) is False
    )


def test_full_gram_between_30_and_40_features_per_task_needs_most_to_violate():
    # p = 140 with T = 4 (35 T): the full Gram only when at least 3/4 of the
    # features violate (a support about to fill); up to 30 T always
    X, Y = _ar1(300, 140, 4, 0.5)
    data = make_task_data(Y)
    op = DesignOperator(X, data.row_ptr, data.entry_row, data.entry_task, 4)
    df = Quadratic(
        Y[data.entry_row, data.entry_task], data.entry_weights(None),
        data.entry_task, 4,
    )  # fmt: skip
    solver = bcd.BCDSolver(X, op, df, mode="auto", full_gram_switch=True)
    assert solver._full_gram_pays(140) is True
    assert solver._full_gram_pays(105) is True  # 0.75 * 140
    assert solver._full_gram_pays(104) is False
    assert solver._full_gram_pays(0) is False
    X2, Y2 = _ar1(300, 120, 4, 0.5)  # 30 T: any number of violators
    d2 = make_task_data(Y2)
    op2 = DesignOperator(X2, d2.row_ptr, d2.entry_row, d2.entry_task, 4)
    df2 = Quadratic(
        Y2[d2.entry_row, d2.entry_task], d2.entry_weights(None), d2.entry_task, 4
    )
    assert bcd.BCDSolver(X2, op2, df2, full_gram_switch=True)._full_gram_pays(0)
