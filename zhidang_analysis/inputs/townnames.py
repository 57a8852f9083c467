"""Town names as people give them on a command line or as a notebook parameter: one small parser, kept apart from
the loading (a batch parses its ``--towns`` before anything heavy is imported, so its workers start sooner)."""

from __future__ import annotations

import json
import re

__all__ = ["parse_towns"]


def parse_towns(towns) -> list[str]:
    """Town names from a list, from a JSON list of strings (``'["甲,镇", "乙镇"]'``), or from one string
    separated by commas (，、 too). A name that holds a comma or 、 must come as a list or a JSON list: that
    is how the batch passes the notebook parameter ``exclude_towns``.
    """
    if isinstance(towns, str):
        text = towns.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, list) and all(isinstance(t, str) for t in parsed):
                return [t.strip() for t in parsed if t.strip()]
        towns = re.split(r"[,，、]", towns)
    return [str(t).strip() for t in towns or () if t and str(t).strip()]
