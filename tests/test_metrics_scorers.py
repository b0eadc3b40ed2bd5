"""Scorers: per-task scorers for cross_validate and clear errors."""

import numpy as np
import pytest
from sklearn.model_selection import KFold, cross_validate

from skmtl import MultiTaskLasso
from skmtl.metrics import (
    make_multitask_scorer,
    mean_squared_error,
    per_task_scorers,
    r2_score,
)

from .conftest import make_problem


def test_per_task_scorers_in_cross_validate():
    X, Y = make_problem(n=90, p=5, T=3, missing=0.3, seed=0)
    scoring = per_task_scorers("mse", 3, task_names=["a", "b", "c"])
    assert list(scoring) == ["neg_mse_a", "neg_mse_b", "neg_mse_c"]
    scoring["mean"] = make_multitask_scorer("mse")
    cv = KFold(3)
    res = cross_validate(MultiTaskLasso(alpha=0.01), X, Y, cv=cv, scoring=scoring)
    per_task = np.column_stack([res[f"test_neg_mse_{n}"] for n in "abc"])
    np.testing.assert_allclose(per_task.mean(axis=1), res["test_mean"])
    for k, (train, test) in enumerate(cv.split(X, Y)):
        model = MultiTaskLasso(alpha=0.01).fit(X[train], Y[train])
        ref = mean_squared_error(
            Y[test], model.predict(X[test]), aggregate="raw_values"
        )
        np.testing.assert_allclose(-per_task[k], ref)


def test_per_task_scorers_r2_keys_and_values():
    X, Y = make_problem(n=60, p=4, T=2, seed=1)
    model = MultiTaskLasso(alpha=0.01).fit(X, Y)
    scorers = per_task_scorers("r2", 2)
    assert list(scorers) == ["r2_task0", "r2_task1"]
    raw = r2_score(Y, model.predict(X), aggregate="raw_values")
    assert scorers["r2_task1"](model, X, Y) == pytest.approx(raw[1])


def test_scorer_errors():
    with pytest.raises(ValueError, match="Unknown metric 'mae'"):
        make_multitask_scorer("mae")
    with pytest.raises(ValueError, match="Unknown aggregate 'raw_values'"):
        make_multitask_scorer("r2", aggregate="raw_values")
    with pytest.raises(ValueError, match="Unknown aggregate 'sum'"):
        make_multitask_scorer("r2", aggregate="sum")
    with pytest.raises(ValueError, match="Unknown metric 'mae'"):
        per_task_scorers("mae", 2)
    with pytest.raises(ValueError, match="n_tasks must be a positive integer"):
        per_task_scorers("r2", 0)
    with pytest.raises(ValueError, match="task_names has 1 names"):
        per_task_scorers("r2", 2, task_names=["a"])
    X, Y = make_problem(n=30, p=5, T=2, seed=2)
    model = MultiTaskLasso(alpha=0.01).fit(X, Y)
    with pytest.raises(ValueError, match="built for 3 tasks"):
        per_task_scorers("r2", 3)["r2_task0"](model, X, Y)
