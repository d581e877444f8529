"""Every chapter has one text source, chapters/NN-name.py, and source/ is what it builds."""

import nbformat
import pytest

from tools import notebooks


def test_each_assignment_has_exactly_one_text_source():
    assignments = sorted(p.name for p in notebooks.SOURCE.iterdir() if p.is_dir())
    assert assignments == [p.stem for p in notebooks.chapter_files()]
    for folder in notebooks.SOURCE.iterdir():  # nbgrader copies other files into release/
        assert [p.name for p in folder.iterdir()] == [f"{folder.name}.ipynb"], folder
    assert not list(notebooks.ROOT.glob("tools/build_*.py")), "notebooks are built from chapters/ only"


def test_source_is_a_fresh_build_of_chapters(tmp_path):
    differ = [p.name for p in notebooks.chapter_files() if notebooks.stale(p, tmp_path)]
    assert not differ, f"source/ differs from chapters/{differ}: run `make notebooks` (or pull JupyterLab edits)"


@pytest.mark.parametrize("chapter", notebooks.chapter_files(), ids=lambda p: p.stem)
def test_text_and_notebook_convert_both_ways(chapter):
    nb = nbformat.read(notebooks.notebook_path(chapter), as_version=4)
    assert notebooks.to_text(nb) == chapter.read_text(encoding="utf-8")


def test_pull_then_build_keeps_an_edit_made_in_jupyterlab(tmp_path, monkeypatch):
    chapter = notebooks.chapter_files()[1]
    nb = nbformat.read(notebooks.notebook_path(chapter), as_version=4)
    nb.cells[0].source += "\n\nA typo fixed in JupyterLab."
    text = tmp_path / chapter.name
    text.write_text(notebooks.to_text(nb), encoding="utf-8")
    rebuilt = nbformat.read(notebooks.build(text, tmp_path / "out.ipynb"), as_version=4)
    assert rebuilt.cells[0].source.endswith("A typo fixed in JupyterLab.")
    assert [c.metadata for c in rebuilt.cells] == [c.metadata for c in nb.cells]


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
