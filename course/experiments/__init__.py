"""Experiments the chapters run and plot: one module per chapter, called from notebook cells.

A figure's words (titles, axis labels, legends, notes) are written where they are drawn, English and Chinese
side by side: ``pick("English", "中文")`` (:func:`course.language.pick`) gives the edition's; numbers and units
are the same in both. The Chinese characters must be in the course's font: run ``tools/make_cjk_subset.py``
after changing them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """One intra-op thread for the chapters' tiny training demos, restored afterwards: small tensors
    train faster on one thread than on several competing ones, and the runs then repeat exactly."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
