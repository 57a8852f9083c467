"""A slow optional import this package's processes leave out.

nbformat (which papermill, nbconvert and the notebooks' parameter check need) imports jsonschema, and jsonschema
imports the optional ``rfc3987_syntax`` whenever it is installed (JupyterLab's jupyter-events pulls it in). That
package builds some thirty Lark parsers at import, for jsonschema's "iri" format checks: a second of the start of
every batch process, every worker and every kernel's first report, for a format no notebook schema uses.
"""

from __future__ import annotations

import sys

__all__ = ["skip_iri_parsers"]


def skip_iri_parsers() -> None:
    """Leave ``rfc3987_syntax`` out of this process (an import of it fails, and jsonschema skips the "iri" formats
    as it does where the package is not installed), unless jsonschema or it is imported already. Call it before
    importing nbformat, papermill or nbconvert."""
    if "rfc3987_syntax" not in sys.modules and "jsonschema" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
