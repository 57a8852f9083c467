"""Check a report notebook's parameters right after papermill injects them.

papermill only warns about a parameter the notebook does not declare (``-p twon 河湾镇`` prints "Passed unknown
parameter: twon" and runs on with the default town), and it passes ``-p year 2O25`` on as text. The report
notebooks therefore call :func:`check` in the cell after their ``parameters`` cell::

    import zhidang_analysis as zd
    zd.params.check(globals(), "town_report")

It compares the names and values it finds with what the notebook's ``parameters`` cell declares (read with
papermill's own notebook inspection, the same that ``papermill --help-notebook`` prints), then checks the data
path, the town and the year against the data, and raises :class:`ParameterError`: one short Chinese message,
shown by IPython without a traceback.
"""

from __future__ import annotations

import ast
import difflib
import functools
from collections.abc import Iterable
from pathlib import Path

from ..errors import DataError, UnknownNameError, ZhidangError
from ..model.bundled import NOTEBOOKS, SAMPLE_DATA
from ..startup import skip_iri_parsers

# names a kernel defines that are not the user's (when not running in IPython, or before it sets them)
_KERNEL_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "open"}
_LITERALS = (str, int, float, bool, list, dict, tuple, type(None))
_TYPE_WORDS = {"str": "文本", "int": "整数", "float": "数值", "bool": "True 或 False", "list": "列表",
               "dict": "字典"}


class ParameterError(ZhidangError):
    """A notebook parameter that is unknown, of the wrong type, or names data that are not there.

    IPython shows ``_render_traceback_`` instead of a traceback, so the failing cell of an executed notebook
    (and the exported report) holds the message alone.
    """

    def __init__(self, message: str, *, name: str | None = None, suggestion: str | None = None):
        self.name = name
        self.suggestion = suggestion
        super().__init__(message)

    def _render_traceback_(self) -> list[str]:
        return [f"参数错误：{self}"]


#: What :func:`declared` found, by notebook path (or was told: :func:`remember`).
_DECLARED: dict[str, dict[str, dict]] = {}


def declared(notebook: str | Path) -> dict[str, dict]:
    """The parameters a notebook declares: name → ``{"type", "default", "help"}`` (papermill's inspection).

    ``notebook`` is a path or the stem of a notebook in ``notebooks/`` (``"town_report"``).
    """
    key = str(_path(notebook).resolve())
    if key not in _DECLARED:
        skip_iri_parsers()  # a second of a kernel's first report
        from papermill.inspection import inspect_notebook

        _DECLARED[key] = {name: {"type": p["inferred_type_name"], "default": p["default"], "help": p["help"]}
                          for name, p in inspect_notebook(str(_path(notebook))).items()}
    return _DECLARED[key]


def remember(notebook: str | Path, spec: dict[str, dict]) -> None:
    """Take ``spec`` as what ``notebook`` declares (:func:`declared` as another process found it): a batch tells its
    workers' kernels, which then never import papermill (0.4 s of every kernel's start: only the inspection needs it
    there)."""
    _DECLARED[str(_path(notebook).resolve())] = spec


@functools.cache
def _assigned_elsewhere(notebook: str | Path) -> frozenset[str]:
    """Names the notebook's other code cells assign or import (a re-run in JupyterLab leaves them behind)."""
    skip_iri_parsers()
    import nbformat

    nb = nbformat.read(_path(notebook), as_version=4)
    names: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
    return frozenset(names)


def _path(notebook: str | Path) -> Path:
    p = Path(notebook)
    return p if p.suffix == ".ipynb" else NOTEBOOKS / f"{notebook}.ipynb"


def _hidden() -> set[str]:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of every kernel
        return set()
    shell = get_ipython()
    return set(getattr(shell, "user_ns_hidden", {}) or {})


def _type_ok(value: object, type_name: str) -> bool:
    if type_name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if type_name == "bool":
        return isinstance(value, bool)
    if type_name == "str":
        return isinstance(value, str)
    return True  # "None" (no annotation) or a type papermill does not name: nothing to check


def _kind(value: object) -> str:
    return _TYPE_WORDS.get(type(value).__name__, type(value).__name__)


def check(namespace: dict, notebook: str | Path, *, hidden: set[str] | None = None,
          optional: Iterable[str] = ()) -> None:
    """Check the parameters in ``namespace`` (the notebook's ``globals()``) against what ``notebook`` declares.

    Raises :class:`ParameterError` for, in this order: a name that is not a declared parameter (with the
    closest declared name: ``twon`` → ``town``); a value of another type than declared (``year`` given as the
    text ``2O25``); a ``data`` path that does not exist; data that fail validation; a ``town``, ``county`` or
    ``year`` that is not in the data (with the same message and suggestions as ``zhidang run``), or a town name
    that several counties have (it must be ``县/乡镇``). A town given as ``县/乡镇``, or whose name one county
    has, sets ``town`` and ``county`` in ``namespace`` to its name and county.
    """
    spec = declared(notebook)
    hidden = _hidden() if hidden is None else hidden
    ignore = set(spec) | hidden | _KERNEL_NAMES | _assigned_elsewhere(notebook)
    unknown = sorted(n for n, v in namespace.items()
                     if n not in ignore and not n.startswith("_") and isinstance(v, _LITERALS))
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, list(spec), n=1, cutoff=0.5)
        hint = f"，是否为“{close[0]}”？" if close else "。"
        raise ParameterError(f"笔记本没有参数“{name}”{hint}可用的参数：{'、'.join(spec)}",
                             name=name, suggestion=close[0] if close else None)
    for name, p in spec.items():
        value = namespace.get(name)
        if name in namespace and not _type_ok(value, p["type"]):
            raise ParameterError(f"参数“{name}”应为{_TYPE_WORDS.get(p['type'], p['type'])}，读到{_kind(value)}“{value}”",
                                 name=name)
    # parameters whose empty value ("" or 0) means "not given" (the explorer's: the first town, the latest year)
    _check_data({k: v for k, v in namespace.items() if not (k in set(optional) and v in ("", 0))}, namespace)


def _check_data(namespace: dict, target: dict | None = None) -> None:
    """Check data, town, county and year in ``namespace``; a resolved town and county are written to ``target``
    (default: ``namespace``)."""
    target = namespace if target is None else target
    data = namespace.get("data") or ""
    if data and not Path(data).exists():
        raise ParameterError(f"参数“data”：找不到数据文件或文件夹“{data}”", name="data")
    if "town" not in namespace and "year" not in namespace:
        return
    from ..inputs.load import load_dataset

    try:
        ds = load_dataset(data or SAMPLE_DATA, exclude_towns=namespace.get("exclude_towns", ""))
        county = namespace.get("county") or None
        if county:
            ds.for_county(county)
        if "town" in namespace:
            if ds.multi or county or ("/" in str(namespace["town"]) and namespace["town"] not in ds.towns):
                # a town is (county, town): 县/乡镇, or a name that one county has, fills in the county
                county, target["town"] = ds.resolve(namespace["town"], county)
                if "county" in target:
                    target["county"] = county
            else:
                ds.check_town(namespace["town"])
        elif "county" in namespace and ds.multi and not county:
            raise ParameterError("数据中有多个县，请给出参数“county”，可选的有：" + "、".join(ds.counties), name="county")
        if "year" in namespace:
            ds.check_year(namespace["year"])
    except UnknownNameError as e:
        raise ParameterError(str(e), name={"乡镇": "town", "县": "county"}.get(e.kind, "year")) from None
    except DataError as e:
        raise ParameterError(str(e), name="data") from None
