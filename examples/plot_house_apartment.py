"""
=========================================================
House and apartment prices: two related regression tasks
=========================================================

Houses and apartments are priced by related but different rules: both pay
for floor area and bedrooms, houses also for bathrooms, apartments for their
location. The two datasets have different rows *and* different columns.

:func:`skmtl.stack_tasks` turns the two per-task tables into one ``X`` (columns
aligned by name, a column a task does not have is 0 on its rows) and one
``Y`` with one column per task and NaN where a row has no label for a task.
Everything after that is plain scikit-learn: a ``Pipeline``, ``GridSearchCV``
and the per-task scores of :mod:`skmtl.metrics`.

We compare three multi-task models with the two baselines every multi-task
result needs: each task alone (:class:`~skmtl.baselines.IndependentTasksRegressor`)
and all tasks as one (:class:`~skmtl.baselines.PooledTasksRegressor`). The
training set is small on purpose (10 % of each task's rows): that is where
sharing helps.
"""

# %%
# Stack the two tasks into one X and one Y
# ----------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import MultiTaskLasso, MultiTaskRidge, stack_tasks
from skmtl.baselines import IndependentTasksRegressor, PooledTasksRegressor
from skmtl.datasets import make_house_apartment
from skmtl.metrics import per_task_scores

data = make_house_apartment(n_houses=300, n_apartments=200, random_state=0)
print(data.Xs[0].head(3), "\n")
print(data.Xs[1].head(3), "\n")

X, Y = stack_tasks(data.Xs, data.ys)
print(X.shape, Y.shape)
print(Y.iloc[[0, 1, 299, 300, 301]])

# %%
# A training set with 10 % of each task's rows
# --------------------------------------------
# Splitters split rows, so any row-wise split works. Here we take a fixed
# fraction of *each task's* rows so that both tasks are in the training set.
rng = np.random.default_rng(0)
train = np.zeros(len(X), dtype=bool)
for t in range(Y.shape[1]):
    rows = np.flatnonzero(Y.iloc[:, t].notna())
    train[rng.choice(rows, size=int(0.1 * rows.size), replace=False)] = True
X_train, Y_train = X[train], Y[train]
X_test, Y_test = X[~train], Y[~train]
print(f"{train.sum()} training rows, {(~train).sum()} test rows")

# %%
# Tune every model with GridSearchCV
# ----------------------------------
# The estimators' ``score`` is the mean over tasks of the per-task R² on
# labelled entries only, so ``GridSearchCV`` works with NaN in ``Y``.
alphas = np.logspace(-4, 1, 6)
models = {
    "independent ridge": (
        IndependentTasksRegressor(Ridge()),
        {"estimator__alpha": np.logspace(-3, 3, 7)},
    ),
    "pooled ridge": (
        PooledTasksRegressor(Ridge()),
        {"estimator__alpha": np.logspace(-3, 3, 7)},
    ),
    "MultiTaskRidge": (
        MultiTaskRidge(),
        {"alpha": alphas, "coupling": np.logspace(-3, 1, 5)},
    ),
    # prices are in dollars, so the l21 penalty needs a larger alpha
    "MultiTaskLasso (l21)": (
        MultiTaskLasso(max_iter=5000),
        {"alpha": np.logspace(-1, 4, 6)},
    ),
}
cv = KFold(5, shuffle=True, random_state=0)
results = {}
for name, (model, grid) in models.items():
    pipe = make_pipeline(StandardScaler(), model)
    step = pipe.steps[-1][0]
    search = GridSearchCV(pipe, {f"{step}__{k}": v for k, v in grid.items()}, cv=cv)
    search.fit(X_train, Y_train)
    P = search.predict(X_test)
    results[name] = per_task_scores(Y_test, P, "r2")
    best = ", ".join(
        f"{k.split('__', 1)[1]}={v:.3g}" for k, v in search.best_params_.items()
    )
    print(f"{name:22s} best {best}")

# %%
# Per-task results and transfer gain
# ----------------------------------
# The *transfer gain* of a multi-task model is its score minus the score of
# independent models, task by task: negative values would be negative
# transfer.
task_names = list(Y.columns)
print(f"{'held-out R²':22s}" + "".join(f"{n:>12s}" for n in task_names))
for name, r2 in results.items():
    print(f"{name:22s}" + "".join(f"{v:12.3f}" for v in r2))
base = results["independent ridge"]
for name in ("MultiTaskRidge", "MultiTaskLasso (l21)"):
    gain = results[name] - base
    print(f"transfer gain of {name}: " + ", ".join(f"{g:+.3f}" for g in gain))

fig, ax = plt.subplots(figsize=(7, 3.5))
width = 0.8 / len(results)
x = np.arange(len(task_names))
for k, (name, r2) in enumerate(results.items()):
    ax.bar(x + k * width, r2, width, label=name)
ax.set_xticks(x + 0.4 - width / 2, task_names)
ax.set_ylabel("held-out R² per task")
ax.set_ylim(min(0.0, min(r.min() for r in results.values())), 1)
ax.legend(fontsize=8, loc="lower right")
ax.set_title("Trained on 10 % of each task's rows")
fig.tight_layout()
plt.show()
