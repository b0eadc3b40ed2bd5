"""The solver engine's contracts: penalties own their row math, one driver
serves fit and path, and a penalty defined outside skmtl fits through the
public estimators with both solvers."""

import inspect
import pathlib
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose

import skmtl
from skmtl import MultiTaskLasso, MultiTaskLinearRegression, MultiTaskLogisticRegression
from skmtl.model_selection import regularization_path
from skmtl.penalties import Penalty, RowPenalty

from ._reference import data_term
from .conftest import make_problem


class L1PlusRidge(Penalty):
    """``alpha * (||W||_1 + ||W||_F^2 / 2)``, written here, outside skmtl."""

    separable = True

    def nonsmooth_value(self, W):
        return self.alpha * (np.abs(W).sum() + 0.5 * np.sum(W * W))

    def prox(self, W, step):
        a = step * self.alpha
        return np.sign(W) * np.maximum(np.abs(W) - a, 0) / (1 + a)

    def row_update(self, w, g, h):
        z = w - g / h
        a = self.alpha / h
        return np.sign(z) * np.maximum(np.abs(z) - a, 0) / (1 + a)

    def kkt_violation(self, W, G):
        D = np.where(
            W != 0,
            G + self.alpha * (W + np.sign(W)),
            np.maximum(np.abs(G) - self.alpha, 0),
        )
        return np.sqrt(np.sum(D * D, axis=0))

    @classmethod
    def alpha_max(cls, G0, params=None):
        return float(np.abs(G0).max())


def _cvxpy_l1_plus_ridge(X, Y, alpha, loss):
    cp = pytest.importorskip("cvxpy")
    T, p = Y.shape[1], X.shape[1]
    W, b = cp.Variable((T, p)), cp.Variable(T)
    terms = []
    for t in range(T):
        m = ~np.isnan(Y[:, t])
        f = X[m] @ W[t] + b[t]
        if loss == "squared":
            terms.append(0.5 * cp.sum_squares(Y[m, t] - f) / m.sum())
        else:
            terms.append(cp.sum(cp.logistic(-cp.multiply(Y[m, t], f))) / m.sum())
    pen = alpha * (cp.sum(cp.abs(W)) + 0.5 * cp.sum_squares(W))
    prob = cp.Problem(cp.Minimize(sum(terms) + pen))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10)
    return W.value, prob.value


def _objective(X, Y, W, b, alpha, loss):
    return data_term(X, Y, W, b, loss) + alpha * (np.abs(W).sum() + 0.5 * np.sum(W * W))


@pytest.mark.parametrize("solver", ["bcd", "fista"])
def test_penalty_defined_in_test_fits_through_estimators(solver):
    X, Y = make_problem(n=60, p=8, T=3, missing=0.3, seed=1)
    alpha = 0.05
    model = MultiTaskLinearRegression(
        L1PlusRidge, alpha, solver=solver, tol=1e-10, max_iter=50_000
    ).fit(X, Y)
    assert model.solver_ == solver
    W_ref, ref = _cvxpy_l1_plus_ridge(X, Y, alpha, "squared")
    ours = _objective(X, Y, model.coef_, model.intercept_, alpha, "squared")
    assert abs(ours - ref) <= 1e-7 * abs(ref)
    assert_allclose(model.coef_, W_ref, atol=1e-5)
    # it also runs along a path, with its own alpha_max
    path = regularization_path(X, Y, L1PlusRidge, n_alphas=3, solver=solver)
    assert np.abs(path.coefs[0]).max() <= 1e-12


def test_penalty_defined_in_test_logistic():
    X, Y = make_problem(n=80, p=6, T=3, missing=0.2, seed=2)
    B = np.where(np.isnan(Y), np.nan, (Y > np.nanmedian(Y, axis=0)).astype(float))
    model = MultiTaskLogisticRegression(L1PlusRidge, 0.02, tol=1e-10, max_iter=50_000)
    model.fit(X, B)
    Ys = np.where(np.isnan(B), np.nan, 2 * B - 1)
    _, ref = _cvxpy_l1_plus_ridge(X, Ys, 0.02, "logistic")
    ours = _objective(X, Ys, model.coef_, model.intercept_, 0.02, "logistic")
    assert abs(ours - ref) <= 1e-7 * abs(ref)


def test_unknown_row_code_is_an_error():
    from skmtl._solvers.penalties._rows import row_update, row_violation

    w, g, h, out = np.ones(3), np.ones(3), np.ones(3), np.empty(3)
    with pytest.raises(ValueError, match="unknown penalty code"):
        row_update(99, np.zeros(2), w, g, h, out)
    with pytest.raises(ValueError, match="unknown penalty code"):
        row_violation(99, np.zeros(2), w, g)

    class Bad(RowPenalty):
        code = 99
        params = np.zeros(1)

        def nonsmooth_value(self, W):
            return 0.0

    X, Y = make_problem(n=30, p=4, T=2)
    with pytest.raises(ValueError, match="unknown penalty code"):
        MultiTaskLinearRegression(Bad, 0.1, solver="bcd").fit(X, Y)


def test_not_a_penalty_is_an_error():
    X, Y = make_problem(n=30, p=4, T=2)
    with pytest.raises(ValueError, match="Unknown penalty"):
        MultiTaskLinearRegression(dict, 0.1).fit(X, Y)


@pytest.mark.parametrize("missing", [0.0, 0.3])
def test_one_alpha_path_is_the_fit(missing):
    """A one-alpha path (every CV estimator's refit) runs exactly the fit."""
    X, Y = make_problem(n=400, p=30, T=4, missing=missing, seed=3)
    fit = MultiTaskLasso(alpha=0.02, tol=1e-8).fit(X, Y)
    path = regularization_path(X, Y, "l21", alphas=[0.02], tol=1e-8)
    assert path.n_iters[0] == fit.n_iter_
    assert_allclose(path.coefs[0], fit.coef_, rtol=0, atol=1e-14)
    assert_allclose(path.intercepts[0], fit.intercept_, rtol=0, atol=1e-14)


def test_no_module_branches_on_the_loss_name():
    """The loss is an object: outside the datafits module nothing compares a
    loss name (the linear models' sources)."""
    root = pathlib.Path(inspect.getfile(skmtl)).parent
    pattern = re.compile(r"""(==|!=)\s*["'](squared|logistic)["']""")
    offenders = []
    for sub in ("linear_model", "model_selection", "_solvers"):
        for path in (root / sub).rglob("*.py"):
            if path.name == "datafits.py":
                continue
            if pattern.search(path.read_text()):
                offenders.append(str(path.relative_to(root)))
    assert offenders == []


def test_estimators_expose_penalty_hyperparameters():
    for cls in (MultiTaskLinearRegression, MultiTaskLogisticRegression):
        params = cls().get_params()
        for name in ("l1_ratio", "task_graph", "beta", "gamma"):
            assert name in params


NEW = ["mcp", "scad", "capped_l1", "dirty", "robust", "sparse_low_rank"]


@pytest.mark.parametrize("penalty", NEW)
def test_new_penalties_logistic_per_task_sparse_weights(penalty):
    """Per-task rows, sample and task weights: sparse X gives the dense fit,
    and integer sample weights equal repeated rows."""
    import scipy.sparse as sp

    from .conftest import make_per_task_problem

    X, Y = make_per_task_problem(n_per_task=(40, 50, 30), p=6, seed=3)
    B = np.where(np.isnan(Y), np.nan, (Y > np.nanmedian(Y, axis=0)).astype(float))
    sw = np.random.default_rng(0).integers(1, 3, size=X.shape[0]).astype(float)
    kw = dict(task_weights=[1.0, 2.0, 0.5], tol=1e-9, max_iter=50_000)
    dense = MultiTaskLogisticRegression(penalty, 0.02, **kw).fit(X, B, sample_weight=sw)
    sparse = MultiTaskLogisticRegression(penalty, 0.02, **kw).fit(
        sp.csr_array(X), B, sample_weight=sw
    )
    assert_allclose(sparse.coef_, dense.coef_, atol=1e-6)
    rows = np.repeat(np.arange(X.shape[0]), sw.astype(int))
    repeated = MultiTaskLogisticRegression(penalty, 0.02, **kw).fit(X[rows], B[rows])
    assert_allclose(repeated.coef_, dense.coef_, atol=1e-5)
    assert dense.score(X, B) > 0.6


@pytest.mark.parametrize("penalty", ["mcp", "dirty"])
def test_logistic_cv_covers_new_penalties(penalty):
    from skmtl.model_selection import MultiTaskLogisticRegressionCV

    X, Y = make_problem(n=90, p=6, T=2, missing=0.1, seed=4)
    B = np.where(np.isnan(Y), np.nan, (Y > np.nanmedian(Y, axis=0)).astype(float))
    clf = MultiTaskLogisticRegressionCV(penalty, n_alphas=4, cv=3).fit(X, B)
    assert clf.log_loss_path_.shape == (4, 3)
    assert np.all(np.isfinite(clf.log_loss_path_))
    assert hasattr(clf, "coef_components_") == (penalty == "dirty")


@pytest.mark.parametrize("penalty", ["l1", "l21", "sparse_group", "elasticnet"])
def test_prox_newton_matches_fista_and_cvxpy(penalty):
    """Proximal Newton (Newton steps solved by BCD) reaches the same optimum
    as cvxpy, with missing labels, intercepts and sample weights."""
    from ._reference import cvxpy_solve

    pytest.importorskip("cvxpy")
    X, Y = make_problem(n=80, p=7, T=3, missing=0.25, seed=8)
    B = np.where(np.isnan(Y), np.nan, (Y > np.nanmedian(Y, axis=0)).astype(float))
    sw = np.random.default_rng(2).uniform(0.5, 2.0, size=80)
    # tol 1e-12: a gap of 1e-10 bounds the coefficients of the elastic net
    # (ridge part 0.01) only to sqrt(2 gap / 0.01) ~ 1e-4
    kw = dict(l1_ratio=0.5, tol=1e-12)
    newton = MultiTaskLogisticRegression(penalty, 0.02, solver="prox_newton", **kw)
    newton.fit(X, B, sample_weight=sw)
    assert newton.n_iter_ < 30  # outer Newton iterations
    Ys = np.where(np.isnan(B), np.nan, 2 * B - 1)
    W, b, ref = cvxpy_solve(
        X, Ys, penalty, 0.02, l1_ratio=0.5, sample_weight=sw, loss="logistic"
    )
    assert_allclose(newton.coef_, W, atol=2e-5)
    assert_allclose(newton.intercept_, b, atol=2e-5)


def test_prox_newton_needs_a_separable_penalty():
    X, Y = make_problem(n=40, p=5, T=2)
    B = (Y > np.median(Y, axis=0)).astype(float)
    with pytest.raises(ValueError, match="feature-separable"):
        MultiTaskLogisticRegression("trace", 0.1, solver="prox_newton").fit(X, B)
