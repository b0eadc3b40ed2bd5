"""Small parameter checks shared by the dataset generators and loaders."""

from numbers import Integral, Real

import numpy as np


def check_int(name, value, low=None, high=None):
    """Return ``value`` as int, or raise naming the parameter and the range."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {value!r}.")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}.")
    return value


def check_real(name, value, low=None, high=None, *, high_open=False):
    """Return ``value`` as float, or raise naming the parameter and the range."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {value!r}.")
    value = float(value)
    bad = not np.isfinite(value)
    bad |= low is not None and value < low
    if high is not None:
        bad |= value >= high if high_open else value > high
    if bad:
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        close = ")" if high_open else "]"
        raise ValueError(f"{name} must be in [{lo}, {hi}{close}, got {value}.")
    return value


def check_option(name, value, options):
    if not isinstance(value, str) or value not in options:
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}."
        )
    return value


def import_pandas(caller):
    """Import pandas or raise an ImportError that says what needs it."""
    try:
        import pandas
    except ImportError as exc:  # pragma: no cover - pandas is a test dependency
        raise ImportError(
            f"{caller} with as_frame=True requires pandas. Install it with "
            "`pip install pandas` or pass as_frame=False."
        ) from exc
    return pandas
