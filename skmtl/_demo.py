"""The ``skmtl demo`` command: multi-task learning end to end.

House/apartment prices (default) or the School exam scores (``--school``):
per-task data stacked into one ``X`` and one ``Y`` with NaN, several
multi-task models and the independent and pooled baselines tuned by
``GridSearchCV`` on the training rows only, then a per-task results table on
held-out rows and the transfer gain (multi-task minus independent).
"""

import time

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .baselines import IndependentTasksRegressor, PooledTasksRegressor
from .linear_model import MultiTaskLasso, MultiTaskLinearRegression, MultiTaskRidge
from .metrics import per_task_scores


def _models(quick):
    alphas = np.logspace(-4, 1, 4 if quick else 8)
    couplings = np.logspace(-3, 1, 3 if quick else 5)
    return [
        (
            "independent ridge",
            IndependentTasksRegressor(Ridge()),
            {"estimator__alpha": np.logspace(-3, 3, 4 if quick else 7)},
        ),
        (
            "pooled ridge",
            PooledTasksRegressor(Ridge()),
            {"estimator__alpha": np.logspace(-3, 3, 4 if quick else 7)},
        ),
        (
            "MultiTaskRidge (mean-regularised)",
            MultiTaskRidge(),
            {"alpha": alphas, "coupling": couplings},
        ),
        ("MultiTaskLasso (l21)", MultiTaskLasso(max_iter=5000), {"alpha": alphas}),
        (
            "graph penalty (mean pull + l1)",
            MultiTaskLinearRegression(penalty="graph", max_iter=5000),
            {"alpha": alphas, "l1_ratio": [0.0, 0.2] if quick else [0.0, 0.1, 0.5]},
        ),
    ]


def _split_per_task(Y, train_fraction, rng):
    """Boolean train mask: ``train_fraction`` of each task's labelled rows."""
    train = np.zeros(Y.shape[0], dtype=bool)
    for t in range(Y.shape[1]):
        rows = np.flatnonzero(~np.isnan(Y[:, t]))
        k = max(2, int(round(train_fraction * rows.size)))
        train[rng.choice(rows, size=k, replace=False)] = True
    return train


def _fit_all(X_train, Y_train, quick, log):
    fitted = []
    models = _models(quick)
    cv = KFold(3 if quick else 5, shuffle=True, random_state=0)
    for k, (name, model, grid) in enumerate(models, start=1):
        n_cand = int(np.prod([len(v) for v in grid.values()]))
        log(
            f"[{k}/{len(models)}] {name}: GridSearchCV over {n_cand} candidates "
            f"x {cv.get_n_splits()} folds ..."
        )
        t0 = time.perf_counter()
        pipe = make_pipeline(StandardScaler(), model)
        step = pipe.steps[-1][0]
        search = GridSearchCV(
            pipe, {f"{step}__{key}": v for key, v in grid.items()}, cv=cv
        )
        search.fit(X_train, Y_train)
        best = {key.split("__", 1)[1]: v for key, v in search.best_params_.items()}
        log(f"      done in {time.perf_counter() - t0:.1f}s; best {best}")
        fitted.append((name, search.best_estimator_))
    return fitted


def _table(fitted, X_test, Y_test, task_names, money, log):
    rows = []
    for name, model in fitted:
        P = model.predict(X_test)
        r2 = per_task_scores(Y_test, P, "r2")
        mae = np.array(
            [
                np.mean(
                    np.abs(
                        Y_test[~np.isnan(Y_test[:, t]), t]
                        - P[~np.isnan(Y_test[:, t]), t]
                    )
                )
                for t in range(Y_test.shape[1])
            ]
        )
        rows.append((name, r2, mae))
    width = max(len(r[0]) for r in rows) + 2
    if len(task_names) <= 4:
        header = "".join(f"{'R2 ' + n:>16}{'MAE ' + n:>18}" for n in task_names)
        log("\n" + "model".ljust(width) + header)
        for name, r2, mae in rows:
            cells = "".join(
                f"{r:>16.3f}{(f'${m:,.0f}' if money else f'{m:.3f}'):>18}"
                for r, m in zip(r2, mae, strict=True)
            )
            log(name.ljust(width) + cells)
    else:
        log(
            "\n"
            + "model".ljust(width)
            + f"{'mean R2':>10}{'min R2':>10}{'mean MAE':>12}  (over "
            f"{len(task_names)} tasks)"
        )
        for name, r2, mae in rows:
            log(
                name.ljust(width)
                + f"{np.mean(r2):>10.3f}{np.min(r2):>10.3f}{np.mean(mae):>12.3f}"
            )
    return rows


def _transfer_gain(rows, log):
    base = rows[0][1]
    log(
        "\nTransfer gain (R2 of the model minus independent ridge, per task; "
        "negative = negative transfer):"
    )
    for name, r2, _ in rows[1:]:
        gain = r2 - base
        cells = ", ".join(f"{g:+.3f}" for g in gain[:6])
        more = " ..." if gain.size > 6 else ""
        log(f"  {name:<36} mean {gain.mean():+.3f}  [{cells}{more}]")


def _figure(rows, task_names, path, log):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("\n(matplotlib not installed: no figure; pip install 'skmtl[plot]')")
        return None
    fig, ax = plt.subplots(figsize=(8, 4))
    n_models = len(rows)
    if len(task_names) <= 4:
        x = np.arange(len(task_names))
        width = 0.8 / n_models
        for k, (name, r2, _) in enumerate(rows):
            ax.bar(x + k * width, r2, width, label=name)
        ax.set_xticks(x + 0.4 - width / 2, task_names)
    else:
        ax.boxplot([r[1] for r in rows], tick_labels=[r[0] for r in rows])
        plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    ax.set_ylabel("held-out R² per task")
    ax.set_title("Multi-task models against independent and pooled baselines")
    if len(task_names) <= 4:
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    log(f"\nFigure saved to {path}")
    return path


def run_demo(
    school=None, quick=False, figure="skmtl_demo.png", random_state=0, log=print
):
    """Run the demo and return the per-task results.

    Parameters
    ----------
    school : str or path, default=None
        Path of ``school.mat``; runs the School comparison instead of the
        house/apartment example.
    quick : bool, default=False
        Smaller grids and data (used by the tests).
    figure : str or None, default="skmtl_demo.png"
        Where to save the figure (needs matplotlib); None for no figure.
    random_state : int, default=0
    log : callable, default=print

    Returns
    -------
    rows : list of (model name, per-task R², per-task MAE)
    """
    from .datasets import load_school, make_house_apartment
    from .tasks import stack_tasks

    rng = np.random.default_rng(random_state)
    if school is None:
        n_h, n_a = (120, 80) if quick else (300, 200)
        bunch = make_house_apartment(
            n_houses=n_h, n_apartments=n_a, random_state=random_state
        )
        X, Y = stack_tasks(bunch.Xs, bunch.ys, task_names=bunch.task_names)
        task_names = list(Y.columns)
        X, Y = X.to_numpy(float), Y.to_numpy(float)
        frac, money = 0.1, True
        log(
            f"House/apartment prices: {n_h} houses, {n_a} apartments, "
            f"{X.shape[1]} features after aligning columns by name; "
            f"training on {frac:.0%} of each task's rows."
        )
    else:
        bunch = load_school(school)
        X, Y = bunch.X, bunch.Y
        task_names = list(bunch.task_names)
        frac, money = (0.2, False)
        if quick:
            keep = np.flatnonzero(~np.all(np.isnan(Y[:, :20]), axis=1))
            X, Y, task_names = X[keep], Y[keep, :20], task_names[:20]
        log(
            f"School: {Y.shape[1]} schools, {X.shape[0]} students, {X.shape[1]} "
            f"features; training on {frac:.0%} of each school's students."
        )
    train = _split_per_task(Y, frac, rng)
    fitted = _fit_all(X[train], Y[train], quick, log)
    Y_test = Y[~train]
    rows = _table(fitted, X[~train], Y_test, task_names, money, log)
    _transfer_gain(rows, log)
    if figure:
        _figure(rows, task_names, figure, log)
    return rows
