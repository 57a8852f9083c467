"""zhidang-analysis: township Party-building data → analysis and annual reports.

>>> import zhidang_analysis as zd
>>> ds = zd.load_dataset()          # the bundled synthetic sample
>>> zd.load_catalog().name("new_members")
'发展党员'
"""

import importlib

from .errors import DataError, ExtractError, ReportError, UnknownNameError, ZhidangError
from .model.bundled import SAMPLE_DATA, __version__

#: the functions and classes of ``zd.<name>``, by the module they live in (loaded on first use: a batch worker that
#: only runs papermill and nbconvert never imports pandas or matplotlib, and ``import zhidang_analysis`` is quick)
_NAMES = {
    "extract_report": "inputs.extract",
    "load_dataset": "inputs.load",
    "validate": "inputs.load",
    "Catalog": "model.catalog",
    "load_catalog": "model.catalog",
    "year_phrases": "model.catalog",
    "Dataset": "model.dataset",
    "Problem": "model.dataset",
    "ValidationResult": "model.dataset",
}

__all__ = [
    "Catalog",
    "DataError",
    "Dataset",
    "ExtractError",
    "Problem",
    "ReportError",
    "SAMPLE_DATA",
    "UnknownNameError",
    "ValidationResult",
    "ZhidangError",
    "__version__",
    "extract_report",
    "load_catalog",
    "load_dataset",
    "validate",
    "year_phrases",
]

#: where each module of ``zd.<name>`` lives (loaded on first use, as every name of the package)
_LAZY = {
    "indicators": "analysis.indicators",
    "problems": "analysis.problems",
    "charts": "report.charts",
    "narrative": "report.narrative",
    "export": "outputs.export",
    "runner": "running.runner",
    "batch": "running.batch",
    "overview": "report.overview",
    "template": "outputs.template",
    "checks": "outputs.checks",
    "extracted": "outputs.extracted",
    "params": "report.params",
    "explorer": "explorer",
    "summary": "outputs.summary",
    "tidy": "outputs.tidy",
    "chartdata": "report.chartdata",
}

__all__ += ["charts", "indicators", "narrative", "problems", *sorted(_LAZY)]

#: modules that ``import zhidang_analysis`` used to bring along as attributes before the package had layers
#: (``zd.towntext``, ``zd.loaders`` …): still there, not in ``__all__``
_FORMER = {
    "catalog": "model.catalog",
    "loaders": "inputs.load",
    "memo": "analysis.memo",
    "numerals": "analysis.numerals",
    "practices": "inputs.practices",
    "standing": "analysis.standing",
    "towntext": "inputs.towntext",
    "workbooks": "inputs.workbooks",
}


def export_tables(ds: "Dataset", folder) -> list:  # noqa: F821 - loaded on first use
    """Write the dataset's tidy tables (values, profile, targets, practices, problems) as CSV and Parquet, with
    the data dictionary README.txt, into ``folder`` (:func:`zhidang_analysis.outputs.tidy.export_tables`)."""
    return importlib.import_module(".outputs.tidy", __name__).export_tables(ds, folder)


__all__ += ["export_tables"]


def __getattr__(name: str):
    if name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    elif name in _LAZY or name in _FORMER:
        value = importlib.import_module(f".{_LAZY.get(name) or _FORMER[name]}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # found once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_FORMER))
