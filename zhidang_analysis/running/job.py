"""One report a batch produces (:class:`Job`): what it runs, where it writes, its input key and its outcome."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..model.bundled import NOTEBOOKS

OVERVIEW = "overview"
REGION = "region"  # the comparison of counties

TOWN_NOTEBOOK = NOTEBOOKS / "town_report.ipynb"
OVERVIEW_NOTEBOOK = NOTEBOOKS / "county_overview.ipynb"
REGION_NOTEBOOK = NOTEBOOKS / "region_overview.ipynb"
DEFAULT_OUT = Path("reports")


@dataclass
class Job:
    """One report to produce."""

    kind: str  # "town" or "overview"
    year: int
    town: str | None
    parameters: dict
    notebook: str
    html: str
    ipynb: str
    input_key: str
    notebook_hash: str
    status: str = "pending"  # pending | done | skipped | failed | not_run
    seconds: float | None = None
    error: dict | None = None
    finished_at: str | None = None
    formats: tuple = ("html",)  # the formats asked for; HTML is always among them
    run_notebook: bool = True  # False: the notebook is up to date, only formats missing beside it are made
    county: str | None = None  # with several counties: the town's (or the overview's) county
    folder: str = ""  # with several counties: the county's folder under <out>/<year>/

    @property
    def ident(self) -> str | None:
        """The town as a batch names it: its name, or ``县/乡镇`` with several counties."""
        if self.kind != "town":
            return None
        return f"{self.county}/{self.town}" if self.folder else self.town

    @property
    def name(self) -> str:
        if self.kind == "town":
            return self.ident
        if self.kind == REGION:
            return "各县比较"
        return f"{self.county}概览" if self.folder else "全县概览"

    @property
    def label(self) -> str:
        return f"{self.year}年 {self.name}"

    @property
    def manifest_key(self) -> str:
        """The job's key in the manifest's ``reports``: its report's path under ``<out>/<year>/`` without the
        suffix. It is distinct per job (see :func:`export.output_stems`): ``overview`` for the county overview
        (``甲县/overview`` with several counties, ``overview`` then the comparison of counties), a town's own
        name when that is a safe file name, else its safe form (with a hash suffix if reserved, cut or shared)."""
        stem = Path(self.html).stem
        return f"{self.folder}/{stem}" if self.folder else stem

    def relative(self, name: str) -> str:
        """A file name of this job as a path under ``<out>/<year>/``."""
        return f"{self.folder}/{name}" if self.folder else name
