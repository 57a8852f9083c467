"""Output file names: a town's name made safe as a file name (no reserved or unsafe characters, cut to a length
every file system takes), and distinct stems for all towns of a county."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

from ..errors import ZhidangError

_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}

#: Longest file-name stem, in UTF-8 bytes (40 Chinese characters). File systems allow 255 bytes per name; the
#: rest is left for the suffix (``.ipynb``), the temporary names of atomic writes (``.<name>.<random>.tmp``) and
#: the template's ``2026年…指标填报表.xlsx``.
STEM_MAX_BYTES = 120
#: Stems the batch writes itself in ``<out>/<year>/``: a town can never take them (compared ignoring case).
RESERVED_STEMS = frozenset({"overview", "index", "manifest", "checks"})
HASH_DIGITS = 8


def cut_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` bytes of UTF-8, never inside a character.

    >>> cut_utf8("青石镇", 7)
    '青石'
    """
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max(0, max_bytes)].decode("utf-8", errors="ignore")


def safe_filename(name: str, default: str = "未命名", max_bytes: int = STEM_MAX_BYTES) -> str:
    """A town name made safe as a file name on Windows, macOS and Linux (Chinese kept), at most ``max_bytes``
    bytes of UTF-8.

    This is one name on its own: two names can give the same result (``a/b`` and ``a_b``). Files that must
    not collide are named by :func:`output_stems`.

    >>> safe_filename('<b>&"\\'镇')
    "_b_&_'镇"
    >>> safe_filename("../青石镇")   # no separator is left, so it cannot climb out of the folder
    '_青石镇'
    >>> safe_filename("CON")
    '_CON'
    """
    s = unicodedata.normalize("NFC", str(name))
    s = _UNSAFE.sub("_", s).strip(" .")
    if not s:
        s = default
    if s.split(".")[0].upper() in _RESERVED:
        s = "_" + s
    return cut_utf8(s, max_bytes).rstrip(" .") or default


def name_hash(name: str, digits: int = HASH_DIGITS) -> str:
    """The first ``digits`` hex digits of the SHA-256 of ``name`` (UTF-8): the same on every machine and run."""
    return hashlib.sha256(str(name).encode("utf-8")).hexdigest()[:digits]


def _hashed(safe: str, name: str, digits: int, max_bytes: int) -> str:
    suffix = f"-{name_hash(name, digits)}"
    return cut_utf8(safe, max_bytes - len(suffix)).rstrip(" .") + suffix


def output_stems(names: Iterable[str], *, reserved: Iterable[str] = RESERVED_STEMS,
                 max_bytes: int = STEM_MAX_BYTES) -> dict[str, str]:
    """A distinct file-name stem for each of ``names`` (town names): name → stem.

    The rule (README, “输出文件名”):

    1. A name that is a safe file name as it is (``青石镇``) is its own stem.
    2. Any other name is made safe by :func:`safe_filename` (``a/b`` → ``a_b``).
    3. A name whose safe form is one of ``reserved`` (``overview``, ``index``, ``manifest``, ignoring case) or
       longer than ``max_bytes`` bytes of UTF-8 gets ``-`` and the first 8 hex digits of the SHA-256 of the
       name, cut (by bytes, never inside a character) so that the whole stem fits: ``overview-<hash>``.
    4. Stems are compared ignoring case (Windows and macOS file systems). When several names share a stem, a
       name that is its own stem (rule 1) keeps it and every other name of the group gets the hash suffix
       (``a/b`` → ``a_b-<hash>`` beside the town ``a_b``); when two names are each their own stem (``Abc``,
       ``abc``), both get it. A stem still shared after that (identical hash prefixes) gets a longer hash.

    So stems are stable across runs: a stem depends on its own name only, except that a changed name (rule 2)
    gets the hash when another name takes the same stem. Adding a town therefore never renames the file of a
    town whose name is a safe file name (unless the new name differs from it only in case), nor of a reserved
    or cut name; it renames a changed name only when the new town's name is, or changes to, the same stem.
    Raises :class:`ZhidangError` if distinct stems cannot be made (not seen in practice).

    >>> output_stems(["青石镇", "a/b", "a_b", "overview"])  # doctest: +NORMALIZE_WHITESPACE
    {'青石镇': '青石镇', 'a/b': 'a_b-c14cddc0', 'a_b': 'a_b', 'overview': 'overview-bd445c46'}
    """
    names = list(dict.fromkeys(str(n) for n in names))
    reserved_cf = {r.casefold() for r in reserved}
    safe = {n: safe_filename(n, max_bytes=1 << 30) for n in names}
    stems = {}
    for n in names:
        s = safe[n]
        stems[n] = (_hashed(s, n, HASH_DIGITS, max_bytes)
                    if s.casefold() in reserved_cf or len(s.encode("utf-8")) > max_bytes else s)
    for digits in (HASH_DIGITS, 16, 64):
        groups: dict[str, list[str]] = {}
        for n in names:
            groups.setdefault(stems[n].casefold(), []).append(n)
        clashes = [g for g in groups.values() if len(g) > 1]
        if not clashes:
            return stems
        for group in clashes:
            own = [n for n in group if stems[n] == n]
            for n in group:
                if len(own) != 1 or n != own[0]:
                    stems[n] = _hashed(safe[n], n, digits, max_bytes)
    groups = {}
    for n in names:
        groups.setdefault(stems[n].casefold(), []).append(n)
    clashes = [g for g in groups.values() if len(g) > 1]
    if clashes:
        raise ZhidangError("这些乡镇名称无法生成互不相同的文件名：" + "；".join("、".join(g) for g in clashes))
    return stems
