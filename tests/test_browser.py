"""The course as students meet it: JupyterLab in headless Chromium (Playwright + Debian's chromium).

One student JupyterLab (instructor tools off, see course.student_env.write_config) serves copies
of the notebooks. For every chapter's release notebook, Run All must reach the end with error
output only in the graded test cells (each of which fails, untouched), every course widget must
render with its controls, and moving a widget's slider must change its figure. One solutions
notebook must run with no error output at all. The student sees the Validate button and no
formgrader.

Needs /usr/bin/chromium and the playwright package (`make browser` installs both); without them
the test is skipped, unless COURSE_REQUIRE_BROWSER=1 (set by .ci/run) makes that a failure.
"""

from __future__ import annotations

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
RELEASE_WIDGETS = {"01-compute": 1, "02-tensors": 1, "03-layernorm": 1, "05-attention": 1, "06-position-encoding": 2}

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

    views = browser.widget_views(page)
    assert views.count() == RELEASE_WIDGETS.get(assignment, 0), \
        f"{views.count()} course widgets rendered, expected {RELEASE_WIDGETS.get(assignment, 0)}"
    for k in range(views.count()):
        view = views.nth(k)
        assert view.locator("img.widget-image").get_attribute("src"), f"widget {k} shows no figure"
        assert view.locator(".widget-inline-hbox, .widget-dropdown, .widget-slider, button").count() > 0, \
            f"widget {k} has no controls"
    if views.count():
        browser.assert_slider_redraws(page, views)


def test_solution_notebook_has_no_error_output(lab):
    server, page = lab
    _open_and_run(server, page, f"solutions/{SOLUTION_RUN}.ipynb")
    cells = browser.cell_reports(page)
    assert cells and all(c["executed"] for c in cells if c["code"])
    errors = {i: c["errors"][0][:300] for i, c in enumerate(cells) if c["errors"]}
    assert not errors, f"solutions/{SOLUTION_RUN}: {errors}"
    views = browser.widget_views(page)
    assert views.count() >= 2, "the RoPE and sinusoidal widgets render"
    browser.assert_slider_redraws(page, views)


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
    readme = (ROOT / "README.md").read_text()
    linked = set(re.findall(r"\]\((docs/screenshots/[^)]+\.png)\)", readme))
    on_disk = {str(p.relative_to(ROOT)) for p in (ROOT / "docs" / "screenshots").glob("*.png")}
    assert linked, "the README shows the widget screenshots"
    assert linked == on_disk, f"README links {sorted(linked - on_disk)} missing; unlinked {sorted(on_disk - linked)}"
