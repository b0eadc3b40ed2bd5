"""Parkinson's telemonitoring (42 patients as tasks): old and new models.

Protocol (``../shared/data/README.md``, "suggested protocol for skmtl"),
the same machinery as ``bench_school.py``:

* per patient, a random ``ratio`` of the recordings for training (10%, 20%,
  30%; at least 2 per patient), the rest for testing; ``--repeats`` seeded
  repeats (seed = repeat index);
* hyperparameters by 3-fold ``TaskStratifiedKFold`` cross-validation on the
  training part only (``GridSearchCV``, smallest pooled validation MSE);
  ``StandardScaler`` fitted inside the pipeline;
* target ``motor_UPDRS`` (``--target total`` for ``total_UPDRS``); all 19
  features, or without ``test_time`` (``--no-test-time``: the targets are
  interpolated in time between visits, so ``test_time`` carries most of the
  per-patient signal).

Main metric: mean per-patient explained variance (``EV task-avg``); also
pooled nMSE and RMSE. Grids were placed after a pilot run on one 20% split.

Run:  python benchmarks/bench_parkinsons.py [--repeats 3] [--no-test-time]
"""

import argparse
import sys
import time

import numpy as np
from bench_school import DATA, MAX_ITER, log_grid, run, tables
from sklearn.linear_model import Ridge

from skmtl import MultiTaskLinearRegression, MultiTaskRidge
from skmtl.baselines import IndependentTasksRegressor, PooledTasksRegressor
from skmtl.datasets import load_parkinsons

RATIOS = (0.1, 0.2, 0.3)


def models(quick):
    """name -> (estimator, grid)."""

    def mtl(penalty, grid):
        return MultiTaskLinearRegression(penalty=penalty, max_iter=MAX_ITER), grid

    grids = {
        "independent ridge": (
            IndependentTasksRegressor(Ridge()),
            {"estimator__alpha": log_grid(-1, 2, 4)},
        ),
        "pooled ridge": (
            PooledTasksRegressor(Ridge()),
            {"estimator__alpha": log_grid(-2, 4, 4)},
        ),
        "MultiTaskRidge (mean-reg.)": (
            MultiTaskRidge(),
            {"alpha": log_grid(-3, 0, 4), "coupling": log_grid(-2, 1, 4)},
        ),
        "l21": mtl("l21", {"alpha": [0.03, 0.1, 0.3, 1.0, 3.0]}),
        "trace": mtl("trace", {"alpha": [0.1, 0.3, 1.0, 3.0]}),
        "graph (mean)": mtl("graph", {"alpha": [0.03, 0.3, 3.0, 30.0]}),
        "relationship (MTRL)": mtl(
            "relationship", {"alpha": [0.01, 0.03, 0.1, 0.3, 1.0]}
        ),
        "clustered": mtl(
            "clustered",
            {"alpha": [1.0, 10.0], "beta": [0.01, 0.1], "n_clusters": [1, 3]},
        ),
        "tree (learned)": mtl("tree", {"alpha": [0.1, 0.3, 1.0, 3.0]}),
    }
    if quick:
        grids = {
            name: (est, {k: v[::2] for k, v in grid.items()})
            for name, (est, grid) in grids.items()
        }
    return grids


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1 repeat, 2-point grids")
    ap.add_argument("--target", default="motor", choices=["motor", "total"])
    ap.add_argument("--no-test-time", action="store_true")
    ap.add_argument("--ratios", default=",".join(str(r) for r in RATIOS))
    ap.add_argument("--models", help="comma-separated model names (default: all)")
    args = ap.parse_args()
    if not (DATA / f"parkinsons_{args.target}.npz").exists():
        sys.exit(
            f"Parkinson's data not found in {DATA}; the benchmarks read it from "
            "../shared/data (never copied into the repository)."
        )
    bunch = load_parkinsons(DATA, target=args.target)
    X, Y, task = bunch.X, bunch.Y, np.asarray(bunch.task)
    names = list(bunch.feature_names)
    if args.no_test_time:
        X = np.delete(X, names.index("test_time"), axis=1)
    repeats = 1 if args.quick else args.repeats
    print(
        f"Parkinson's ({args.target}_UPDRS): X {X.shape}, Y {Y.shape}, "
        f"test_time {'dropped' if args.no_test_time else 'kept'}, {repeats} "
        "repeats",
        flush=True,
    )
    ratios = tuple(float(r) for r in args.ratios.split(","))
    t0 = time.perf_counter()
    results = run(
        X, Y, task, ratios, repeats, args.quick,
        log=lambda s: print(s, flush=True), model_grids=models,
        only=None if args.models is None else args.models.split(","),
    )  # fmt: skip
    print(f"\ntotal time {time.perf_counter() - t0:.0f}s\n")
    print(tables(results, ratios))


if __name__ == "__main__":
    main()
