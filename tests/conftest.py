from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data():
    """Path of ``../shared/data``; skips the test when the data is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DATA}")
    return SHARED_DATA


def make_problem(n=80, p=12, T=3, missing=0.0, seed=0, n_informative=4, noise=0.1):
    """Small joint-sparse regression problem with optional missing labels."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) + 0.3
    W = np.zeros((T, p))
    W[:, :n_informative] = rng.normal(size=(T, n_informative))
    Y = X @ W.T + noise * rng.normal(size=(n, T)) + rng.normal(size=T)
    if missing:
        M = rng.random((n, T)) < missing
        M[0] = False  # keep every task labelled
        Y[M] = np.nan
    return X, Y


def make_per_task_problem(n_per_task=(30, 40, 25), p=8, seed=0):
    """Per-task data: each row labelled for exactly one task."""
    rng = np.random.default_rng(seed)
    T = len(n_per_task)
    w_shared = rng.normal(size=p)
    Xs, ys = [], []
    for t, n in enumerate(n_per_task):
        X = rng.normal(size=(n, p))
        w = w_shared + 0.3 * rng.normal(size=p)
        w[p // 2 :] = 0
        Xs.append(X)
        ys.append(X @ w + 0.1 * rng.normal(size=n) + t)
    X = np.vstack(Xs)
    Y = np.full((X.shape[0], T), np.nan)
    start = 0
    for t, n in enumerate(n_per_task):
        Y[start : start + n, t] = ys[t]
        start += n
    return X, Y
