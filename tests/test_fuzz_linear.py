"""Fuzz every linear estimator (hypothesis): random shapes, missing labels,
dtypes, scales from 1e-150 to 1e150 and sample weights give either a clear
ValueError / TypeError or a model with finite predictions, never a hang, a
crash deep in numba or a silent NaN."""

import signal
import warnings
from datetime import timedelta

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from skmtl import (  # noqa: E402
    MultiTaskElasticNet,
    MultiTaskElasticNetCV,
    MultiTaskLasso,
    MultiTaskLassoCV,
    MultiTaskLinearRegression,
    MultiTaskLogisticRegression,
    MultiTaskLogisticRegressionCV,
    MultiTaskRidge,
    MultiTaskRidgeCV,
)
from skmtl._solvers.penalties import PENALTIES  # noqa: E402

#: hard limit per example (seconds): a hang fails the test instead of
#: blocking the suite
HARD_TIMEOUT = 60
SCALES = [1e-150, 1e-50, 1e-6, 1.0, 1e6, 1e50, 1e150]


def _families():
    pens = sorted(PENALTIES)
    return {
        "penalized": lambda d: MultiTaskLinearRegression(
            penalty=d.draw(st.sampled_from(pens)),
            alpha=d.draw(st.sampled_from([1e-3, 0.1, 10.0])),
            solver=d.draw(st.sampled_from(["auto", "fista"])),
            max_iter=200,
        ),
        "logistic": lambda d: MultiTaskLogisticRegression(
            penalty=d.draw(st.sampled_from(pens)),
            alpha=d.draw(st.sampled_from([1e-3, 0.1])),
            max_iter=200,
        ),
        "dropin": lambda d: d.draw(
            st.sampled_from(
                [
                    MultiTaskLasso(alpha=0.1, max_iter=200),
                    MultiTaskElasticNet(alpha=0.1, max_iter=200),
                    MultiTaskRidge(),
                    MultiTaskRidge(solver="cg", coupling=10.0),
                ]
            )
        ),
        "cv": lambda d: d.draw(
            st.sampled_from(
                [
                    MultiTaskLassoCV(alphas=3, cv=2, max_iter=100),
                    MultiTaskElasticNetCV(alphas=3, cv=2, max_iter=100),
                    MultiTaskRidgeCV(alphas=[0.1, 1.0], couplings=[0.0, 1.0], cv=2),
                    MultiTaskLogisticRegressionCV(alphas=3, cv=2, max_iter=100),
                ]
            )
        ),
    }


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout(f"fit did not return within {HARD_TIMEOUT} s")


def _check_one(est, d):
    n = d.draw(st.integers(2, 25), label="n")
    p = d.draw(st.integers(1, 6), label="p")
    T = d.draw(st.integers(1, 3), label="T")
    seed = d.draw(st.integers(0, 2**16), label="seed")
    rng = np.random.default_rng(seed)
    x_scale = d.draw(st.sampled_from(SCALES), label="x_scale")
    col_scales = d.draw(st.booleans(), label="per-column scales")
    y_scale = d.draw(st.sampled_from(SCALES), label="y_scale")
    dtype = d.draw(st.sampled_from([np.float64, np.float32]), label="dtype")
    X = rng.normal(size=(n, p)) * x_scale
    if col_scales:
        X = X * rng.choice(SCALES, size=p)
    with np.errstate(over="ignore"):
        X = X.astype(dtype)
    classifier = isinstance(est, MultiTaskLogisticRegression)
    Y = rng.normal(size=(n, T))
    Y = np.where(Y > 0, 1.0, 0.0) if classifier else Y * y_scale
    missing = d.draw(st.floats(0.0, 0.6), label="missing")
    Y[rng.random((n, T)) < missing] = np.nan
    sw = None
    if d.draw(st.booleans(), label="weights"):
        sw = rng.random(n) * d.draw(st.sampled_from([1e-300, 1e-6, 1.0, 1e6]))
    X0 = X.copy()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HARD_TIMEOUT)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                est.fit(X, Y, sample_weight=sw)
            except (ValueError, TypeError) as exc:
                msg = str(exc)
                assert len(msg) > 15, msg  # a message that names the problem
                assert "numba" not in msg.lower() and "nopython" not in msg, msg
                return
            P = est.predict(X)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    np.testing.assert_array_equal(X, X0)  # input untouched
    if classifier:
        assert P.shape[0] == n
        return
    assert np.all(np.isfinite(est.coef_)), "non-finite coefficients"
    # predictions of models fitted at extreme scales may overflow only where
    # the true targets do; finite inputs within range give finite outputs
    if np.all(np.abs(Y[~np.isnan(Y)]) < 1e100) and np.abs(X).max() < 1e100:
        assert np.all(np.isfinite(P)), "non-finite predictions"


FAMILIES = _families()


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_fuzz_linear_estimators(family):
    make = FAMILIES[family]

    @settings(
        max_examples=30,
        deadline=timedelta(seconds=30),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        derandomize=True,
    )
    @given(st.data())
    def run(data):
        _check_one(make(data), data)

    run()
