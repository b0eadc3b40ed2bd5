"""scikit-learn drop-in parity of MultiTaskLasso, MultiTaskElasticNet and
their CV versions: parameters, attributes, dtypes, path, accuracy; plus
scikit-learn's own test module run against skmtl's classes."""

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sklm

from skmtl import (
    MultiTaskElasticNet,
    MultiTaskElasticNetCV,
    MultiTaskLasso,
    MultiTaskLassoCV,
)

DROP_INS = [MultiTaskLasso, MultiTaskElasticNet]


def _data(n=60, p=12, T=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    Y = X[:, :4] @ rng.normal(size=(4, T)) + 0.5 * rng.normal(size=(n, T))
    return X, Y


@pytest.mark.parametrize("cls", DROP_INS)
def test_random_selection_reaches_the_cyclic_solution(cls):
    X, Y = _data()
    kw = dict(alpha=0.05, tol=1e-12, max_iter=10000)
    cyc = cls(**kw).fit(X, Y)
    rnd = cls(selection="random", random_state=0, **kw).fit(X, Y)
    np.testing.assert_allclose(rnd.coef_, cyc.coef_, rtol=1e-5, atol=1e-7)
    # same seed, same iterates (early stop) ; another seed, other iterates
    a = cls(alpha=0.05, selection="random", random_state=1, max_iter=3, tol=0)
    b = cls(alpha=0.05, selection="random", random_state=1, max_iter=3, tol=0)
    c = cls(alpha=0.05, selection="random", random_state=2, max_iter=3, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ca, cb, cc = (m.fit(X, Y).coef_ for m in (a, b, c))
    np.testing.assert_array_equal(ca, cb)
    assert not np.array_equal(ca, cc)


@pytest.mark.parametrize("cls", DROP_INS + [MultiTaskLassoCV, MultiTaskElasticNetCV])
def test_drop_in_parameters_exist_and_are_validated(cls):
    params = cls().get_params()
    assert params["selection"] == "cyclic"
    assert params["random_state"] is None
    assert params["copy_X"] is True
    X, Y = _data(n=30, p=4)
    with pytest.raises(ValueError, match="selection"):
        cls(selection="greedy").fit(X, Y)


@pytest.mark.parametrize("copy_X", [True, False])
def test_copy_X_never_modifies_X(copy_X):
    X, Y = _data()
    X0 = X.copy()
    MultiTaskLasso(alpha=0.05, copy_X=copy_X).fit(X, Y)
    np.testing.assert_array_equal(X, X0)


@pytest.mark.parametrize(
    "cls, l1_ratio", [(MultiTaskLasso, 1.0), (MultiTaskElasticNet, 0.5)]
)
def test_path_matches_sklearn(cls, l1_ratio):
    X, Y = _data()
    X = X - X.mean(axis=0)
    Y = Y - Y.mean(axis=0)
    alphas = np.array([0.5, 0.1, 0.02])
    kw = {"l1_ratio": l1_ratio}
    a, coefs, gaps = cls.path(X, Y, alphas=alphas, tol=1e-12, max_iter=10000, **kw)
    ref_cls = sklm.MultiTaskLasso if cls is MultiTaskLasso else sklm.MultiTaskElasticNet
    ref_a, ref_coefs, _ = ref_cls.path(
        X, Y, alphas=alphas, tol=1e-12, max_iter=10000, **kw
    )
    assert coefs.shape == ref_coefs.shape == (Y.shape[1], X.shape[1], 3)
    np.testing.assert_allclose(a, ref_a)
    np.testing.assert_allclose(coefs, ref_coefs, rtol=1e-4, atol=1e-6)
    assert gaps.shape == (3,)
    *_, n_iters = cls.path(X, Y, alphas=alphas, return_n_iter=True, **kw)
    assert n_iters.shape == (3,)
    # the default l1_ratio is scikit-learn's (0.5 for both classes)
    _, c_default, _ = cls.path(X, Y, alphas=alphas, tol=1e-12, max_iter=10000)
    _, r_default, _ = ref_cls.path(X, Y, alphas=alphas, tol=1e-12, max_iter=10000)
    np.testing.assert_allclose(c_default, r_default, rtol=1e-4, atol=1e-6)


def test_sparse_coef_is_coef():
    X, Y = _data()
    m = MultiTaskLasso(alpha=0.2).fit(X, Y)
    assert sp.issparse(m.sparse_coef_)
    np.testing.assert_array_equal(m.sparse_coef_.toarray(), m.coef_)
    assert m.sparse_coef_.nnz == np.count_nonzero(m.coef_)


@pytest.mark.parametrize("cls", DROP_INS + [MultiTaskLassoCV, MultiTaskElasticNetCV])
def test_intercept_is_scalar_zero_without_intercept(cls):
    X, Y = _data(n=40, p=5)
    kw = (
        {"cv": 3, "alphas": 4}
        if cls in (MultiTaskLassoCV, MultiTaskElasticNetCV)
        else {}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        m = cls(fit_intercept=False, **kw).fit(X, Y)
    assert isinstance(m.intercept_, float) and m.intercept_ == 0.0
    ref = getattr(sklm, cls.__name__)(fit_intercept=False, **kw).fit(X, Y)
    assert type(m.intercept_) is type(ref.intercept_)
    m.predict(X)  # broadcasts


@pytest.mark.parametrize("cls", DROP_INS + [MultiTaskLassoCV])
def test_float32_input_gives_float32_coef(cls):
    X, Y = _data()
    kw = {"cv": 3, "n_alphas": 5} if cls is MultiTaskLassoCV else {"alpha": 0.05}
    m64 = cls(**kw).fit(X, Y)
    m32 = cls(**kw).fit(X.astype(np.float32), Y)
    assert m32.coef_.dtype == np.float32 and m32.intercept_.dtype == np.float32
    assert m64.coef_.dtype == np.float64
    np.testing.assert_allclose(m32.coef_, m64.coef_, rtol=1e-3, atol=1e-4)
    assert m32.predict(X.astype(np.float32)).dtype == np.float32


def test_ill_conditioned_gap_does_not_cancel():
    """Vandermonde design (condition ~1e7), rows >> features: the Gram-mode
    gap used to cancel to exactly 0 with coefficients 2e-6 off. Reference:
    the same problem solved by scikit-learn with a tolerance far below ours,
    and by the normal equations of the unpenalised-direction check below."""
    n, p, T = 200, 5, 3
    t = np.linspace(0, 1, n)
    X = np.vander(t, p)
    rng = np.random.default_rng(0)
    Y = X @ rng.normal(size=(p, T)) + 1e-3 * rng.normal(size=(n, T))
    alpha = 1e-4
    ours = MultiTaskLasso(alpha=alpha, tol=1e-13, max_iter=200_000).fit(X, Y)
    ref = sklm.MultiTaskLasso(alpha=alpha, tol=1e-15, max_iter=2_000_000).fit(X, Y)
    assert ours.dual_gap_ > 0 or np.allclose(ours.coef_, ref.coef_, atol=1e-8)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("p", [8, 200])
def test_warm_start_continues_the_same_iterates(p):
    """5 + 5 warm-started epochs equal 10, with one working set of every
    feature (p <= 10) and with working sets (p > 10: the second fit
    continues the first one's run). More layouts in test_bcd_stopping.py."""
    X, Y = _data(n=50, p=p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = MultiTaskLasso(alpha=0.05, max_iter=5, warm_start=True, tol=1e-12)
        a.fit(X, Y)
        a.fit(X, Y)
        b = MultiTaskLasso(alpha=0.05, max_iter=10, tol=1e-12).fit(X, Y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-10, atol=1e-13)


# ---------------------------------------------------------------------------
# scikit-learn's own tests for these classes, run against skmtl's classes


def test_sklearn_test_suite_against_skmtl():
    """Runs scikit-learn's ``test_coordinate_descent`` with its four multi-task
    classes replaced by skmtl's (patched into ``sklearn.linear_model`` before
    the test module is imported), in a subprocess; every one of its tests
    that involves these classes must pass."""
    pytest.importorskip("sklearn.linear_model.tests.test_coordinate_descent")
    plugin = textwrap.dedent(
        """
        import sklearn.linear_model as lm
        import skmtl
        for name in ("MultiTaskLasso", "MultiTaskElasticNet",
                     "MultiTaskLassoCV", "MultiTaskElasticNetCV"):
            setattr(lm, name, getattr(skmtl, name))
        """
    )
    import os
    import tempfile

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "skmtl_patch.py"), "w") as fh:
            fh.write(plugin)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([tmp, root, env.get("PYTHONPATH", "")])
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "skmtl_patch",
                "-p",
                "no:cacheprovider",
                "--pyargs",
                "sklearn.linear_model.tests.test_coordinate_descent",
                "-k",
                "MultiTask or multi_task or multitask or enet",
            ],  # fmt: skip
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
    tail = proc.stdout[-3000:]
    assert proc.returncode == 0, tail
    assert " passed" in tail and "failed" not in tail, tail
