"""stack_tasks with non-numeric columns, and predict_frame."""

import numpy as np
import pytest

from skmtl import (
    MultiTaskLogisticRegression,
    MultiTaskRidge,
    predict_frame,
    stack_tasks,
)
from skmtl.model_selection import TaskStratifiedKFold

pd = pytest.importorskip("pandas")


def _houses_and_flats(seed=0, n=40):
    rng = np.random.default_rng(seed)
    city_effect = {"north": 50.0, "south": -20.0, "east": 10.0}
    cities = rng.choice(list(city_effect), size=n)
    houses = pd.DataFrame(
        {
            "size": rng.uniform(80, 200, n),
            "city": cities,  # strings: only the houses have a city
            "garden": rng.random(n) < 0.5,
            "style": pd.Categorical(rng.choice(["old", "new"], n)),
        }
    )
    y_house = 2.0 * houses["size"] + houses["city"].map(city_effect)
    y_house += 30.0 * houses["garden"] + rng.normal(0, 5, n)
    flats = pd.DataFrame(
        {
            "size": rng.uniform(30, 90, n),
            "floor": rng.integers(0, 10, n),
            "style": pd.Categorical(rng.choice(["loft", "new"], n)),
        }
    )
    y_flat = 2.5 * flats["size"] + 3.0 * flats["floor"] + rng.normal(0, 5, n)
    return stack_tasks(
        [houses, flats],
        [pd.Series(y_house, name="house"), pd.Series(y_flat, name="flat")],
    )


def test_missing_columns_are_missing_values_unless_numeric():
    X, Y = _houses_and_flats()
    flats = Y["flat"].notna().to_numpy()
    assert X.loc[flats, "city"].isna().all()  # not the integer 0
    assert X.loc[~flats, "city"].notna().all()
    assert (X.loc[~flats, "floor"] == 0).all()  # numeric: 0, as before
    assert X["garden"].dtype == bool and not X.loc[flats, "garden"].any()
    assert isinstance(X["style"].dtype, pd.CategoricalDtype)
    assert list(X["style"].cat.categories) == ["new", "old", "loft"]
    assert X["style"].notna().all()


def test_one_hot_pipeline_over_stacked_tasks():
    from sklearn.compose import ColumnTransformer
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X, Y = _houses_and_flats()
    encode = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["city", "style"]),
            ("num", StandardScaler(), ["size", "floor", "garden"]),
        ]
    )
    model = make_pipeline(encode, MultiTaskRidge(alpha=1e-3, coupling=0.0))
    cv = TaskStratifiedKFold(4, shuffle=True, random_state=0)
    scores = cross_val_score(model, X, Y, cv=cv, error_score="raise")
    assert scores.min() > 0.9  # the city effect is learnt from the one-hot columns
    # the integer 0 the old fill put in a string column breaks the encoder
    old = X.copy()
    old["city"] = old["city"].astype(object).where(old["city"].notna(), 0)
    with pytest.raises((TypeError, ValueError), match="uniformly strings or numbers"):
        model.fit(old, Y)


def test_feature_names_with_string_columns():
    Xs = [
        np.array([[1.0, "a"], [2.0, "b"]], dtype=object),
        np.array([[3.0], [4.0]]),
    ]
    X, Y = stack_tasks(Xs, [[1.0, 2.0], [3.0, 4.0]], feature_names=[["s", "c"], ["s"]])
    assert X.dtype == object
    assert list(X[:, 0]) == [1.0, 2.0, 3.0, 4.0]
    assert X[0, 1] == "a" and np.isnan(X[2, 1]) and np.isnan(X[3, 1])
    # numeric arrays still give a float array with 0 for the missing column
    X, _ = stack_tasks(
        [np.ones((1, 2)), np.ones((1, 1))],
        [[1.0], [2.0]],
        feature_names=[["a", "b"], ["a"]],
    )
    assert X.dtype == np.float64 and X[1, 1] == 0.0


def test_predict_frame_keeps_task_names_and_index():
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, Y = _houses_and_flats()
    Xn = X[["size", "floor"]].set_index(pd.Index([f"r{i}" for i in range(len(X))]))
    Y.index = Xn.index
    model = MultiTaskRidge(alpha=1e-3).fit(Xn, Y)
    frame = predict_frame(model, Xn)
    assert list(frame.columns) == ["house", "flat"] and frame.index.equals(Xn.index)
    np.testing.assert_allclose(frame.to_numpy(), model.predict(Xn))
    pipe = make_pipeline(StandardScaler(), MultiTaskRidge(alpha=1e-3)).fit(Xn, Y)
    assert list(predict_frame(pipe, Xn).columns) == ["house", "flat"]
    search = GridSearchCV(
        MultiTaskRidge(), {"alpha": [1e-3, 1.0]}, cv=TaskStratifiedKFold(3)
    ).fit(Xn, Y)
    assert list(predict_frame(search, Xn).columns) == ["house", "flat"]
    # an array Y has no names: integer columns
    plain = MultiTaskRidge().fit(Xn.to_numpy(), Y.to_numpy())
    assert list(predict_frame(plain, Xn.to_numpy()).columns) == [0, 1]
    with pytest.raises(ValueError, match="method must be"):
        predict_frame(model, Xn, method="transform")


def test_predict_frame_classifier_proba_and_one_task():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(40, 2)), columns=["a", "b"])
    Y = pd.DataFrame(
        {"spam": np.where(X["a"] > 0, "yes", "no"), "fraud": (X["b"] > 0).astype(int)}
    )
    clf = MultiTaskLogisticRegression(alpha=1e-3).fit(X, Y)
    proba = predict_frame(clf, X, method="predict_proba")
    assert list(proba.columns) == [
        ("spam", "no"),
        ("spam", "yes"),
        ("fraud", 0),
        ("fraud", 1),
    ]
    np.testing.assert_allclose(proba["spam"].sum(axis=1), 1.0)
    labels = predict_frame(clf, X)
    assert set(labels["spam"]) == {"no", "yes"}
    one = MultiTaskRidge().fit(X, X["a"].rename("alpha_task") * 2.0)
    series = predict_frame(one, X)
    assert isinstance(series, pd.Series) and series.shape == (40,)


def test_extension_dtypes_keep_their_dtype_and_missing_value():
    a = pd.DataFrame(
        {
            "s": pd.array(["x", "y"], dtype="string"),
            "n": pd.array([1, 2], dtype="Int64"),
        }
    )
    b = pd.DataFrame({"m": [1.0]})
    X, _ = stack_tasks([a, b], [[1.0, 2.0], [3.0]])
    assert X["s"].dtype == "string" and X["s"].isna().tolist() == [False, False, True]
    assert X["n"].dtype == "Int64" and X["n"].tolist() == [1, 2, 0]
