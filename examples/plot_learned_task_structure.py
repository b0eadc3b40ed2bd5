"""
============================================================
Learning which tasks are related: clusters, covariance, tree
============================================================

Fixed-structure multi-task models decide in advance how tasks relate: all
tasks pulled to one mean (:class:`~skmtl.MultiTaskRidge`), one shared set of
features (``"l21"``), one shared subspace (``"trace"``). When the tasks come
in groups, a wrong guess costs accuracy. Three models learn the structure
with the coefficients:

* ``penalty="clustered"``: convex clustered MTL, ``n_clusters`` groups;
  ``task_clusters_`` are the groups found.
* ``penalty="relationship"``: task-relationship learning (MTRL);
  ``task_covariance_`` is the task covariance learned.
* ``penalty="tree"``: tree-guided group lasso over a task hierarchy learned
  from the data (``task_tree_``).

The tasks here come from three planted groups (three tasks each, sharing a
sparse coefficient vector up to small deviations) plus one unrelated task,
with 25 training rows per task. Every model is tuned by cross-validation on
the training rows only, then scored on held-out rows, task by task.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import RidgeCV

from skmtl import stack_tasks
from skmtl.baselines import IndependentTasksRegressor, PooledTasksRegressor
from skmtl.inspection import task_structure
from skmtl.model_selection import MultiTaskLinearRegressionCV, MultiTaskRidgeCV
from skmtl.plotting import plot_task_similarity, plot_task_tree

rng = np.random.default_rng(0)
n_features, groups = 20, [0, 0, 0, 1, 1, 1, 2, 2, 2]
centres = rng.normal(size=(3, n_features)) * (rng.random((3, n_features)) < 0.3)
W = [
    centres[g] + 0.15 * rng.normal(size=n_features) * (centres[g] != 0) for g in groups
]
W.append(rng.normal(size=n_features) * (rng.random(n_features) < 0.3))  # unrelated
W = np.array(W)
names = [f"g{g}.{i % 3}" for i, g in enumerate(groups)] + ["alone"]


def draw(n):
    Xs = [rng.normal(size=(n, n_features)) for _ in W]
    ys = [X @ w + rng.normal(size=n) for X, w in zip(Xs, W, strict=True)]
    return stack_tasks(Xs, ys)  # one row per sample, NaN for the other tasks


X, Y = draw(25)
X_test, Y_test = draw(200)

# %%
# Fit: learned structure, fixed structure, baselines
# ---------------------------------------------------
cv = dict(n_alphas=8, cv=3)
models = {
    "clustered": MultiTaskLinearRegressionCV(
        "clustered", n_clusters=4, beta_ratio=0.01, **cv
    ),
    "relationship": MultiTaskLinearRegressionCV("relationship", **cv),
    "tree": MultiTaskLinearRegressionCV("tree", **cv),
    "ridge, mean coupling": MultiTaskRidgeCV(
        alphas=np.geomspace(1e-3, 10, 6), couplings=np.geomspace(1e-3, 10, 6), cv=3
    ),
    "l21": MultiTaskLinearRegressionCV("l21", **cv),
    "trace": MultiTaskLinearRegressionCV("trace", **cv),
    "independent": IndependentTasksRegressor(RidgeCV(np.geomspace(1e-3, 1e3, 13))),
    "pooled": PooledTasksRegressor(RidgeCV(np.geomspace(1e-3, 1e3, 13))),
}
errors = {}
for name, model in models.items():
    model.fit(X, Y)
    P = model.predict(X_test)
    labelled = ~np.isnan(Y_test)
    errors[name] = np.array(
        [np.mean((P[m, t] - Y_test[m, t]) ** 2) for t, m in enumerate(labelled.T)]
    )
    print(f"{name:>22}: held-out per-task MSE {errors[name].mean():.2f}")

# %%
# What was learned
# ----------------
# The clustered model's hard clusters, and the clusters of the
# relationship and tree models' structure cut into four groups
# (:func:`skmtl.inspection.task_structure`):
for name in ("clustered", "relationship", "tree"):
    s = task_structure(models[name], n_clusters=4)
    print(f"{name:>12}: {s.clusters}")

# %%
# The task correlation learned by MTRL (its ``task_covariance_`` as a
# correlation matrix) shows the three blocks and the unrelated task, and
# the tree learned for the tree-guided model joins each group's tasks
# first.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
plot_task_similarity(
    models["relationship"], metric="learned", task_names=names, ax=axes[0],
    annotate=False, title="MTRL: learned task correlation",
)  # fmt: skip
plot_task_tree(
    models["tree"], n_clusters=4, task_names=names, ax=axes[1],
    title="Tree learned for the tree-guided model",
)  # fmt: skip
fig.tight_layout()

# %%
# Held-out error per task
# -----------------------
# The learned-structure models borrow strength only within each group, and
# leave the unrelated task alone.
fig, ax = plt.subplots(figsize=(9, 4))
order = list(models)
means = [errors[n].mean() for n in order]
ax.bar(range(len(order)), means, color=["C2"] * 3 + ["C0"] * 3 + ["C7"] * 2)
ax.set_xticks(range(len(order)), order, rotation=30, ha="right")
ax.set_ylabel("held-out MSE (mean over tasks)")
ax.axhline(1.0, color="k", lw=0.8, ls=":", label="noise variance")
ax.legend()
fig.tight_layout()
plt.show()
