"""How far the correlated shared-X Lasso fits are from their product floors.

For the 12 goal cases of issue 14 ({wide, tall, small} x {rho 0, 0.5} x
{alpha_max/10, /100}, the problems of ``bench_l21.py --only-correlated``)
this prints, in CPU time on one BLAS thread:

- scikit-learn's and skmtl's time to a relative suboptimality of 1e-6 (each
  at the loosest ``tol`` that reaches it, median of runs);
- two floors, the cost of products a solver cannot avoid:
  * the *certificate floor*, ``2 x (X^T Y)``: a solver that reports a
    duality gap computes ``X^T`` times a residual at least at the start and
    at the end;
  * the *Gram floor*, ``X^T X + X^T Y``: a solver that works with the
    normal equations (needed where the support is nearly every feature)
    builds the Gram once.

Each is printed as a ratio to scikit-learn's time, with geometric means.
The goal (skmtl / scikit-learn <= 0.3 in geometric mean) is within reach
only where the floors are well below 0.3.

Run:  python benchmarks/bench_l21_floor.py [--repeat 30] [--full]

``--full``: the issue's sizes (``bench_l21.py`` without ``--quick``);
by default ``--quick``'s.
"""

import argparse
import time

import numpy as np
from _common import l21_objective
from bench_l21 import FULL_SHAPES, QUICK_SHAPES, TOLS, alpha_max, correlated_problem


def cpu_ms(fn, repeat):
    """Median CPU time of ``fn()`` in ms, after one warm-up run."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.thread_time()
        fn()
        times.append(time.thread_time() - t0)
    return 1e3 * float(np.median(times))


def loosest_tol(make, X, Y, alpha, p_star, target=1e-6):
    """The loosest tolerance in ``TOLS`` whose fit is within ``target``."""
    for tol in TOLS:
        m = make(tol).fit(X, Y)
        if (l21_objective(X, Y, m.coef_, m.intercept_, alpha) - p_star) <= (
            target * p_star
        ):
            return tol
    raise RuntimeError("no tolerance reached the target")


def geometric_mean(ratios):
    return float(np.exp(np.mean(np.log(ratios))))


def main():
    from sklearn.linear_model import MultiTaskLasso as SkMTL
    from threadpoolctl import threadpool_limits

    from skmtl import MultiTaskLasso

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--full", action="store_true", help="the issue's sizes, not --quick's"
    )
    args = parser.parse_args()
    threadpool_limits(1)
    makers = {
        "skmtl": lambda a: lambda tol: MultiTaskLasso(alpha=a, tol=tol, max_iter=10**5),
        "sklearn": lambda a: lambda tol: SkMTL(alpha=a, tol=tol, max_iter=10**5),
    }
    print(
        "| case | support | scikit-learn (ms) | skmtl / sk | 2 X^T Y / sk "
        "| (X^T X + X^T Y) / sk |\n|---|---|---|---|---|---|"
    )
    ours, cert, gram = [], [], []
    shapes = FULL_SHAPES if args.full else QUICK_SHAPES
    for shape, (n, p, T) in shapes.items():
        for rho in (0.0, 0.5):
            X, Y = correlated_problem(n, p, T, rho)
            t_xx = cpu_ms(lambda: X.T @ X, args.repeat)
            t_xy = cpu_ms(lambda: X.T @ Y, args.repeat)
            for ratio in (10, 100):
                alpha = alpha_max(X, Y) / ratio
                ref = MultiTaskLasso(alpha=alpha, tol=1e-12, max_iter=200_000)
                ref.fit(X, Y)
                p_star = l21_objective(X, Y, ref.coef_, ref.intercept_, alpha)
                support = int(np.any(ref.coef_ != 0, axis=0).sum())
                t = {}
                for name, make in makers.items():
                    fit_at = make(alpha)
                    tol = loosest_tol(fit_at, X, Y, alpha, p_star)
                    t[name] = cpu_ms(lambda: fit_at(tol).fit(X, Y), args.repeat)
                ours.append(t["skmtl"] / t["sklearn"])
                cert.append(2 * t_xy / t["sklearn"])
                gram.append((t_xx + t_xy) / t["sklearn"])
                print(
                    f"| {shape} rho {rho} /{ratio} | {support} | {t['sklearn']:.2f} "
                    f"| {ours[-1]:.2f} | {cert[-1]:.2f} | {gram[-1]:.2f} |",
                    flush=True,
                )
    print(
        f"| geometric mean | | | {geometric_mean(ours):.2f} "
        f"| {geometric_mean(cert):.2f} | {geometric_mean(gram):.2f} |"
    )


if __name__ == "__main__":
    main()
