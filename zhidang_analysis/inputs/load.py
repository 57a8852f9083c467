"""Read Excel/CSV input into a validated :class:`Dataset`.

Input layout (the one ``zhidang template`` writes):

- **values**: a workbook with one sheet per year (``2023``, ``2023年``, ``2023年度``, ``二〇二三年``); a header
  row whose first column is ``乡镇`` and whose other columns are indicator names (``主题党日活动（次）`` is
  accepted, also with a line break before the unit); one row per town. A title row above the header, a total
  row (``合计``, ``小计``, ``总计``, ``全县合计`` …) and footer notes (``填表人：``, ``注：``) are recognised by their
  shape, never by a prefix of a town's name. A CSV in tidy long form (县, 乡镇, 年度, 指标代码, 数值) is
  accepted as well.
- **profile**: a sheet named ``乡镇概况`` (text that fills the report's XX places and the size figures).
- **targets**: a workbook whose file name contains ``目标``, laid out like the values.

Every problem is collected in one pass and reported with file, sheet, cell, the value found and what was
expected. Files are only ever read. Nothing that looks like data is skipped without a word: a sheet whose
header row starts with ``乡镇`` is read (or is an error when its year is not certain), a file in a format that
is not read is named, a merged cell in a table, a formula without a saved result, an Excel error value and a
percent-formatted number are errors, and a town row left blank or an indicator without a column is a warning
(those numbers show as 【待补】 in the reports). Workbooks that would inflate beyond
:data:`MAX_UNCOMPRESSED_BYTES` or hold more than :data:`MAX_ROWS` rows in a sheet are refused before parsing.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataError
from ..model.bundled import SAMPLE_DATA
from ..model.catalog import Catalog, load_catalog, normalize_header
from ..model.dataset import VALUE_COLUMNS, Dataset, Problem, ValidationResult
from . import practices as _practices
from .cache import disk_load, disk_path, disk_store
from .cells import cell_name, county_text
from .crosscheck import check
from .profile import LOCAL_SHEET, PROFILE_SHEET, parse_local_indicators, parse_profile
from .townnames import parse_towns
from .sheets import (
    Collector, CountyView, cell_text, cell_value, find_header_row, is_footer_label, is_total_label, town_name
)
from .tables import check_sheet_name, parse_csv, parse_year_sheet, sheet_year
from .workbooks import (
    EXCEL_SUFFIXES, UNREAD_SUFFIXES, ReadRefused, expand, read_workbook
)

TARGETS_MARK = "目标"
# Sheets a workbook may carry besides the data (the template's instructions, last year's reference).
IGNORED_SHEETS = {"填表说明", "说明", "指标说明", "上年数据", "上年数据（参考）", "审核结果", "审核汇总"}


def validate(*paths: str | Path, catalog: Catalog | None = None, exclude_towns=()) -> ValidationResult:
    """Read and check every file under ``paths``; return all problems and, if none is an error, the dataset.

    The input holds one county or several. Several counties come as a folder of county folders (each laid
    out as one county's folder), or as tables whose 乡镇概况 lists towns of several 县 (year sheets then carry
    a 县 column before 乡镇 wherever a town name is in more than one county). Each county is read on its own:
    its towns are (county, town), so two counties' 城关镇 are two towns.

    ``exclude_towns`` (names, ``县/乡镇`` where a name is in several counties, or one comma-separated string)
    are left out as if their rows were not there: a batch uses it to report on the other towns when one
    town's data have errors.
    """
    cat = catalog or load_catalog()
    excluded = parse_towns(exclude_towns)
    problems: list[Problem] = []
    groups = _groups(paths or ["data/sample"], problems)
    files = [f for _, group in groups for f in group]
    if not files:
        problems.append(Problem("error", ", ".join(map(str, paths)), None, None, None, "没有找到数据文件",
                                ".xlsx 或 .csv 文件（或每个县一个子文件夹）"))
        return ValidationResult(problems, None)
    names = {f: (f"{label}/{f.name}" if label else f.name) for label, group in groups for f in group}

    workbooks: dict[Path, dict[str, pd.DataFrame]] = {}
    for f in files:
        if f.suffix.lower() == ".csv":
            continue
        if not f.exists():
            problems.append(Problem("error", str(f), None, None, None, "文件不存在", "已有的数据文件或文件夹"))
            continue
        if f.suffix.lower() in UNREAD_SUFFIXES:
            problems.append(Problem("error", names[f], None, None, None,
                                    f"不读取此格式的文件（{UNREAD_SUFFIXES[f.suffix.lower()]}“{f.suffix}”），其中的数据不会被使用",
                                    "另存为Excel工作簿（.xlsx）后放回文件夹，或把不是数据的文件移出数据文件夹"))
            continue
        try:
            workbooks[f] = read_workbook(f)
        except ReadRefused as e:
            problems.append(Problem("error", names[f], e.sheet, None, None, e.message, e.expected))
        except Exception as e:  # noqa: BLE001 - reported with the file name
            problems.append(Problem("error", names[f], None, None, None,
                                    f"无法读取Excel文件（{type(e).__name__}：{e}）", "可以用Excel打开的 .xlsx 文件"))

    parts: list[Dataset] = []
    where_county: dict[str, str] = {}
    n_views = 0
    for label, group in groups:
        views = workbook_views(group, workbooks, problems, names)
        n_views += len(views)
        for view in views:
            county = view.county if view is not None else None
            # a name as given (a town may be named a/b), and this county's towns given as 县/乡镇
            exclude = frozenset(excluded) | {t[len(county) + 1:] for t in excluded
                                             if county and t.startswith(county + "/")}
            found: list[Problem] = []
            part = _validate_county(group, workbooks, found, cat, exclude, names, view, label or paths,
                                    any(p.level == "error" for p in problems))
            problems += [replace(p, county=county) if p.town and p.county is None and county else p for p in found]
            if part is None:
                continue
            for c in part.counties:
                if c in where_county and where_county[c] != (label or ""):
                    problems.append(Problem("error", label or names[group[0]], PROFILE_SHEET, None, c,
                                            f"县“{c}”在两处都有数据：文件夹“{where_county[c] or '（顶层）'}”和"
                                            f"“{label or '（顶层）'}”", "每个县的数据只放在一个文件夹中"))
                where_county.setdefault(c, label or "")
            parts.append(part)
    problems = list(dict.fromkeys(problems))  # a sheet-wide problem is found once per county of the sheet
    if any(p.level == "error" for p in problems) or not parts:
        return ValidationResult(problems, None)
    # several counties in the input make a dataset of several counties, even when one is left (the others'
    # towns all left out): the layout of a batch's outputs must not change with the errors
    ds = parts[0] if len(parts) == 1 and n_views == 1 else _combine(parts, files)
    ds.problems = [p for p in problems if p.level != "error"]
    return ValidationResult(problems, ds)


def input_files(paths) -> list[Path]:
    """Every file :func:`validate` reads under ``paths``: a folder's own files, or those of its county folders."""
    return [f for _, group in _groups(paths, []) for f in group]


def _groups(paths, problems: list[Problem]) -> list[tuple[str | None, list[Path]]]:
    """The inputs as (label, files) groups: a folder's own files are one group; a folder without data files of
    its own whose subfolders have them is a folder of county folders, one group per subfolder (labelled by
    the subfolder's name, which messages put before the file name). Subfolders of a folder that has files of
    its own are not read, and are named in a warning."""
    groups: list[tuple[str | None, list[Path]]] = []
    loose: list[Path] = []
    for p in paths:
        p = Path(p)
        if not p.is_dir():
            loose.append(p)
            continue
        subs = [d for d in sorted(p.iterdir()) if d.is_dir() and not d.name.startswith((".", "_", "~"))
                and expand([d])]
        own = [f for f in expand([p]) if not subs or not _holds_no_data(f)]
        if own:
            loose += own
            for d in subs:
                problems.append(Problem("warning", d.name, None, None, None,
                                        "子文件夹中的数据文件未读取（所在文件夹本身有数据文件，按一个县的数据读取）",
                                        "每个县一个子文件夹时，上层文件夹中不放数据文件"))
        else:
            groups += [(d.name, expand([d])) for d in subs]
    if loose:
        groups.insert(0, (None, loose))
    return groups


def _holds_no_data(f: Path) -> bool:
    """A workbook whose sheets are all ones the loader ignores (a check report saved beside the data)."""
    if f.suffix.lower() not in EXCEL_SUFFIXES:
        return False
    try:
        from python_calamine import CalamineWorkbook

        names = CalamineWorkbook.from_path(str(f)).sheet_names
    except Exception:  # noqa: BLE001 - unreadable: it is read (and reported) as data
        return False
    ignored = {cell_text(s) for s in IGNORED_SHEETS}
    return bool(names) and all(cell_text(n) in ignored for n in names)


def workbook_views(files: list[Path], workbooks: dict, problems: list[Problem] | None = None,
           names: dict[Path, str] | None = None) -> list[CountyView | None]:
    """One :class:`CountyView` per county the group's 乡镇概况 lists ([None] when it names none: then the missing
    县 is reported where the profile is read). A county of a single town whose name is one character off another
    county's (甲具 beside 甲县) is most likely a typing slip: it gets a warning in ``problems`` naming its cell."""
    pairs: list[tuple[str, str]] = []
    cells: dict[str, tuple[Path, str, str]] = {}  # county → where its first row names it
    for f in files:
        for sheet, df in workbooks.get(f, {}).items():
            if cell_text(sheet) != PROFILE_SHEET:
                continue
            h = find_header_row(df, "乡镇", anywhere=True)
            if h is None:
                continue
            heads = {normalize_header(cell_value(df, h, j)): j for j in range(df.shape[1]) if cell_value(df, h, j) is not None}
            if normalize_header("县") not in heads or normalize_header("乡镇") not in heads:
                continue
            tj, cj = heads[normalize_header("乡镇")], heads[normalize_header("县")]
            for i in range(h + 1, len(df)):
                town, county = town_name(cell_value(df, i, tj)), county_text(cell_value(df, i, cj))
                if town and county and not is_total_label(town) and not is_footer_label(town):
                    pairs.append((county, town))
                    cells.setdefault(county, (f, sheet, cell_name(i, cj)))
    counties = tuple(dict.fromkeys(c for c, _ in pairs))
    if not counties:
        return [None]
    town_counties: dict[str, list[str]] = {}
    for c, t in dict.fromkeys(pairs):
        town_counties.setdefault(t, []).append(c)
    if problems is not None:
        sizes = {c: sum(c in cs for cs in town_counties.values()) for c in counties}
        for c in counties:
            near = [o for o in counties if o != c and sizes[o] > 1 and _one_edit_apart(c, o)]
            if sizes[c] == 1 and near:
                f, sheet, cell = cells[c]
                town = next(t for t, cs in town_counties.items() if c in cs)
                problems.append(Problem("warning", (names or {}).get(f, f.name), sheet, cell, c,
                                        f"县“{c}”只有乡镇“{town}”一个，与县“{near[0]}”只差一个字，可能是笔误；"
                                        "如不更正，该乡镇将单独成为一个县，不与其他乡镇比较",
                                        f"“{near[0]}”（如确是另一个县，可忽略此警告）", town, None, c))
    return [CountyView(c, counties, town_counties, first=n == 0) for n, c in enumerate(counties)]


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one character changed, added or left out (甲具/甲县, 甲/甲县)."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _validate_county(files: list[Path], workbooks: dict, problems: list[Problem], cat: Catalog, exclude: frozenset,
                     names: dict[Path, str], view: CountyView | None, paths, had_errors: bool) -> Dataset | None:
    """Read one county's tables (``view``: which rows are its own, None when the files hold one county);
    ``had_errors``: reading the files already failed somewhere (then nothing is said to be missing)."""

    def collector(f: Path) -> Collector:
        return Collector(f, problems, exclude, name=names[f], view=view)

    # 0. the county's own indicators (sheet 本县指标), if it declares any: the catalog of its tables
    local: list[dict] = []
    for f in files:
        for sheet, df in workbooks.get(f, {}).items():
            if cell_text(sheet) == LOCAL_SHEET:
                parse_local_indicators(df, sheet, collector(f), cat, local)
    cat = cat.extend(local)

    # 1. the profile first: it says which towns exist and to which county they belong
    profiles: dict[str, dict] = {}
    origin: dict[str, str] = {}
    for f in files:
        for sheet, df in workbooks.get(f, {}).items():
            if cell_text(sheet) == PROFILE_SHEET:
                parse_profile(df, sheet, collector(f), cat, profiles, origin)
    where = paths if isinstance(paths, str) else ", ".join(str(p) for p in paths) or "data/sample"
    if view is not None and len(view.counties) > 1:
        where = f"{where}（{view.county}）"
    if not profiles and exclude and not had_errors:
        return None  # every town of this county is left out (a batch reports on the other counties)
    if not profiles and not had_errors and not any(p.level == "error" for p in problems):
        problems.append(Problem("error", where, None, None, None,
                                "没有找到乡镇概况表", f"某个工作簿中有名为“{PROFILE_SHEET}”的工作表"))
    known = set(profiles) if profiles else None

    # 2. the towns' own practices (text), from any workbook's sheet 特色做法
    practice_rows: list[tuple] = []
    practice_seen: dict[tuple[str, int], str] = {}
    for f in files:
        for sheet, df in workbooks.get(f, {}).items():
            if cell_text(sheet) == _practices.PRACTICES_SHEET:
                _practices.parse_sheet(df, sheet, collector(f), cat, known, practice_rows, practice_seen)

    # 3. yearly values and targets
    rows: list[tuple] = []
    target_rows: list[tuple] = []
    where_from: dict[tuple[str, int], str] = {}
    for f in files:
        col = collector(f)
        is_targets = TARGETS_MARK in f.stem
        if f.suffix.lower() == ".csv":
            part: list[tuple] = []
            parse_csv(f, col, cat, known, part)
            _merge(part, rows, where_from, col)
            continue
        if f not in workbooks:
            continue
        years_seen: dict[int, str] = {}
        ignored = {PROFILE_SHEET, _practices.PRACTICES_SHEET, LOCAL_SHEET} | {cell_text(s) for s in IGNORED_SHEETS}  # NFKC
        named = {sheet: sheet_year(sheet) for sheet in workbooks[f] if cell_text(sheet) not in ignored}
        for sheet, df in workbooks[f].items():
            if sheet not in named:
                continue
            kind, year = named[sheet]
            if kind != "exact":
                check_sheet_name(df, sheet, kind, year, named, col)
                continue
            if year in years_seen:
                col.add("error", sheet, None, sheet, f"与工作表“{years_seen[year]}”是同一年度", "每个年度一个工作表")
                continue
            years_seen[year] = sheet
            if df.empty or df.isna().all().all():
                col.add("error", sheet, "A1", None, "工作表是空的", "表头行与各乡镇数据")
                continue
            part = []
            parse_year_sheet(df, sheet, year, col, cat, known, part, kind="targets" if is_targets else "values")
            if is_targets:
                target_rows += [r for r in part if r[5] == "present"]
            else:
                _merge(part, rows, where_from, col)
    if not rows and exclude and not had_errors and not any(p.level == "error" for p in problems):
        return None  # every town with data is left out
    if not rows and not had_errors and not any(p.level == "error" for p in problems):
        problems.append(Problem("error", where, None, None, None,
                                "没有找到年度指标数据", "名为“2023”或“2023年”的年度工作表，或长表CSV文件"))

    if had_errors or any(p.level == "error" for p in problems):
        return None

    profile = _profile_frame(profiles, cat)
    values = pd.DataFrame(rows, columns=VALUE_COLUMNS[1:])
    values.insert(0, "county", values["town"].map(profile["county"]))
    values = _sort_values(values, profile, cat)
    targets = pd.DataFrame(target_rows, columns=["town", "year", "indicator", "target", "approx", "status", "source"])
    targets = targets[["town", "year", "indicator", "target", "source"]].astype({"year": "int64", "target": "float64"})
    targets = targets.sort_values(["town", "year", "indicator"], kind="stable").reset_index(drop=True)

    all_years = set(values["year"])
    have_years = values.groupby("town", sort=False)["year"].agg(set).to_dict()  # one pass, not one scan per town
    for town in profile.index:
        have = have_years.get(town, set())
        for y in sorted(all_years - have):
            problems.append(Problem("warning", origin[town].split("”")[0].removeprefix("文件“"), PROFILE_SHEET, None, town,
                                    f"乡镇“{town}”在{y}年没有数据", "", town))
    _gaps(values, cat, problems)
    _consistency(values, profile, problems, cat, files)
    practices = _practices.frame(practice_rows)
    problems += _practices.routine_claims(practices, values, profile, cat)
    stray = practices[~practices["year"].isin(values["year"].unique())]
    for r in stray.drop_duplicates(["town", "year"]).itertuples():
        file, sheet, cell = r.source.split("!")
        problems.append(Problem("warning", file, sheet, cell, r.town, f"特色做法中的{r.year}年没有指标数据，该行不会写入报告",
                                "", r.town))
    # cross-field rules (and nothing else) can still add errors here: then there is no dataset either
    if any(p.level == "error" for p in problems):
        return None
    return Dataset(values=values, profile=profile, targets=targets, catalog=cat,
                   problems=[p for p in problems if p.level != "error"], files=list(files), practices=practices)


def _combine(parts: list[Dataset], files: list[Path]) -> Dataset:
    """One dataset of several counties: tables with a ``county`` column, the profile indexed by (county, town)."""
    profiles, targets, practices = [], [], []
    for d in parts:
        county = d.profile["county"]
        p = d.profile.drop(columns=["county"])
        p.index = pd.MultiIndex.from_arrays([county.to_numpy(), p.index], names=["county", "town"])
        profiles.append(p)
        targets.append(d.targets.assign(county=d.targets["town"].map(county))[["county", *d.targets.columns]])
        practices.append(d.practices.assign(county=d.practices["town"].map(county))[["county", *d.practices.columns]])
    return Dataset(values=pd.concat([d.values for d in parts], ignore_index=True),
                   profile=pd.concat(profiles), targets=pd.concat(targets, ignore_index=True),
                   catalog=parts[0].catalog.extend([e for d in parts[1:] for e in d.catalog.local_entries()]),
                   files=list(files),
                   practices=pd.concat(practices, ignore_index=True))


def _gaps(values: pd.DataFrame, cat: Catalog, problems: list) -> None:
    """Warnings for what the reports will show as 【待补】 because it was never filled in.

    - A town row left blank in a year sheet (it has cells, and every one is empty).
    - An indicator without a column in a year sheet (or, in a CSV, without a row for a town and year) when
      the data give it elsewhere (another year sheet, another town of the CSV), or when the sheet carries at
      least half of the indicators that apply in its year (a full table with a column lost). A county that
      collects a few indicators only, in every sheet alike, is not warned about each one it leaves out;
      a single blank cell is not warned about either.
    """
    if values.empty:
        return
    v = values
    codes, uniques = pd.factorize(v["indicator"])  # each indicator looked up once, not each row
    first = cat.frame["first_year"].reindex(uniques).to_numpy(dtype=float)[codes]
    last = cat.frame["last_year"].reindex(uniques).to_numpy(dtype=float)[codes]
    year = v["year"].to_numpy()
    v = v[(year >= first) & (year <= last)]  # indicators that apply in the year
    part_file, part_sheet, n = _source_parts(v["source"])
    file_codes, file_names = pd.factorize(part_file)
    csv = pd.Series(np.array([f.lower().endswith(".csv") for f in file_names] + [False], dtype=bool)[file_codes],
                    index=v.index)
    has_cell = (csv & (n == 2)) | (~csv & (n == 3))
    order = {c: i for i, c in enumerate(cat.codes)}

    # a town row left blank: it has cells in the sheet, and every one of them is empty
    cells = v[has_cell & ~csv]
    by_town_year = [cells["town"], cells["year"]]
    blank = cells["status"].eq("missing").groupby(by_town_year, sort=False).all()
    first_source = cells["source"].groupby(by_town_year, sort=False).first()
    for (town, year), is_blank in blank.items():
        if not is_blank:
            continue
        source = first_source[(town, year)]
        f, sheet, where = source.split("!")
        problems.append(Problem("warning", f, sheet, "A" + re.sub(r"^[A-Z]+", "", where), town,
                                f"乡镇“{town}”{year}年的数据整行空白，报告中该乡镇当年的各项数字将显示为【待补】",
                                "", town))

    # indicators without a column (a year sheet) or without a row (a CSV): per sheet, or per CSV and town
    sheet = part_sheet.where(~csv, "")
    town = v["town"].where(csv, "")
    keys = pd.DataFrame({"file": part_file, "sheet": sheet, "town": town, "year": v["year"],
                         "indicator": v["indicator"]})
    have = keys[has_cell].groupby(["file", "sheet", "town", "year"])["indicator"].nunique().to_dict()
    given = set(keys.loc[has_cell, "indicator"].unique())
    missing = keys[~has_cell & (v["status"] == "missing")]
    groups: dict[tuple, list[str]] = {}
    for (f, sh, t, year), codes in missing.groupby(["file", "sheet", "town", "year"], sort=False)["indicator"]:
        full = have.get((f, sh, t, year), 0) * 2 >= len(cat.applicable(int(year)))
        codes = sorted({c for c in codes if full or c in given}, key=order.get)
        if codes:
            groups.setdefault((f, sh, int(year), tuple(codes)), []).append(t)
    for (f, sh, year, codes), towns in groups.items():
        listed = "、".join(cat.name(c) for c in codes)
        if sh:
            message = f"工作表中没有以下{len(codes)}项指标的列，各乡镇{year}年的这些数字在报告中将显示为【待补】：{listed}"
            problems.append(Problem("warning", f, sh, None, None, message))
        else:
            message = (f"CSV文件中没有{'、'.join(towns)}{year}年以下{len(codes)}项指标的数值，报告中将显示为【待补】："
                       f"{listed}")
            problems.append(Problem("warning", f, None, None, None, message, "", towns[0] if len(towns) == 1 else None))


def _source_parts(source: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """File, sheet (None if none) and number of parts of each ``file!sheet!cell`` source. The sources are all
    different but their ``file!sheet`` heads are few: the heads are cut off in Arrow (no Python string per row)
    and each head is split once, not each row."""
    arr = pa.array(source, type=pa.string(), from_pandas=True)
    n = pc.add(pc.count_substring(arr, "!"), 1).to_numpy(zero_copy_only=False)
    # the head: all but the last part (a source without "!" is the file itself)
    head = pc.list_element(pc.split_pattern(arr, "!", max_splits=1, reverse=True), 0)
    encoded = pc.dictionary_encode(head)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    split = [h.split("!") for h in encoded.dictionary.to_pylist()]
    file = np.array([p[0] for p in split] or [""], dtype=object)[codes]
    sheet = np.where(n == 3, np.array([p[1] if len(p) > 1 else None for p in split] or [None], dtype=object)[codes],
                     None)
    two = np.flatnonzero((n != 1) & (n != 3))  # file!sheet or file.csv!cell (a "!" in a name: split like before)
    if len(two):
        src = source.to_numpy(dtype=object)
        file[two] = [src[k].split("!")[0] for k in two]
        sheet[two] = [src[k].split("!")[1] for k in two]
    return (pd.Series(file, index=source.index, dtype=object), pd.Series(sheet, index=source.index, dtype=object),
            pd.Series(n, index=source.index))


def _merge(part, rows, where_from, col: Collector):
    """Append one file's rows; the same town and year from two files is an error naming both."""
    keys = sorted({(t, y) for t, y, *_ in part})
    clash = [k for k in keys if k in where_from and where_from[k] != col.file]
    for t, y in clash:
        col.add("error", None, None, t, f"乡镇“{t}”的{y}年数据重复：文件“{where_from[(t, y)]}”中已有",
                "同一乡镇同一年度只在一个文件中填报", t)
    bad = set(clash)
    rows += [r for r in part if (r[0], r[1]) not in bad]
    for k in keys:
        where_from.setdefault(k, col.file)


def _profile_frame(profiles: dict, cat: Catalog) -> pd.DataFrame:
    cols = [c for c in cat.profile_fields.index if c != "town"] + list(cat.frame.index[cat.frame["origin"] == "profile"])
    df = pd.DataFrame.from_dict(profiles, orient="index")
    df.index.name = "town"
    for c in cols:
        if c not in df.columns:
            df[c] = math.nan if c in cat.frame.index else ""
    num = [c for c in cols if c in cat.frame.index]
    df[num] = df[num].astype("float64")
    return df[cols + ["source"]]


def _sort_values(values: pd.DataFrame, profile: pd.DataFrame, cat: Catalog) -> pd.DataFrame:
    values = values.astype({"year": "int64", "value": "float64", "approx": "bool"})

    def rank(column: str, order: list) -> np.ndarray:
        # each distinct name looked up once; one not in ``order`` sorts last
        codes, uniques = pd.factorize(values[column])
        at = {x: i for i, x in enumerate(order)}
        return np.array([at.get(x, len(order)) for x in uniques] + [len(order)], dtype=np.int64)[codes]

    idx = np.lexsort((rank("indicator", list(cat.codes)), values["year"].to_numpy(), rank("town", list(profile.index))))
    return values.iloc[idx].reset_index(drop=True)


def _consistency(values: pd.DataFrame, profile: pd.DataFrame, problems: list, cat: Catalog, files=()):
    """Cross-field rules of ``data/rules.yaml`` (see :mod:`.crosscheck`): each broken rule is an error
    naming every cell involved; ``files`` let it name a size figure's cell in the 乡镇概况 sheet."""
    problems += check(values, profile, cat, files)


def load_dataset(*paths: str | Path, catalog: Catalog | None = None, cache: bool = True,
                 exclude_towns=()) -> Dataset:
    """Load and validate data; raise :class:`DataError` listing every error if there is any.

    ``paths`` are files or folders (default: the bundled sample ``data/sample``); ``exclude_towns`` as in
    :func:`validate`. With ``cache`` (the
    default) a second call on files unchanged since (same paths, sizes and modification times) returns a
    fresh copy of the dataset loaded before instead of reading the workbooks again: a kernel that renders
    one town after another reads them once. A restarted process finds it in a small on-disk cache
    (:func:`disk_cache_dir`, keyed by the files' hashes and the package's code; ``ZHIDANG_CACHE_DIR=""``
    turns it off).

    >>> import zhidang_analysis as zd
    >>> ds = zd.load_dataset(zd.SAMPLE_DATA)
    >>> ds.values.columns.tolist()
    ['county', 'town', 'year', 'indicator', 'value', 'approx', 'status', 'source']
    """
    paths = paths or (SAMPLE_DATA,)
    exclude = tuple(sorted(parse_towns(exclude_towns)))
    files_key = _cache_key(paths) if cache and catalog is None else None
    key = (files_key, exclude) if files_key is not None else None
    if key is not None and key in _DATASETS:
        return _DATASETS[key].copy()
    disk = disk_path(key) if key is not None else None
    ds = disk_load(disk) if disk is not None else None
    if ds is None:
        result = validate(*paths, catalog=catalog, exclude_towns=exclude)
        if not result.ok:
            raise DataError(result.problems)
        ds = result.dataset
        if disk is not None:
            disk_store(disk, ds)
    if key is not None:
        _DATASETS.clear()  # one dataset is enough: a kernel serves one county at a time
        _DATASETS[key] = ds.copy()
    return ds


_DATASETS: dict[tuple, Dataset] = {}


def _cache_key(paths) -> tuple | None:
    """Identity of the input files: resolved path, size and modification time of each (None if unreadable)."""
    try:
        files = input_files(paths)  # county folders' files too
        return tuple((str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    except OSError:
        return None


# ------------------------------------------------------------------------------------- on-disk cache
# A restarted worker or kernel finds the dataset it loaded before in a small cache in the user's cache
# folder (never next to the input files): one entry per key (Parquet and JSON, see .cache), the newest few kept. The key is the hash of the
# files' paths, sizes, modification times and contents, the excluded towns and the package's code and
# catalog (batch.code_hash), so a changed file, an upgrade or an edited catalog is loaded afresh.
