"""Fits on dask collections: one pass over tall per-task data on a LocalCluster.

Problem: ``n`` rows x ``p`` float32 features, ``T`` tasks, each row labelled
for one random task (per-task data: ``Y`` is ``(n, T)`` with NaN elsewhere),
generated chunk by chunk on the workers (nothing is generated on the
client). Measured, on a ``LocalCluster`` of worker processes of this machine:

* wall time of ``MultiTaskRidge`` and ``MultiTaskLasso`` fitted on the dask
  arrays (statistics pass + solve on the client);
* one ``X.T @ X`` over the same dask data (dask's own reduction, float32):
  the floor of any one-pass method, and a pass that only generates the data
  (``X.sum()``);
* peak resident memory of each worker during each step (Linux ``VmHWM``,
  reset before each step through ``/proc/self/clear_refs``);
* the in-memory fit (numpy) on the largest size that fits here
  (``--n-memory`` rows), against the dask fit on the same rows;
* dask-ml's ``LinearRegression`` fitted per task (what a dask user has
  today), on ``--dask-ml-tasks`` tasks, extrapolated to ``T`` (marked);
* time vs ``n`` (Ridge, at n/4, n/2, n) and vs the number of workers.

Default ``--quick``: n = 2,000,000 x 100 float32 (800 MB), T = 100.
``--full``: the issue's n = 20,000,000 x 100 (8 GB of X).

    python benchmarks/bench_dask.py            # quick, a few minutes
    python benchmarks/bench_dask.py --full
"""

import argparse
import time
import warnings

import numpy as np

import skmtl

ROWS_PER_CHUNK = 100_000


def _gen_X(seed, p, block_id=None):
    rng = np.random.default_rng([seed, block_id[0]])
    X = rng.standard_normal((ROWS_PER_CHUNK, p), dtype=np.float32)
    X[:, 0] += 1.0  # a non-centred feature
    return X


def _gen_Y(X, seed, T, W, block_id=None):
    rng = np.random.default_rng([seed, 10**6 + block_id[0]])
    n = X.shape[0]
    task = rng.integers(0, T, n)
    y = np.einsum("ij,ij->i", X, W[task].astype(np.float32)) + rng.standard_normal(n)
    Y = np.full((n, T), np.nan)
    Y[np.arange(n), task] = y + task  # per-task intercepts
    return Y


def make_data(n, p, T, seed=0):
    import dask.array as da

    k = n // ROWS_PER_CHUNK
    W = np.random.default_rng(seed).standard_normal((T, p))
    W[:, p // 10 :] = 0.0  # 10% relevant features
    X = da.map_blocks(
        _gen_X, seed, p, chunks=((ROWS_PER_CHUNK,) * k, (p,)), dtype=np.float32,
        meta=np.empty((0, 0), np.float32),
    )  # fmt: skip
    Y = X.map_blocks(
        _gen_Y, seed, T, W, chunks=(X.chunks[0], (T,)), dtype=np.float64,
        meta=np.empty((0, 0)),
    )  # fmt: skip
    return X, Y, W


def _reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return np.nan


def measure(client, fn):
    """``(seconds, result, max over workers of the peak RSS in MB)``."""
    client.run(_reset_peak)
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    peak = max(client.run(_peak_mb).values())
    return dt, out, peak


def cluster(n_workers, memory_limit):
    from distributed import Client, LocalCluster

    c = LocalCluster(
        n_workers=n_workers, threads_per_worker=1, processes=True,
        memory_limit=memory_limit, dashboard_address=None,
    )  # fmt: skip
    return c, Client(c)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--p", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--n-memory", type=int, default=2_000_000)
    parser.add_argument("--dask-ml-tasks", type=int, default=1)
    parser.add_argument("--dask-ml-solver", default="lbfgs")
    parser.add_argument("--memory-limit", default="4GB")
    args = parser.parse_args()
    n = args.n or (20_000_000 if args.full else 2_000_000)
    p, T = args.p, args.tasks
    import dask
    import threadpoolctl

    threadpoolctl.threadpool_limits(1)  # one BLAS thread per worker, and here
    dask.config.set({"distributed.worker.memory.spill": False})
    print(
        f"n={n:,} p={p} T={T} float32 X ({n * p * 4 / 1e9:.2f} GB), "
        f"chunks of {ROWS_PER_CHUNK:,} rows ({ROWS_PER_CHUNK * p * 4 / 1e6:.0f} MB "
        f"of X, {ROWS_PER_CHUNK * T * 8 / 1e6:.0f} MB of Y)"
    )
    ridge = skmtl.MultiTaskRidge(alpha=1e-3, coupling=0.0)
    lasso = skmtl.MultiTaskLasso(alpha=0.1)
    rows = []

    def row(name, dt, peak, extra=""):
        rows.append((name, dt, peak, extra))
        print(f"| {name} | {dt:.1f} | {peak:.0f} | {extra} |", flush=True)

    print(
        "\n| step (2 workers) | wall s | peak MB / worker | note |\n|---|---|---|---|"
    )
    c, client = cluster(2, args.memory_limit)
    with c, client:
        client.run(lambda: __import__("skmtl._dask._stats"))  # imports, numba
        X, Y, W = make_data(n, p, T)
        dt, _, pk = measure(client, lambda: X.sum().compute())
        row("generate X only (X.sum())", dt, pk)
        dt, _, pk = measure(client, lambda: dask.compute(X.sum(), Y[:, 0].sum()))
        row("generate X and Y only", dt, pk)
        dt, _, pk = measure(client, lambda: (X.T @ X).compute())
        row("one X.T @ X (dask, float32)", dt, pk)
        t_xtx = dt
        dt, m, pk = measure(client, lambda: ridge.fit(X, Y))
        err = np.abs(m.coef_ - W).max()
        row(
            "MultiTaskRidge.fit(dask)",
            dt,
            pk,
            f"{dt / t_xtx:.2f}x X.T@X; max|W-W*| {err:.3f}",
        )
        dt, m, pk = measure(client, lambda: lasso.fit(X, Y))
        supp = int(np.count_nonzero(np.abs(m.coef_).sum(axis=0)))
        row(
            "MultiTaskLasso.fit(dask)",
            dt,
            pk,
            f"{dt / t_xtx:.2f}x X.T@X; {supp} features",
        )
        dt, m, pk = measure(
            client, lambda: skmtl.MultiTaskLassoCV(cv=5, n_alphas=20).fit(X, Y)
        )
        row(
            "MultiTaskLassoCV(cv=5, 20 alphas).fit(dask)",
            dt,
            pk,
            f"{dt / t_xtx:.2f}x X.T@X",
        )
        # time vs n (Ridge)
        for frac in (4, 2, 1):
            Xs, Ys = X[: n // frac], Y[: n // frac]
            dt, _, pk = measure(client, lambda: ridge.fit(Xs, Ys))
            row(f"MultiTaskRidge.fit(dask), n/{frac} = {n // frac:,}", dt, pk)
        # in memory vs dask on the largest size that fits
        nm = min(args.n_memory, n)
        Xm, Ym = X[:nm], Y[:nm]
        dt_d_r, _, _ = measure(client, lambda: ridge.fit(Xm, Ym))
        dt_d_l, _, _ = measure(client, lambda: lasso.fit(Xm, Ym))
        Xn, Yn = dask.compute(Xm, Ym)
        for name, est, dt_d in (
            ("MultiTaskRidge", ridge, dt_d_r),
            ("MultiTaskLasso", lasso, dt_d_l),
        ):
            t0 = time.perf_counter()
            est.fit(Xn, Yn)
            dt_m = time.perf_counter() - t0
            row(
                f"{name}.fit(numpy), n={nm:,} in memory",
                dt_m,
                np.nan,
                f"dask fit of the same rows {dt_d:.1f} s ({dt_m / dt_d:.2f}x)",
            )
        del Xn, Yn
        # dask-ml per task
        try:
            from dask_ml.linear_model import LinearRegression
        except ImportError:
            print("dask-ml not installed: no per-task comparison")
        else:
            k = args.dask_ml_tasks

            def per_task():
                for t in range(k):
                    lab = ~da_isnan(Y[:, t])
                    Xt = X[lab]
                    yt = Y[:, t][lab]
                    Xt.compute_chunk_sizes()
                    yt.compute_chunk_sizes()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        LinearRegression(
                            penalty="l2", C=1e3, solver=args.dask_ml_solver
                        ).fit(Xt, yt)

            dt, _, pk = measure(client, per_task)
            row(
                f"dask-ml LinearRegression({args.dask_ml_solver}), {k} task(s)",
                dt,
                pk,
                f"x {T}/{k} = {dt * T / k:.0f} s for all {T} tasks (extrapolated), "
                f"{dt * T / k / t_xtx:.0f}x X.T@X",
            )
    # vs number of workers
    for nw in (1, 2):
        c, client = cluster(nw, args.memory_limit)
        with c, client:
            client.run(lambda: __import__("skmtl._dask._stats"))
            X, Y, W = make_data(n, p, T)
            dt, _, pk = measure(client, lambda: (X.T @ X).compute())
            row(f"{nw} worker(s): X.T @ X", dt, pk)
            dt, _, pk = measure(client, lambda: ridge.fit(X, Y))
            row(f"{nw} worker(s): MultiTaskRidge.fit(dask)", dt, pk)


def da_isnan(a):
    import dask.array as da

    return da.isnan(a)


if __name__ == "__main__":
    main()
