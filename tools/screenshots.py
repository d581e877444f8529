"""Screenshots of every course widget as a student sees it, for the README (docs/screenshots/).

Runs each chapter's solutions notebook in a student's JupyterLab in headless Chromium (the same
driver as the browser test), then saves one PNG per rendered widget:
docs/screenshots/<assignment>-<k>.png. With --zh, the Chinese edition's notebooks (solutions-zh/), whose
widgets speak Chinese: docs/screenshots/zh-<assignment>-<k>.png, shown in README.zh.md.

    .venv/bin/python tools/screenshots.py [--zh] [assignment ...]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import browser  # noqa: E402
from course_grader import pipeline  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def main(argv: list[str]) -> int:
    why = browser.missing_requirements()
    if why:
        sys.exit(f"cannot take screenshots: {why}")
    zh = "--zh" in argv
    argv = [a for a in argv if a != "--zh"]
    language, prefix = ("zh", "zh-") if zh else ("en", "")
    assignments = argv or pipeline.assignments(ROOT, language)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        root = scratch / "course"
        names = browser.copy_notebooks(pipeline.EDITIONS[language]["solutions"], assignments, ROOT, root)
        with browser.jupyter_lab(root, scratch) as server, browser.chromium(scratch, width=1280) as page:
            for assignment, name in zip(assignments, names):
                start = time.monotonic()
                page.goto(server.notebook_url(name))
                page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
                browser.wait_kernel_idle(page)
                browser.run_all(page, timeout=600)
                views = browser.widget_views(page)
                for old in OUT.glob(f"{prefix}{assignment}-*.png"):
                    old.unlink()
                for k in range(views.count()):
                    view = views.nth(k)
                    view.scroll_into_view_if_needed()
                    view.screenshot(path=str(OUT / f"{prefix}{assignment}-{k + 1}.png"))
                print(f"{assignment}: {views.count()} widget(s) in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
