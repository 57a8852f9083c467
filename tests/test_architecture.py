"""The shape of the package (docs/architecture.md) holds: the import-linter contract of pyproject.toml, and an
``ast`` reading of every module of ``zhidang_analysis`` that finds import cycles, private names imported across
modules, imports inside functions that are not listed below with their reason, and modules over 800 lines.

Each check is a function of a package folder, so the tests also feed it a small bad package to see it fail.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import zhidang_analysis as zd

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "zhidang_analysis"
MAX_LINES = 800

#: The only imports of package modules inside a function: (module, imported module) → why it is not at the top.
FUNCTION_IMPORTS = {
    **{("zhidang_analysis.cli", f"zhidang_analysis.{target}"): "CLI lazy loading: a command loads only what it runs"
       for target in ("inputs.load", "outputs.export", "outputs.checks", "outputs.template", "running.runner",
                      "inputs.extract", "outputs.extracted", "model.catalog", "running.pool",
                      "running.batch", "outputs.summary", "outputs.tidy")},
    ("zhidang_analysis.explorer", "zhidang_analysis.running.runner"):
        "start-up cost: papermill and nbconvert load only when the explorer writes a report",
    ("zhidang_analysis.running.batch", "zhidang_analysis.outputs.chartbook"):
        "start-up cost: the chart data and summary workbooks load only when a batch is asked for them",
    ("zhidang_analysis.running.batch", "zhidang_analysis.outputs.summary"):
        "start-up cost: the chart data and summary workbooks load only when a batch is asked for them",
    ("zhidang_analysis.running.batch", "zhidang_analysis.running.cluster"):
        "optional dependency and start-up cost: distributed loads only when a batch runs on a Dask cluster",
    ("zhidang_analysis.running.pool", "zhidang_analysis.running.runner"):
        "start-up cost: a batch starts its workers before papermill and nbconvert load (they load in the workers)",
    ("zhidang_analysis.running.executors", "zhidang_analysis.running.runner"):
        "start-up cost: the executors' interface loads with the pool, which a batch starts first; a job runs in a worker",
    ("zhidang_analysis.running.executors", "zhidang_analysis.outputs.export"):
        "start-up cost: the executors' interface loads with the pool, which a batch starts first; a job runs in a worker",
    ("zhidang_analysis.report.params", "zhidang_analysis.inputs.load"):
        "start-up cost: a worker tells its kernel the notebook's parameters without loading pandas and the loaders",
    ("zhidang_analysis.running.runner", "zhidang_analysis.report.params"):
        "start-up cost: only the batch inspects the notebook for its workers' kernels (pandas stays out of a worker)",
    ("zhidang_analysis.running.runner", "zhidang_analysis.running.plan"):
        "start-up cost: a batch worker runs notebooks and plans nothing (no pandas, no analysis in its process)",
    ("zhidang_analysis.outputs.export", "zhidang_analysis.report.charts"):
        "start-up cost: a batch worker exports HTML and never draws a chart (no matplotlib in its process)",
}

#: Modules allowed over MAX_LINES for now, with the reason (an entry that is no longer needed fails the test).
OVERSIZE: dict[str, str] = {}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module
    names: tuple[str, ...]  # the names taken from it (empty for ``import x``)
    function: str | None  # the function the import is in, None at module level
    line: int


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules(root: Path) -> dict[str, Path]:
    """Every module of the package in folder ``root``, by dotted name."""
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def imports(root: Path) -> list[Import]:
    """Every import of a module of the package at ``root`` by another (``from pkg import mod`` is an import of
    ``pkg.mod`` when that is a module)."""
    modules = package_modules(root)
    found = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for function, node in _walk(tree, None):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                if source not in modules:
                    continue
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    if sub in modules:
                        found.append(Import(name, sub, (), function, node.lineno))
                    else:
                        found.append(Import(name, source, (alias.name,), function, node.lineno))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in modules:
                        found.append(Import(name, alias.name, (), function, node.lineno))
    return found


def _walk(node: ast.AST, function: str | None):
    """(the function a node is in or None, the node) for every node below ``node``."""
    for child in ast.iter_child_nodes(node):
        yield function, child
        inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
        yield from _walk(child, inner)


def import_cycles(found: list[Import]) -> list[list[str]]:
    """The import cycles (strongly connected groups of modules, at module level or inside functions alike);
    the root package is left out: it is the public API (``zd.…``) and re-exports from every layer."""
    graph: dict[str, set[str]] = {}
    for i in found:
        if "." in i.module and i.module != i.target:
            graph.setdefault(i.module, set()).add(i.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def private_imports(found: list[Import]) -> list[Import]:
    """Imports of a private name (``_name``, not ``__dunder__``) of another module."""
    return [i for i in found if any(n.startswith("_") and not n.startswith("__") for n in i.names)]


def function_imports(found: list[Import]) -> set[tuple[str, str]]:
    return {(i.module, i.target) for i in found if i.function is not None}


def long_modules(root: Path, limit: int = MAX_LINES) -> dict[str, int]:
    return {name: n for name, path in package_modules(root).items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > limit}


# --------------------------------------------------------------------------------------------- the package
def test_the_import_linter_contract_is_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_no_import_cycle():
    assert import_cycles(imports(PACKAGE)) == []


def test_no_private_name_is_imported_across_modules():
    assert [(i.module, i.target, i.names) for i in private_imports(imports(PACKAGE))] == []


def test_imports_inside_functions_only_where_listed_with_a_reason():
    assert all(reason.strip() for reason in FUNCTION_IMPORTS.values())
    assert function_imports(imports(PACKAGE)) == set(FUNCTION_IMPORTS)


def test_no_module_over_800_lines_but_the_listed_ones():
    assert all(reason.strip() for reason in OVERSIZE.values())
    assert set(long_modules(PACKAGE)) == set(OVERSIZE)


def test_the_public_api_is_kept():
    for name in zd.__all__:
        assert getattr(zd, name) is not None, name
    assert zd.narrative.town_report and zd.batch.run_batch and zd.export.FigureHTML and zd.params.check


# --------------------------------------------------------------------------------------------- the checks fail
def _bad_package(tmp_path: Path) -> Path:
    root = tmp_path / "badpkg"
    (root / "low").mkdir(parents=True)
    (root / "high").mkdir()
    (root / "__init__.py").write_text("")
    (root / "low" / "__init__.py").write_text("")
    (root / "high" / "__init__.py").write_text("")
    # low.a imports upward (a broken layer), and high.b imports low.a back inside a function, with a private name
    (root / "low" / "a.py").write_text("from ..high import b\n\nVALUE = 1\n")
    (root / "high" / "b.py").write_text("def f():\n    from ..low.a import _hidden\n    return _hidden\n")
    (root / "low" / "long.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (tmp_path / ".importlinter").write_text(
        "[importlinter]\nroot_package = badpkg\n\n[importlinter:contract:layers]\nname = layers\ntype = layers\n"
        "layers =\n    badpkg.high\n    badpkg.low\n"
    )
    return root


def test_the_checks_find_a_bad_package(tmp_path):
    root = _bad_package(tmp_path)
    found = imports(root)
    assert import_cycles(found) == [["badpkg.high.b", "badpkg.low.a"]]
    assert [(i.module, i.names) for i in private_imports(found)] == [("badpkg.high.b", ("_hidden",))]
    assert function_imports(found) == {("badpkg.high.b", "badpkg.low.a")}
    assert long_modules(root) == {"badpkg.low.long": MAX_LINES + 1}


def test_the_import_linter_contract_can_break(tmp_path):
    _bad_package(tmp_path)
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache", "--config", str(tmp_path / ".importlinter")], cwd=tmp_path,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode != 0
    assert "BROKEN" in done.stdout, done.stdout + done.stderr
