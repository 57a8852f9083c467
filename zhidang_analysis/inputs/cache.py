"""The on-disk cache of loaded datasets: a restarted worker or kernel finds what it loaded before.

One entry per key is a folder: the four tables as Parquet (through pyarrow: fast to write and to read, the
column types kept, the profile's index too) and ``meta.json`` for the rest (the files, the validation findings,
the county's own indicators). Nothing in an entry is code: unlike a pickle, an entry someone placed in a shared
cache folder cannot run anything when it is read. An entry is written under a temporary name and renamed when
whole, so a reader never sees half of one; the newest few are kept.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..model.bundled import code_hash
from ..model.catalog import load_catalog
from ..model.dataset import Dataset, Problem

DISK_CACHE_ENTRIES = 4
# the layout of an entry; an entry of another layout is a miss (and is removed with the oldest)
FORMAT = 2
TABLES = ("values", "profile", "targets", "practices")


def disk_cache_dir() -> Path | None:
    """``$ZHIDANG_CACHE_DIR``, else ``$XDG_CACHE_HOME/zhidang_analysis/datasets`` (``~/.cache/…``); ``None``
    when ``ZHIDANG_CACHE_DIR`` is set to an empty string (no disk cache)."""
    import os

    env = os.environ.get("ZHIDANG_CACHE_DIR")
    if env is not None:
        return Path(env) if env.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "zhidang_analysis" / "datasets"


def disk_path(key: tuple) -> Path | None:
    """The entry of ``key`` (the files' paths, sizes and modification times, the excluded towns): named by the hash
    of the key, the files' contents and the package's code and catalog, so a changed file, an upgrade or an edited
    catalog is loaded afresh."""
    import hashlib

    folder = disk_cache_dir()
    if folder is None:
        return None
    files, exclude = key
    h = hashlib.sha256(repr((FORMAT, code_hash(), files, exclude)).encode())
    try:
        for name, *_ in files:
            h.update(hashlib.sha256(Path(name).read_bytes()).digest())
    except OSError:
        return None
    return folder / h.hexdigest()


def _value(v):
    """A finding's value as JSON holds it: numbers, text, true/false and null as they are, anything else as text."""
    return v if v is None or isinstance(v, (bool, int, float, str)) else str(v)


def _plain(v):
    """A numpy scalar of the catalog's entries (True, 12.0) as the Python value JSON writes."""
    item = getattr(v, "item", None)
    if item is None:
        raise TypeError(f"not JSON: {type(v).__name__}")
    return item()


def disk_load(path: Path) -> Dataset | None:
    """The dataset of an entry, or ``None`` for a missing, partial, stale or foreign one."""
    import pandas as pd

    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            return None
        tables = {name: pd.read_parquet(path / f"{name}.parquet") for name in TABLES}
        problems = [Problem(**p) for p in meta["problems"]]
        files = [Path(f) for f in meta["files"]]
        catalog = load_catalog().extend(meta["local"])  # with the county's own indicators (sheet 本县指标)
    except Exception:  # noqa: BLE001 - a missing, partial or foreign entry is a miss
        return None
    return Dataset(catalog=catalog, problems=problems, files=files, **tables)


def disk_store(path: Path, ds: Dataset) -> None:
    """Write the entry of ``ds`` (whole or not at all) and keep only the newest few; a cache folder that cannot be
    written (a read-only home) is no error: the cache is an optimisation."""
    import os
    import shutil
    import tempfile

    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=".tmp-"))
        for name in TABLES:
            getattr(ds, name).to_parquet(tmp / f"{name}.parquet", engine="pyarrow", compression=None)
        meta = {"format": FORMAT, "files": [str(f) for f in ds.files],
                "problems": [{**vars(p), "value": _value(p.value)} for p in ds.problems],
                "local": ds.catalog.local_entries()}
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, default=_plain), encoding="utf-8")
        if path.exists():  # a damaged entry (it was a miss): moved aside whole, then removed
            aside = Path(tempfile.mkdtemp(dir=path.parent, prefix=".tmp-"))
            os.replace(path, aside / "old")
            shutil.rmtree(aside, ignore_errors=True)
        try:
            os.replace(tmp, path)  # whole or not at all: a reader never sees half an entry
        except OSError:  # another process wrote the same entry in between: theirs is as good
            shutil.rmtree(tmp, ignore_errors=True)
        tmp = None
        entries = sorted((p for p in path.parent.iterdir() if not p.name.startswith(".tmp-")),
                         key=lambda p: p.stat().st_mtime, reverse=True)
        stale = [p for p in entries if p.suffix == ".pickle"]  # entries of an earlier version: never read again
        entries = [p for p in entries if p.suffix != ".pickle"]
        for old in stale + entries[DISK_CACHE_ENTRIES:]:
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001 - the cache is an optimisation: a read-only home does not fail a load
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
