"""Steady-state cost of one FISTA iteration over the matrix-product floor
(issue 14, high precision): logistic l21 / sparse_group / trace on
``bench_precision.py``'s problems (per-task data, shared X, shared X with
30% missing labels), one BLAS thread.

Per case: the floor (one ``X @ W.T`` and one ``R.T @ X``, or the per-task
products, ``bench_precision.floor_time``) and fits of ``k`` and ``2k``
iterations at ``tol=1e-30`` (``k = --n``, or a third of the iterations of a
fit that stops earlier, at rounding level) are timed back to back,
``--repeat`` times; the cost of an iteration is (min time of 2k - min time
of k) / k (setup costs cancel; on a loaded machine the minimum is the
least disturbed run), over the min floor. Times are CPU times of this
process (``time.process_time``): the waits of a loaded machine are not
counted, its cache and memory-bandwidth contention still are. The ``skmtl`` of the current directory is imported, so
that runs from two checkouts can be interleaved on a loaded machine:

    for i in 1 2 3; do
      (cd /path/to/new && python benchmarks/bench_iteration_cost.py)
      (cd /path/to/old && python /path/to/new/benchmarks/bench_iteration_cost.py)
    done
"""

import argparse
import os
import sys
import time
import warnings

from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.getcwd())  # the checkout under test, before any other
from bench_precision import (  # noqa: E402
    alpha_max,
    floor_time,
    model,
    problem,
)

import skmtl  # noqa: E402

warnings.filterwarnings("ignore")
CASES = [("l21", 0.5), ("sparse_group", 0.5), ("trace", 0.5)]
LAYOUTS = ("per-task", "shared", "shared-missing")


def _fit_time(make, k):
    est = make(k)
    t0 = time.process_time()
    est.fit(*make.data)
    return time.process_time() - t0, est.n_iter_


def main(args):
    for layout in LAYOUTS:
        X, Y = problem("clf", layout, False)
        for penalty, l1_ratio in CASES:
            if args.only and penalty not in args.only:
                continue
            alpha = 0.1 * alpha_max(X, Y, "clf", penalty, l1_ratio)

            def make(k, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio):
                return model("clf", penalty, alpha, l1_ratio, "fista", 1e-30, k)

            make.data = (X, Y)
            _, n_max = _fit_time(make, 2 * args.n)  # warm-up; where it stops
            k1, k2 = (args.n, 2 * args.n) if n_max >= 2 * args.n else (
                n_max // 3, n_max)  # fmt: skip
            # the minimum over interleaved repeats: load only adds time
            floors, t1s, t2s = [], [], []
            for _ in range(args.repeat):
                floors.append(floor_time(X, Y, clock=time.process_time))
                t1, n1 = _fit_time(make, k1)
                t2, n2 = _fit_time(make, k2)
                t1s.append(t1)
                t2s.append(t2)
            cost = (min(t2s) - min(t1s)) / (n2 - n1)
            floor = min(floors)
            print(
                f"{layout} {penalty}: {cost * 1e6:.0f} us / iteration "
                f"(iterations {n1} to {n2}), floor {floor * 1e6:.0f} us, "
                f"ratio {cost / floor:.2f}",
                flush=True,
            )
    print(os.path.dirname(skmtl.__file__))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--n", type=int, default=100, help="iterations k")
    parser.add_argument("--only", nargs="*", help="penalties to run")
    with threadpool_limits(limits=1):
        main(parser.parse_args())
