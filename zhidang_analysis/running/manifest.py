"""The manifest of a batch year (``<out>/<year>/manifest.json``): every report with its input key, status, time
and files, read back to skip what is up to date."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from ..model.bundled import __version__
from ..outputs.export import FORMATS, format_path, format_word, outdated_formats
from ..outputs.files import atomic_write_text
from .job import Job


def manifest_path(out: Path, year: int) -> Path:
    return Path(out) / str(int(year)) / "manifest.json"


def read_manifest(out: Path, year: int) -> dict:
    """The year's manifest, or ``{}`` when there is none or it cannot be read (then every report is rerun)."""
    p = manifest_path(out, year)
    if not p.exists():
        return {}
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or not isinstance(doc.get("reports", {}), dict):
        return {}
    doc["reports"] = {k: e for k, e in doc.get("reports", {}).items() if isinstance(e, dict)}
    return doc


def town_entries(manifest: dict) -> dict[str, dict]:
    """town (``县/乡镇`` with several counties) → its manifest entry (an entry that records its town wins over an
    older one keyed by the name)."""
    reports = manifest.get("reports", {})
    found: dict[str, dict] = {}
    for k, e in reports.items():
        if "town" not in e and _entry_town(k, e) is not None:
            found[k] = e
    for k, e in reports.items():
        if "town" in e and (town := _entry_town(k, e)) is not None:
            found[town] = e
    return found


def _entry_town(key: str, entry: dict) -> str | None:
    """The town of a manifest entry as :attr:`Job.ident` names it (entries written before ``town`` was recorded
    are keyed by the town)."""
    if entry.get("kind", "town") != "town":
        return None
    town = entry.get("town", key)
    return f"{entry.get('county')}/{town}" if entry.get("folder") else town


def previous_entry(reports: dict, job: Job, by_town: dict[str, list[str]] | None = None) -> dict | None:
    """The manifest entry of ``job`` from an earlier run: under its key, or (its file name having changed since)
    the entry of the same town under another key. ``by_town`` (:func:`keys_by_town` of ``reports``) saves
    looking through every entry."""
    key = job.manifest_key
    entry = reports.get(key)
    if entry is not None and entry.get("kind", "town") == job.kind and (job.kind != "town"
                                                                         or _entry_town(key, entry) == job.ident):
        return entry
    if job.kind != "town":
        return None
    keys = by_town.get(job.ident, []) if by_town is not None else list(reports)
    return next((reports[k] for k in keys if _entry_town(k, reports[k]) == job.ident), None)


def keys_by_town(reports: dict) -> dict[str, list[str]]:
    """town (as :attr:`Job.ident` names it) → the keys of its entries in ``reports``, in order."""
    out: dict[str, list[str]] = {}
    for k, e in reports.items():
        if (town := _entry_town(k, e)) is not None:
            out.setdefault(town, []).append(k)
    return out


def write_manifest(out: Path, year: int, jobs: list[Job], data_files: dict[str, str]) -> Path:
    """Rewrite ``<out>/<year>/manifest.json`` atomically from the jobs of that year.

    ``reports`` holds one entry per report under :attr:`Job.manifest_key` (its file stem: distinct for every
    job), each naming its ``kind`` and, for a town, its ``town``. Entries of towns not in this batch are kept
    as they were, so ``--towns`` does not forget the others; an entry of a town under an older key (its file
    name has changed) is replaced by the new one.
    """
    previous = read_manifest(out, year)
    old = previous.get("reports", {})
    reports = dict(old)
    old_by_town = keys_by_town(old)
    by_town = {town: list(keys) for town, keys in old_by_town.items()}  # kept up to date as entries change
    for job in jobs:
        if job.year != year:
            continue
        key = job.manifest_key
        entry = {f.name: getattr(job, f.name) for f in fields(job)
                 if f.name not in {"kind", "year", "town", "notebook", "county", "folder"}}
        entry.update({"kind": job.kind, "package_version": __version__,
                      "html": job.relative(Path(job.html).name), "ipynb": job.relative(Path(job.ipynb).name),
                      "files": {f: job.relative(n) for f, n in _files(job.html).items()}})
        if job.folder:
            entry.update({"county": job.county, "folder": job.folder})
        if job.kind == "town":
            entry["town"] = job.town
        if job.status in {"pending", "not_run"}:
            prev = previous_entry(old, job, old_by_town)
            entry["status"] = "not_run"
            if prev and prev.get("status") in {"done", "skipped"}:
                entry["previous"] = {k: prev.get(k) for k in ("input_key", "finished_at", "seconds")}
        if job.kind == "town":
            for k in by_town.get(job.ident, []):
                if k != key and k in reports and _entry_town(k, reports[k]) == job.ident:
                    del reports[k]
            by_town[job.ident] = [key]
        reports[key] = entry
    doc = {
        "year": int(year),
        "package_version": __version__,
        "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data_files": data_files,
        "reports": reports,
    }
    if isinstance(previous.get("checks"), dict):
        doc["checks"] = previous["checks"]
    return atomic_write_text(manifest_path(out, year), json.dumps(doc, ensure_ascii=False, indent=2))


def _files(html: str | Path) -> dict[str, str]:
    """format → file name of every format of a report that exists beside its HTML and is not older than it
    (a Word file left from before the report was made again is not listed, nor linked)."""
    stale = set(outdated_formats(html, FORMATS))
    return {f: format_path(html, f).name for f in FORMATS if f not in stale and format_path(html, f).is_file()}


def report_links(entry: dict) -> list[tuple[str, str]]:
    """(label, href) of every format of a report the manifest records as made (HTML first)."""
    if not entry.get("html") or entry.get("status") not in {"done", "skipped"}:
        return []
    files = entry.get("files") or {"html": entry["html"]}
    return [(format_word(f), quote(files[f])) for f in FORMATS if f in files]
