"""Fits on dask collections from per-task sufficient statistics.

Nothing here imports dask at import time: :func:`is_dask_collection` only
looks at the object, and the modules that need dask are imported by the
estimators' ``fit`` hooks when a dask collection is passed.
"""

__all__ = ["is_dask_collection"]


def is_dask_collection(obj):
    """True for a dask array, DataFrame or Series (without importing dask)."""
    return callable(getattr(obj, "__dask_graph__", None)) and type(
        obj
    ).__module__.startswith("dask")


def any_dask(*objs):
    """True when any of ``objs`` is a dask collection."""
    return any(is_dask_collection(o) for o in objs)
