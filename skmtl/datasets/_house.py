"""A toy two-task problem: house prices and apartment prices."""

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ._checks import check_int, import_pandas

__all__ = ["make_house_apartment"]

HOUSE_FEATURES = ["size_sqft", "bedrooms", "bathrooms"]
APARTMENT_FEATURES = ["size_sqft", "bedrooms", "downtown", "suburb", "rural"]
LOCATIONS = ["downtown", "suburb", "rural"]

DESCR = """\
House and apartment prices (synthetic)
--------------------------------------

Two related regression tasks with different feature sets, to show
``skmtl.stack_tasks`` aligning per-task DataFrames by column name.

Task ``house`` (features ``size_sqft``, ``bedrooms``, ``bathrooms``)::

    price = 150 * size_sqft + 12000 * bedrooms
            + 60000 + 18000 * bathrooms                      + N(0, 25000^2)

Task ``apartment`` (features ``size_sqft``, ``bedrooms`` and the location as
the one-hot columns ``downtown``, ``suburb``, ``rural``)::

    price = 150 * size_sqft + 12000 * bedrooms
            + 30000 + 50 * size_sqft
            + 70000 * downtown + 20000 * suburb              + N(0, 15000^2)

The price per square foot (150 dollars) and the bedroom effect (12000
dollars) are shared; the rest is task specific. Prices are in dollars,
rounded to whole dollars. Sizes: houses 900-3500 sq ft, 1-6 bedrooms, 1-4
bathrooms; apartments 350-1600 sq ft, 0-4 bedrooms (0 = studio), located
downtown (40%), in a suburb (40%) or rural (20%).
"""


def make_house_apartment(
    n_houses=200, n_apartments=150, random_state=None, as_frame=True
):
    """Generate the house / apartment price example (two related tasks).

    Houses have a size (square feet), bedrooms and bathrooms; apartments have
    a size, bedrooms and a location (downtown, suburb or rural, one-hot
    encoded as three 0/1 columns). Prices come from related but different
    linear pricing rules: a shared price per square foot and bedroom effect,
    task-specific extras, and noise. See ``DESCR`` of the result for the
    exact rules.

    Parameters
    ----------
    n_houses : int, default=200
        Number of houses (rows of task ``"house"``).
    n_apartments : int, default=150
        Number of apartments (rows of task ``"apartment"``).
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.
    as_frame : bool, default=True
        If True, the tasks are pandas DataFrames and Series (requires
        pandas); if False, float64 ndarrays.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With the following attributes:

        Xs : list of two DataFrames or ndarrays
            ``Xs[0]``: houses, columns ``size_sqft, bedrooms, bathrooms``.
            ``Xs[1]``: apartments, columns
            ``size_sqft, bedrooms, downtown, suburb, rural``.
        ys : list of two Series or ndarrays
            Prices in dollars. With ``as_frame=True`` the Series are named
            ``"house"`` and ``"apartment"``, so :func:`skmtl.stack_tasks`
            uses these names as the columns of ``Y``.
        task_names : list of str
            ``["house", "apartment"]``.
        feature_names : list of two lists of str
            The column names of each task's features.
        DESCR : str
            Description, including the pricing rules.

    Examples
    --------
    >>> from skmtl.datasets import make_house_apartment
    >>> from skmtl.tasks import stack_tasks
    >>> data = make_house_apartment(n_houses=5, n_apartments=4, random_state=0)
    >>> X, Y = stack_tasks(data.Xs, data.ys)
    >>> X.shape, Y.shape
    ((9, 6), (9, 2))
    >>> list(X.columns)
    ['size_sqft', 'bedrooms', 'bathrooms', 'downtown', 'suburb', 'rural']
    >>> list(Y.columns)
    ['house', 'apartment']
    """
    n_houses = check_int("n_houses", n_houses, 1)
    n_apartments = check_int("n_apartments", n_apartments, 1)
    if not isinstance(as_frame, (bool, np.bool_)):
        raise TypeError(f"as_frame must be a bool, got {as_frame!r}.")
    pd = import_pandas("make_house_apartment") if as_frame else None
    rng = check_random_state(random_state)

    # Houses.
    h_size = np.round(rng.uniform(900, 3500, n_houses), -1)
    h_bed = np.clip(np.round(h_size / 700 + rng.normal(0, 0.6, n_houses)), 1, 6)
    h_bath = np.clip(np.round(0.6 * h_bed + rng.normal(0, 0.5, n_houses)), 1, 4)
    h_price = (
        150 * h_size
        + 12000 * h_bed
        + 60000
        + 18000 * h_bath
        + rng.normal(0, 25000, n_houses)
    )
    X_house = np.column_stack([h_size, h_bed, h_bath])

    # Apartments.
    a_size = np.round(rng.uniform(350, 1600, n_apartments), -1)
    a_bed = np.clip(
        np.round(a_size / 500 - 0.3 + rng.normal(0, 0.5, n_apartments)), 0, 4
    )
    loc = rng.choice(3, size=n_apartments, p=[0.4, 0.4, 0.2])
    onehot = np.eye(3)[loc]
    a_price = (
        150 * a_size
        + 12000 * a_bed
        + 30000
        + 50 * a_size
        + onehot @ np.array([70000.0, 20000.0, 0.0])
        + rng.normal(0, 15000, n_apartments)
    )
    X_apartment = np.column_stack([a_size, a_bed, onehot])

    task_names = ["house", "apartment"]
    feature_names = [list(HOUSE_FEATURES), list(APARTMENT_FEATURES)]
    prices = [np.round(h_price), np.round(a_price)]
    if as_frame:
        Xs = [
            pd.DataFrame(X_house, columns=HOUSE_FEATURES).astype(
                {"bedrooms": "int64", "bathrooms": "int64"}
            ),
            pd.DataFrame(X_apartment, columns=APARTMENT_FEATURES).astype(
                {c: "int64" for c in ["bedrooms", *LOCATIONS]}
            ),
        ]
        ys = [
            pd.Series(y, name=name) for y, name in zip(prices, task_names, strict=True)
        ]
    else:
        Xs = [X_house, X_apartment]
        ys = prices
    return Bunch(
        Xs=Xs,
        ys=ys,
        task_names=task_names,
        feature_names=feature_names,
        DESCR=DESCR,
    )
