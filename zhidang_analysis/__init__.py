"""zhidang-analysis: township Party-building data → analysis and annual reports.

>>> import zhidang_analysis as zd
>>> ds = zd.load_dataset()          # the bundled synthetic sample
>>> zd.load_catalog().name("new_members")
'发展党员'
"""

import importlib

from .errors import DataError, ExtractError, ReportError, UnknownNameError, ZhidangError
from .inputs.extract import extract_report
from .inputs.load import load_dataset, validate
from .model.bundled import SAMPLE_DATA, __version__
from .model.catalog import Catalog, load_catalog, year_phrases
from .model.dataset import Dataset, Problem, ValidationResult

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

# the modules analysts use as zd.indicators, zd.narrative, zd.charts, ...; the heavy ones that only the
# command line needs (papermill, nbconvert) load on first use, so a notebook kernel starts quickly
from .analysis import indicators, problems  # noqa: E402
from .report import charts, narrative  # noqa: E402

#: where each module of ``zd.<name>`` lives (loaded on first use)
_LAZY = {
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


def export_tables(ds: Dataset, folder) -> list:
    """Write the dataset's tidy tables (values, profile, targets, practices, problems) as CSV and Parquet, with
    the data dictionary README.txt, into ``folder`` (:func:`zhidang_analysis.outputs.tidy.export_tables`)."""
    return importlib.import_module(".outputs.tidy", __name__).export_tables(ds, folder)


__all__ += ["export_tables"]


def __getattr__(name: str):
    if name in _LAZY or name in _FORMER:
        return importlib.import_module(f".{_LAZY.get(name) or _FORMER[name]}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
