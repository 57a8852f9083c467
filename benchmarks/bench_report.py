"""Time one town report rendered in-process, against a plain reference chart timed in the same run.

The town notebook (``notebooks/town_report.ipynb``) is read with nbformat, its parameters are injected
exactly as papermill does (``papermill.parameterize.parameterize_notebook``: an ``injected-parameters``
cell after the ``parameters`` cell), and its code cells are executed with ``exec`` in a fresh namespace per
report, in this process (no kernel, no papermill engine, no nbconvert). ``IPython.display.display`` is
replaced by a function that renders what it is given to a string the way the report needs it
(``_repr_html_``, else ``_repr_png_``, else ``repr``), and the last expression of a cell is rendered the same
way (IPython's ``last_expr``), so the whole cost of a report is counted: the narrative, the three charts
(``export.FigureHTML``: matplotlib layout, drawing, PNG encoding) and the HTML of every output.

Several sample towns (``zd.SAMPLE_DATA``, the first ``--towns`` of ``Dataset.towns``) are rendered after
one warm-up report (imports, fonts, the dataset read once as a batch worker does). Each report's cost is
CPU seconds (``time.process_time``) and wall seconds (``time.perf_counter``); both are printed with their
ratio to the **reference chart**: a 2×2 grid of line charts, 5 points each, plain matplotlib (``Figure``,
Agg canvas, default size and style, no layout engine) saved as PNG at the reports' dpi
(``charts.STYLE["savefig.dpi"]``, 110), best of ``--repeat`` runs. The ratio makes the figure comparable
across machines. Aim: a report costs at most 3 reference charts of CPU.

Then (unless ``--no-breakdown``) the same towns are made as a batch worker makes them: ``executors.run_job`` in this
process (its warm kernel, papermill, the notebook, the HTML export, Word, and PDF where WeasyPrint is installed),
the manifest rewritten after each job as the batch does, after one warm-up job. Each stage's seconds are summed
where the worker calls it (the functions wrapped): **cells** are the kernel's own time, from each cell's busy to
its reply by the kernel's clock (nbclient's ``metadata.execution``); **kernel messages, papermill** are the rest of
papermill's run (starting the client, the messages, the reset between notebooks); papermill's own saves of the
running notebook, our one write of it, the HTML export, Word, PDF and the manifest are their own rows. "HTML
alone" (all but Word and PDF) is compared with the in-process cost above: aim ≤ 1.5×.

Run it with ``make bench-report`` or ``.venv/bin/python benchmarks/bench_report.py`` (options: ``--towns``,
``--year``, ``--repeat``, ``--no-breakdown``). It takes about half a minute.

Issue 26, the old and the new code side by side (the old commit in a worktree, this script in both, one after the
other on the same quiet 2-core machine; 4 towns, reference chart 89–95 ms):

=================================  =========  =========
per report, seconds                before     after
=================================  =========  =========
in-process cells (reference ×)     1.64 (17)  0.97 (11)
worker: cells in the kernel        1.56       0.91
worker: kernel messages, papermill 0.54       0.05
worker: HTML export, saves, files  0.09       0.07
worker: Word                       0.77       0.14
worker: PDF                        1.30       0.67
worker: total, HTML + Word + PDF   4.27       1.83
worker: HTML alone ÷ in-process    1.33×      1.06×
=================================  =========  =========

What changed. (1) The report's charts are printed at 300 dpi (issue 22) and were then made a 256-colour PNG by
encoding the full-colour PNG, decoding it, quantizing it and encoding it again with Pillow's slowest settings:
half the report. Now ``charts.figure_to_png(colors=256)`` quantizes the drawn pixels themselves
(:func:`charts.palette_png`): a chart of at most 256 colours (two of the three) by a lookup of each pixel's
colour, the small multiples by Pillow's median cut as before, so every pixel is what it was (checked by the
tests), the files 7% larger. (2) Between two notebooks the warm kernel's ``%reset -f`` ran two full garbage
collections over the kernel's few hundred thousand long-lived objects (0.3–0.4 s); the reset now ends with
``gc.freeze()``, so those objects are out of the collector's sight for the next reports too. (3) papermill gave
each notebook a new kernel client, and jupyter_client's ``wait_for_ready`` waits 0.2 s for IOPub to fall quiet:
the client is kept with the kernel. (4) Word: the sources table asked python-docx for each cell by position,
which lists every cell of the table again each time (0.6 s for 288 cells). (5) PDF: the ``@font-face`` rules
(the package's WOFF2 fonts decompressed, Noto CJK read) were parsed for every report; they are parsed once per
process. WeasyPrint turns a palette PNG into RGB and compresses it twice; it is handed the RGB image (fastest
compression) and compresses it once.

The aim of 3 reference charts is further out of reach than before: the reference is a 110-dpi chart, and the
report's three charts are now printed at 300 dpi, 7.4 times its pixels each. Where a report's ~11 reference charts
go (profiled, scaled to the measured total): building the three figures about 4 (the small multiples' 13 axes and
their ~170 ticks most), drawing their 11 million pixels about 1.5, quantizing and compressing them about 2.5, the
narrative about 2.

Then (2026-12-05): the small multiples are built once per thread and redrawn with each town's lines, limits and
legend (``charts.town_trend(..., reuse=True)``, as the notebook calls it; the PNG is byte for byte a new figure's);
a print chart of more than 256 colours keeps its 256 most frequent ones and maps each rarer edge pixel to the
nearest (Pillow's median cut was a fifth of a report); phrase templates are compiled once and the catalog hashed
once. Same machine, 4 towns, reference 92 ms: in-process **0.49 s (5.3 reference charts)**, was 0.97 (11); worker
HTML alone 0.70 s (1.42× in-process), HTML + Word + PDF 1.58 s (PDF 0.73). Still above the aim of 3: what is left
is laying out and drawing three 300-dpi charts (~0.2 s), quantizing and compressing them (~0.1 s), the narrative
(~0.1 s).

Before and after issue 12 part 4 (each chart laid out once and drawn once: constrained layout run once on
the figure's own Agg renderer, no ``savefig`` layout pass, no second ``bbox_inches="tight"`` pass; panel titles
placed once), measured with this script on the same 2-core machine (busy with other jobs, so ±10%):

=========================  ===========  ===========
                           before       after
=========================  ===========  ===========
CPU per report             1.12 s       0.88 s
reference chart (CPU)      90 ms        96 ms
ratio (CPU)                12.5         9.2
=========================  ===========  ===========

The old and the new chart code run alternately in one process gave 12.0 and 8.9 reference charts. The aim of 3
is out of reach while a report draws the 13-panel trend chart: creating, laying out and drawing 13 panels costs
about 4 to 5 reference charts by itself (the two other charts about 2, the narrative about 1.5).

Before and after issue 12 part 5 (the same images, bit for bit for the heat map, ``town_vs_county`` and ``movers``,
within a sub-pixel of position elsewhere): texts measured and shaped once per process instead of once per figure
(``chartstyle._RendererAgg``: ``FT2Font._layout`` costs about 0.3 ms a string with this font, and years, tick values
and indicator names repeat across panels and reports); the small multiples and the bar charts laid out by
``charts.GridLayoutEngine`` (constrained layout's arithmetic, each panel's tight box measured once instead of
twice, no constraint solver); empty axis labels not placed while rendering (placing one measures every tick label
of its axis again, at the layout and at the draw); the year ticks made after their tick parameters are set. The old
and the new chart code alternately, three runs each, same 2-core machine (busy, so ±10%), 4 towns of one county
after a warm-up report of the first (the lead's per-county memo of the narrative is warm, as in a batch kernel):

=========================  ===============  ===============
                           before           after
=========================  ===============  ===============
CPU per report             0.71–0.77 s      0.51 s
reference chart (CPU)      87–94 ms         86–93 ms
ratio (CPU)                8.2–8.6          5.4–5.9
=========================  ===============  ===============

Where the remaining ~0.5 s goes (medians per report, in reference charts, garbage collection counted where it
falls): the trend chart about 3.5 (building it 2.2, of which ~1.3 is matplotlib creating 13 axes and ~170 ticks
and most of the rest the garbage collector running while it allocates; layout 0.35; draw 0.9; PNG 0.15),
``town_vs_county`` and ``score_breakdown`` about 1.2 together, the narrative about 0.7. Python's cyclic garbage
collector weighs on all of it: a report leaves three figures of reference cycles, and about every second report a
full collection scans the kernel's ~270,000 long-lived objects (150–250 ms: the spread between the towns it prints). A
batch worker that calls ``gc.freeze()`` after its warm-up report (and raises ``gc.set_threshold``) saves most of
that: 4.8–5.7 measured with this script.
"""

from __future__ import annotations

import argparse
import ast
import io
import tempfile
from collections import defaultdict
from datetime import datetime
import platform
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

import nbformat
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from papermill.parameterize import parameterize_notebook

import zhidang_analysis as zd
from zhidang_analysis.outputs import export
from zhidang_analysis.report import charts
from zhidang_analysis.running import executors, manifest, plan, runner

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "town_report.ipynb"
AIM = 3.0
DPI = int(charts.STYLE["savefig.dpi"])


# --------------------------------------------------------------------------------------------- timing
def timed(fn, *args):
    """``fn(*args)`` → ``(result, cpu seconds, wall seconds)``."""
    c0, w0 = time.process_time(), time.perf_counter()
    result = fn(*args)
    return result, time.process_time() - c0, time.perf_counter() - w0


def reference_chart(dpi: int = DPI) -> bytes:
    """A 2×2 grid of 5-point line charts, plain matplotlib, saved as PNG: the unit of cost."""
    fig = Figure()
    FigureCanvasAgg(fig)
    for k, ax in enumerate(fig.subplots(2, 2).flat):
        ax.plot([1, 2, 3, 4, 5], [k + 1, k + 3, k + 2, k + 5, k + 4], marker="o")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------- notebook
def render(obj) -> str:
    """What the report keeps of a displayed object: its HTML (else its PNG, else its repr)."""
    for name in ("_repr_html_", "_repr_png_"):
        method = getattr(obj, name, None)
        if method is not None:
            out = method()
            if out is not None:
                return out if isinstance(out, str) else f"<{len(out)} bytes>"
    return repr(obj)


def compile_cells(nb: nbformat.NotebookNode) -> list[tuple]:
    """Each code cell as ``(body code, last-expression code or None)``, as IPython runs it (``last_expr``)."""
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = compile(ast.Expression(tree.body.pop().value), f"<cell {i}>", "eval")
        out.append((compile(tree, f"<cell {i}>", "exec"), last))
    return out


def parameterized(town: str, year: int) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.metadata.setdefault("papermill", {"parameters": {}})  # as papermill.iorw.load_notebook_node does
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
    return parameterize_notebook(nb, {"town": town, "year": year, "data": str(zd.SAMPLE_DATA)},
                                 kernel_name="python3", language="python")


def run_report(town: str, year: int) -> list[str]:
    """Run the town notebook for ``town`` in a fresh namespace; the rendered outputs, in order."""
    outputs: list[str] = []

    def display(*objs, **_kw):
        outputs.extend(render(o) for o in objs)

    namespace = {"__name__": "__main__"}
    with mock.patch("IPython.display.display", display):
        for body, last in compile_cells(parameterized(town, year)):
            exec(body, namespace)  # noqa: S102 - our own notebook
            if last is not None:
                value = eval(last, namespace)  # noqa: S307
                if value is not None:
                    display(value)
    return outputs


# --------------------------------------------------------------------------------------------- a batch worker's report
#: The stages of a report in a batch worker, in the order of the table.
STAGES = ("cells (in the kernel)", "kernel messages, papermill", "notebook saves (papermill)", "notebook write",
          "HTML export", "Word", "PDF", "manifest")


class Stages:
    """Seconds spent in each stage, summed over reports: functions are wrapped where the worker calls them."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, name: str, fn):
        def timed_call(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - t0
        return timed_call


def kernel_seconds(nb) -> float:
    """Seconds the kernel spent running the notebook's cells: from each cell's busy to its reply, by the kernel's
    own clock (nbclient's ``record_timing``: ``metadata.execution``)."""
    total = 0.0
    for cell in nb.cells:
        ex = cell.get("metadata", {}).get("execution", {})
        if "iopub.status.busy" in ex and "shell.execute_reply" in ex:
            total += (datetime.fromisoformat(ex["shell.execute_reply"].replace("Z", "+00:00"))
                      - datetime.fromisoformat(ex["iopub.status.busy"].replace("Z", "+00:00"))).total_seconds()
    return total


def worker_breakdown(towns: list[str], year: int, formats: tuple[str, ...]) -> tuple[dict[str, float], float, int]:
    """Run the reports of ``towns`` as a batch worker does (``executors.run_job`` in this process: its warm kernel,
    the notebook, the HTML, ``formats``; the parent's manifest rewrite after each job), after one warm-up job.
    Returns (seconds per stage, summed), total seconds of the jobs and the number of jobs timed."""
    import papermill.engines
    import papermill.execute

    stages = Stages()
    with tempfile.TemporaryDirectory(prefix="zhidang-bench-") as tmp:
        out = Path(tmp)
        ds, bad = plan.load_for_batch(None)
        jobs = plan.plan(ds, [year], towns=[towns[0], *towns], out=out, overview=False, force=True,
                         formats=formats, bad_towns=bad)
        data_files = {f.name: plan.file_hash(f) for f in ds.files}
        warm, timed_jobs = jobs[0], jobs[1:]
        executors.run_job(warm, 600)
        if warm.status != "done":
            raise RuntimeError(f"the warm-up report failed: {warm.error}")
        # the warm-up's output names are the first town's: the timed run of that town writes its own files again
        kept = {}

        def pm_execute(*args, **kwargs):
            t0 = time.perf_counter()
            nb = kept["pm"](*args, **kwargs)
            ran = time.perf_counter() - t0
            cells = kernel_seconds(nb)
            stages.seconds["cells (in the kernel)"] += cells
            stages.seconds["kernel messages, papermill"] += ran - cells
            return nb

        kept["pm"] = runner.pm.execute_notebook
        saves = stages.wrap("notebook saves (papermill)", papermill.engines.write_ipynb)
        patches = [mock.patch.object(runner.pm, "execute_notebook", pm_execute),
                   mock.patch.object(papermill.engines, "write_ipynb", saves),
                   mock.patch.object(papermill.execute, "write_ipynb",
                                     stages.wrap("notebook saves (papermill)", papermill.execute.write_ipynb)),
                   mock.patch.object(runner, "atomic_write_bytes",
                                     stages.wrap("notebook write", runner.atomic_write_bytes)),
                   mock.patch.object(runner, "export_html", stages.wrap("HTML export", runner.export_html)),
                   mock.patch.dict(export.CONVERTERS, {"docx": stages.wrap("Word", export.CONVERTERS["docx"]),
                                                       "pdf": stages.wrap("PDF", export.CONVERTERS["pdf"])})]
        for patch in patches:
            patch.start()
        try:
            t0 = time.perf_counter()
            for job in timed_jobs:
                executors.run_job(job, 600)
                if job.status != "done":
                    raise RuntimeError(f"{job.town}: {job.error}")
                stages.wrap("manifest", manifest.write_manifest)(out, year, jobs, data_files)
            total = time.perf_counter() - t0
        finally:
            for patch in reversed(patches):
                patch.stop()
    # papermill's saves happen inside its run: count them once, as their own stage
    stages.seconds["kernel messages, papermill"] -= stages.seconds["notebook saves (papermill)"]
    return dict(stages.seconds), total, len(timed_jobs)


def pdf_available() -> bool:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


# --------------------------------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--towns", type=int, default=4, help="sample towns to render (default 4)")
    ap.add_argument("--year", type=int, default=2025)
    ap.add_argument("--repeat", type=int, default=7, help="runs of the reference chart, best taken (default 7)")
    ap.add_argument("--no-breakdown", action="store_true", help="only the in-process report, not a worker's stages")
    args = ap.parse_args(argv)

    towns = list(zd.load_dataset(zd.SAMPLE_DATA).towns)[: max(1, args.towns)]
    print(f"python {platform.python_version()}, {platform.machine()}, "
          f"{len(towns)} towns, year {args.year}, dpi {DPI}")

    reference_chart()  # warm-up
    ref = [timed(reference_chart)[1:] for _ in range(max(1, args.repeat))]
    ref_cpu, ref_wall = min(c for c, _ in ref), min(w for _, w in ref)
    print(f"reference chart (2×2 line charts, PNG): CPU {ref_cpu * 1000:.0f} ms, wall {ref_wall * 1000:.0f} ms")

    outputs = run_report(towns[0], args.year)  # warm-up: imports, fonts, the dataset
    if sum(len(o) for o in outputs) < 10_000 or sum("data:image/png" in o for o in outputs) != 3:
        print("the warm-up report has not got its three figures", file=sys.stderr)
        return 1

    cpus, walls = [], []
    for town in towns:
        _, cpu, wall = timed(run_report, town, args.year)
        cpus.append(cpu)
        walls.append(wall)
        print(f"  {town}: CPU {cpu:.2f} s ({cpu / ref_cpu:.1f}×), wall {wall:.2f} s ({wall / ref_wall:.1f}×)")
    cpu, wall = statistics.mean(cpus), statistics.mean(walls)
    ratio = cpu / ref_cpu
    print(f"per report: CPU {cpu:.2f} s = {ratio:.1f} reference charts, wall {wall:.2f} s = "
          f"{wall / ref_wall:.1f} reference charts (aim: ≤ {AIM:g})")
    if args.no_breakdown:
        return 0

    formats = ("html", "docx", "pdf") if pdf_available() else ("html", "docx")
    print(f"\na batch worker's report ({', '.join(formats)}; executors.run_job in this process, warm kernel, "
          f"manifest rewritten after each job), {len(towns)} towns after a warm-up:")
    seconds, total, n = worker_breakdown(towns, args.year, formats)
    rows = [(name, seconds.get(name, 0.0) / n) for name in STAGES if name in seconds]
    rows.append(("other (run_job, files)", total / n - sum(v for _, v in rows)))
    print(f"  {'stage':34s} {'s/report':>9s} {'share':>7s} {'× ref':>7s}")
    for name, sec in rows:
        print(f"  {name:34s} {sec:9.3f} {sec / (total / n):7.1%} {sec / ref_wall:7.1f}")
    html_only = total / n - sum(seconds.get(k, 0.0) for k in ("Word", "PDF")) / n
    print(f"  {'total':34s} {total / n:9.3f} {1:7.1%} {total / n / ref_wall:7.1f}")
    print(f"HTML alone: {html_only:.2f} s a report = {html_only / wall:.2f}× the report's in-process cost "
          f"({wall:.2f} s; aim ≤ 1.5×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
