"""The School (ILEA exam scores) data: load MALSAR's ``school.mat``, or fetch it."""

import hashlib
import os
import tempfile
import urllib.request
from pathlib import Path

import numpy as np
import scipy.io
from sklearn.datasets import get_data_home

from ._bunch import tasks_bunch, with_bunch_returns

__all__ = ["fetch_school", "load_school"]

SCHOOL_URL = "https://github.com/jiayuzhou/MALSAR/raw/master/data/school.mat"
SCHOOL_SHA256 = "57fb3238fdd03a9aa17276e2ce18d9bbb5d128c3261e794fe6233b58b6909068"

# Best guesses: the original file has no column names (see DESCR).
SCHOOL_FEATURE_NAMES = [
    "exam_year_a",
    "exam_year_b",
    "exam_year_c",
    "school_pct_free_school_meals",
    "school_pct_vr_band1",
    "student_gender_a",
    "student_gender_b",
    "student_vr_band_1",
    "student_vr_band_2",
    "student_vr_band_3",
    *[f"student_ethnic_group_{k:02d}" for k in range(11)],
    "school_gender_a",
    "school_gender_b",
    "school_gender_c",
    "school_denomination_a",
    "school_denomination_b",
    "school_denomination_c",
    "bias",
]

DESCR = """\
School data (Inner London Education Authority exam scores)
----------------------------------------------------------

139 tasks (secondary schools), 15362 students (22-251 per school), target:
exam score (integer 1-70). A regression benchmark used by Bakker & Heskes
(JMLR 2003), Evgeniou, Micchelli & Pontil (JMLR 2005), Argyriou, Evgeniou &
Pontil (2008) and MALSAR (Zhou, Chen & Ye), whose ``data/school.mat`` this
loader reads (MATLAB cell arrays ``X{t}``: n_t x 28 uint8, ``Y{t}``: n_t x 1).

Features (27, plus a constant ``bias`` column of ones, dropped by default
since skmtl estimators fit their own intercepts). The file has no column
names; the names are best guesses from the data's structure:

- ``exam_year_a..c``: one-hot exam year (1985-87, order unknown);
- ``school_pct_free_school_meals``, ``school_pct_vr_band1``: school-level
  percentages (which is which is not verified);
- ``student_gender_a/b``: one-hot student gender;
- ``student_vr_band_1..3``: student verbal-reasoning band (15 rows have none);
- ``student_ethnic_group_00..10``: one-hot ethnic group;
- ``school_gender_a..c`` and ``school_denomination_a..c``: one-hot, constant
  within a school.

No licence is stated for the data; cite the papers above and MALSAR.
"""


def _school_descr(path):
    return DESCR + f"\nLoaded from: {path}\n"


def _read_cells(mat, key, path):
    cells = mat[key]
    if not (isinstance(cells, np.ndarray) and cells.dtype == object):
        raise ValueError(
            f"{path}: variable {key!r} is not a MATLAB cell array (got "
            f"{type(cells).__name__} of dtype {getattr(cells, 'dtype', None)})."
        )
    return [np.asarray(c) for c in cells.ravel()]


@with_bunch_returns
def load_school(path, *, keep_bias=False):
    """Load the School data from MALSAR's ``school.mat``.

    Parameters
    ----------
    path : str or path-like
        Path of ``school.mat`` (MATLAB v5 file with cell arrays ``X`` and
        ``Y``, one cell per task). Use :func:`fetch_school` to download it.
    keep_bias : bool, default=False
        If False (default), drop the last column of ``X``, the constant bias
        column of ones: skmtl estimators fit their own intercept. If True,
        keep all 28 columns.

    Returns
    -------
    {returns}

        For the original file: 15362 rows, 139 tasks ``school_000`` ...
        ``school_138`` in the file's cell order, 27 features (28 with
        ``keep_bias=True``).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a readable MATLAB file, lacks ``X`` or ``Y``, or
        its cells do not match (different numbers of cells, rows or columns,
        non-numeric or non-finite values, a last column that is not all ones
        when ``keep_bias=False``).

    See Also
    --------
    fetch_school : Download the file once and load it.

    Examples
    --------
    A tiny file in the same layout (two schools, two features + bias):

    >>> import os, tempfile
    >>> import numpy as np, scipy.io
    >>> from skmtl.datasets import load_school
    >>> X = np.empty((1, 2), dtype=object)
    >>> Y = np.empty((1, 2), dtype=object)
    >>> X[0, 0] = np.array([[1, 2, 1], [3, 4, 1]], dtype=np.uint8)
    >>> X[0, 1] = np.array([[5, 6, 1]], dtype=np.uint8)
    >>> Y[0, 0] = np.array([[10], [20]], dtype=np.uint8)
    >>> Y[0, 1] = np.array([[30]], dtype=np.uint8)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "school.mat")
    ...     scipy.io.savemat(path, {"X": X, "Y": Y})
    ...     data = load_school(path)
    >>> data.X
    array([[1., 2.],
           [3., 4.],
           [5., 6.]])
    >>> data.Y
    array([[10., nan],
           [20., nan],
           [nan, 30.]])
    >>> data.task, data.task_names
    (array([0, 0, 1]), ['school_000', 'school_001'])
    """
    path = Path(os.fspath(path))
    if not path.is_file():
        raise FileNotFoundError(f"School data file not found: {path}")
    try:
        mat = scipy.io.loadmat(path)
    except NotImplementedError as exc:
        raise ValueError(
            f"{path}: MATLAB v7.3 (HDF5) files are not supported; expected the "
            f"MATLAB v5 school.mat from MALSAR ({exc})."
        ) from exc
    except Exception as exc:
        raise ValueError(
            f"{path} is not a readable MATLAB .mat file ({type(exc).__name__}: {exc})."
        ) from exc

    missing = [k for k in ("X", "Y") if k not in mat]
    if missing:
        found = sorted(k for k in mat if not k.startswith("__"))
        raise ValueError(
            f"{path} lacks the variable(s) {missing}: expected MALSAR's cell "
            f"arrays 'X' and 'Y' (found variables: {found})."
        )
    Xc = _read_cells(mat, "X", path)
    Yc = _read_cells(mat, "Y", path)
    if len(Xc) != len(Yc):
        raise ValueError(
            f"{path}: X has {len(Xc)} cells but Y has {len(Yc)}; they must match "
            "(one cell per task)."
        )
    if len(Xc) == 0:
        raise ValueError(f"{path}: X and Y have no cells (no task).")

    n_cols = None
    for t, (Xt, Yt) in enumerate(zip(Xc, Yc, strict=True)):
        if Xt.ndim != 2 or Xt.shape[0] == 0 or Xt.dtype.kind not in "biuf":
            raise ValueError(
                f"{path}: cell X{{{t + 1}}} must be a non-empty numeric matrix, "
                f"got shape {Xt.shape} and dtype {Xt.dtype}."
            )
        if n_cols is None:
            n_cols = Xt.shape[1]
        elif Xt.shape[1] != n_cols:
            raise ValueError(
                f"{path}: cell X{{{t + 1}}} has {Xt.shape[1]} columns, but "
                f"X{{1}} has {n_cols}."
            )
        if Yt.dtype.kind not in "biuf" or Yt.size != Xt.shape[0]:
            raise ValueError(
                f"{path}: cell Y{{{t + 1}}} must hold {Xt.shape[0]} numbers "
                f"(one per row of X{{{t + 1}}}), got shape {Yt.shape} and "
                f"dtype {Yt.dtype}."
            )
        if Yt.ndim > 2 or (Yt.ndim == 2 and min(Yt.shape) != 1):
            raise ValueError(
                f"{path}: cell Y{{{t + 1}}} must be a vector, got shape {Yt.shape}."
            )

    X = np.concatenate([Xt.astype(np.float64) for Xt in Xc], axis=0)
    y = np.concatenate([Yt.astype(np.float64).ravel() for Yt in Yc])
    task = np.repeat(np.arange(len(Xc)), [Xt.shape[0] for Xt in Xc])
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError(f"{path}: X or Y contains NaN or infinity.")

    if n_cols == len(SCHOOL_FEATURE_NAMES):
        feature_names = list(SCHOOL_FEATURE_NAMES)
    else:
        feature_names = [f"x{j}" for j in range(n_cols - 1)] + ["bias"]
    if not keep_bias:
        if not np.all(X[:, -1] == 1.0):
            raise ValueError(
                f"{path}: the last column of X is not the constant bias column "
                "(all ones); pass keep_bias=True to keep every column."
            )
        X = X[:, :-1]
        feature_names = feature_names[:-1]

    width = max(3, len(str(len(Xc) - 1)))
    task_names = [f"school_{t:0{width}d}" for t in range(len(Xc))]
    return tasks_bunch(X, y, task, task_names, feature_names, _school_descr(path))


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def _download(url, path, sha256):
    """Download ``url`` to ``path`` atomically; nothing is left on failure."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".part")
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as r:
            for chunk in iter(lambda: r.read(1 << 16), b""):
                h.update(chunk)
                out.write(chunk)
        digest = h.hexdigest()
        if digest != sha256:
            raise OSError(
                f"The file downloaded from {url} has SHA-256 {digest}, expected "
                f"{sha256}; it may be corrupted and was not saved."
            )
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


@with_bunch_returns
def fetch_school(data_home=None, download_if_missing=True, *, keep_bias=False):
    """Load the School data, downloading ``school.mat`` once if needed.

    The file is downloaded from MALSAR's GitHub repository
    (``SCHOOL_URL``) into ``get_data_home(data_home)/skmtl/school.mat``,
    checked against its known SHA-256, and then read with
    :func:`load_school`. Later calls use the cached file.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Where to cache data; see :func:`sklearn.datasets.get_data_home`
        (default ``~/scikit_learn_data``).
    download_if_missing : bool, default=True
        If False, raise an ``OSError`` instead of downloading when the file
        is not cached.
    keep_bias : bool, default=False
        Passed to :func:`load_school`.

    Returns
    -------
    {returns}

    Raises
    ------
    OSError
        If the file is not cached and ``download_if_missing=False``, the
        download fails, or the downloaded (or cached) file has the wrong
        checksum. A bad download leaves no file behind; a cached file with
        the wrong checksum is replaced by a fresh download.

    See Also
    --------
    load_school : Load the file from a given path.

    Examples
    --------
    ``fetch_school()`` downloads the file on first use, then gives ``X`` of
    shape (15362, 27) and ``Y`` of shape (15362, 139). Without a cached file
    and with downloads disabled it raises:

    >>> import tempfile
    >>> from skmtl.datasets import fetch_school
    >>> with tempfile.TemporaryDirectory() as home:
    ...     try:
    ...         fetch_school(data_home=home, download_if_missing=False)
    ...     except OSError as exc:
    ...         print("OSError:", str(exc).split(" at ")[0])
    OSError: School data not found
    """
    home = Path(get_data_home(data_home)) / "skmtl"
    path = home / "school.mat"
    if path.is_file():
        if _sha256(path) == SCHOOL_SHA256:
            return load_school(path, keep_bias=keep_bias)
        if not download_if_missing:
            raise OSError(
                f"The cached file {path} has the wrong SHA-256 checksum; delete it "
                "or call fetch_school with download_if_missing=True."
            )
    elif not download_if_missing:
        raise OSError(f"School data not found at {path} and download_if_missing=False.")
    home.mkdir(parents=True, exist_ok=True)
    _download(SCHOOL_URL, path, SCHOOL_SHA256)
    return load_school(path, keep_bias=keep_bias)
