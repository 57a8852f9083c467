"""What the package carries: its version, its folder, the bundled sample data, and the hash of its code."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

__version__ = "0.1.0"

#: The package's folder (``zhidang_analysis/``): data files and templates are found below it.
PACKAGE_DIR = Path(__file__).resolve().parent.parent
#: the report notebooks (beside the package)
NOTEBOOKS = PACKAGE_DIR.parent / "notebooks"

#: The bundled synthetic sample (a fictional county), the default data of every command.
SAMPLE_DATA = PACKAGE_DIR.parent / "data" / "sample"


def sha(*parts: bytes) -> str:
    """One hash of several byte strings (each hashed first, so their boundaries count)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p).digest())
    return h.hexdigest()


@cache
def code_hash() -> str:
    """Hash of everything that turns data into a report, other than the notebook itself."""
    files = sorted(
        p for p in PACKAGE_DIR.rglob("*")
        if p.is_file() and p.suffix in {".py", ".yaml", ".j2", ".css", ".json"} and "__pycache__" not in p.parts
    )
    return sha(__version__.encode(), *(str(p.relative_to(PACKAGE_DIR)).encode() + p.read_bytes() for p in files))
