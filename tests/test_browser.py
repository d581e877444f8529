"""The course as students meet it: JupyterLab in headless Chromium (Playwright + Debian's chromium).

One student JupyterLab (instructor tools off, see course.student_env.write_config) serves copies
of the notebooks. For every chapter's release notebook, Run All must reach the end with error
output only in the graded test cells (each of which fails, untouched), every course widget must
render with its controls, and moving a widget's slider must change its figure. One solutions
notebook must run with no error output at all. The student sees the Validate button and no
formgrader.

The interactive views (course.widgets.attention_view, course.widgets.rope_view) are used as a
student uses them: hover a token and click a head and check what changes, keys only (Tab to a head,
arrows along the tokens), the time a 6 layers × 8 heads × 40 tokens view takes to draw, the thumbnails'
pixels (each frame holds its map and nothing else), and the static picture a notebook saved from JupyterLab keeps
for nbconvert's HTML (hidden in JupyterLab, where the view draws). One notebook of the Chinese edition shows the
views' words in Chinese; its screenshot is kept with the test's files (tools/screenshots.py --zh retakes the
README.zh.md ones).

Needs /usr/bin/chromium and the playwright package (`make browser` installs both); without them
the test is skipped, unless COURSE_REQUIRE_BROWSER=1 (set by .ci/run) makes that a failure.
"""

from __future__ import annotations

import io
import os
import re
import urllib.error
import urllib.request

import browser
import nbformat
import pytest
from course_grader import pipeline
from notebooks import ROOT, is_test

ASSIGNMENTS = pipeline.assignments(ROOT)
# the solutions notebook run end to end without any error output (two widgets, RoPE maths)
SOLUTION_RUN = "06-position-encoding"
# widgets an untouched release shows (the others wait for the student's code); a new one is added here
RELEASE_WIDGETS = {"01-compute": 1, "02-tensors": 1, "03-layernorm": 1, "06-position-encoding": 1}
# the interactive views (anywidget) an untouched release shows: the hand-built attention layer, and the RoPE
# view with the course's rotation (the student's apply_rope is not written yet)
RELEASE_VIEWS = {"05-attention": ("cav", 1), "06-position-encoding": ("crv", 1)}
# the Chinese edition's notebook opened in JupyterLab: its untouched release draws the hand-built layer's view
ZH_VIEWS = "05-attention"
VIEWS_NOTEBOOK = "views-probe.ipynb"
VIEWS_CELLS = [
    """import torch
from torch import nn
from course.attention import MultiHeadAttention
from course.experiments.ch06_position_encoding import _rope
from course.widgets.attention_view import attention_of
from course.widgets.rope_view import rope_view

torch.manual_seed(0)
layers = nn.ModuleList([MultiHeadAttention(512, 8) for _ in range(6)])
x = torch.randn(1, 40, 512)


def run():
    h = x
    for layer in layers:
        h = layer(h, h, h)""",
    """view = attention_of({"encoder": layers}, run, tokens=[f"w{i}" for i in range(40)], title="six by eight")
print(f"payload {view.payload_bytes()} bytes")
view""",
    "rope_view(lambda x, positions, base=10000.0: _rope(x, positions, base))",
]

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]  # one server for all of them


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    why = browser.missing_requirements()
    if why:
        if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"the browser test must run here (COURSE_REQUIRE_BROWSER=1) but {why}")
        pytest.skip(why)
    scratch = tmp_path_factory.mktemp("browser")
    root = scratch / "course"
    # a missing release notebook is test_pipeline.test_layout's failure, not this one's
    browser.copy_notebooks("release", [a for a in ASSIGNMENTS if (ROOT / "release" / a).is_dir()], ROOT, root)
    browser.copy_notebooks("solutions", [SOLUTION_RUN], ROOT, root / "solutions")
    browser.copy_notebooks("release-zh", [ZH_VIEWS], ROOT, root / "zh")
    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in VIEWS_CELLS])
    probe.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(probe, root / VIEWS_NOTEBOOK)
    with browser.jupyter_lab(root, scratch) as server, browser.chromium(scratch) as page:
        yield server, page


def _test_cell_indices(path) -> set[int]:
    nb = nbformat.read(path, as_version=4)
    return {i for i, cell in enumerate(nb.cells) if is_test(cell)}


def _open_and_run(server, page, name: str) -> None:
    page.goto(server.notebook_url(name))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    browser.wait_kernel_idle(page)
    browser.run_all(page)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_notebook_runs_to_the_end_in_jupyterlab(lab, assignment):
    server, page = lab
    _open_and_run(server, page, f"{assignment}.ipynb")
    cells = browser.cell_reports(page)
    assert len(cells) == len(nbformat.read(server.root / f"{assignment}.ipynb", as_version=4).cells)
    tests = _test_cell_indices(server.root / f"{assignment}.ipynb")
    assert all(cells[i]["executed"] for i in range(len(cells)) if cells[i]["code"]), \
        "Run All stopped before the last cell"
    stray = {i: cells[i]["errors"][0][:300] for i in range(len(cells)) if cells[i]["errors"] and i not in tests}
    assert not stray, f"error/stderr output outside the graded test cells: {stray}"
    passing = [i for i in tests if not cells[i]["errors"]]
    assert not passing, f"test cells {passing} pass on the untouched release"

    views = browser.figure_widgets(page)
    assert views.count() == RELEASE_WIDGETS.get(assignment, 0), \
        f"{views.count()} course widgets rendered, expected {RELEASE_WIDGETS.get(assignment, 0)}"
    for k in range(views.count()):
        view = views.nth(k)
        assert view.locator("img.widget-image").get_attribute("src"), f"widget {k} shows no figure"
        assert view.locator(".widget-inline-hbox, .widget-dropdown, .widget-slider, button").count() > 0, \
            f"widget {k} has no controls"
    if views.count():
        browser.assert_slider_redraws(page, views)
    kind, count = RELEASE_VIEWS.get(assignment, ("", 0))
    interactive = page.locator(".jp-OutputArea-output .cav-root, .jp-OutputArea-output .crv-root")
    assert interactive.count() == count, f"{interactive.count()} interactive views rendered, expected {count}"
    if kind == "cav":
        view = browser.attention_views(page).first
        assert view.locator(".cav-thumb").count() == 3, "the hand-built layer: 1 layer × 3 heads"
        assert view.locator(".cav-causal").count() == 1, "the causal toggle is offered for self-attention"
        _assert_controls_change_the_view(page, view)
    if kind == "crv":  # apply_rope is not written yet: the course's rotation, and a note saying so
        note = browser.rope_views(page).first.locator(".crv-note")
        assert "crv-fallback" in note.get_attribute("class") and "not written yet" in note.inner_text()


def test_solution_notebook_has_no_error_output(lab):
    server, page = lab
    _open_and_run(server, page, f"solutions/{SOLUTION_RUN}.ipynb")
    cells = browser.cell_reports(page)
    assert cells and all(c["executed"] for c in cells if c["code"])
    errors = {i: c["errors"][0][:300] for i, c in enumerate(cells) if c["errors"]}
    assert not errors, f"solutions/{SOLUTION_RUN}: {errors}"
    views = browser.figure_widgets(page)
    assert views.count() >= 1, "the sinusoidal widget renders"
    browser.assert_slider_redraws(page, views)
    rope = browser.rope_views(page)
    assert rope.count() == 1 and "computed by your apply_rope" in rope.locator(".crv-note").inner_text()
    _assert_shift_keeps_the_score(page, rope.first)


def _assert_controls_change_the_view(page, view) -> None:
    """The hand-built layer: its thumbnails show their maps only, the causal toggle hatches the future, the
    temperature flattens, a typed sentence with <pad> words brings the padding toggle."""
    _assert_thumbnails_hold_their_maps_only(page, view)
    big = view.locator(".cav-big canvas")
    before = browser.canvas_data(big)
    view.locator(".cav-causal").check()
    assert browser.canvas_data(big) != before, "the causal mask is drawn (hatched keys)"
    view.locator(".cav-causal").uncheck()
    assert browser.canvas_data(big) == before
    thumb = view.locator('.cav-thumb[data-head="0"] canvas')
    sharp = browser.canvas_data(thumb)
    _set_range(page, view.locator("input.cav-temperature"), 1)
    assert browser.canvas_data(thumb) != sharp, "temperature 10 flattens the rows"
    sentence = view.locator("input.cav-sentence")
    sentence.fill("a b a c <pad>")
    sentence.press("Enter")
    page.wait_for_function("v => v.querySelectorAll('.cav-token').length === 5", arg=view.element_handle(),
                           timeout=20_000)
    assert view.locator(".cav-padding").count() == 1, "<pad> keys: the padding toggle is offered"


def _assert_thumbnails_hold_their_maps_only(page, view) -> None:
    """Each thumbnail's frame is its map plus the 2-px border, and inside the selected one's black border no pixel
    is white (viridis has no white; masked cells are grey). A grid cell stretched wider than its map (by a long
    block title) once showed its white background there, as if the last key column were drawn white."""
    from PIL import Image

    page.mouse.move(2, 2)  # no token lit, so no row or column is dimmed
    for thumb in view.locator(".cav-thumb").all():
        frame, canvas = thumb.bounding_box(), thumb.locator("canvas").bounding_box()
        assert abs(frame["width"] - canvas["width"] - 4) < 0.5 and abs(frame["height"] - canvas["height"] - 4) < 0.5, \
            f"thumbnail {thumb.get_attribute('aria-label')}: frame {frame}, map {canvas}"
    selected = view.locator(".cav-thumb.cav-selected")
    selected.scroll_into_view_if_needed()
    image = Image.open(io.BytesIO(selected.screenshot())).convert("RGB")
    w, h = image.size
    last_column = [image.getpixel((w - 4, y)) for y in range(3, h - 3)]
    inside = [image.getpixel((x, y)) for x in range(3, w - 3) for y in range(3, h - 3)]
    assert (255, 255, 255) not in last_column and (255, 255, 255) not in inside, \
        f"white inside the selected thumbnail; its last column: {sorted(set(last_column))}"


def _set_range(page, slider, value: int) -> None:
    slider.scroll_into_view_if_needed()
    slider.evaluate("(e, v) => { e.value = String(v); e.dispatchEvent(new Event('input', {bubbles: true})); }", value)
    page.wait_for_timeout(50)


def _assert_shift_keeps_the_score(page, rope) -> None:
    """Your apply_rope, in the browser: shifting m and n together keeps the score, moving m alone does not."""
    score = lambda: float(rope.get_attribute("data-score"))  # noqa: E731
    before = score()
    _set_range(page, rope.locator("input.crv-shift"), 137)
    assert abs(score() - before) < 1e-9, "shift both: the score must not change"
    rope.locator("input.crv-m").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(50)
    assert abs(score() - before) > 1e-6, "moving m alone changes the score"


def test_attention_view_answers_hover_click_and_keys(lab):
    """A 6-layer × 8-head × 40-token view: its draw time, hover and lock a token, open a head, keys only."""
    server, page = lab
    _open_and_run(server, page, VIEWS_NOTEBOOK)
    cells = browser.cell_reports(page)
    assert not any(c["errors"] for c in cells), [c["errors"] for c in cells]
    view = browser.attention_views(page).first
    view.wait_for(timeout=30_000)
    draw_ms = float(view.get_attribute("data-draw-ms"))
    printed = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stdout"]', has_text="payload")
    payload = int(printed.first.inner_text().split()[1])
    print(f"\n6 layers × 8 heads × 40 tokens: drawn in {draw_ms:.0f} ms, {payload / 1e6:.2f} MB sent")
    assert view.locator(".cav-thumb").count() == 48
    assert draw_ms < 1000, f"the view took {draw_ms:.0f} ms to draw"
    assert payload < 2_000_000
    # each view's static picture (an output of its own, for exported notebooks) is hidden where the view draws
    pictures = page.locator('.jp-OutputArea-child[data-course-picture="hidden"]')
    assert pictures.count() == 2 and all(p.is_hidden() for p in pictures.all())
    assert page.locator(".jp-OutputArea-output img").evaluate_all("imgs => imgs.filter(i => i.offsetParent).length") == 0
    _assert_thumbnails_hold_their_maps_only(page, view)

    # hover a token: every head lights its row and column, the large map's labels too
    thumb = view.locator('.cav-thumb[data-layer="2"][data-head="3"] canvas')
    plain = browser.canvas_data(thumb)
    big = view.locator(".cav-big canvas")
    big_plain = browser.canvas_data(big)
    token = view.locator('.cav-token[data-i="5"]')
    token.scroll_into_view_if_needed()
    token.hover()
    assert view.get_attribute("data-active") == "target:5"
    assert browser.canvas_data(thumb) != plain and browser.canvas_data(big) != big_plain
    assert "cav-lit" in view.locator('.cav-queries .cav-label[data-i="5"]').get_attribute("class")
    page.mouse.move(2, 2)
    assert view.get_attribute("data-active") == "" and browser.canvas_data(thumb) == plain

    # click locks the highlight; click again unlocks
    view.locator('.cav-token[data-i="7"]').click()
    page.mouse.move(2, 2)
    assert view.get_attribute("data-active") == "target:7"
    assert view.locator('.cav-token[data-i="7"]').get_attribute("aria-pressed") == "true"
    view.locator('.cav-token[data-i="7"]').click()
    page.mouse.move(2, 2)
    assert view.get_attribute("data-active") == ""

    # click a head: it opens large, its thumbnail is marked
    view.locator('.cav-thumb[data-layer="4"][data-head="6"]').click()
    opened = view.locator(".cav-big")
    assert (opened.get_attribute("data-layer"), opened.get_attribute("data-head")) == ("4", "6")
    assert "cav-selected" in view.locator('.cav-thumb[data-layer="4"][data-head="6"]').get_attribute("class")
    # click a cell: the score taken apart (q and k are known: a traced module)
    box = view.locator(".cav-big canvas").bounding_box()
    view.locator(".cav-big canvas").click(position={"x": box["width"] * 10.5 / 40, "y": box["height"] * 3.5 / 40})
    formula = view.locator(".cav-formula").inner_text()
    assert "√64" in formula and "softmax" in formula, formula
    assert "“w3”" in view.locator(".cav-breakdown .cav-big-title").inner_text()

    # keys only: Tab from the last token reaches the first head; arrows move between heads, Enter opens
    view.locator('.cav-token[data-i="39"]').focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.className, document.activeElement.dataset.layer, "
                            "document.activeElement.dataset.head]")
    assert focused == ["cav-thumb", "0", "0"], focused
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert (opened.get_attribute("data-layer"), opened.get_attribute("data-head")) == ("1", "1")
    view.locator('.cav-token[data-i="0"]').focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert view.get_attribute("data-active") == "target:2"
    view.locator(".cav-big canvas").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    title = view.locator(".cav-breakdown .cav-big-title").inner_text()
    assert "“w4” (4)" in title and "“w11” (11)" in title, title

    # the RoPE view in the same notebook
    rope = browser.rope_views(page).first
    assert "computed by your apply_rope" in rope.locator(".crv-note").inner_text()
    _assert_shift_keeps_the_score(page, rope)


def test_a_notebook_saved_from_jupyterlab_keeps_a_picture_of_each_view(lab):
    """nbconvert's HTML of the saved notebook (as GitHub's preview or a feedback page would get it) shows
    the static PNG of each view, not "Error displaying widget": the picture is the output just before the
    widget's (hidden in JupyterLab, kept in the file)."""
    from nbconvert import HTMLExporter

    server, page = lab
    path = server.root / VIEWS_NOTEBOOK
    if not browser.attention_views(page).count():  # run on its own
        _open_and_run(server, page, VIEWS_NOTEBOOK)
    browser.save_notebook(page, path)
    nb = nbformat.read(path, as_version=4)
    pairs = [(c.outputs[i - 1], o) for c in nb.cells for i, o in enumerate(c.get("outputs", []))
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(pairs) == 2 and all("image/png" in picture.get("data", {}) for picture, _ in pairs)
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert all(picture["data"]["image/png"][-64:] in html for picture, _ in pairs)
    assert "Error displaying widget" not in html


def test_a_chinese_notebook_shows_the_views_words_in_chinese(lab, tmp_path):
    """The Chinese edition's notebook (metadata course_language: zh) in JupyterLab: the kernel learns its edition
    from the notebook, and the attention view it draws labels its controls, axes and blocks in Chinese."""
    server, page = lab
    _open_and_run(server, page, f"zh/{ZH_VIEWS}.ipynb")
    view = browser.attention_views(page).first
    view.wait_for(timeout=30_000)
    assert "温度" in view.locator(".cav-controls").inner_text()
    assert view.locator(".cav-axis").all_inner_texts()[:4] == ["头 0", "头 1", "头 2", "层 0"]
    assert view.locator(".cav-block-title").inner_text().startswith("自注意力 · 无掩码 · 10 查询 × 10 键")
    assert "方向键" in view.locator(".cav-help").inner_text()
    shot = tmp_path / f"zh-{ZH_VIEWS}.png"
    view.scroll_into_view_if_needed()
    view.screenshot(path=str(shot))
    print(f"\nscreenshot of the Chinese edition's attention view: {shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_students_get_validate_and_no_formgrader(lab):
    server, page = lab
    page.goto(server.notebook_url(f"{ASSIGNMENTS[0]}.ipynb"))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.get_by_role("button", name="Validate").wait_for(timeout=30_000)
    assert page.get_by_text("Create Assignment").count() == 0
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{server.url}/formgrader?token={server.token}", timeout=10)
    assert err.value.code == 404


def test_readme_shows_every_widget_screenshot():
    """README.md shows the English edition's widgets, README.zh.md the Chinese edition's (zh-*.png)."""
    readmes = {name: (ROOT / name).read_text() for name in ("README.md", "README.zh.md")}
    links = {name: set(re.findall(r"\]\((docs/screenshots/[^)]+\.png)\)", text)) for name, text in readmes.items()}
    assert all(not p.startswith("docs/screenshots/zh-") for p in links["README.md"])
    linked = links["README.md"] | links["README.zh.md"]
    on_disk = {str(p.relative_to(ROOT)) for p in (ROOT / "docs" / "screenshots").glob("*.png")}
    assert linked, "the README shows the widget screenshots"
    assert linked == on_disk, f"README links {sorted(linked - on_disk)} missing; unlinked {sorted(on_disk - linked)}"
