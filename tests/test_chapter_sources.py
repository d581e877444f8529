"""Every chapter has one text source, chapters/NN-name.py, and source/ (source-zh/ for the Chinese edition)
is what it builds."""

import ast
import io
import re
import tokenize

import nbformat
import pytest

from course import cells
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


# What a reader sees in a code cell: its comments, docstrings and the literal text it prints. In the Chinese
# edition none of it may be English prose: two English words in a row, once code is set aside (backticks, calls,
# dotted and snake_case names, shapes in brackets, names the cell uses, maths, citations like "Vaswani et al.").
_SET_ASIDE = re.compile(r"#+ (?:BEGIN|END) (?:SOLUTION|HIDDEN TESTS)|\b[A-Z][a-z]+ et al\.?|\([^()]*\)|\[[^\[\]]*\]"
                        r"|`[^`]*`|\b[\w.]+\([^()]*\)|\b\w+(?:\.\w+)+\b|\b\w*_\w*\b|\$[^$]*\$|https?://\S+")
_CODE_WORDS = {"int", "float", "bool", "str", "tuple", "list", "dict", "none", "true", "false", "python", "pytorch",
               "numpy", "torch", "tensor", "dtype", "begin", "end", "solution", "hidden", "tests", "gpu", "cpu", "cuda"}


def _reader_text(source: str) -> tuple[list[str], set[str]]:
    """The comments, docstrings and printed literal text of a code cell, and the names its code uses."""
    texts = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            texts.append(token.string.lstrip("#").strip())
    tree = ast.parse(source)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                texts.append(first.value.value)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    texts.append(arg.value)
                elif isinstance(arg, ast.JoinedStr):
                    texts.append("".join(v.value if isinstance(v, ast.Constant) else " " for v in arg.values))
        name = getattr(node, "id", None) or getattr(node, "attr", None) or getattr(node, "arg", None) \
            or (node.name if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else None)
        if isinstance(name, str):
            names.add(name)
    return texts, names


def english_prose(source: str) -> list[str]:
    """Runs of two or more English words in what a reader sees of a code cell, code set aside."""
    texts, names = _reader_text(source)
    found = []
    for text in texts:
        run: list[str] = []
        for word in re.findall(r"[A-Za-z][A-Za-z'’-]*|[^\sA-Za-z,]+", _SET_ASIDE.sub(" ", text)) + ["."]:
            acronym = sum(c.isupper() for c in word) >= 2  # FLOP, RoPE, Post-LN, GPT: names, not prose
            if word[0].isascii() and word[0].isalpha() and len(word) > 1 and not acronym and word not in names \
                    and word.lower() not in _CODE_WORDS:
                run.append(word)
                continue
            if len(run) >= 2:
                found.append(" ".join(run))
            run = []
    return found


@pytest.mark.parametrize("chapter", BILINGUAL, ids=lambda p: p.stem)
def test_the_chinese_editions_code_cells_explain_in_chinese(chapter):
    """Comments, docstrings (an exercise's specification) and printed labels; test cells speak through the checks'
    catalogues (tests/test_messages_zh.py)."""
    english_cells = 0
    for en, zh in _pairs(chapter):
        if en.cell_type != "code" or cells.is_grade(en):
            continue
        english_cells += bool(english_prose(en.source))
        where = f"{chapter.stem}/{en.metadata['nbgrader']['grade_id']}"
        assert not english_prose(zh.source), f"{where}: English in the Chinese edition: {english_prose(zh.source)}"
    assert english_cells, f"{chapter.stem}: the finder sees no English in the English edition either"


def test_the_english_prose_finder_sees_prose_and_not_code():
    assert sorted(english_prose('print("row sums:", x.sum(1))  # divides every row')) == ["divides every row",
                                                                                         "row sums"]
    assert english_prose('def f(x):\n    """Subtract each row\'s mean."""') == ["Subtract each row's mean"]
    assert english_prose('print(f"loss {x:.3f} after {n} steps")') == ["loss after steps"]
    assert not english_prose('print("行和：", x.sum(dim=1))  # (batch, seq, d_model) 上的 `keepdim=True`，x.T')
    assert not english_prose("x = 1  # Vaswani et al. 2017，表 3；torch.float16 的 Python float；Post-LN 与 RoPE\n")
