"""
===================================================
School exam scores: a multi-task learning curve
===================================================

The School data (Inner London Education Authority, as distributed with
MALSAR) has one regression task per school: predict a student's exam score
from 27 student and school features. 139 schools, 15362 students, between
22 and 251 students per school.

We grow the number of training students per school and compare, on held-out
students, three ways to use the data:

* **independent**: one ridge regression per school
  (:class:`~skmtl.baselines.IndependentTasksRegressor`);
* **pooled**: one ridge regression for all schools
  (:class:`~skmtl.baselines.PooledTasksRegressor`);
* **multi-task**: :class:`~skmtl.MultiTaskRidge`, which pulls each school's
  model toward the mean of all schools (mean-regularised multi-task learning,
  Evgeniou & Pontil, 2004).

With few students per school the multi-task model should beat the independent
one (it borrows strength from the other schools) and keep up with pooling;
as data grows, the independent models catch up.

The example reads ``school.mat`` with :func:`skmtl.datasets.load_school` if
it finds the file next to the repository (``../shared/data/school.mat``);
otherwise it falls back to a synthetic problem from
:func:`skmtl.datasets.make_multitask_regression` and says so. To keep it
fast, there are three training sizes, the grids are small and each point
is averaged over 2 random splits.
"""

# %%
# Load the data
# -------------
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GridSearchCV

from skmtl import MultiTaskRidge
from skmtl.baselines import IndependentTasksRegressor, PooledTasksRegressor
from skmtl.datasets import load_school, make_multitask_regression
from skmtl.metrics import explained_variance_score
from skmtl.model_selection import TaskStratifiedKFold

try:
    here = Path(__file__).resolve().parent
except NameError:  # interactive session
    here = Path.cwd()
candidates = [
    here / ".." / "shared" / "data" / "school.mat",
    here / ".." / ".." / "shared" / "data" / "school.mat",
]
path = next((p for p in candidates if p.is_file()), None)
if path is not None:
    school = load_school(path)
    X, Y = school.X, school.Y
    print(f"School data from {path.resolve()}")
else:
    print(
        "Note: school.mat not found; using a synthetic problem from "
        "make_multitask_regression instead (139 related tasks)."
    )
    X, Y = make_multitask_regression(
        n_tasks=139,
        n_samples=110,
        n_features=27,
        structure="clustered",
        n_clusters=1,  # every task near one common model
        relatedness=0.9,
        noise=3.0,
        random_state=0,
    )
n_tasks = Y.shape[1]
counts = (~np.isnan(Y)).sum(axis=0)
print(f"{X.shape[0]} rows, {X.shape[1]} features, {n_tasks} tasks")
print(f"labelled rows per task: min {counts.min()}, max {counts.max()}")

# standardise the features once (the models fit per-task intercepts)
X = (X - X.mean(axis=0)) / X.std(axis=0)


# %%
# Per-task training sizes
# -----------------------
# For each training size ``k`` we keep ``k`` labelled rows of every task
# (fewer if a task has fewer than ``k + 5``) for training and score on the
# remaining rows: explained variance per task, averaged over tasks (the
# measure used in the MALSAR papers).
def split(Y, k, rng):
    train = np.zeros(Y.shape[0], dtype=bool)
    for t in range(Y.shape[1]):
        rows = np.flatnonzero(~np.isnan(Y[:, t]))
        n = min(k, rows.size - 5)
        train[rng.choice(rows, size=n, replace=False)] = True
    return train


# Each baseline tunes its ridge strength by efficient leave-one-out
# (``RidgeCV``; for the independent baseline, one ``alpha`` per task). The
# multi-task model tunes ``coupling`` with ``GridSearchCV``. Its folds come from
# :class:`~skmtl.model_selection.TaskStratifiedKFold`, so that every task has
# labels in every training fold (a task with no label at all cannot be
# fitted; plain ``KFold`` can leave a school with 5 rows without any).
ridge_alphas = np.logspace(-2, 3, 11)
models = {
    "independent ridge": IndependentTasksRegressor(RidgeCV(alphas=ridge_alphas)),
    "pooled ridge": PooledTasksRegressor(RidgeCV(alphas=ridge_alphas)),
}
mtl_grid = {"coupling": [0.3, 3.0, 30.0]}

sizes = [5, 15, 40]
n_repeats = 2
names = [*models, "MultiTaskRidge"]
scores = {name: np.zeros((len(sizes), n_repeats)) for name in names}
for i, k in enumerate(sizes):
    for r in range(n_repeats):
        train = split(Y, k, np.random.default_rng(r))
        X_train, Y_train = X[train], Y[train]
        X_test, Y_test = X[~train], Y[~train]
        for name, model in models.items():
            P = model.fit(X_train, Y_train).predict(X_test)
            scores[name][i, r] = explained_variance_score(Y_test, P)
        folds = TaskStratifiedKFold(3, shuffle=True, random_state=r)
        search = GridSearchCV(
            MultiTaskRidge(alpha=1e-2, tol=1e-6),
            mtl_grid,
            cv=folds,
        )
        P = search.fit(X_train, Y_train).predict(X_test)
        scores["MultiTaskRidge"][i, r] = explained_variance_score(Y_test, P)
    print(
        f"{k:3d} rows per task: "
        + ", ".join(f"{n} {s[i].mean():.3f}" for n, s in scores.items())
    )

# %%
# The learning curve
# ------------------
fig, ax = plt.subplots(figsize=(6.5, 4))
for name, s in scores.items():
    ax.errorbar(sizes, s.mean(axis=1), yerr=s.std(axis=1), marker="o", label=name)
ax.set_xscale("log")
ax.set_xticks(sizes, [str(k) for k in sizes])
ax.set_xlabel("training rows per task")
ax.set_ylabel("held-out explained variance\n(mean over tasks)")
ax.legend()
ax.set_title("Multi-task vs independent vs pooled")
fig.tight_layout()
plt.show()

# %%
# The transfer gain (multi-task minus independent) is largest when each task
# has little data; pooling is a strong baseline on School because the schools
# are very similar, and the multi-task model chooses how far to pool through
# ``coupling``.
gain = scores["MultiTaskRidge"].mean(axis=1) - scores["independent ridge"].mean(axis=1)
for k, g in zip(sizes, gain, strict=True):
    print(f"transfer gain at {k:3d} rows per task: {g:+.3f}")
