"""zhidang-analysis: township Party-building data → analysis and annual reports.

>>> import zhidang_analysis as zd
>>> ds = zd.load_dataset()          # the bundled synthetic sample
>>> zd.load_catalog().name("new_members")
'发展党员'
"""

from pathlib import Path

from .catalog import Catalog, load_catalog, year_phrases
from .errors import DataError, ReportError, UnknownNameError, ZhidangError
from .loaders import Dataset, Problem, ValidationResult, load_dataset, validate

__version__ = "0.1.0"

#: The bundled synthetic sample (a fictional county), the default data of every command.
SAMPLE_DATA = Path(__file__).resolve().parent.parent / "data" / "sample"

__all__ = [
    "Catalog",
    "DataError",
    "Dataset",
    "Problem",
    "ReportError",
    "SAMPLE_DATA",
    "UnknownNameError",
    "ValidationResult",
    "ZhidangError",
    "__version__",
    "load_catalog",
    "load_dataset",
    "validate",
    "year_phrases",
]

# the modules analysts use as zd.indicators, zd.narrative, zd.charts, ...; the heavy ones that only the
# command line needs (papermill, nbconvert) load on first use, so a notebook kernel starts quickly
from . import charts, indicators, narrative, problems  # noqa: E402

_LAZY = {"export", "runner", "batch", "overview", "template", "checks", "params", "explorer"}

__all__ += ["charts", "indicators", "narrative", "problems", *sorted(_LAZY)]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
