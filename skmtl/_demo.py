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
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .baselines import IndependentTasksRegressor, PooledTasksRegressor
from .linear_model import MultiTaskLasso, MultiTaskLinearRegression, MultiTaskRidge
from .metrics import make_multitask_scorer, per_task_scores
from .model_selection import TaskShuffleSplit


def _models(quick, y_scale):
    alphas = np.logspace(-4, 1, 4 if quick else 8)
    couplings = np.logspace(-3, 1, 3 if quick else 5)
    # the l21 penalty is linear in W, so its alpha scales with the targets
    # (dollars here): the grid spans 0.01..3 times their standard deviation;
    # lower, the fits are nearly unpenalised and slow on collinear columns
    l21_alphas = y_scale * np.logspace(-2, 0.5, 4 if quick else 8)
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
        (
            "MultiTaskLasso (l21)",
            MultiTaskLasso(max_iter=50_000),  # collinear one-hot columns: slow CD
            {"alpha": l21_alphas},
        ),
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


def _fit_all(X_train, Y_train, quick, log, seed=0, prefix=""):
    fitted = []
    models = _models(quick, float(np.nanstd(Y_train)))
    # random task-stratified splits: every task keeps its share of labelled
    # rows in every split (a task with 10 rows gets 2-3 validation rows each
    # time, and never loses its training rows)
    cv = TaskShuffleSplit(3 if quick else 8, test_size=0.25, random_state=seed)
    for k, (name, model, grid) in enumerate(models, start=1):
        n_cand = int(np.prod([len(v) for v in grid.values()]))
        log(
            f"{prefix}[{k}/{len(models)}] {name}: GridSearchCV over {n_cand} "
            f"candidates x {cv.get_n_splits()} splits ..."
        )
        t0 = time.perf_counter()
        pipe = make_pipeline(StandardScaler(), model)
        step = pipe.steps[-1][0]
        # selected on the per-task MSE averaged over tasks: an R² on the 2-3
        # validation rows of a small task is too noisy to choose by
        search = GridSearchCV(
            pipe,
            {f"{step}__{key}": v for key, v in grid.items()},
            cv=cv,
            scoring=make_multitask_scorer("mse"),
        )
        search.fit(X_train, Y_train)
        best = {key.split("__", 1)[1]: v for key, v in search.best_params_.items()}
        log(f"      done in {time.perf_counter() - t0:.1f}s; best {best}")
        fitted.append((name, search.best_estimator_))
    return fitted


def _evaluate(fitted, X_test, Y_test):
    """``[(model name, per-task R², per-task MAE)]`` on held-out rows."""
    rows = []
    for name, model in fitted:
        P = model.predict(X_test)
        r2 = per_task_scores(Y_test, P, "r2")
        mae = np.array(
            [
                np.mean(np.abs(Y_test[m, t] - P[m, t]))
                for t, m in enumerate((~np.isnan(Y_test)).T)
            ]
        )
        rows.append((name, r2, mae))
    return rows


def _table(rows, r2_std, task_names, money, n_repeats, log):
    width = max(len(r[0]) for r in rows) + 2
    over = f" (mean over {n_repeats} splits)" if n_repeats > 1 else ""
    if len(task_names) <= 4:
        header = "".join(f"{'R2 ' + n:>20}{'MAE ' + n:>17}" for n in task_names)
        log(f"\nHeld-out results{over}:\n" + "model".ljust(width) + header)
        for (name, r2, mae), sd in zip(rows, r2_std, strict=True):
            cells = "".join(
                f"{f'{r:.3f} ± {s:.3f}':>20}"
                f"{(f'${m:,.0f}' if money else f'{m:.3f}'):>17}"
                for r, s, m in zip(r2, sd, mae, strict=True)
            )
            log(name.ljust(width) + cells)
    else:
        log(
            f"\nHeld-out results{over}:\n"
            + "model".ljust(width)
            + f"{'mean R2':>10}{'min R2':>10}{'mean MAE':>12}  (over "
            f"{len(task_names)} tasks)"
        )
        for name, r2, mae in rows:
            log(
                name.ljust(width)
                + f"{np.mean(r2):>10.3f}{np.min(r2):>10.3f}{np.mean(mae):>12.3f}"
            )


def _transfer_gain(r2_runs, names, log):
    """Per-task gain over independent ridge, mean ± std over the splits."""
    gains = r2_runs[:, 1:, :] - r2_runs[:, :1, :]  # (repeats, models - 1, tasks)
    mean, std = gains.mean(axis=0), gains.std(axis=0)
    log(
        "\nTransfer gain (held-out R2 of the model minus independent ridge, per "
        "task; negative = negative transfer):"
    )
    for k, name in enumerate(names[1:]):
        cells = ", ".join(
            f"{m:+.3f} ± {s:.3f}" if r2_runs.shape[0] > 1 else f"{m:+.3f}"
            for m, s in zip(mean[k, :6], std[k, :6], strict=True)
        )
        more = " ..." if mean.shape[1] > 6 else ""
        log(f"  {name:<36} mean {mean[k].mean():+.3f}  [{cells}{more}]")


def _summary(rows, task_names, log):
    """One line per task: the best model against independent models."""
    log("\nBest model per task, against independent ridge:")
    base_r2, base_mae = rows[0][1], rows[0][2]
    for t, task in enumerate(task_names):
        name, r2, mae = max(rows, key=lambda row: row[1][t])
        change = 100 * (mae[t] - base_mae[t]) / base_mae[t]
        log(
            f"  {task}: {name}, R2 {base_r2[t]:.3f} -> {r2[t]:.3f}, "
            f"mean absolute error {change:+.0f}%"
        )


def _figure(rows, r2_std, task_names, path, log):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("\n(matplotlib not installed: no figure; pip install 'skmtl[plot]')")
        return None
    fig, ax = plt.subplots(figsize=(8, 4.8))
    n_models = len(rows)
    if len(task_names) <= 4:
        x = np.arange(len(task_names))
        width = 0.8 / n_models
        for k, ((name, r2, _), sd) in enumerate(zip(rows, r2_std, strict=True)):
            ax.bar(x + k * width, r2, width, yerr=sd, capsize=3, label=name)
        ax.set_xticks(x + 0.4 - width / 2, task_names)
        lo = min(float(np.min(r[1] - s)) for r, s in zip(rows, r2_std, strict=True))
        ax.set_ylim(max(0.0, lo - 0.1), 1.0)
    else:
        ax.boxplot([r[1] for r in rows], tick_labels=[r[0] for r in rows])
        plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    ax.set_ylabel("held-out R² per task")
    ax.set_title("Multi-task models against independent and pooled baselines")
    if len(task_names) <= 4:
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    log(f"\nFigure saved to {path}")
    return path


def run_demo(
    school=None, quick=False, figure="skmtl_demo.png", random_state=0, log=print
):
    """Run the demo and return the per-task results.

    House/apartment: 600 houses and 80 apartments, 10% of each task's rows
    for training (60 houses, 8 apartments: the small task is the one that
    needs to borrow), the rest for testing; every
    model tuned by ``GridSearchCV`` on the training rows only, over
    task-stratified random splits; repeated over 5 random train/test splits
    (2 with ``quick``) and averaged. School: one 20% split.

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
        Means over the repeated splits.
    """
    from .datasets import load_school, make_house_apartment
    from .tasks import stack_tasks

    rng = np.random.default_rng(random_state)
    if school is None:
        n_h, n_a = (120, 60) if quick else (600, 80)
        # arrays, not DataFrames: the demo must run without pandas (an
        # optional dependency); stack_tasks aligns their columns by name
        bunch = make_house_apartment(
            n_houses=n_h, n_apartments=n_a, random_state=random_state, as_frame=False
        )
        X, Y = stack_tasks(
            bunch.Xs,
            bunch.ys,
            task_names=bunch.task_names,
            feature_names=bunch.feature_names,
        )
        task_names = list(bunch.task_names)
        frac, money = 0.1, True
        n_repeats = 2 if quick else 5
        log(
            f"House/apartment prices: {n_h} houses, {n_a} apartments, "
            f"{X.shape[1]} features after aligning columns by name; training on "
            f"{frac:.0%} of each task's rows ({round(frac * n_h)} houses, "
            f"{round(frac * n_a)} apartments), testing on the rest, "
            f"{n_repeats} random splits."
        )
    else:
        bunch = load_school(school)
        X, Y = bunch.X, bunch.Y
        task_names = list(bunch.task_names)
        frac, money, n_repeats = 0.2, False, 1
        if quick:
            keep = np.flatnonzero(~np.all(np.isnan(Y[:, :20]), axis=1))
            X, Y, task_names = X[keep], Y[keep, :20], task_names[:20]
        log(
            f"School: {Y.shape[1]} schools, {X.shape[0]} students, {X.shape[1]} "
            f"features; training on {frac:.0%} of each school's students."
        )
    runs = []
    for rep in range(n_repeats):
        prefix = f"split {rep + 1}/{n_repeats} " if n_repeats > 1 else ""
        train = _split_per_task(Y, frac, rng)
        fitted = _fit_all(X[train], Y[train], quick, log, seed=rep, prefix=prefix)
        runs.append(_evaluate(fitted, X[~train], Y[~train]))
    names = [name for name, _, _ in runs[0]]
    r2_runs = np.array([[r2 for _, r2, _ in run] for run in runs])
    mae_runs = np.array([[mae for _, _, mae in run] for run in runs])
    rows = [
        (name, r2_runs[:, k].mean(axis=0), mae_runs[:, k].mean(axis=0))
        for k, name in enumerate(names)
    ]
    r2_std = r2_runs.std(axis=0)
    _table(rows, r2_std, task_names, money, n_repeats, log)
    _transfer_gain(r2_runs, names, log)
    if len(task_names) <= 4:
        _summary(rows, task_names, log)
    if figure:
        _figure(rows, r2_std, task_names, figure, log)
    return rows
