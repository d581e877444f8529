"""Experiments the chapters run and plot: one module per chapter, called from notebook cells."""

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
