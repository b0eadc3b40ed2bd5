"""numba cores are compiled once: a fresh process loads them from the cache."""

import json
import subprocess
import sys

SCRIPT = r"""
import json, warnings
import numpy as np
import scipy.sparse as sp
from numba.core.registry import CPUDispatcher
from skmtl import MultiTaskLasso, MultiTaskLinearRegression, MultiTaskLogisticRegression
from skmtl._solvers import bcd, datafits, design, fista, fista_loop, penalties
from skmtl._solvers.penalties import _rows

warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X = rng.normal(size=(60, 8))
Y = X[:, :3] @ rng.normal(size=(3, 3)) + 0.1 * rng.normal(size=(60, 3))
Y[::4, 1] = np.nan
for Xin in (X, np.asfortranarray(X), sp.csr_array(X)):
    MultiTaskLasso(alpha=0.01).fit(Xin, Y)                       # residual / ws-Gram
    MultiTaskLasso(alpha=0.01).fit(Xin, Y[:, [0, 2]])            # fully labelled
    MultiTaskLinearRegression(penalty="sparse_group", alpha=0.01).fit(Xin, Y)
    MultiTaskLinearRegression(penalty="l1", alpha=0.01, solver="fista").fit(Xin, Y)
MultiTaskLogisticRegression(alpha=0.01).fit(X, (Y > 0).astype(float))
stats = {}
for mod in (bcd, datafits, design, fista, fista_loop, penalties, _rows):
    for name, fn in vars(mod).items():
        if isinstance(fn, CPUDispatcher) and fn.signatures:
            stats[f"{mod.__name__}.{name}"] = [
                sum(fn.stats.cache_hits.values()), sum(fn.stats.cache_misses.values())
            ]
print(json.dumps(stats))
"""


def _run():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_second_process_loads_every_core_from_cache():
    _run()  # populates the cache if this checkout has none yet
    stats = _run()
    assert stats, "no numba function ran"
    recompiled = {name: s for name, s in stats.items() if s[1] > 0}
    assert not recompiled, f"recompiled in a fresh process: {recompiled}"
    assert all(hits > 0 for hits, _ in stats.values())
