"""The indicator catalog and the year phrases: package data files read into typed objects.

The catalog (``data/catalog.yaml``) holds one entry per quantity of the seed report. It is exposed as a
:class:`Catalog` whose ``frame`` is a DataFrame indexed by indicator code, so it joins naturally with
the tidy values table.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from ..errors import UnknownNameError

_COLUMNS = [
    "name", "unit", "section", "integer", "min", "max", "first_year", "last_year",
    "polarity", "origin", "key", "numeral", "additive", "help", "sentence", "phrase", "join", "problem", "measure", "praise", "compare", "aliases",
    "subject", "ranked", "norm", "norm_rule", "norm_source",
]

# Characters that differ between how people type a header and how the catalog spells it.
_HEADER_NOISE = re.compile(r"[\s\"'“”‘’「」『』]")
_UNIT_SUFFIX = re.compile(r"^(?P<name>.+?)[（(](?P<unit>[^（）()]*(?:[（(][^（）()]*[）)])?[^（）()]*)[）)]$")


def normalize_header(text: object) -> str:
    """Key under which a header is compared: NFKC, no spaces, no quotes.

    >>> normalize_header(" “好媳妇” ")
    '好媳妇'
    """
    s = unicodedata.normalize("NFKC", str(text))
    return _HEADER_NOISE.sub("", s)


def split_unit(header: str) -> tuple[str, str | None]:
    """Split ``主题党日活动（次）`` into ``('主题党日活动', '次')``; units may nest one bracket level.

    >>> split_unit("牛羊存栏（万头（只））")
    ('牛羊存栏', '万头（只）')
    >>> split_unit("发展党员")
    ('发展党员', None)
    """
    m = _UNIT_SUFFIX.match(header.strip())
    if not m:
        return header.strip(), None
    return m.group("name").strip(), m.group("unit").strip()


@dataclass(frozen=True)
class Header:
    """What an Excel header says: the indicator ``code`` (None when nothing matches), the ``unit`` written in
    brackets (None when none was), whether that unit is not the one the catalog (or the alias) has
    (``wrong_unit``), and ``earlier``: the catalog's alias when the header is one of an earlier template
    (``民族团结进步示范家庭（个）`` for what is now ``民族团结进步示范家庭（户）``)."""

    code: str | None
    unit: str | None = None
    earlier: str | None = None
    wrong_unit: bool = False


@dataclass(frozen=True)
class Catalog:
    """Indicator definitions.

    ``frame``: one row per indicator code (see ``data/catalog.yaml`` for the columns' meaning).
    ``sections``: section code → Chinese title. ``profile_fields``: text columns of the profile sheet.
    ``coverage``: ratios the seed implies (index code; columns name, numerator, denominator, full: whether
    anything short of all of them is a shortfall, as for 一肩挑; compare: whether the share compares across towns,
    the members who signed a pledge).
    ``practice_fields``: the text columns of the 特色做法 sheet (index code; name, section, kind, max, help).
    ``sentences``: how section （六） is composed from its indicators' phrases (name → lead/tail/requires).
    """

    frame: pd.DataFrame
    sections: dict
    profile_fields: pd.DataFrame
    coverage: pd.DataFrame = field(default_factory=pd.DataFrame)
    practice_fields: pd.DataFrame = field(default_factory=pd.DataFrame)
    sentences: dict = field(default_factory=dict)

    # -- lookups -------------------------------------------------------------------------------
    @property
    def codes(self) -> list[str]:
        return list(self.frame.index)

    @property
    def value_codes(self) -> list[str]:
        """Indicators read from the yearly sheets (not from the profile)."""
        return list(self.frame.index[self.frame["origin"] == "values"])

    @property
    def size_codes(self) -> list[str]:
        return list(self.frame.index[self.frame["section"] == "size"])

    def __getitem__(self, code: str) -> pd.Series:
        """The catalog row of ``code`` (a Series; shared, so copy it before changing it)."""
        try:
            return self._rows[code]
        except KeyError:
            self.check(code)
            raise

    @functools.cached_property
    def _rows(self) -> dict[str, pd.Series]:
        # the loader looks up a row for every cell it reads: build the Series once, not per cell
        return {code: row for code, row in self.frame.iterrows()}

    def record(self, code: str) -> dict:
        """The catalog row of ``code`` as a plain dict (shared: read it, do not change it). The loader reads a few
        fields of a row for every column of every sheet (a province: 60 counties × 7 sheets × 40 columns), where
        ``frame.at`` costs tens of microseconds a lookup."""
        try:
            return self._records[code]
        except KeyError:
            self.check(code)
            raise

    @functools.cached_property
    def _records(self) -> dict[str, dict]:
        return self.frame.to_dict("index")

    @functools.cached_property
    def content_hash(self) -> int:
        """A hash of the indicator table, computed once per catalog (county results are cached under it)."""
        return hash(repr(self.frame.to_dict()))

    def __contains__(self, code: object) -> bool:
        return code in self.frame.index

    def __len__(self) -> int:
        return len(self.frame)

    def check(self, code: str) -> str:
        """Return ``code`` if it is in the catalog, else raise :class:`UnknownNameError`."""
        if code not in self.frame.index:
            raise UnknownNameError("指标代码", code, self.frame.index)
        return code

    def name(self, code: str) -> str:
        return self.record(code)["name"]

    def label(self, code: str) -> str:
        """Display label with unit, as an Excel header carries it: ``主题党日活动（次）``."""
        row = self[code]
        return f"{row['name']}（{row['unit']}）"

    def applies(self, code: str, year: int) -> bool:
        """Whether the indicator is reported in ``year`` (e.g. epidemic items only 2020–2022)."""
        row = self[code]
        return bool(row["first_year"] <= year <= row["last_year"])

    def applicable(self, year: int, origin: str | None = "values") -> list[str]:
        """Codes that apply in ``year``, in catalog order."""
        f = self.frame
        mask = (f["first_year"] <= year) & (f["last_year"] >= year)
        if origin is not None:
            mask &= f["origin"] == origin
        return list(f.index[mask])

    def in_section(self, section: str) -> list[str]:
        if section not in self.sections:
            raise UnknownNameError("报告部分", section, self.sections)
        return list(self.frame.index[self.frame["section"] == section])

    def labels(self, codes=None, unit: bool = True) -> dict[str, str]:
        """Mapping code → Chinese label, for renaming columns in displays."""
        codes = self.codes if codes is None else codes
        return {c: (self.label(c) if unit else self.name(c)) for c in codes}

    @functools.cached_property
    def _header_index(self) -> dict[str, str]:
        index = {}
        for code, name in self.frame["name"].items():
            index[normalize_header(name)] = code
            index[normalize_header(code)] = code
        return index

    def match_header(self, header: object) -> tuple[str | None, str | None]:
        """Match an Excel header to an indicator code.

        Returns ``(code, unit_found)``; ``code`` is None when nothing matches. The unit in brackets,
        if any, is returned so the caller can check it against the catalog.

        >>> cat = load_catalog()
        >>> cat.match_header("主题党日活动（次）")
        ('theme_party_days', '次')
        >>> cat.match_header("好媳妇")
        ('good_daughters_in_law', None)
        """
        text = unicodedata.normalize("NFKC", str(header)).strip()
        code = self._header_index.get(normalize_header(text))
        if code is not None:
            return code, None
        name, unit = split_unit(str(header))
        code = self._header_index.get(normalize_header(name))
        return code, unit

    @functools.cached_property
    def _alias_index(self) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
        """Earlier headers: (whole header with its unit → (code, alias), bare earlier name → (code, alias))."""
        whole, names = {}, {}
        for code, aliases in self.frame["aliases"].items():
            for alias in aliases:
                name, unit = split_unit(alias)
                (whole if unit is not None else names)[normalize_header(alias)] = (code, alias)
        return whole, names

    def read_header(self, header: object) -> Header:
        """Read an Excel header: its indicator, the unit it writes, and whether it is an earlier template's.

        A header of the current catalog is read as :meth:`match_header` reads it; one of an entry's
        ``aliases`` (an earlier name, or an earlier name with its earlier unit) is read as that entry with
        ``earlier`` set, so that the loader can say what the header is called now.

        >>> cat = load_catalog()
        >>> cat.read_header("民族团结进步示范家庭（个）")
        Header(code='unity_model_families', unit='个', earlier='民族团结进步示范家庭（个）', wrong_unit=False)
        >>> cat.read_header("民族团结进步示范家庭（户）").earlier is None
        True
        """
        key = (type(header), header)  # 1 and True are equal keys, but not the same header
        try:
            return self._headers_read[key]
        except (KeyError, TypeError):  # not read yet, or not hashable
            pass
        found = self._read_header(header)
        try:
            self._headers_read[key] = found
        except TypeError:
            pass
        return found

    @functools.cached_property
    def _headers_read(self) -> dict:
        # every sheet of every county has the same headers: each is read once per catalog (a Header is frozen)
        return {}

    def _read_header(self, header: object) -> Header:
        code, unit = self.match_header(header)
        if code is not None and (unit is None or self.unit_matches(code, unit)):
            return Header(code, unit)
        whole, names = self._alias_index
        text = unicodedata.normalize("NFKC", str(header)).strip()
        if normalize_header(text) in whole:
            code, alias = whole[normalize_header(text)]
            return Header(code, unit, alias)
        name, unit = split_unit(str(header))
        if normalize_header(name) in names:
            code, alias = names[normalize_header(name)]
            return Header(code, unit, alias, wrong_unit=unit is not None and not self.unit_matches(code, unit))
        return Header(code, unit, wrong_unit=code is not None)

    def extend(self, entries: list[dict]) -> Catalog:
        """This catalog with a county's own indicators added (entries as in catalog.yaml; a county's apple
        acreage, herb acreage, photovoltaic capacity …). Entries whose code is already here, or comes twice, are
        taken once (the same county's indicators declared in its data and in a filled template). Those with a ``phrase`` join the （六） sentence
        :data:`LOCAL_SENTENCE`, written first in （六）."""
        unique: dict[str, dict] = {}
        for e in entries:  # declared twice (in the data and in a filled template): the first declaration
            unique.setdefault(e["code"], e)
        new = [_row(e) for code, e in unique.items() if code not in self.frame.index]
        if not new:
            return self
        frame = pd.concat([self.frame, pd.DataFrame(new).set_index("code")[_COLUMNS]])
        sentences = ({LOCAL_SENTENCE: {"lead": list(LOCAL_LEADS)}, **self.sentences}
                     if LOCAL_SENTENCE not in self.sentences else self.sentences)
        return Catalog(frame=frame, sections=self.sections, profile_fields=self.profile_fields,
                       coverage=self.coverage, practice_fields=self.practice_fields, sentences=sentences)

    def local_entries(self) -> list[dict]:
        """The county's own indicators this catalog holds (added by :meth:`extend`), as entries again."""
        f = self.frame[self.frame["sentence"] == LOCAL_SENTENCE]
        return [{"code": code, "name": r["name"], "unit": r["unit"], "section": r["section"], "integer": r["integer"],
                 "min": r["min"], "max": r["max"], "polarity": r["polarity"], "key": r["key"], "help": r["help"],
                 "sentence": r["sentence"], "phrase": r["phrase"], "measure": r["measure"]} for code, r in f.iterrows()]

    def unit_matches(self, code: str, unit: str) -> bool:
        return normalize_header(unit) == normalize_header(self.record(code)["unit"])

    def table(self) -> pd.DataFrame:
        """The catalog as a display table with Chinese column names (what ``zhidang indicators`` prints)."""
        f = self.frame
        years = [
            "全部年度" if (a <= 1900 and b >= 9999) else f"{a if a > 1900 else ''}—{b if b < 9999 else ''}"
            for a, b in zip(f["first_year"], f["last_year"])
        ]
        where = {"opening": "开篇", "next": "三", "size": "乡镇概况"}
        where.update({f"s{i}": f"一（{n}）" for i, n in enumerate("一二三四五六", start=1)})
        return pd.DataFrame(
            {
                "代码": f.index,
                "名称": f["name"].to_numpy(),
                "单位": f["unit"].to_numpy(),
                "所属部分": [where.get(s, s) for s in f["section"]],
                "适用年度": years,
            }
        )


#: libyaml's safe loader where PyYAML was built with it (its wheels are): the same data as ``yaml.safe_load``, ten
#: times faster (the catalog and the phrase bank cost a tenth of a second in pure Python, in every process).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load_yaml(text: str):
    """``yaml.safe_load(text)``, with libyaml where available."""
    return yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a safe loader


def _read_yaml(name: str):
    text = resources.files("zhidang_analysis").joinpath("data", name).read_text(encoding="utf-8")
    return safe_load_yaml(text)


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Read the indicator catalog: the packaged ``data/catalog.yaml``, or a county's own copy at ``path``.

    A county whose towns grow tea instead of 高原夏菜 copies the packaged file, edits it (names, units,
    (六) phrases) and passes it as ``catalog=load_catalog("my_catalog.yaml")`` to the loaders.
    Cached per path: a catalog is read-only data.
    """
    return _load_catalog(None if path is None else str(Path(path).resolve()))


@functools.cache
def _load_catalog(path: str | None) -> Catalog:
    if path is None:
        raw = _read_yaml("catalog.yaml")
    else:
        raw = safe_load_yaml(Path(path).read_text(encoding="utf-8"))
    rows = [_row(entry) for entry in raw["indicators"]]
    frame = pd.DataFrame(rows).set_index("code")[_COLUMNS]
    if not frame.index.is_unique:
        dup = frame.index[frame.index.duplicated()].tolist()
        raise ValueError(f"catalog.yaml: duplicate codes {dup}")
    _check_aliases(frame)
    unknown = set(frame["section"]) - set(raw["sections"])
    if unknown:
        raise ValueError(f"catalog.yaml: unknown sections {sorted(unknown)}")
    profile_fields = pd.DataFrame(raw["profile_fields"]).set_index("code")
    coverage = pd.DataFrame(raw.get("coverage", []),
                            columns=["code", "name", "numerator", "denominator", "full", "compare"])
    coverage = coverage.set_index("code").assign(full=lambda c: c["full"].fillna(False).astype(bool),
                                                 compare=lambda c: c["compare"].fillna(False).astype(bool))
    bad = set(coverage["numerator"]).union(coverage["denominator"]) - set(frame.index)
    if bad:
        raise ValueError(f"catalog.yaml: coverage refers to unknown codes {sorted(bad)}")
    practice_fields = pd.DataFrame(raw.get("practice_fields", []),
                                   columns=["code", "name", "section", "kind", "max", "example", "help", "blank"])
    practice_fields = practice_fields.set_index("code").fillna({"example": "", "help": "", "blank": ""})
    sentences = {str(k): dict(v or {}) for k, v in (raw.get("sentences") or {}).items()}
    unknown = set(frame["sentence"].dropna()) - set(sentences)
    if unknown:
        raise ValueError(f"catalog.yaml: phrases name sentences that `sentences:` does not list: {sorted(unknown)}")
    names = list(sentences)
    for name, spec in sentences.items():  # a sentence's phrases go on in a later one (``else``)
        if spec.get("else") and spec["else"] not in names[names.index(name) + 1:]:
            raise ValueError(f"catalog.yaml: sentence {name}'s else names no sentence after it: {spec['else']}")
    return Catalog(frame=frame, sections=dict(raw["sections"]), profile_fields=profile_fields,
                   coverage=coverage, practice_fields=practice_fields, sentences=sentences)


def _row(entry: dict) -> dict:
    """One catalog.yaml indicator entry as a row of :attr:`Catalog.frame` (its defaults filled in)."""
    years = entry.get("years") or [None, None]
    return {
        "code": entry["code"],
        "name": entry["name"],
        "unit": entry["unit"],
        "section": entry["section"],
        "integer": bool(entry.get("integer", True)),
        "min": float(entry.get("min", 0)),
        "max": float(entry.get("max", float("inf"))),
        "first_year": int(years[0]) if years[0] is not None else 1900,
        "last_year": int(years[1]) if years[1] is not None else 9999,
        "polarity": int(entry.get("polarity", 1)),
        "origin": entry.get("origin", "values"),
        "key": bool(entry.get("key", False)),
        "numeral": entry.get("numeral", "arabic"),
        "additive": bool(entry.get("additive", True)),
        "help": entry.get("help", ""),
        "sentence": entry.get("sentence"),
        "phrase": entry.get("phrase"),
        "join": entry.get("join", "，"),
        "measure": _measure(entry),
        "problem": bool(entry.get("problem", _measure(entry) == "performance")),
        "praise": bool(entry.get("praise", True)),
        "ranked": bool(entry.get("ranked", True)),
        "compare": bool(entry.get("compare", False)),
        "aliases": tuple(str(a) for a in entry.get("aliases") or ()),
        "subject": entry.get("subject"),
        "norm": _norm(entry),
        "norm_rule": entry.get("norm_rule"),
        "norm_source": entry.get("norm_source") or "",
    }


def _norm(entry: dict) -> float:
    """The least a year the Party's own rules ask of the indicator, in the scale the score compares it by
    (catalog.yaml ``norm``, with ``norm_rule`` saying the rule in words), or NaN."""
    if entry.get("norm") is None:
        return float("nan")
    if not entry.get("norm_rule"):
        raise ValueError(f"catalog.yaml: {entry.get('code')}: a norm needs its norm_rule (the rule in words)")
    return float(entry["norm"])


#: The （六） sentence of a county's own indicators (the sheet 本县指标): written first in （六）.
LOCAL_SENTENCE = "本县特色产业"
#: Its lead (one per town, as the phrase bank chooses; the first, none, only for the seed town).
LOCAL_LEADS = ("", "产业发展方面", "特色产业方面", "在发展特色产业上")

MEASURES = ("performance", "volume", "checklist", "neutral")


def _measure(entry: dict) -> str:
    """The kind of quantity (catalog.yaml ``measure``): performance unless neutral (polarity 0) or said."""
    measure = entry.get("measure", "neutral" if int(entry.get("polarity", 1)) == 0 else "performance")
    if measure not in MEASURES:
        raise ValueError(f"catalog.yaml: {entry.get('code')}: measure must be one of {list(MEASURES)}, got {measure!r}")
    return measure


def _check_aliases(frame: pd.DataFrame) -> None:
    """An alias may not be another entry's current header, nor belong to two entries: a header must name one
    indicator whichever template it came from."""
    current = {normalize_header(n): c for c, n in frame["name"].items()} | {normalize_header(c): c for c in frame.index}
    owner: dict[str, str] = {}
    for code, aliases in frame["aliases"].items():
        for alias in aliases:
            key = normalize_header(alias)
            name, unit = split_unit(alias)
            if current.get(key, code) != code or (unit is None and current.get(normalize_header(name), code) != code):
                raise ValueError(f"catalog.yaml: alias {alias!r} of {code} is the header of {current.get(key) or current[normalize_header(name)]}")
            if unit is not None and normalize_header(name) in current and current[normalize_header(name)] != code:
                raise ValueError(f"catalog.yaml: alias {alias!r} of {code} names {current[normalize_header(name)]}")
            if owner.setdefault(key, code) != code:
                raise ValueError(f"catalog.yaml: alias {alias!r} belongs to both {owner[key]} and {code}")


@functools.cache
def load_wording() -> dict:
    """The phrase bank of the town report (``data/wording.yaml``): formulations per slot, the general lines of
    三, and the measure of each kind of problem."""
    return _read_yaml("wording.yaml")


@functools.cache
def load_scoring() -> dict:
    """Composite-score settings from ``data/scoring.yaml`` (section weights, size scaling per indicator)."""
    return _read_yaml("scoring.yaml")


@functools.cache
def _year_phrases() -> dict:
    return {int(k): v for k, v in _read_yaml("year_phrases.yaml").items()}


def year_phrases(year: int) -> dict:
    """Year-dependent wording (plenary sessions, study campaign, ...) from ``data/year_phrases.yaml``."""
    phrases = _year_phrases()
    if int(year) not in phrases:
        raise UnknownNameError("年度用语（year_phrases.yaml）中的年度", year, sorted(phrases))
    return dict(phrases[int(year)])


def phrase_years() -> list[int]:
    return sorted(_year_phrases())
