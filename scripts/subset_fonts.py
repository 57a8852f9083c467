"""Make the PDF fonts shipped in zhidang_analysis/fonts/ from the Fandol fonts of TeX Live (not run at build time).

    apt-get install texlive-lang-chinese   # Debian: the Fandol fonts
    python scripts/subset_fonts.py [/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol]

Each font is cut down to GB 2312 (6763 hanzi and its symbols, the set of 仿宋_GB2312) plus ASCII, as WOFF2,
to keep the package small (about 11 MB for the four).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset

SOURCE = Path("/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol")
TARGET = Path(__file__).resolve().parent.parent / "zhidang_analysis" / "fonts"
FONTS = ["FandolFang-Regular", "FandolKai-Regular", "FandolHei-Regular", "FandolSong-Bold"]


def characters() -> set[str]:
    chars = {chr(c) for c in range(0x20, 0x7F)} | set("“”‘’—…·「」『』〇")
    for first in range(0xA1, 0xF8):  # GB 2312: symbols, level 1 and level 2 hanzi (as 仿宋_GB2312 has)
        for second in range(0xA1, 0xFF):
            try:
                chars.add(bytes([first, second]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def main(source: Path = SOURCE) -> None:
    unicodes = [ord(c) for c in characters()]
    for name in FONTS:
        options = subset.Options()
        options.flavor = "woff2"
        options.name_IDs, options.name_languages, options.notdef_outline = ["*"], ["*"], True
        font = subset.load_font(str(source / f"{name}.otf"), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=unicodes)
        subsetter.subset(font)
        subset.save_font(font, str(TARGET / f"{name}.woff2"), options)
        print(name, (TARGET / f"{name}.woff2").stat().st_size // 1024, "KB")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
