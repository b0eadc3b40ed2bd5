"""Before / after on bench_l21's correlated problems, in one process.

Times an older skmtl (``--base``: a commit, exported with ``git archive``,
or a directory holding an exported ``skmtl`` package), the working tree's
skmtl and scikit-learn on the same problems, interleaved, in thread CPU time
with one BLAS thread. Each library runs at the loosest ``tol`` of
``bench_l21.TOLS`` whose fit reaches the target relative suboptimality
(1e-6), as in ``bench_l21.py``; the medians give skmtl / scikit-learn for
both codes and new / old. Fitted coefficients of the two codes are
compared too (``identical``: same ``coef_``, ``intercept_`` and
``n_iter_``, bit for bit).

The fits cycle through every order of the three libraries, so that each
follows each other equally often: scikit-learn copies ``X`` and leaves it
cold in the cache for whoever runs next, and a fixed order (old, new,
scikit-learn) made two copies of the same code differ by 5-8%.

Run from the repository root (the old package is imported as
``skmtl_base``, next to the working tree's ``skmtl``)::

    PYTHONPATH=. python benchmarks/ab_l21.py --base 4e57119
    PYTHONPATH=. python benchmarks/ab_l21.py --base 4e57119 --cases wide,0,100 --reps 60
    PYTHONPATH=. python benchmarks/ab_l21.py --base 4e57119 --full --reps 5
"""

import argparse
import atexit
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.linear_model import MultiTaskLasso as SkMultiTaskLasso
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import l21_objective  # noqa: E402
from bench_l21 import (  # noqa: E402
    FULL_SHAPES,
    QUICK_SHAPES,
    TOLS,
    alpha_max,
    correlated_problem,
)

#: the issue's goal cases: every shape, rho 0 and 0.5, alpha_max / 10 and / 100
GOAL = [
    f"{shape},{rho},{ratio}"
    for shape in QUICK_SHAPES
    for rho in (0.0, 0.5)
    for ratio in (10, 100)
]  # fmt: skip


def import_base(base):
    """The old package as module ``skmtl_base`` (its imports are relative)."""
    root = tempfile.mkdtemp(prefix="skmtl_ab_")
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    if os.path.isdir(base):
        shutil.copytree(os.path.join(base, "skmtl"), os.path.join(root, "skmtl_base"))
    else:
        archive = subprocess.run(
            ["git", "archive", base, "skmtl"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", root], input=archive, check=True)
        os.rename(os.path.join(root, "skmtl"), os.path.join(root, "skmtl_base"))
    sys.path.insert(0, root)
    import skmtl_base

    return skmtl_base


def loosest_tol(make, X, Y, alpha, p_star, target):
    """``(tol, model)``: the first tol of TOLS reaching ``target``."""
    for tol in TOLS:
        model = make(tol).fit(X, Y)
        f = l21_objective(X, Y, model.coef_, model.intercept_, alpha)
        if (f - p_star) / p_star <= target:
            return tol, model
    return TOLS[-1], model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="commit or exported tree")
    parser.add_argument("--cases", nargs="*", default=GOAL, help="shape,rho,ratio")
    parser.add_argument("--reps", type=int, default=30, help="timed runs (x3 fits)")
    parser.add_argument("--target", type=float, default=1e-6)
    parser.add_argument(
        "--full", action="store_true", help="bench_l21's full sizes, not --quick's"
    )
    args = parser.parse_args()
    shapes = FULL_SHAPES if args.full else QUICK_SHAPES
    base = import_base(args.base)
    import skmtl

    threadpool_limits(1)  # after every import: scipy's BLAS too
    print(f"old: {base.__file__}\nnew: {skmtl.__file__}")
    ratios = {"new/old": [], "old/sk": [], "new/sk": []}
    for case in args.cases:
        shape, rho, ratio = case.split(",")
        n, p, T = shapes[shape]
        X, Y = correlated_problem(n, p, T, float(rho))
        alpha = alpha_max(X, Y) / float(ratio)
        ref = skmtl.MultiTaskLasso(alpha=alpha, tol=1e-12, max_iter=200_000).fit(X, Y)
        p_star = l21_objective(X, Y, ref.coef_, ref.intercept_, alpha)
        classes = {
            "old": base.MultiTaskLasso,
            "new": skmtl.MultiTaskLasso,
            "sk": SkMultiTaskLasso,
        }
        makers, fitted = {}, {}
        for name, cls in classes.items():

            def make(tol, cls=cls):
                return cls(alpha=alpha, tol=tol, max_iter=100_000)

            tol, fitted[name] = loosest_tol(make, X, Y, alpha, p_star, args.target)
            makers[name] = (lambda make=make, tol=tol: make(tol)), tol
        a, b = fitted["old"], fitted["new"]
        identical = (
            np.array_equal(a.coef_, b.coef_)
            and np.array_equal(a.intercept_, b.intercept_)
            and a.n_iter_ == b.n_iter_
        )
        times = {name: [] for name in classes}
        orders = list(itertools.permutations(classes))
        for r in range(args.reps):
            for name in orders[r % len(orders)]:
                model = makers[name][0]()
                t0 = time.thread_time()
                model.fit(X, Y)
                times[name].append(time.thread_time() - t0)
        med = {name: float(np.median(v)) for name, v in times.items()}
        ratios["new/old"].append(med["new"] / med["old"])
        ratios["old/sk"].append(med["old"] / med["sk"])
        ratios["new/sk"].append(med["new"] / med["sk"])
        print(
            f"{case:14s} "
            + " | ".join(
                f"{name} {med[name] * 1e3:6.2f} ms (tol {makers[name][1]:.0e}, "
                f"{fitted[name].n_iter_} it)"
                for name in classes
            )
            + f" | new/old {ratios['new/old'][-1]:.2f} old/sk "
            f"{ratios['old/sk'][-1]:.2f} new/sk {ratios['new/sk'][-1]:.2f}"
            f" | identical {identical}",
            flush=True,
        )
    print(
        "geometric means: "
        + ", ".join(f"{k} {np.exp(np.mean(np.log(v))):.3f}" for k, v in ratios.items())
    )


if __name__ == "__main__":
    main()
