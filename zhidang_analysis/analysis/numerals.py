"""Numbers as a report writes them (GB/T 15835-2011): Chinese numerals in fixed terms and headings, digits
with at most two decimals elsewhere, rates as percent text."""

from __future__ import annotations

__all__ = ["chinese_numeral", "chinese_year", "format_number", "percent_text"]

_DIGITS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """Chinese numeral for 0–9999 as used in fixed terms: 七个方面, 第十五次, 四轮.

    >>> [chinese_numeral(i) for i in (0, 4, 10, 15, 20, 21, 100, 105, 110)]
    ['零', '四', '十', '十五', '二十', '二十一', '一百', '一百零五', '一百一十']
    """
    n = int(n)
    if not 0 <= n < 10000:
        raise ValueError(f"chinese_numeral supports 0–9999, got {n}")
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d:
            if zero and out:
                out += "零"
            out += _DIGITS[d] + unit
            zero = False
        else:
            zero = bool(out)
    return out


def chinese_year(year: int) -> str:
    """A year as a heading writes it: ``chinese_year(2025) == '二〇二五'``."""
    return "".join("〇一二三四五六七八九"[int(d)] for d in str(int(year)))


def format_number(value: float, *, integer: bool = True, numeral: str = "arabic") -> str:
    """Digits of a value after GB/T 15835: integers plain, decimals to at most two places.

    >>> format_number(12.0), format_number(3.456, integer=False), format_number(7, numeral="chinese")
    ('12', '3.46', '七')
    >>> format_number(120.50, integer=False)
    '120.5'
    """
    if numeral == "chinese":
        return chinese_numeral(int(round(value)))
    if integer or float(value).is_integer():
        return f"{int(round(value))}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def percent_text(rate: float) -> str:
    """A rate as percent text: 0.125 → '12.5', 0.1 → '10'."""
    # half up, as people round (0.1875 is 18.8%, not the 18.7% that the float 0.18749999… gives)
    return f"{abs(rate) * 100 + 1e-9:.1f}".removesuffix(".0")
