"""What is the same for every town of a county and year, computed once per county and year.

A warm kernel (or a batch worker) renders one town after another of the same county; each report quotes the
county's standing table, its findings and its scores. :func:`per_county` keeps those results, keyed by a
fingerprint of the dataset's tables (so a changed or different dataset, even in the same object, is computed
afresh) and the arguments. Results are returned as copies: a caller may change what it gets. Inside
:func:`pinned` (one town's report, which reads but never changes its dataset) the fingerprint is taken once, not
at every call (six per report, 5 ms each on the sample).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections import OrderedDict

import pandas as pd

#: Results kept (least recently used dropped first): enough for a province's counties through a batch, each of
#: its ~60 counties with a handful of results of a few hundred KB (the batch plans, then writes the index, from them).
MAX_ENTRIES = 512
_CACHE: OrderedDict = OrderedDict()
#: Fingerprints taken once for the datasets of the enclosing :func:`pinned` blocks: (object id, fingerprint) pairs.
_PINNED: contextvars.ContextVar[tuple] = contextvars.ContextVar("zhidang_memo_pinned", default=())


def fingerprint(ds) -> int:
    """A hash of what the county computations read: the values, the profile, the targets (with the cells they
    come from: a report cites them), the towns' own 自查问题 and the catalog (the direction of each indicator decides
    its rank)."""
    parts = [ds.values[["county", "town", "year", "indicator", "value", "approx", "status"]],
             ds.profile.reset_index(), ds.targets]
    practices = getattr(ds, "practices", None)
    if practices is not None and len(practices) and "field" in practices:
        # the towns' own 自查问题: whether a town names its own problems decides which of the data's a report states
        parts.append(practices[practices["field"] == "own_problems"])
    h = _catalog_hash(ds.catalog)
    for i, part in enumerate(parts):
        h = hash((h, i, len(part), tuple(part.columns), int(pd.util.hash_pandas_object(part, index=False).sum())))
    return h


def _catalog_hash(catalog) -> int:
    """The catalog's content, hashed once per catalog object (:attr:`Catalog.content_hash`)."""
    if catalog is None:
        return 0
    return catalog.content_hash


@contextlib.contextmanager
def pinned(ds):
    """Take ``ds``'s fingerprint once for the calls of the block, which must not change ``ds``."""
    token = _PINNED.set((*_PINNED.get(), (id(ds), fingerprint(ds))))
    try:
        yield
    finally:
        _PINNED.reset(token)


def per_county(fn):
    """Cache ``fn(ds, year, ...)`` per dataset content, year and the other arguments (hashable ones)."""

    @functools.wraps(fn)
    def wrapper(ds, year, *args, **kwargs):
        try:
            fp = next((f for i, f in reversed(_PINNED.get()) if i == id(ds)), None)  # the innermost block's
            fp = fingerprint(ds) if fp is None else fp
            key = (fn.__module__, fn.__qualname__, fp, int(year), args, tuple(sorted(kwargs.items())))
            hash(key)
        except TypeError:  # an unhashable argument: compute without the cache
            return fn(ds, year, *args, **kwargs)
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _copy(_CACHE[key])
        result = fn(ds, year, *args, **kwargs)
        _CACHE[key] = _copy(result)
        while len(_CACHE) > MAX_ENTRIES:
            _CACHE.popitem(last=False)
        return result

    wrapper.uncached = fn
    return wrapper


def clear() -> None:
    _CACHE.clear()


def _copy(x):
    return x.copy() if isinstance(x, (pd.DataFrame, pd.Series)) else x
