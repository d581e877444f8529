"""English · 中文 glossary, shown at the end of every chapter.

The terms live in one tab-separated file per chapter, ``course/glossary/<chapter>.tsv`` with
columns ``english``, ``chinese`` and ``meaning``, so that chapters are edited independently.
``show(chapter)`` renders a chapter's terms (and, with ``upto=True``, all earlier ones) as an
HTML table.
"""

from __future__ import annotations

import csv
import html
from dataclasses import dataclass
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_COLUMNS = ["english", "chinese", "meaning"]


@dataclass(frozen=True)
class Term:
    english: str
    chinese: str
    chapter: str
    meaning: str


def _load() -> tuple[Term, ...]:
    out: list[Term] = []
    for path in sorted(_HERE.glob("*.tsv")):
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            if reader.fieldnames != _COLUMNS:
                raise ValueError(f"{path.name}: header must be {'<TAB>'.join(_COLUMNS)}, found {reader.fieldnames}")
            for n, row in enumerate(reader, start=2):
                if None in row or any(not (row[c] or "").strip() for c in _COLUMNS):
                    raise ValueError(f"{path.name} line {n}: expected 3 non-empty tab-separated fields")
                out.append(Term(row["english"].strip(), row["chinese"].strip(), path.stem, row["meaning"].strip()))
    return tuple(out)


TERMS: tuple[Term, ...] = _load()


def chapters() -> list[str]:
    return sorted({t.chapter for t in TERMS})


def terms(chapter: str, upto: bool = False) -> list[Term]:
    """Terms introduced in ``chapter`` (or in it and every earlier chapter when ``upto``)."""
    if chapter not in chapters():
        raise ValueError(f"unknown chapter {chapter!r}; chapters with glossary entries: {', '.join(chapters())}")
    return [t for t in TERMS if (t.chapter <= chapter if upto else t.chapter == chapter)]


def to_html(chapter: str, upto: bool = False) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(t.english)}</td><td>{html.escape(t.chinese)}</td><td>{html.escape(t.meaning)}</td></tr>"
        for t in terms(chapter, upto)
    )
    return ("<table><thead><tr><th>English</th><th>中文</th><th>meaning</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def show(chapter: str, upto: bool = False):
    """Display the glossary table in a notebook."""
    from IPython.display import HTML

    return HTML(to_html(chapter, upto))
