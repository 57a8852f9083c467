"""Cross-field rules: indicators of one town and year that must agree with each other.

The rules live in the editable data file ``data/rules.yaml`` (left, op, right, an optional condition and
a Chinese message). :func:`check` applies all of them at once to the tidy values of a validated load:
the values are pivoted to one row per (town, year), the town's size figures from 乡镇概况 are joined
on, and each rule is one vectorised comparison over that table. Only the rows that break a rule are
looped over, to write their messages, each naming every cell involved (the yearly cells by their
source, a size figure by its cell in the 乡镇概况 sheet).

A rule is skipped for a town-year when an indicator it uses (in left, right or condition) is missing
or not applicable.

``python -m zhidang_analysis.inputs.crosscheck`` prints the README section 校验规则 for the rules file.
"""

from __future__ import annotations

import functools
import math
import operator
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from ..model.catalog import Catalog, load_catalog, safe_load_yaml
from ..model.dataset import Problem
from .sheets import cell_value, find_header_row
from .workbooks import read_workbook as _read_workbook

__all__ = ["Rule", "Side", "check", "load_rules", "rules_markdown", "violations"]

LEVELS = ("error", "warning", "check")


@dataclass(frozen=True)
class _Op:
    func: object
    symbol: str  # as the README writes it
    word: str  # as the expected value is worded: 不少于12


OPS = {
    ">=": _Op(operator.ge, "≥", "不少于"),
    "<=": _Op(operator.le, "≤", "不超过"),
    ">": _Op(operator.gt, ">", "大于"),
    "<": _Op(operator.lt, "<", "小于"),
    "==": _Op(operator.eq, "=", "等于"),
}
_COMPARISON = re.compile(r"^\s*(?P<left>.+?)\s*(?P<op>>=|<=|==|>|<)\s*(?P<right>.+?)\s*$")
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


# --------------------------------------------------------------------------------------------- rules
@dataclass(frozen=True)
class Side:
    """One side of a comparison: the sum of some indicators plus a constant."""

    codes: tuple[str, ...] = ()
    constant: float = 0.0

    @classmethod
    def parse(cls, text: object, where: str) -> Side:
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            return cls((), float(text))
        codes, constant = [], 0.0
        for term in str(text).split("+"):
            term = term.strip()
            if _CODE.match(term):
                codes.append(term)
            elif _NUMBER.match(term):
                constant += float(term)
            else:
                raise ValueError(f"rules.yaml: {where}: cannot read {term!r} (an indicator code or a number)")
        return cls(tuple(codes), constant)

    def total(self, wide: pd.DataFrame) -> pd.Series:
        out = pd.Series(self.constant, index=wide.index, dtype="float64")
        for c in self.codes:
            out = out + wide[c]
        return out

    def text(self, cat: Catalog) -> str:
        """The side in Chinese: ``省级美丽乡村示范点 + 县级示范村``; a size figure says it is from 乡镇概况."""
        terms = [_label(cat, c) for c in self.codes]
        if self.constant or not self.codes:
            terms.append(_num(self.constant))
        return " + ".join(terms)


@dataclass(frozen=True)
class Comparison:
    left: Side
    op: str
    right: Side

    @property
    def codes(self) -> tuple[str, ...]:
        return self.left.codes + self.right.codes

    def holds(self, wide: pd.DataFrame) -> pd.Series:
        return OPS[self.op].func(self.left.total(wide), self.right.total(wide))

    def text(self, cat: Catalog) -> str:
        return f"{self.left.text(cat)} {OPS[self.op].symbol} {self.right.text(cat)}"


@dataclass(frozen=True)
class Rule:
    """One cross-field rule of ``data/rules.yaml``."""

    id: str
    family: str
    test: Comparison
    condition: tuple[Comparison, ...]
    join: str  # "or" / "and": how the condition's comparisons combine
    message: str
    level: str = "error"

    @property
    def codes(self) -> tuple[str, ...]:
        """Every indicator the rule uses, in order of appearance, each once."""
        seen = self.test.codes + tuple(c for cmp in self.condition for c in cmp.codes)
        return tuple(dict.fromkeys(seen))

    def applies(self, wide: pd.DataFrame) -> pd.Series:
        if not self.condition:
            return pd.Series(True, index=wide.index)
        parts = [cmp.holds(wide) for cmp in self.condition]
        return functools.reduce(operator.or_ if self.join == "or" else operator.and_, parts)

    def condition_text(self, cat: Catalog) -> str:
        word = " 或 " if self.join == "or" else " 且 "
        return word.join(cmp.text(cat) for cmp in self.condition)

    def message_text(self, cat: Catalog) -> str:
        """The message with each placeholder written as the indicator names in 〔〕 (for the README)."""
        names = {c: f"〔{cat.name(c)}〕" for c in self.codes}
        names["left"] = "〔" + "与".join(cat.name(c) for c in self.test.left.codes) + "〕" if self.test.left.codes \
            else _num(self.test.left.constant)
        names["right"] = "〔" + "与".join(cat.name(c) for c in self.test.right.codes) + "〕" if self.test.right.codes \
            else _num(self.test.right.constant)
        return self.message.format_map(names)


def _parse_comparison(text: str, where: str) -> Comparison:
    m = _COMPARISON.match(str(text))
    if not m:
        raise ValueError(f"rules.yaml: {where}: cannot read comparison {text!r}")
    return Comparison(Side.parse(m["left"], where), m["op"], Side.parse(m["right"], where))


def _parse_rule(raw: dict, n: int) -> Rule:
    rid = raw.get("id") or f"#{n + 1}"
    for key in ("id", "left", "op", "right", "message"):
        if raw.get(key) is None:
            raise ValueError(f"rules.yaml: rule {rid}: missing {key!r}")
    if raw["op"] not in OPS:
        raise ValueError(f"rules.yaml: rule {rid}: op must be one of {list(OPS)}, got {raw['op']!r}")
    level = raw.get("level", "error")
    if level not in LEVELS:
        raise ValueError(f"rules.yaml: rule {rid}: level must be one of {list(LEVELS)}, got {level!r}")
    test = Comparison(Side.parse(raw["left"], f"rule {rid}"), raw["op"], Side.parse(raw["right"], f"rule {rid}"))
    condition: tuple[Comparison, ...] = ()
    join = "or"
    if raw.get("condition"):
        text = str(raw["condition"])
        has_or, has_and = re.search(r"\sor\s", text), re.search(r"\sand\s", text)
        if has_or and has_and:
            raise ValueError(f"rules.yaml: rule {rid}: a condition joins its parts by 'or' or by 'and', not both")
        join = "and" if has_and else "or"
        condition = tuple(_parse_comparison(part, f"rule {rid}") for part in re.split(rf"\s{join}\s", text))
    rule = Rule(str(raw["id"]), str(raw.get("family", "")), test, condition, join, str(raw["message"]), level)
    allowed = {"left", "right", *rule.codes}
    for _, field, _, _ in string.Formatter().parse(rule.message):
        if field is not None and field not in allowed:
            raise ValueError(f"rules.yaml: rule {rid}: message uses {{{field}}}; allowed: {sorted(allowed)}")
    return rule


@functools.lru_cache(maxsize=8)
def _load_rules(path: str | None) -> tuple[Rule, ...]:
    if path is None:
        text = resources.files("zhidang_analysis").joinpath("data", "rules.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    raw = safe_load_yaml(text) or {}
    rules = tuple(_parse_rule(r, n) for n, r in enumerate(raw.get("rules") or []))
    dup = sorted({r.id for r in rules if sum(q.id == r.id for q in rules) > 1})
    if dup:
        raise ValueError(f"rules.yaml: duplicate rule ids {dup}")
    return rules


def load_rules(path: str | Path | None = None) -> tuple[Rule, ...]:
    """The rules of the packaged ``data/rules.yaml``, or of a county's own copy at ``path``."""
    return _load_rules(None if path is None else str(Path(path).resolve()))


# --------------------------------------------------------------------------------------------- evaluation
def _wide(values: pd.DataFrame, profile: pd.DataFrame, codes: Iterable[str], cat: Catalog) -> pd.DataFrame:
    """One row per (town, year), one column per code: present values only (missing / na are NaN)."""
    codes = list(dict.fromkeys(codes))
    from_profile = [c for c in codes if cat.frame.at[c, "origin"] == "profile"]
    from_values = [c for c in codes if c not in from_profile]
    v = values[values["indicator"].isin(from_values)]
    value = v["value"].where(v["status"] == "present")
    wide = (value.set_axis(pd.MultiIndex.from_frame(v[["town", "year", "indicator"]])).unstack("indicator")
            if len(v) else pd.DataFrame(index=pd.MultiIndex.from_arrays([[], []], names=["town", "year"])))
    keys = values[["town", "year"]].drop_duplicates()
    wide = wide.reindex(index=pd.MultiIndex.from_frame(keys), columns=from_values)
    towns = wide.index.get_level_values("town")
    for c in from_profile:
        size = profile[c] if c in profile.columns else pd.Series(dtype="float64")
        wide[c] = pd.to_numeric(size.reindex(towns), errors="coerce").to_numpy(dtype="float64")
    return wide.astype("float64")


def violations(values: pd.DataFrame, profile: pd.DataFrame, catalog: Catalog | None = None,
               rules: Sequence[Rule] | None = None) -> pd.DataFrame:
    """Where the rules are broken: a boolean table, index (town, year), one column per rule id.

    Rules that use a code the catalog does not have (a county's own catalog) are left out.
    """
    cat = catalog or load_catalog()
    rules = [r for r in (load_rules() if rules is None else rules) if all(c in cat for c in r.codes)]
    wide = _wide(values, profile, [c for r in rules for c in r.codes], cat)
    out = {}
    for rule in rules:  # a handful of rules; every rule is evaluated over all town-years at once
        usable = wide[list(rule.codes)].notna().all(axis=1)
        out[rule.id] = usable & rule.applies(wide) & ~rule.test.holds(wide)
    return pd.DataFrame(out, index=wide.index, columns=[r.id for r in rules], dtype=bool)


def check(values: pd.DataFrame, profile: pd.DataFrame, catalog: Catalog | None = None,
          files: Iterable[Path] = (), rules: Sequence[Rule] | None = None) -> list:
    """One :class:`~zhidang_analysis.model.dataset.Problem` per broken rule and town-year, naming every cell.

    ``files`` are the input files, to find a size figure's cell in the 乡镇概况 sheet (without them the
    message names the profile row). Problems are ordered by town (profile order), year and rule.
    """
    cat = catalog or load_catalog()
    rules = list(load_rules() if rules is None else rules)
    bad = violations(values, profile, cat, rules)
    hits = bad.stack()
    hits = hits[hits.astype(bool)]
    if hits.empty:
        return []
    order = {t: i for i, t in enumerate(profile.index)}
    by_id = {r.id: (i, r) for i, r in enumerate(rules)}
    keys = sorted(hits.index, key=lambda k: (order.get(k[0], len(order)), k[0], k[1], by_id[k[2]][0]))
    cells = _Cells(values, profile, cat, files)
    return [_problem(by_id[rid][1], town, int(year), cells, cat) for town, year, rid in keys]


# --------------------------------------------------------------------------------------------- messages
class _Cells:
    """Where each value of a failing rule is, and what it reads: only looked up for failing rows."""

    def __init__(self, values: pd.DataFrame, profile: pd.DataFrame, cat: Catalog, files: Iterable[Path]):
        self.info = values.set_index(["town", "year", "indicator"])[["value", "approx", "source"]]
        self.profile = profile
        self.cat = cat
        self.files = list(files)
        self._profile_columns: dict[tuple[str, str], dict[str, str]] = {}

    def get(self, town: str, year: int, code: str) -> tuple[float, bool, tuple]:
        """``(value, approx, (file, sheet, cell, row))``."""
        if self.cat.frame.at[code, "origin"] == "profile":
            return float(self.profile.at[town, code]), False, self._profile_cell(town, code)
        row = self.info.loc[(town, year, code)]
        file, sheet, cell = _split_source(str(row["source"]))
        return float(row["value"]), bool(row["approx"]), (file, sheet, cell, None)

    def _profile_cell(self, town: str, code: str) -> tuple:
        """The size figure's cell in 乡镇概况 (the town name's row, the figure's column); else the row."""
        file, sheet, town_cell = _split_source(str(self.profile.at[town, "source"]))
        row = re.sub(r"^[A-Z]+", "", town_cell or "") or None
        column = self._columns(file, sheet).get(code)
        return file, sheet, f"{column}{row}" if column and row else None, row

    def _columns(self, file: str, sheet: str | None) -> dict[str, str]:
        """Column letter of each catalog indicator in the header of the profile sheet (read once)."""
        key = (file, sheet or "")
        if key not in self._profile_columns:
            self._profile_columns[key] = {}
            try:
                self._profile_columns[key] = self._read_columns(file, sheet)
            except Exception:  # noqa: BLE001 - the message then names the row instead of the cell
                pass
        return self._profile_columns[key]

    def _read_columns(self, file: str, sheet: str | None) -> dict[str, str]:
        from openpyxl.utils import get_column_letter

        path = next((f for f in self.files if file in {Path(f).name, f"{Path(f).parent.name}/{Path(f).name}"}), None)
        if path is None or sheet is None:
            return {}
        df = _read_workbook(Path(path)).get(sheet)
        h = None if df is None else find_header_row(df, "乡镇", anywhere=True)
        if h is None:
            return {}
        out: dict[str, str] = {}
        for j in range(df.shape[1]):
            head = cell_value(df, h, j)
            code = self.cat.match_header(head)[0] if head is not None else None
            if code is not None and code not in out:
                out[code] = get_column_letter(j + 1)
        return out


def _split_source(source: str) -> tuple[str, str | None, str | None]:
    """``file!sheet!cell`` (a workbook) or ``file!cell`` (a CSV) into (file, sheet, cell)."""
    parts = source.split("!")
    if len(parts) >= 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        if parts[0].lower().endswith(".csv"):
            return parts[0], None, parts[1]
        return parts[0], parts[1], None
    return parts[0], None, None


def _where(loc: tuple, home: tuple) -> str:
    """A cell named relative to the problem's own file and sheet: ``单元格P7`` or ``文件“…”工作表“…”单元格K2``."""
    file, sheet, cell, row = loc
    out = ""
    if file != home[0]:
        out += f"文件“{file}”"
    if sheet and (file != home[0] or sheet != home[1]):
        out += f"工作表“{sheet}”"
    if cell:
        out += f"单元格{cell}"
    elif row:
        out += f"第{row}行"
    return out or f"文件“{file}”"


def _problem(rule: Rule, town: str, year: int, cells: _Cells, cat: Catalog):
    got = {c: cells.get(town, year, c) for c in rule.codes}
    home_code = next((c for c in rule.codes if cat.frame.at[c, "origin"] != "profile"), rule.codes[0])
    home = got[home_code][2]

    def one(code: str) -> str:
        value, approx, loc = got[code]
        return f"{cat.name(code)}（{_num(value, approx)}{cat.frame.at[code, 'unit']}，{_where(loc, home)}）"

    def side(s: Side) -> str:
        if not s.codes:
            return _num(s.constant)
        if len(s.codes) == 1 and not s.constant:
            return one(s.codes[0])
        total = s.constant + sum(got[c][0] for c in s.codes)
        return "与".join(one(c) for c in s.codes) + f"之和（{_num(total)}{cat.frame.at[s.codes[0], 'unit']}）"

    names = {c: one(c) for c in rule.codes}
    names["left"], names["right"] = side(rule.test.left), side(rule.test.right)
    left = rule.test.left
    found = "+".join(_num(got[c][0], got[c][1]) for c in left.codes) or _num(left.constant)
    right = rule.test.right
    right_total = right.constant + sum(got[c][0] for c in right.codes)
    unit = cat.frame.at[right.codes[0], "unit"] if right.codes else ""
    expected = f"{OPS[rule.test.op].word}{_num(right_total)}{unit}"
    return Problem(rule.level, home[0], home[1], home[2], found, rule.message.format_map(names), expected,
                   town, left.codes[0] if left.codes else home_code)


def _num(value: float, approx: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(int(value)) if float(value).is_integer() else f"{value:.6g}"
    return text + ("余" if approx else "")


def _label(cat: Catalog, code: str) -> str:
    name = cat.name(code)
    return f"{name}（乡镇概况）" if cat.frame.at[code, "origin"] == "profile" else name


# --------------------------------------------------------------------------------------------- README
README_INTRO = (
    "`zhidang validate` 在各单元格都读取无误之后（有单元格错误时，先改正这些错误再核对），"
    "按 `zhidang_analysis/data/rules.yaml` 核对同一乡镇同一年度相互关联的指标"
    "（以及乡镇概况中的行政村数、党支部数）。违反规则是**错误**：提示写出涉及的每个单元格和读到的数值，"
    "乡镇概况中的数字写明文件、工作表和单元格；一次列出全部违反规则之处。"
    "规则用到的任何一项缺报或不适用时，该乡镇该年度跳过这条规则。规则可以直接编辑 `rules.yaml`，"
    "编辑后用 `python -m zhidang_analysis.inputs.crosscheck` 重新生成下表。"
)


def rule_line(rule: Rule, cat: Catalog | None = None) -> str:
    """The README table row of one rule."""
    cat = cat or load_catalog()
    cond = rule.condition_text(cat) if rule.condition else "—"
    return f"| `{rule.id}` | {rule.family} | {rule.test.text(cat)} | {cond} | {rule.message_text(cat)} |"


def rules_markdown(rules: Sequence[Rule] | None = None, cat: Catalog | None = None) -> str:
    """The README section 校验规则 (Chinese), one table row per rule."""
    cat = cat or load_catalog()
    rules = load_rules() if rules is None else rules
    lines = ["## 校验规则", "", README_INTRO, "",
             "| 规则 | 类别 | 要求 | 适用条件 | 错误提示 |", "| --- | --- | --- | --- | --- |"]
    lines += [rule_line(r, cat) for r in rules]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(rules_markdown(), end="")
