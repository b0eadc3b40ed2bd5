"""Before/after check of ``bench_precision.py`` that survives a loaded
machine: three fits at ``tol=1e-8`` (logistic l21 with FISTA, logistic
trace, graph), median of 3 after a warm-up, printed with the checkout they
come from. Run it alternately from two checkouts (the ``skmtl`` of the
current directory is imported), e.g.

    for i in 1 2; do
      (cd /path/to/new && python benchmarks/bench_precision_ab.py)
      (cd /path/to/old && python /path/to/new/benchmarks/bench_precision_ab.py)
    done
"""

import os
import sys
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.getcwd())
import skmtl
from skmtl import MultiTaskLinearRegression, MultiTaskLogisticRegression
from skmtl.datasets import make_multitask_classification, make_multitask_regression

warnings.filterwarnings("ignore")
X, Y = make_multitask_classification(
    n_tasks=10,
    n_samples=1000,
    n_features=100,
    structure="low_rank",
    rank=3,
    shared_X=True,
    random_state=0,
)
Xr, Yr = make_multitask_regression(
    n_tasks=10,
    n_samples=1000,
    n_features=100,
    structure="low_rank",
    rank=3,
    shared_X=True,
    random_state=0,
)
X = np.ascontiguousarray(X)
out = []
with threadpool_limits(1):
    for name, est, XX, YY in [
        (
            "clf l21 fista",
            MultiTaskLogisticRegression("l21", 0.01, solver="fista", tol=1e-8),
            X,
            Y,
        ),
        ("clf trace", MultiTaskLogisticRegression("trace", 0.01, tol=1e-8), X, Y),
        ("reg graph", MultiTaskLinearRegression("graph", 0.1, tol=1e-8), Xr, Yr),
    ]:
        est.fit(XX, YY)
        ts = []
        for _ in range(3):
            t0 = time.perf_counter()
            est.fit(XX, YY)
            ts.append(time.perf_counter() - t0)
        out.append(f"{name}: {np.median(ts) * 1e3:.1f} ms it={est.n_iter_}")
print(skmtl.__file__, "; ".join(out))
