"""Drive JupyterLab in headless Chromium (Playwright for Python + Debian's chromium package).

Shared by the browser test (tests/test_browser.py) and by tools/screenshots.py. Nothing here
downloads a browser: Playwright launches /usr/bin/chromium. The server runs from the course's own
environment with a student's configuration (instructor tools off, see course.student_env) in
temporary Jupyter folders, and stops when the context manager exits.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def missing_requirements() -> str | None:
    """Why the browser test cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (make browser installs it with apt on Debian/Ubuntu)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    token: str
    root: Path

    def notebook_url(self, name: str) -> str:
        workspace = name.removesuffix(".ipynb").replace("/", "-")  # one per notebook
        return f"{self.url}/lab/workspaces/{workspace}/tree/{name}?token={self.token}"


@contextlib.contextmanager
def jupyter_lab(root: Path, scratch: Path) -> Iterator[Server]:
    """A student's JupyterLab on 127.0.0.1 serving ``root``; Jupyter state lives in ``scratch``."""
    from course.student_env import write_config

    config = scratch / "config"
    write_config(config)
    page_config = config / "labconfig" / "page_config.json"
    page = json.loads(page_config.read_text())
    page["disabledExtensions"][NEWS_PLUGIN] = True  # its "get Jupyter news?" pop-up covers the widgets
    page_config.write_text(json.dumps(page))
    settings = scratch / "lab-settings"
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.write_text('{"windowingMode": "none"}')  # render every cell, so every widget is in the DOM
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config), "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "IPYTHONDIR": str(scratch / "ipython"), "MPLCONFIGDIR": str(scratch / "mpl"),
           # one torch thread per kernel: the test suite runs beside it on the same cores, and two
           # processes each spinning two OpenMP threads on two cores slow the notebooks' training
           # demos many times over (chapter 03's ran past the time limit in CI)
           "OMP_NUM_THREADS": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("JUPYTER_DATA_DIR", None)
    env.pop("COURSE_GRADING", None)  # a student's session: the interactive views draw
    port, token = _free_port(), secrets.token_hex(16)
    log = open(scratch / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
                             f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
                             "--LanguageServerManager.autodetect=false", "--ServerApp.open_browser=False"],
                            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start:\n" + (scratch / "server.log").read_text()[-3000:]) from None
                time.sleep(0.3)
        yield Server(url, token, root)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
        log.close()


@contextlib.contextmanager
def chromium(scratch: Path, width: int = 1400, height: int = 1000):
    """A headless Chromium page (Playwright), closed on exit."""
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "XDG_CONFIG_HOME": str(scratch / "xdg-config"), "XDG_CACHE_HOME": str(scratch / "xdg-cache")}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, env=env)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


def wait_kernel_idle(page, timeout: float = 120) -> None:
    page.wait_for_function(
        """() => {
            const status = [...document.querySelectorAll('.jp-StatusBar-TextItem')].some(e => /Idle/.test(e.textContent));
            const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
            return status && ind && ind.getAttribute('data-status') === 'idle';
        }""", timeout=timeout * 1000)


def run_all(page, timeout: float = 300) -> None:
    """Run > Run All Cells, then wait until no cell is queued or running and the kernel stays idle."""
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
    page.wait_for_timeout(500)
    deadline = time.monotonic() + timeout
    idle_since = None
    while time.monotonic() < deadline:
        busy = page.evaluate("""() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
            const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
            return prompts.some(p => p.textContent.includes('*')) || !ind || ind.getAttribute('data-status') !== 'idle';
        }""")
        if busy:
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > 1.0:
            return
        page.wait_for_timeout(250)
    raise TimeoutError("Run All did not finish")


def scroll_through(page) -> None:
    """Scroll the notebook top to bottom so the windowed notebook renders every cell."""
    page.evaluate("""async () => {
        const outer = document.querySelector('.jp-WindowedPanel-outer');
        if (!outer) return;
        for (let y = 0; y <= outer.scrollHeight; y += 600) { outer.scrollTop = y; await new Promise(r => setTimeout(r, 60)); }
        outer.scrollTop = 0;
    }""")


def error_outputs(page) -> list[str]:
    """Texts of error and stderr outputs (the same rule by which nbgrader zeroes a cell)."""
    return page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').all_inner_texts()


def figure_widgets(page):
    """Every top-level matplotlib figure widget (course.widgets.base.FigureWidget: a VBox holding the image)."""
    return page.locator(".jp-OutputArea-output .widget-vbox:has(img.widget-image)")


def widget_views(page):
    """Every top-level course widget, in notebook order: the figure widgets and the interactive views
    (the attention view and the RoPE view, anywidget). tools/screenshots.py takes one picture of each."""
    return page.locator(".jp-OutputArea-output .widget-vbox:has(img.widget-image), "
                        ".jp-OutputArea-output .cav-root, .jp-OutputArea-output .crv-root")


def attention_views(page):
    """Every attention view (anywidget, course/widgets/static/attention_view.js) rendered in the notebook."""
    return page.locator(".jp-OutputArea-output .cav-root")


def rope_views(page):
    """Every RoPE view (anywidget, course/widgets/static/rope_view.js)."""
    return page.locator(".jp-OutputArea-output .crv-root")


def canvas_data(locator) -> str:
    """What a <canvas> shows, as a data URL (to compare before and after an action)."""
    return locator.evaluate("c => c.toDataURL()")


def save_notebook(page, path: Path, timeout: float = 30) -> None:
    """Ctrl+S in the open notebook; wait until the file on disk changes."""
    before = path.stat().st_mtime_ns
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + timeout
    while path.stat().st_mtime_ns == before:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path.name} was not saved")
        page.wait_for_timeout(200)
    page.wait_for_timeout(500)  # the write may land in pieces


def copy_notebooks(tree: str, assignments: list[str], root: Path, dest: Path) -> list[str]:
    dest.mkdir(parents=True, exist_ok=True)
    names = []
    for a in assignments:
        shutil.copy(root / tree / a / f"{a}.ipynb", dest / f"{a}.ipynb")
        names.append(f"{a}.ipynb")
    return names


def cell_reports(page) -> list[dict]:
    """Per notebook cell, in order: is it code, has it run, and the texts of its error/stderr outputs."""
    return page.evaluate("""() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].map(cell => {
        const code = cell.classList.contains('jp-CodeCell');
        const prompt = code ? cell.querySelector('.jp-InputArea-prompt').textContent : '';
        const errors = [...cell.querySelectorAll(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')].map(e => e.innerText);
        return {code, executed: /\\[\\d+\\]/.test(prompt), errors};
    })""")


def assert_slider_redraws(page, views) -> None:
    """Press ArrowRight on the first slider that can move right; its widget's figure must change."""
    for k in range(views.count()):
        view = views.nth(k)
        handles = view.locator(".widget-slider .noUi-handle")
        movable = [h for h in handles.all()
                   if float(h.get_attribute("aria-valuenow")) < float(h.get_attribute("aria-valuemax"))]
        if not movable:
            continue
        image = view.locator("img.widget-image").first
        before = image.get_attribute("src")
        handle = movable[0]
        handle.scroll_into_view_if_needed()
        handle.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("([img, before]) => img.getAttribute('src') !== before",
                               arg=[image.element_handle(), before], timeout=20_000)
        return
    raise AssertionError("no widget with a slider was rendered")
