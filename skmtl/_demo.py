"""The ``skmtl demo`` command: multi-task learning end to end.

House/apartment prices (default; **synthetic** data from
:func:`skmtl.datasets.make_house_apartment`) or the School exam scores
(``--school``): per-task data stacked into one ``X`` and one ``Y`` with NaN,
several multi-task models and the independent and pooled baselines tuned by
``GridSearchCV`` on the training rows only, then a per-task results table on
held-out rows, the transfer gain, and a paired comparison of the
pre-declared pair (mean-regularised ``MultiTaskRidge`` against independent
ridge): the per-split (or, on School, per-school) differences of held-out
mean absolute error, with their mean, 95% confidence interval and the count
of wins, so that the conclusion is printed with its uncertainty.
"""

import os
import time
import warnings

import numpy as np
from scipy import stats
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
            {"alpha": alphas, "l1_ratio": [0.0, 0.2] if quick else [0.0, 0.2]},
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
    cv = TaskShuffleSplit(3 if quick else 5, test_size=0.25, random_state=seed)
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
        with warnings.catch_warnings():
            # the grids deliberately reach past alpha_max (the null model is a
            # candidate): its "all coefficients are zero" warning is expected
            warnings.filterwarnings("ignore", message="All coefficients are zero")
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


# the comparison the demo's conclusion is about, declared before any result
# (picking the best-looking model afterwards would overstate the gain)
_BASELINE, _CANDIDATE = "independent ridge", "MultiTaskRidge (mean-regularised)"
_FIGURE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg", ".eps", ".ps", ".tif")


def _paired(diff, confidence=0.95):
    """Mean, confidence interval (Student t) and wins of paired differences."""
    diff = np.asarray(diff, dtype=np.float64)
    n = diff.size
    mean = float(diff.mean())
    if n < 2:
        return mean, (np.nan, np.nan), int(np.sum(diff < 0)), n
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * diff.std(ddof=1) / np.sqrt(n)
    return mean, (mean - half, mean + half), int(np.sum(diff < 0)), n


def _fmt(value, money):
    if not np.isfinite(value):
        return "n/a"
    if money:
        sign = "-" if value < 0 else "+"
        return f"{sign}${abs(value):,.0f}"
    return f"{value:+.3f}"


def _conclusion(mae_runs, names, task_names, money, per_task, log):
    """The pre-declared paired comparison, printed with its uncertainty.

    ``mae_runs`` is (n_splits, n_models, n_tasks). With several splits the
    pairs are the splits (same training and test rows for both models), per
    task; with one split (School) they are the tasks.
    """
    base, cand = names.index(_BASELINE), names.index(_CANDIDATE)
    diff = mae_runs[:, cand, :] - mae_runs[:, base, :]  # negative: candidate better
    unit = "dollars" if money else "score points"
    log(
        f"\nPaired comparison, declared in advance: {_CANDIDATE} against "
        f"{_BASELINE}, difference of held-out mean absolute error in {unit} "
        "(negative: the multi-task model is better), mean with 95% confidence "
        "interval:"
    )
    verdicts = []
    if per_task:
        groups = [(name, diff[:, t], mae_runs[:, base, t]) for t, name in
                  enumerate(task_names)]  # fmt: skip
        what = "splits"
    else:
        groups = [("all tasks", diff[0], mae_runs[0, base])]
        what = "tasks"
    for name, d, base_mae in groups:
        mean, (lo, hi), wins, n = _paired(d)
        rel = 100 * mean / float(np.mean(base_mae))
        if not np.isfinite(lo):
            verdict = "one split only: no uncertainty estimate"
        elif hi < 0:
            verdict = "lower error (the interval excludes 0)"
        elif lo > 0:
            verdict = "HIGHER error: negative transfer (the interval excludes 0)"
        else:
            verdict = "no clear difference (the interval includes 0)"
        log(
            f"  {name}: {_fmt(mean, money)} ({rel:+.1f}%), 95% CI "
            f"[{_fmt(lo, money)}, {_fmt(hi, money)}], better in {wins} of {n} "
            f"{what}: {verdict}."
        )
        verdicts.append((name, mean, lo, hi, wins, n))
    if per_task and diff.shape[0] < 10:
        log(
            f"  (only {diff.shape[0]} splits: the intervals are wide; the full "
            "run without --quick uses more.)"
        )
    return verdicts


def _figure(mae_runs, names, task_names, money, synthetic, path, log):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("\n(matplotlib not installed: no figure; pip install 'skmtl[plot]')")
        return None
    unit = "$" if money else "score points"
    base = names.index(_BASELINE)
    fig, (ax_err, ax_diff) = plt.subplots(1, 2, figsize=(11, 4.8))
    n_splits, n_models, n_tasks = mae_runs.shape
    if n_tasks <= 4:
        # left: each model's held-out error; right: paired difference to the
        # baseline; bars are means over splits, error bars 95% intervals
        x = np.arange(n_tasks)
        width = 0.8 / n_models
        tq = stats.t.ppf(0.975, n_splits - 1) if n_splits > 1 else np.nan
        for k, name in enumerate(names):
            m = mae_runs[:, k].mean(axis=0)
            ci = tq * mae_runs[:, k].std(axis=0, ddof=1) / np.sqrt(n_splits)
            ax_err.bar(x + k * width, m, width, yerr=ci, capsize=3, label=name)
        ax_err.set_xticks(x + 0.4 - width / 2, task_names)
        others = [k for k in range(n_models) if k != base]
        width_d = 0.8 / len(others)
        for j, k in enumerate(others):
            d = mae_runs[:, k] - mae_runs[:, base]
            ci = tq * d.std(axis=0, ddof=1) / np.sqrt(n_splits)
            ax_diff.bar(x + j * width_d, d.mean(axis=0), width_d, yerr=ci,
                        capsize=3, color=f"C{k}", label=names[k])  # fmt: skip
        ax_diff.set_xticks(x + 0.4 - width_d / 2, task_names)
        fig.legend(*ax_err.get_legend_handles_labels(), fontsize=8,
                   loc="lower center", ncol=3)  # fmt: skip
        note = f"mean and 95% CI over {n_splits} random splits"
    else:
        ax_err.boxplot([mae_runs[0, k] for k in range(n_models)], tick_labels=names)
        d = [mae_runs[0, k] - mae_runs[0, base] for k in range(n_models) if k != base]
        ax_diff.boxplot(d, tick_labels=[nm for k, nm in enumerate(names) if k != base])
        for ax in (ax_err, ax_diff):
            plt.setp(ax.get_xticklabels(), rotation=20, ha="right", fontsize=7)
        note = f"one box per model over {n_tasks} tasks"
    ax_diff.axhline(0.0, color="black", lw=0.8)
    ax_err.set_ylabel(f"held-out mean absolute error ({unit})")
    ax_diff.set_ylabel(f"error minus {_BASELINE}\n({unit}; below 0: better)")
    if money:
        from matplotlib.ticker import FuncFormatter

        dollars = FuncFormatter(lambda v, _: f"{'-' if v < 0 else ''}${abs(v):,.0f}")
        for ax in (ax_err, ax_diff):
            ax.yaxis.set_major_formatter(dollars)
    data = "synthetic house/apartment prices" if synthetic else "School exam scores"
    fig.suptitle(f"Multi-task models against baselines ({data}; {note})")
    fig.tight_layout(rect=(0, 0.1 if n_tasks <= 4 else 0, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    log(f"\nFigure saved to {path}")
    return path


def check_paths(school=None, figure=None):
    """Fail fast, before any fit, on a bad ``--school`` or ``--figure``."""
    if school is not None and not os.path.isfile(school):
        raise ValueError(
            f"--school {str(school)!r}: no such file. Pass the path of school.mat "
            "(for example /work/shared/data/school.mat)."
        )
    if figure:
        suffix = os.path.splitext(str(figure))[1].lower()
        if suffix not in _FIGURE_SUFFIXES:
            raise ValueError(
                f"--figure {str(figure)!r}: unknown image type {suffix or '(none)'!r}; "
                f"use one of {', '.join(_FIGURE_SUFFIXES)}, or '' for no figure."
            )
        folder = os.path.dirname(os.path.abspath(str(figure)))
        if not os.path.isdir(folder):
            raise ValueError(
                f"--figure {str(figure)!r}: the folder {folder!r} does not exist."
            )
        if not os.access(folder, os.W_OK):
            raise ValueError(
                f"--figure {str(figure)!r}: the folder {folder!r} is not writable."
            )


def run_demo(
    school=None, quick=False, figure="skmtl_demo.png", random_state=0, log=print
):
    """Run the demo and return the per-task results.

    House/apartment (synthetic data, :func:`skmtl.datasets.make_house_apartment`):
    600 houses and 80 apartments, 10% of each task's rows for training (60
    houses, 8 apartments: the small task is the one that needs to borrow),
    the rest for testing; every model tuned by ``GridSearchCV`` on the
    training rows only, over task-stratified random splits; repeated over 12
    random train/test splits (4 with ``quick``), and the pre-declared pair
    (mean-regularised ``MultiTaskRidge`` against independent ridge) compared
    split by split. School: one 20% split, compared school by school.

    Parameters
    ----------
    school : str or path, default=None
        Path of ``school.mat``; runs the School comparison instead of the
        house/apartment example.
    quick : bool, default=False
        Smaller grids, data and fewer splits (used by the tests).
    figure : str or None, default="skmtl_demo.png"
        Where to save the figure (needs matplotlib); None for no figure.
    random_state : int, default=0
    log : callable, default=print

    Returns
    -------
    rows : list of (model name, per-task R², per-task MAE)
        Means over the repeated splits.

    Raises
    ------
    ValueError
        Before any fit, if ``school`` is not a file or ``figure`` has an
        unknown image suffix or a missing or read-only folder.
    """
    from .datasets import load_school, make_house_apartment
    from .tasks import stack_tasks

    check_paths(school, figure)
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
        frac, money, synthetic = 0.1, True, True
        n_repeats = 4 if quick else 12
        log(
            "House/apartment prices: SYNTHETIC data (generated by "
            "skmtl.datasets.make_house_apartment from known linear pricing "
            f"rules plus noise, not real sales): {n_h} houses, {n_a} apartments, "
            f"{X.shape[1]} features after aligning columns by name; training on "
            f"{frac:.0%} of each task's rows ({round(frac * n_h)} houses, "
            f"{round(frac * n_a)} apartments), testing on the rest, "
            f"{n_repeats} random splits."
        )
    else:
        bunch = load_school(school)
        X, Y = bunch.X, bunch.Y
        task_names = list(bunch.task_names)
        frac, money, synthetic, n_repeats = 0.2, False, False, 1
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
    _conclusion(mae_runs, names, task_names, money, n_repeats > 1, log)
    if figure:
        _figure(mae_runs, names, task_names, money, synthetic, figure, log)
    return rows
