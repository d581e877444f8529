"""Shared course helpers: glossary, figure widget, notebook guard, pipeline CLI."""

import subprocess
import sys

import ipywidgets as widgets
import pytest
from course_grader import pipeline

from course import glossary
from course.notebook import needs
from course.widgets import FigureWidget


def test_glossary_has_both_languages_and_rejects_unknown_chapters():
    for chapter in ("01-compute", "02-tensors"):
        rows = glossary.terms(chapter)
        assert rows and all(t.english and t.chinese and t.meaning for t in rows)
    assert len(glossary.terms("02-tensors", upto=True)) > len(glossary.terms("02-tensors"))
    html = glossary.to_html("02-tensors")
    assert "广播" in html and "<table>" in html
    with pytest.raises(ValueError, match="unknown chapter"):
        glossary.terms("99-nothing")


def test_glossary_terms_are_unique():
    names = [t.english for t in glossary.TERMS]
    assert len(names) == len(set(names))


def _line_widget():
    def draw(fig, slope, label):
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, slope], label=label)
        ax.legend()
        return f"slope {slope}"

    return FigureWidget(draw, {"slope": widgets.FloatSlider(value=1.0, min=-2, max=2),
                               "label": widgets.Text(value="a")}, title="test", export_name="line.png")


def test_figure_widget_redraws_on_every_control(tmp_path):
    w = _line_widget()
    first, count = w.png, w.redraw_count
    assert first.startswith(b"\x89PNG") and w.status.value == "slope 1.0"
    w.controls["slope"].value = -1.5
    assert w.png != first and w.status.value == "slope -1.5" and w.redraw_count == count + 1
    second = w.png
    w.controls["label"].value = "b"
    assert w.png != second
    path = w.export_png(tmp_path / "view.png")
    assert path.read_bytes() == w.png
    assert "application/vnd.jupyter.widget-view+json" in w._repr_mimebundle_()


def test_figure_widget_export_button(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = _line_widget()
    w.export_button.click()
    assert (tmp_path / "line.png").read_bytes() == w.png
    assert "saved" in w.status.value


def test_needs_turns_not_implemented_into_a_note(capsys):
    with needs("my_function"):
        raise NotImplementedError()
    assert "`my_function`" in capsys.readouterr().out
    with pytest.raises(ValueError):
        with needs("f"):
            raise ValueError("real bugs still surface")


def test_pipeline_cli_rejects_unknown_steps_and_missing_arguments():
    proc = subprocess.run([sys.executable, "-m", "course_grader.pipeline", "deploy"], capture_output=True, text=True)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "course_grader.pipeline", "publish"], capture_output=True, text=True)
    assert proc.returncode == 2 and "one assignment at a time" in proc.stderr


def test_pipeline_reports_nbgrader_errors(tmp_path):
    (tmp_path / "source").mkdir()
    with pytest.raises(pipeline.PipelineError, match="no assignments"):
        pipeline.release(tmp_path)
    with pytest.raises(pipeline.PipelineError, match="failed"):
        pipeline.nbgrader("generate_assignment", "does-not-exist", "--no-such-flag", root=tmp_path)
