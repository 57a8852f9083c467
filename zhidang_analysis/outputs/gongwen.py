"""What the Word and the PDF versions of a report add to its HTML to read as a 公文 (GB/T 9704-2012).

Both converters start from the exported HTML and pass it through :func:`prepare`, so the two files agree:

* the title (``h1.title``) is broken into lines at word boundaries by the one rule of
  :func:`zhidang_analysis.report.titles.title_lines` (the town report's HTML already carries those ``<br>``);
* when figures or the list of missing numbers are attached after the 落款, an 附件说明 (「附件：1．…」) is
  placed before the 落款, one attachment a line, as GB/T 9704 7.3.5 wants.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag

from ..report.titles import title_lines

__all__ = ["attachment_names", "prepare"]


def _flat(tag: Tag) -> str:
    return re.sub(r"\s+", "", tag.get_text())


def attachment_names(main: Tag) -> list[str]:
    """The names of what follows the 落款: each figure (its caption, without 「图N」) and the missing list."""
    signoff = main.find("p", class_="signoff")
    if signoff is None:
        return []
    names = []
    for el in signoff.find_all_next(["figure", "section"]):
        if el.name == "figure" and el.find("img") is not None:
            caption = el.find("figcaption")
            text = re.sub(r"\s+", " ", caption.get_text()).strip() if caption else "图"
            names.append(re.sub(r"^图\s*\d+\s*", "", text) or text)
        elif el.name == "section" and "missing-list" in el.get("class", []):
            heading = el.find("h2")
            names.append(re.sub(r"（.*?）", "", _flat(heading).removeprefix("附：")) if heading else "待补数据")
    return names


def prepare(html: str) -> BeautifulSoup:
    """The HTML of a report with its title lines and 附件说明 in place (see the module docstring)."""
    soup = BeautifulSoup(html, "html.parser")
    main = soup.find("main") or soup.body or soup
    h1 = main.find("h1", class_="title") or main.find("h1")
    if h1 is not None and h1.find("br") is None:
        lines = title_lines(_flat(h1))
        h1.clear()
        for i, line in enumerate(lines):
            if i:
                h1.append(soup.new_tag("br"))
            h1.append(line)
    names = attachment_names(main)
    signoff = main.find("p", class_="signoff")
    if names and signoff is not None and main.find("p", class_="attachments") is None:
        note = soup.new_tag("p", attrs={"class": "attachments"})
        for i, name in enumerate(names, start=1):
            if i > 1:
                note.append(soup.new_tag("br"))
            note.append(f"附件：{i}．{name}" if i == 1 else f"{i}．{name}")
        signoff.insert_before(note)
        missing = main.find("section", class_="missing-list")
        heading = missing.find("h2") if missing is not None else None
        if heading is not None:  # the list is the last attachment: 「附件N」 as the note numbers it
            heading.string = f"附件{len(names)}　{_flat(heading).removeprefix('附：')}"
    return soup
