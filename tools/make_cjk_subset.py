"""Build course/fonts/CourseCJK-Regular.otf: the few Chinese glyphs the course's figures draw
(the capstone's numerals, and the Chinese edition's words in the figures of the widgets, course/widgets/*.py,
and of the experiments, course/experiments/*.py).

The subset comes from Noto Sans CJK SC (SIL Open Font License 1.1, Debian's fonts-noto-cjk) and
is renamed "Course CJK" as a modified version. It is committed, so figures with Chinese
characters render offline on any machine without a CJK font and without matplotlib's "Glyph
missing" warning on stderr (which nbgrader counts as a failed cell).

    .venv/bin/python tools/make_cjk_subset.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course.tasks import ZH_ALPHABET  # noqa: E402

SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FIGURE_SOURCES = (ROOT / "course" / "widgets", ROOT / "course" / "experiments")  # modules that draw Chinese words
CJK = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]")  # ideographs and full-width punctuation


def figure_chars() -> str:
    """Every Chinese character and full-width punctuation mark written in the widgets' and experiments' sources."""
    return "".join(sorted({c for folder in FIGURE_SOURCES for p in folder.glob("*.py")
                           for c in CJK.findall(p.read_text(encoding="utf-8"))}))


CHARS = ZH_ALPHABET + "两中文字" + figure_chars()
OUT = ROOT / "course" / "fonts" / "CourseCJK-Regular.otf"
FAMILY = "Course CJK"


def main() -> None:
    fonts = TTCollection(str(SOURCE)).fonts
    font = next(f for f in fonts if "SC" in f["name"].getDebugName(1))
    options = subset.Options()
    options.name_IDs = ["*"]
    options.layout_features = []
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=CHARS)
    subsetter.subset(font)
    name = font["name"]
    for record in name.names:
        if record.nameID in (1, 16):
            record.string = FAMILY
        elif record.nameID == 4:
            record.string = f"{FAMILY} Regular"
        elif record.nameID == 6:
            record.string = "CourseCJK-Regular"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(OUT))
    print(f"{OUT}: {len(CHARS)} characters, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
