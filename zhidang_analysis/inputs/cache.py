"""The on-disk cache of loaded datasets: a restarted worker or kernel finds what it loaded before."""

from __future__ import annotations

from pathlib import Path

from ..model.bundled import code_hash
from ..model.catalog import load_catalog
from ..model.dataset import Dataset

DISK_CACHE_ENTRIES = 4


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
    import hashlib


    folder = disk_cache_dir()
    if folder is None:
        return None
    files, exclude = key
    h = hashlib.sha256(repr((code_hash(), files, exclude)).encode())
    try:
        for name, *_ in files:
            h.update(hashlib.sha256(Path(name).read_bytes()).digest())
    except OSError:
        return None
    return folder / f"{h.hexdigest()}.pickle"


def disk_load(path: Path) -> Dataset | None:
    import pickle

    try:
        with path.open("rb") as fh:
            ds, local = pickle.load(fh)
    except Exception:  # noqa: BLE001 - a missing, partial or stale entry is a miss
        return None
    if not isinstance(ds, Dataset):
        return None
    ds.catalog = load_catalog().extend(local)  # with the county's own indicators (sheet 本县指标)
    return ds


def disk_store(path: Path, ds: Dataset) -> None:
    import os
    import pickle
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        plain = Dataset(values=ds.values, profile=ds.profile, targets=ds.targets, catalog=None,
                        problems=ds.problems, files=ds.files, practices=ds.practices)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump((plain, ds.catalog.local_entries()), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # whole or not at all: a reader never sees half an entry
        entries = sorted(path.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[DISK_CACHE_ENTRIES:]:
            old.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001 - the cache is an optimisation: a read-only home does not fail a load
        try:
            os.unlink(tmp)
        except (OSError, UnboundLocalError):
            pass
