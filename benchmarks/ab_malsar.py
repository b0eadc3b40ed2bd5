"""Before / after on bench_malsar's synthetic per-task problem, in one process.

Fits an older skmtl (``--base``: a commit, exported with ``git archive``, or
a directory holding an exported ``skmtl`` package) and the working tree's
skmtl on the synthetic problem of ``bench_malsar.py`` (100 tasks x 150 rows,
``p = 50``, ``task_weights = n_t``, no intercept: MALSAR's objective; or
its School problem with ``--problem school``),
interleaved (the order alternates every pair), in thread CPU time with one
BLAS thread. Prints, for each ``rho1`` and ``tol``, both codes' iteration
counts, the largest coefficient difference relative to the largest
coefficient, the median (min) milliseconds of each and the median of the
per-pair ratios new / old.

Run from the repository root (the old package is imported as
``skmtl_base``, next to the working tree's ``skmtl``)::

    PYTHONPATH=. python benchmarks/ab_malsar.py --base 3749a21
    PYTHONPATH=. python benchmarks/ab_malsar.py --base 3749a21 --penalty l21 --reps 20
    PYTHONPATH=. python benchmarks/ab_malsar.py --base 3749a21 --problem school --reps 9
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ab_l21 import import_base  # noqa: E402
from bench_malsar import DATA, rho_max, school_problem, synthetic_problem  # noqa: E402

#: (rho_max / rho1, tol): the fits bench_malsar's 1e-4 and 1e-6 cells take
CASES = [(10, 1e-3), (10, 1e-5), (100, 1e-3), (100, 1e-5)]
#: the same on School (its fits need tighter tolerances for those cells)
SCHOOL_CASES = [(10, 1e-4), (100, 1e-4), (100, 1e-5)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="commit or exported tree")
    parser.add_argument("--penalty", default="trace", choices=["trace", "l21"])
    parser.add_argument("--reps", type=int, default=40, help="fit pairs per case")
    parser.add_argument(
        "--problem", default="synthetic", choices=["synthetic", "school"]
    )
    parser.add_argument("--school", default=str(DATA / "school.mat"))
    args = parser.parse_args()
    base = import_base(args.base)
    import skmtl

    if args.problem == "school":
        Xs, ys = school_problem(args.school)
        cases = SCHOOL_CASES
    else:
        Xs, ys = synthetic_problem()
        cases = CASES
    X, Y = skmtl.stack_tasks(Xs, ys)
    n_t = np.array([len(y) for y in ys], dtype=np.float64)
    amax = rho_max(Xs, ys, args.penalty)

    def fit(module, rho1, tol):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return module.MultiTaskLinearRegression(
                penalty=args.penalty, alpha=rho1, task_weights=n_t,
                fit_intercept=False, tol=tol, max_iter=200_000,
            ).fit(X, Y)  # fmt: skip

    with threadpool_limits(1):
        for ratio, tol in cases:
            rho1 = amax / ratio
            old, new = fit(base, rho1, tol), fit(skmtl, rho1, tol)
            scale = np.max(np.abs(old.coef_))
            diff = np.max(np.abs(old.coef_ - new.coef_)) / scale
            times = {base: [], skmtl: []}
            for i in range(args.reps):
                for module in (base, skmtl) if i % 2 == 0 else (skmtl, base):
                    t0 = time.thread_time()
                    fit(module, rho1, tol)
                    times[module].append(1e3 * (time.thread_time() - t0))
            t_old, t_new = np.array(times[base]), np.array(times[skmtl])
            print(
                f"rho_max/{ratio} tol={tol:g}: n_iter {old.n_iter_}/{new.n_iter_}, "
                f"coef diff {diff:.1e}; old {np.median(t_old):.2f} "
                f"({t_old.min():.2f}) ms, new {np.median(t_new):.2f} "
                f"({t_new.min():.2f}) ms, new/old {np.median(t_new / t_old):.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
