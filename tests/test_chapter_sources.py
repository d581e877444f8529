"""Every chapter has one text source, chapters/NN-name.py, and source/ (source-zh/ for the Chinese edition)
is what it builds."""

import nbformat
import pytest

from tools import notebooks


def test_each_assignment_has_exactly_one_text_source():
    assignments = sorted(p.name for p in notebooks.SOURCE.iterdir() if p.is_dir())
    assert assignments == [p.stem for p in notebooks.chapter_files()]
    for folder in notebooks.SOURCE.iterdir():  # nbgrader copies other files into release/
        assert [p.name for p in folder.iterdir()] == [f"{folder.name}.ipynb"], folder
    assert not list(notebooks.ROOT.glob("tools/build_*.py")), "notebooks are built from chapters/ only"


def test_the_chinese_edition_has_exactly_the_bilingual_chapters():
    bilingual = [p.stem for p in notebooks.chapter_files() if "zh" in notebooks.languages(p)]
    zh = notebooks.SOURCES["zh"]
    found = sorted(p.name for p in zh.iterdir() if p.is_dir()) if zh.is_dir() else []
    assert found == bilingual, f"source-zh/ holds {found}, the chapters with Chinese prose are {bilingual}: make notebooks"
    for folder in zh.iterdir() if zh.is_dir() else []:  # one notebook per assignment folder, as in source/
        assert [p.name for p in folder.iterdir()] == [f"{folder.name}.ipynb"], folder


def _pairs(chapter):
    """The English and Chinese notebooks of a bilingual chapter, cell by cell."""
    en = nbformat.read(notebooks.notebook_path(chapter), as_version=4)
    zh = nbformat.read(notebooks.notebook_path(chapter, "zh"), as_version=4)
    assert len(en.cells) == len(zh.cells), f"{chapter.stem}: the editions have {len(en.cells)} and {len(zh.cells)} cells"
    return list(zip(en.cells, zh.cells, strict=True))


BILINGUAL = [p for p in notebooks.chapter_files() if "zh" in notebooks.languages(p)]


@pytest.mark.parametrize("chapter", BILINGUAL, ids=lambda p: p.stem)
def test_both_editions_share_code_grade_ids_and_points(chapter):
    for en, zh in _pairs(chapter):
        where = f"{chapter.stem}/{en.metadata['nbgrader']['grade_id']}"
        assert en.cell_type == zh.cell_type, where
        assert en.metadata == zh.metadata, f"{where}: the editions differ in nbgrader metadata (grade id, points, lock)"
        if en.cell_type == "code":
            why = notebooks.program_difference(en.source, zh.source)
            assert why is None, f"{where}: the editions' code differs beyond comments, docstrings, printed labels: {why}"
        else:
            assert en.source != zh.source, f"{where}: the Chinese prose cell repeats the English one"
            assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.source), f"{where}: the Chinese cell has no Chinese"


@pytest.mark.parametrize("chapter", BILINGUAL, ids=lambda p: p.stem)
def test_the_chinese_edition_keeps_the_structure_of_each_prose_cell(chapter):
    """Headings, hints, predict prompts, exercises and formulas appear in both languages alike."""
    import re

    for en, zh in _pairs(chapter):
        if en.cell_type != "markdown":
            continue
        where = f"{chapter.stem}/{en.metadata['nbgrader']['grade_id']}"
        heading = re.compile(r"^#+ ", re.M)
        assert [m.group() for m in heading.finditer(en.source)] == [m.group() for m in heading.finditer(zh.source)], (
            f"{where}: the headings differ")
        for marker in ("<details>", "</details>", "$$", "**Predict · 预测", "### Exercise"):
            twin = {"**Predict · 预测": "**预测 · Predict", "### Exercise": "### 练习"}.get(marker, marker)
            assert en.source.count(marker) == zh.source.count(twin), f"{where}: {marker!r} appears differently often"
        code = re.compile(r"`[^`]+`")
        missing = set(code.findall(en.source)) - set(code.findall(zh.source))
        assert not missing, f"{where}: code spans of the English cell missing from the Chinese one: {sorted(missing)}"


def test_source_is_a_fresh_build_of_chapters(tmp_path):
    differ = [p.name for p in notebooks.chapter_files() if notebooks.stale(p, tmp_path)]
    assert not differ, f"source/ differs from chapters/{differ}: run `make notebooks` (or pull JupyterLab edits)"


@pytest.mark.parametrize("chapter", notebooks.chapter_files(), ids=lambda p: p.stem)
def test_text_and_notebook_convert_both_ways(chapter):
    assert notebooks.to_text(*notebooks.read_editions(chapter)) == chapter.read_text(encoding="utf-8")


def test_pull_then_build_keeps_an_edit_made_in_jupyterlab(tmp_path, monkeypatch):
    chapter = notebooks.chapter_files()[1]
    nb = nbformat.read(notebooks.notebook_path(chapter), as_version=4)
    nb.cells[0].source += "\n\nA typo fixed in JupyterLab."
    text = tmp_path / chapter.name
    text.write_text(notebooks.to_text(nb), encoding="utf-8")
    rebuilt = nbformat.read(notebooks.build(text, tmp_path / "out.ipynb"), as_version=4)
    assert rebuilt.cells[0].source.endswith("A typo fixed in JupyterLab.")
    assert [c.metadata for c in rebuilt.cells] == [c.metadata for c in nb.cells]


def test_pull_keeps_an_edit_of_the_chinese_edition(tmp_path):
    chapter = BILINGUAL[0]
    en, zh = notebooks.read_editions(chapter)
    zh.cells[0].source += "\n\n在 JupyterLab 中改正的一个错字。"
    text = tmp_path / chapter.name
    text.write_text(notebooks.to_text(en, zh), encoding="utf-8")
    rebuilt = nbformat.read(notebooks.build(text, tmp_path / "zh.ipynb", "zh"), as_version=4)
    assert rebuilt.cells[0].source.endswith("在 JupyterLab 中改正的一个错字。")
    english = nbformat.read(notebooks.build(text, tmp_path / "en.ipynb"), as_version=4)
    assert [c.source for c in english.cells] == [c.source for c in en.cells]


PAIRED = '# %% [markdown]\n# Text.\n\n# %% [markdown] lang="zh"\n# 正文。\n\n'


@pytest.mark.parametrize("text, message", [
    (PAIRED + '# %% [markdown]\n# Only in English.\n\n# %%\nx = 1\n', "no Chinese twin"),
    (PAIRED + '# %%\nx = 1\n\n# %% [markdown] lang="zh"\n# 没有英文的段落。\n', "must follow its English"),
    (PAIRED + '# %% [markdown] lang="zh"\n# 第二个译文。\n', "must follow its English"),
    ('# %% [markdown]\n# Text.\n\n# %% [markdown] lang="zh"\n# Still English.\n', "holds no Chinese"),
    (PAIRED + '# %% lang="zh"\nx = 1\n', "must follow its English code cell"),
    (PAIRED + '# %%\nx = 1\n\n# %% lang="zh"\nx = 2  # 二\n', "may change only comments"),
    (PAIRED + '# %%\nx = 1\n\n# %% lang="zh" tests="t" points=1\nx = 1  # 一\n', "takes its English cell's header"),
    ('# %% [markdown] lang="fr"\n# Texte.\n', "takes no options but"),
])
def test_a_prose_cell_in_one_language_only_is_an_error(tmp_path, text, message):
    path = tmp_path / "09-example.py"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(notebooks.ChapterError, match=message) as err:
        notebooks.read_chapter(path, "zh")
        notebooks.read_chapter(path)
    assert "09-example.py" in str(err.value)


def test_an_english_only_chapter_has_no_chinese_edition(tmp_path):
    path = tmp_path / "09-example.py"
    path.write_text('# %% [markdown]\n# Text.\n\n# %%\nx = 1\n', encoding="utf-8")
    assert notebooks.languages(path) == ["en"]
    with pytest.raises(notebooks.ChapterError, match="no 'zh' edition"):
        notebooks.read_chapter(path, "zh")
    path.write_text(PAIRED + '# %%\nx = 1\n', encoding="utf-8")
    assert notebooks.languages(path) == ["en", "zh"]
    en, zh = notebooks.read_chapter(path), notebooks.read_chapter(path, "zh")
    assert [c.source for c in en] == ["Text.", "x = 1"] and [c.source for c in zh] == ["正文。", "x = 1"]
    assert [c.metadata for c in en] == [c.metadata for c in zh]


@pytest.mark.parametrize("header, message", [
    ('# %% answer="f"\ndef f():\n    pass\n', "no ### BEGIN SOLUTION"),
    ('# %% tests="f_tests"\nassert True\n', "points=N"),
    ('# %% tests="f_tests" points=0\nassert True\n', "points=N"),
    ('# %% points=2\nx = 1\n', "points= belongs with tests"),
    ('# %% grade=true\nx = 1\n', "unknown cell option"),
    ('# %% [markdown] answer="f"\n# text\n', "markdown cell takes no options"),
    ('# %% answer="f"\n### BEGIN SOLUTION\n### END SOLUTION\n'
     '# %% answer="f"\n### BEGIN SOLUTION\n### END SOLUTION\n', "used twice"),
])
def test_a_bad_cell_header_names_the_file_and_the_problem(tmp_path, header, message):
    path = tmp_path / "09-example.py"
    path.write_text(header, encoding="utf-8")
    with pytest.raises(notebooks.ChapterError, match=message) as err:
        notebooks.read_chapter(path)
    assert "09-example.py" in str(err.value)


SAME = [
    ("x = 1  # one", "x = 1  # 一"),
    ('def f(x):\n    """Add one."""\n    return x + 1', 'def f(x):\n    """加一。"""\n    return x + 1'),
    ('class A:\n    """A."""', 'class A:\n    """甲。"""'),
    ('print("row sums:", s)', 'print("行和：", s)'),
    ('print(f"loss {x:.3f} at {n} steps")', 'print(f"第 {n} 步的损失 {x:.3f}")'),  # Chinese word order
    ('print(x)', 'print(x)  # 打印'),
]
DIFFERENT = [
    ("x = 1", "x = 2"),
    ('f("row sums")', 'f("行和")'),                      # a string given to anything but print is code
    ('print("a", sep=" ")', 'print("a", sep="")'),       # print's options are code
    ('print(f"{x:.3f}")', 'print(f"{x:.2f}")'),          # formats are code
    ('print(f"{x} {y}")', 'print(f"{x}")'),              # so are the values printed
    ('d = {"row": 1}', 'd = {"行": 1}'),
    ('def f():\n    """doc"""\n    return 1', 'def f():\n    return 2'),
]


@pytest.mark.parametrize(("en", "zh"), SAME)
def test_a_chinese_code_twin_may_change_what_only_a_reader_sees(en, zh):
    assert notebooks.program_difference(en, zh) is None


@pytest.mark.parametrize(("en", "zh"), DIFFERENT)
def test_a_chinese_code_twin_may_not_change_the_program(en, zh):
    assert notebooks.program_difference(en, zh)
