"""Build course/fonts/CourseCJK-Regular.otf: the few Chinese glyphs the course's figures draw.

The subset comes from Noto Sans CJK SC (SIL Open Font License 1.1, Debian's fonts-noto-cjk) and
is renamed "Course CJK" as a modified version. It is committed, so figures with Chinese
characters render offline on any machine without a CJK font and without matplotlib's "Glyph
missing" warning on stderr (which nbgrader counts as a failed cell).

    .venv/bin/python tools/make_cjk_subset.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course.tasks import ZH_ALPHABET  # noqa: E402

SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CHARS = ZH_ALPHABET + "两中文字"
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
