"""The validated data of one county or several: :class:`Dataset`, a validation finding (:class:`Problem`)
and what validation returns (:class:`ValidationResult`). No I/O: reading input lives in :mod:`..inputs`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import AmbiguousTownError, UnknownNameError
from .catalog import Catalog

VALUE_COLUMNS = ["county", "town", "year", "indicator", "value", "approx", "status", "source"]


def empty_practices() -> pd.DataFrame:
    """The practices table with no rows (a dataset without a 特色做法 sheet)."""
    return pd.DataFrame({"town": pd.Series(dtype=object), "year": pd.Series(dtype="int64"),
                         "field": pd.Series(dtype=object), "text": pd.Series(dtype=object),
                         "source": pd.Series(dtype=object)})


# --------------------------------------------------------------------------------------------- problems
# the levels of a validation finding, most serious first, and how messages name them
LEVELS = {"error": "错误", "warning": "警告", "check": "请核实", "notice": "提示"}


@dataclass(frozen=True)
class Problem:
    """One finding of validation.

    ``level`` is ``error`` (the data cannot be used), ``warning`` (used, but look at it), ``check``
    (plausible but unusual: 请核实) or ``notice`` (read as meant, but written another way: a header of an
    earlier template; nothing to correct for this report).
    """

    level: str
    file: str
    sheet: str | None
    cell: str | None
    value: object
    message: str
    expected: str = ""
    town: str | None = None
    indicator: str | None = None
    county: str | None = None  # set when the input holds several counties

    @property
    def where(self) -> str:
        parts = [f"文件“{self.file}”"]
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        if self.cell:
            parts.append(f"单元格{self.cell}")
        return "，".join(parts)

    def __str__(self) -> str:
        label = LEVELS[self.level]
        text = f"【{label}】{self.where}：{self.message}"
        if self.value is not None and self.value != "":
            text += f"；读到“{self.value}”"
        if self.expected:
            text += f"，应为{self.expected}"
        return text + "。"


# --------------------------------------------------------------------------------------------- dataset
@dataclass
class Dataset:
    """A validated dataset of one county or several.

    ``values``: tidy table, one row per (county, town, year, indicator) with ``value`` (float),
    ``approx`` (given as ``30余``), ``status`` (present / missing / na) and ``source`` (``file!sheet!cell``).
    ``profile``: one row per town, indexed by ``town`` for one county and by (``county``, ``town``) for several.
    ``targets``: tidy (town, year, indicator, target, source), with ``county`` first for several counties;
    ``practices`` likewise. ``problems``: the warnings found while loading (errors raise :class:`DataError`).

    A town is (county, town): two counties may both have a 城关镇. The reports, charts and narrative work on
    one county (:meth:`for_county`); comparisons (ranks, medians, scores, flags) run within a county.
    """

    values: pd.DataFrame
    profile: pd.DataFrame
    targets: pd.DataFrame
    catalog: Catalog
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    practices: pd.DataFrame = field(default_factory=empty_practices)

    @property
    def multi(self) -> bool:
        """Several counties (the profile is indexed by county and town)."""
        return isinstance(self.profile.index, pd.MultiIndex)

    @property
    def counties(self) -> list[str]:
        """The counties, in the order of the input."""
        if self.multi:
            return list(dict.fromkeys(self.profile.index.get_level_values("county")))
        return list(dict.fromkeys(self.profile["county"]))

    @property
    def town_keys(self) -> list[tuple[str, str]]:
        """(county, town) of every town with data."""
        # the distinct pairs first: the long table has a row per town, year and indicator
        pairs = self.values[["county", "town"]].drop_duplicates()
        have = set(zip(pairs["county"], pairs["town"]))
        if self.multi:
            keys = list(self.profile.index)
        else:
            keys = list(zip(self.profile["county"], self.profile.index))
        return [k for k in keys if k in have]

    @property
    def towns(self) -> list[str]:
        """The towns' names; ``县/乡镇`` labels when the data hold several counties."""
        if self.multi:
            return [town_label(c, t) for c, t in self.town_keys]
        return list(self.profile.index[self.profile.index.isin(self.values["town"].unique())])

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.values["year"].unique())

    @property
    def county(self) -> str:
        return "、".join(self.counties)

    def for_county(self, county: str | None) -> Dataset:
        """The dataset of one county, its profile indexed by town (this dataset itself when it holds one county
        and ``county`` is that one or empty). Raises :class:`UnknownNameError` for a county not in the data."""
        if not county:
            if self.multi:
                raise UnknownNameError("县", "", self.counties)
            return self
        if county not in self.counties:
            raise UnknownNameError("县", county, self.counties)
        if not self.multi:
            return self
        profile = self.profile.xs(county, level="county").copy()
        profile.insert(0, "county", county)
        sel = self.values["county"] == county

        def own(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[frame["county"] == county].drop(columns=["county"]).reset_index(drop=True)

        return Dataset(values=self.values[sel].reset_index(drop=True), profile=profile, targets=own(self.targets),
                       catalog=self.catalog,
                       problems=[p for p in self.problems if p.county == county or (p.county is None and p.town is None)],
                       files=list(self.files), practices=own(self.practices))

    def resolve(self, town: str, county: str | None = None) -> tuple[str, str]:
        """(county, town) of a town given as its name, as ``县/乡镇``, or with ``county``. A name that is in
        several counties must say which: :class:`AmbiguousTownError` lists the choices."""
        name = str(town).strip()
        keys = self.town_keys
        if "/" in name and not county and name not in {t for _, t in keys}:  # a town may be named a/b
            county, _, name = name.rpartition("/")
        if county:
            if county not in self.counties:
                raise UnknownNameError("县", county, self.counties)
            if (county, name) in keys:
                return county, name
            raise UnknownNameError("乡镇", name, [t for c, t in keys if c == county])
        hits = [k for k in keys if k[1] == name]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise UnknownNameError("乡镇", name, self.towns)
        raise AmbiguousTownError(name, [town_label(c, t) for c, t in hits])

    def check_town(self, town: str) -> str:
        if self.multi:
            return town_label(*self.resolve(town))
        if town not in set(self.values["town"]):
            raise UnknownNameError("乡镇", town, self.towns)
        return town

    def check_year(self, year: int) -> int:
        try:
            y = int(year)
        except (TypeError, ValueError):
            raise UnknownNameError("年度", year, self.years) from None
        if y not in self.years:
            raise UnknownNameError("年度", year, self.years)
        return y

    def summary(self) -> dict:
        v = self.values
        return {
            "county": self.county,
            "counties": len(self.counties),
            "towns": len(self.town_keys),
            "years": self.years,
            "indicators": int(v["indicator"].nunique()),
            "present": int((v["status"] == "present").sum()),
            "missing": int((v["status"] == "missing").sum()),
            "na": int((v["status"] == "na").sum()),
            "approx": int(v["approx"].sum()),
            "targets": len(self.targets),
            "warnings": sum(p.level not in ("error", "notice") for p in self.problems),
        }

    def copy(self) -> Dataset:
        """A copy whose tables can be changed without touching this one."""
        return Dataset(values=self.values.copy(), profile=self.profile.copy(), targets=self.targets.copy(),
                       catalog=self.catalog, problems=list(self.problems), files=list(self.files),
                       practices=self.practices.copy())

    def practice(self, town: str, year: int) -> dict[str, tuple[str, str]]:
        """The town's own practices of ``year`` from the sheet 特色做法: field code → (text, source)."""
        p = self.practices
        rows = p[(p["town"] == town) & (p["year"] == int(year))]
        return {r.field: (r.text, r.source) for r in rows.itertuples()}

    def __repr__(self) -> str:
        s = self.summary()
        where = s["county"] if s["counties"] == 1 else f"{s['counties']}个县"
        return (
            f"<Dataset {where}: {s['towns']}个乡镇, 年度{s['years'][0] if s['years'] else ''}"
            f"—{s['years'][-1] if s['years'] else ''}, {len(self.values)}行>"
        )


def town_label(county: str, town: str) -> str:
    """How a town is named where its name alone may be in several counties: ``甲县/城关镇``."""
    return f"{county}/{town}"


@dataclass
class ValidationResult:
    """What :func:`validate` found: every problem, and the dataset when there was no error."""

    problems: list[Problem]
    dataset: Dataset | None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors
