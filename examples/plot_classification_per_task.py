"""
==========================================================
Classification with per-task datasets
==========================================================

Each task is its own binary classification problem with its own rows: think
of one spam filter per user, or one disease-risk model per hospital, all
reading the same kind of features. We only have 40 labelled rows per task,
and the tasks depend on the same 5 of 60 features.

The per-task datasets are stacked into one ``X`` and one ``Y`` with
:func:`skmtl.stack_tasks` (NaN marks "this row has no label for this task").
:class:`skmtl.MultiTaskLogisticRegression` with the l21 penalty fits one
logistic model per task with a shared feature selection; we compare it with
one scikit-learn ``LogisticRegression`` per task (l2 and l1 penalties, ``C``
tuned per task by cross-validation).
"""

# %%
# Per-task data
# -------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from skmtl import MultiTaskLogisticRegression, stack_tasks, unstack_tasks
from skmtl.datasets import make_multitask_classification
from skmtl.model_selection import TaskStratifiedKFold

n_tasks, n_train = 12, 40
X_all, Y_all = make_multitask_classification(
    n_tasks=n_tasks,
    n_samples=n_train + 300,
    n_features=60,
    structure="joint_sparse",
    n_informative=5,
    class_sep=4.0,
    random_state=0,
)
# a list of datasets, one per task, as they would usually arrive
Xs, ys = unstack_tasks(X_all, Y_all)
Xs_train, ys_train = [x[:n_train] for x in Xs], [y[:n_train] for y in ys]
Xs_test, ys_test = [x[n_train:] for x in Xs], [y[n_train:] for y in ys]

X, Y = stack_tasks(Xs_train, ys_train)
print(X.shape, Y.shape, "labels per task:", (~np.isnan(Y)).sum(axis=0))
print(Y[[0, 1, n_train, n_train + 1]])

# %%
# Multi-task logistic regression with joint feature selection
# -----------------------------------------------------------
# ``score`` is the mean over tasks of the accuracy on labelled entries, so
# ``GridSearchCV`` works with NaN in ``Y``. The folds are stratified by task
# and, since the labels are binary, by class
# (:class:`~skmtl.model_selection.TaskStratifiedKFold`): every training fold
# keeps both classes of every task, which a classifier needs.
folds = TaskStratifiedKFold(4, shuffle=True, random_state=0)
search = GridSearchCV(
    MultiTaskLogisticRegression(penalty="l21"),
    {"alpha": np.logspace(-2.5, -0.5, 7)},
    cv=folds,
).fit(X, Y)
mtl = search.best_estimator_
used = np.flatnonzero(np.abs(mtl.coef_).sum(axis=0))
print(f"l21: alpha={mtl.alpha:.3g}, {used.size} features used by all tasks")

# %%
# One model per task
# ------------------
acc = {"multi-task l21": [], "per-task l2": [], "per-task l1": []}
for t in range(n_tasks):
    Xt, yt = Xs_test[t], ys_test[t]
    # predict returns one column per task; take task t's
    acc["multi-task l21"].append(np.mean(mtl.predict(Xt)[:, t] == yt))
    for pen, l1_ratio in [("l2", 0.0), ("l1", 1.0)]:
        clf = GridSearchCV(
            LogisticRegression(l1_ratio=l1_ratio, solver="liblinear"),
            {"C": np.logspace(-2, 2, 7)},
            cv=4,
        )
        clf.fit(Xs_train[t], ys_train[t])
        acc[f"per-task {pen}"].append(clf.score(Xt, yt))
for name, a in acc.items():
    print(
        f"{name:>15}: mean test accuracy {np.mean(a):.3f}, worst task {np.min(a):.3f}"
    )

# %%
# Per-task accuracy
# -----------------
fig, ax = plt.subplots(figsize=(7, 3.5))
x = np.arange(n_tasks)
width = 0.8 / len(acc)
for k, (name, a) in enumerate(acc.items()):
    ax.bar(x + k * width, a, width, label=name)
ax.set_xticks(x + 0.4 - width / 2, [str(t) for t in range(n_tasks)])
ax.set_xlabel("task")
ax.set_ylabel("test accuracy")
ax.set_ylim(0.5, 1.0)
ax.legend(fontsize=8, ncols=3, loc="upper center")
ax.set_title(f"{n_train} training rows per task")
fig.tight_layout()
plt.show()
