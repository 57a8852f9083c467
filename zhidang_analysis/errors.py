"""The package's exceptions: one root, specific subclasses that carry their context.

Messages are Chinese because users read them; attributes are for code and tests.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ZhidangError(Exception):
    """Root of every error this package raises on purpose."""


class UnknownNameError(ZhidangError, KeyError):
    """A town, year, indicator code or other name that is not in the data.

    Carries ``kind`` (what was looked up, in Chinese), ``name`` and ``suggestions``
    (the closest valid names), so callers and tests need not parse the message.
    """

    def __init__(self, kind: str, name: object, valid: Iterable[object] = ()):
        self.kind = kind
        self.name = name
        valid = [str(v) for v in valid]
        self.suggestions = difflib.get_close_matches(str(name), valid, n=3, cutoff=0.3)
        if not self.suggestions and valid:
            self.suggestions = valid[:3]
        msg = f"未找到{kind}“{name}”"
        if self.suggestions:
            msg += "，可选的有：" + "、".join(self.suggestions)
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


class AmbiguousTownError(UnknownNameError):
    """A bare town name that several counties have (城关镇): ``choices`` are its ``县/乡镇`` labels."""

    def __init__(self, name: str, choices: Iterable[str]):
        self.choices = list(choices)
        super().__init__("乡镇", name, self.choices)
        self.args = (f"乡镇“{name}”在{len(self.choices)}个县都有，请写明是哪一个：" + "、".join(self.choices),)


class DataError(ZhidangError):
    """Input data that failed validation; ``problems`` lists every problem found in one pass."""

    def __init__(self, problems: list):
        self.problems = list(problems)
        errors = [p for p in self.problems if p.level == "error"]
        lines = [f"数据校验未通过：共{len(errors)}处错误"]
        lines += [f"  {p}" for p in errors[:50]]
        if len(errors) > 50:
            lines.append(f"  ……另有{len(errors) - 50}处错误未列出")
        super().__init__("\n".join(lines))


class ReportError(ZhidangError):
    """A notebook run or export failed; ``cell`` is the failing cell index when known."""

    def __init__(self, message: str, *, cell: int | None = None, detail: str = ""):
        self.cell = cell
        self.detail = detail
        super().__init__(message)


class ExtractError(ZhidangError):
    """A past report that cannot be read back (format, town or year unknown); ``path`` names the file."""

    def __init__(self, message: str, *, path: object = None):
        self.path = path
        super().__init__(message)
