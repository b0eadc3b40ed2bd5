"""
========================================================
Which tasks help each other? Detecting negative transfer
========================================================

A multi-task model assumes the tasks are related. When one task is not, the
coupling pulls it towards the others and it gets *worse* than a model fitted
on its own data: negative transfer. This example walks through the
diagnostics of :mod:`skmtl.inspection` and the figures of
:mod:`skmtl.plotting` on a problem with a planted culprit:

* 8 tasks, 20 labelled rows each, 80 features;
* tasks 0-6 depend on the same 4 features (joint sparsity, the l21 model's
  assumption); task 7 depends on 4 *other* features.

The questions, in the order one asks them: do the tasks look related before
any multi-task fit (:func:`~skmtl.inspection.task_relatedness`)? Which
``alpha`` (:func:`~skmtl.plotting.plot_cv_path`,
:func:`~skmtl.plotting.plot_regularization_path`)? Which features are shared
(:func:`~skmtl.inspection.selected_features`)? And does any task lose from
sharing (:func:`~skmtl.inspection.transfer_gain`)?
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LassoCV

from skmtl import MultiTaskLassoCV
from skmtl.datasets import make_multitask_regression
from skmtl.inspection import selected_features, task_relatedness, transfer_gain
from skmtl.model_selection import regularization_path
from skmtl.plotting import (
    plot_coef_pattern,
    plot_cv_path,
    plot_regularization_path,
    plot_task_similarity,
    plot_transfer_gain,
)

n_tasks, n_features, n_informative = 8, 80, 4
X, Y, coef = make_multitask_regression(
    n_tasks=n_tasks,
    n_samples=20,
    n_features=n_features,
    structure="joint_sparse",
    n_informative=n_informative,
    noise=0.3,
    return_coef=True,
    random_state=0,
)
# Replace the last task by one that uses other features.
rng = np.random.default_rng(1)
off_support = np.flatnonzero(np.abs(coef).sum(axis=0) == 0)
w_other = np.zeros(n_features)
w_other[rng.choice(off_support, n_informative, replace=False)] = rng.normal(
    size=n_informative
)
rows_7 = ~np.isnan(Y[:, -1])
Y[rows_7, -1] = X[rows_7] @ w_other + 0.3 * rng.normal(size=rows_7.sum())
print(f"X: {X.shape}, labelled rows per task: {(~np.isnan(Y)).sum(axis=0)}")

# %%
# Before any multi-task fit: how related do the tasks look?
# ---------------------------------------------------------
# :func:`~skmtl.inspection.task_relatedness` fits one model per task and
# reports the correlation of their coefficients (and a transfer matrix: a
# model trained on task ``s`` scored on task ``t``). The per-task model is a
# cross-validated Lasso here, to match the sparse structure we expect.
# Tasks 0-6 use the same features with weights of either sign, so their
# correlations are large in absolute value, positive or negative; task 7's
# correlations with every other task are about 0: it uses other features.
relatedness = task_relatedness(X, Y, estimator=LassoCV(cv=3, max_iter=10_000), cv=4)
display = plot_task_similarity(relatedness.coef_similarity)
display.ax_.set_title("Correlation of per-task Lasso coefficients")
plt.show()

# %%
# Choosing alpha for the l21 model
# --------------------------------
# :class:`~skmtl.MultiTaskLassoCV` runs a warm-started path on each
# cross-validation fold; the task-stratified folds keep every task in every
# training fold. The path itself shows the shared features entering one
# after the other, each for all tasks at once.
model = MultiTaskLassoCV(n_alphas=40, eps=1e-2, cv=4).fit(X, Y)
print(f"alpha chosen by CV: {model.alpha_:.4f}")

fig, (ax_cv, ax_path) = plt.subplots(1, 2, figsize=(11, 4))
plot_cv_path(model, ax=ax_cv)
path = regularization_path(X, Y, penalty="l21", n_alphas=40, eps=1e-2)
plot_regularization_path(path, ax=ax_path, kind="features")
ax_path.axvline(model.alpha_, color="k", ls="--", lw=1)
fig.tight_layout()
plt.show()

# %%
# Which features are shared?
# --------------------------
# The l21 model keeps a feature for all tasks or for none. The pattern shows
# the 4 shared features, and task 7's own features, which the model must
# also keep (for all tasks) to fit task 7 at all.
support = selected_features(model)
print(f"{support.size} selected features: {support}")
print(f"planted shared features:   {np.flatnonzero(np.abs(coef[:-1]).sum(0))}")
print(f"task 7's own features:     {np.flatnonzero(w_other)}")
plot_coef_pattern(model, only_nonzero=True)
plt.show()

# %%
# Does any task lose from sharing?
# --------------------------------
# :func:`~skmtl.inspection.transfer_gain` cross-validates the multi-task
# model and independent per-task models of the same family (here: one Lasso
# per task with the same alpha) on the same folds and reports, per task, the
# difference of held-out R² with its spread over folds. The related tasks
# gain: 20 rows are few to find 4 features out of 80 alone. Task 7 loses
# (it is pulled towards the others' features) and is flagged with negative
# transfer.
gain = transfer_gain(model, X, Y, cv=4)
print(gain)
plot_transfer_gain(gain)
plt.show()

# %%
# What to do about it: fit task 7 on its own, or drop it from the
# multi-task model; with many tasks, clustered or graph-coupled models
# (``penalty="graph"`` with a task graph learned from the similarity above)
# share only within groups. See :ref:`relatedness` in the user guide.
