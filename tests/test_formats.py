"""`--format html,docx,pdf` for run, batch and overview: files beside the HTML, manifest, index links, increments."""

from __future__ import annotations

import json
import os
import re

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from docx import Document
from pypdf import PdfReader

from zhidang_analysis.running import batch
from zhidang_analysis.cli import main
from zhidang_analysis.errors import ZhidangError
from zhidang_analysis.outputs.export import outdated_formats, parse_formats


def test_formats_parse_in_a_fixed_order_with_html_always():
    assert parse_formats("docx") == ("html", "docx")
    assert parse_formats("PDF，docx") == ("html", "docx", "pdf")
    assert parse_formats(["html"]) == ("html",)
    with pytest.raises(ZhidangError, match="未知的输出格式“xls”，可选：html、docx、pdf"):
        parse_formats("docx,xls")


def test_cli_refuses_an_unknown_format_in_chinese():
    res = CliRunner().invoke(main, ["run", "--town", "青石镇", "--year", "2025", "--format", "html,odt"])
    assert res.exit_code == 2 and "未知的输出格式“odt”" in res.output


def test_a_format_older_than_its_html_is_outdated(tmp_path):
    html = tmp_path / "甲镇.html"
    html.write_text("<p>x</p>", encoding="utf-8")
    assert outdated_formats(html, ("html", "docx")) == ["docx"]
    (tmp_path / "甲镇.docx").write_bytes(b"x")
    os.utime(tmp_path / "甲镇.docx", ns=(html.stat().st_mtime_ns - 10**9,) * 2)
    assert outdated_formats(html, ("html", "docx")) == ["docx"]
    os.utime(tmp_path / "甲镇.docx", ns=(html.stat().st_mtime_ns + 10**9,) * 2)
    assert outdated_formats(html, ("html", "docx")) == []


@pytest.mark.slow
def test_run_writes_html_docx_and_pdf_beside_each_other(tmp_path):
    res = CliRunner().invoke(main, ["run", "--town", "青石镇", "--year", "2025", "--out", str(tmp_path),
                                    "--format", "html,docx,pdf"])
    assert res.exit_code == 0, res.output
    folder = tmp_path / "2025"
    assert {p.name for p in folder.iterdir()} == {"青石镇.html", "青石镇.ipynb", "青石镇.docx", "青石镇_数据来源.docx", "青石镇.pdf"}
    assert "Word" in res.output and "PDF" in res.output
    doc = Document(folder / "青石镇.docx")
    assert doc.paragraphs[0].text.replace("\n", "").startswith("中共青石镇委员会关于二〇二五年度")  # title lines: line breaks
    assert len(doc.inline_shapes) == 3
    text = "".join(p.extract_text() for p in PdfReader(folder / "青石镇.pdf").pages)
    assert "一、责任落实情况" in re.sub(r"\s+", "", text)


@pytest.mark.slow
def test_batch_makes_each_format_as_an_output_of_its_own(tmp_path):
    towns = ["青石镇", "河湾镇"]
    first = batch.run_batch([2025], towns=towns, out=tmp_path, jobs=1)
    assert first.ok and {j.status for j in first.jobs} == {"done"}
    html_times = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "2025").glob("*.html") if p.name != "index.html"}
    # asking for Word later makes only the Word files, from the reports already there
    second = batch.run_batch([2025], towns=towns, out=tmp_path, jobs=1, formats=("html", "docx"))
    assert second.ok and all(not j.run_notebook for j in second.jobs)
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "2025").glob("*.html")
            if p.name != "index.html"} == html_times
    names = {p.name for p in (tmp_path / "2025").iterdir()}
    assert {"青石镇.docx", "河湾镇.docx", "overview.docx"} <= names and not any(n.endswith(".pdf") for n in names)
    manifest = json.loads((tmp_path / "2025" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["reports"]["青石镇"]["files"] == {"html": "青石镇.html", "docx": "青石镇.docx"}
    assert manifest["reports"]["overview"]["files"] == {"html": "overview.html", "docx": "overview.docx"}
    index = BeautifulSoup((tmp_path / "2025" / "index.html").read_text(encoding="utf-8"), "html.parser")
    links = {(a.get_text(), a["href"]) for a in index.find_all("a")}
    assert ("Word", "overview.docx") in links and ("HTML", "overview.html") in links
    row = next(tr for tr in index.select("tbody tr") if tr.find_all("td")[1].get_text() == "青石镇")
    assert [a.get_text() for a in row.find_all("a")] == ["HTML", "Word"]
    # nothing left to do: every job is skipped
    third = batch.run_batch([2025], towns=towns, out=tmp_path, jobs=1, formats=("html", "docx"))
    assert {j.status for j in third.jobs} == {"skipped"}
