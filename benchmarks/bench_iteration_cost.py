"""Steady-state cost of one FISTA iteration over the matrix-product floor
(issue 14, high precision): logistic l21 / sparse_group / trace on
``bench_precision.py``'s problems (per-task data, shared X, shared X with
30% missing labels), one BLAS thread.

Per case: ``bench_precision.iteration_cost`` (CPU time, fits of k and 2k
iterations at ``tol=1e-30`` and the floor interleaved, minimum over
``--repeat``; see there). The ``skmtl`` of the current directory is
imported, so that runs from two checkouts can be interleaved on a loaded
machine:

    for i in 1 2 3; do
      (cd /path/to/new && python benchmarks/bench_iteration_cost.py)
      (cd /path/to/old && python /path/to/new/benchmarks/bench_iteration_cost.py)
    done
"""

import argparse
import os
import sys
import warnings

from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.getcwd())  # the checkout under test, before any other
from bench_precision import (  # noqa: E402
    alpha_max,
    iteration_cost,
    problem,
)

import skmtl  # noqa: E402

warnings.filterwarnings("ignore")
CASES = [("l21", 0.5), ("sparse_group", 0.5), ("trace", 0.5)]
LAYOUTS = ("per-task", "shared", "shared-missing")


def main(args):
    for layout in LAYOUTS:
        X, Y = problem("clf", layout, False)
        for penalty, l1_ratio in CASES:
            if args.only and penalty not in args.only:
                continue
            alpha = 0.1 * alpha_max(X, Y, "clf", penalty, l1_ratio)
            cost, floor, k1, k2 = iteration_cost(
                "clf", penalty, alpha, l1_ratio, X, Y, n=args.n, repeat=args.repeat
            )
            print(
                f"{layout} {penalty}: {cost * 1e6:.0f} us / iteration "
                f"(iterations {k1} to {k2}), floor {floor * 1e6:.0f} us, "
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
