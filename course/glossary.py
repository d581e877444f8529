"""English · 中文 glossary, shown at the end of every chapter.

Each entry names the chapter that introduces it; ``show(chapter)`` renders the terms of that
chapter (and, with ``upto=True``, of all earlier ones) as an HTML table.
"""

from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    english: str
    chinese: str
    chapter: str
    meaning: str


TERMS: tuple[Term, ...] = (
    # 01 compute
    Term("floating-point operation (FLOP)", "浮点运算", "01-compute", "one add or multiply of two floating-point numbers"),
    Term("FLOP/s (throughput)", "每秒浮点运算次数（算力）", "01-compute", "a rate: FLOPs done per second"),
    Term("PF-day", "PF-天", "01-compute", "10¹⁵ FLOP/s sustained for one day ≈ 8.64·10¹⁹ FLOPs"),
    Term("arithmetic intensity", "算术强度", "01-compute", "FLOPs done per byte moved to or from memory"),
    Term("memory bandwidth", "内存带宽", "01-compute", "bytes per second the memory can deliver"),
    Term("roofline model", "屋顶线模型", "01-compute", "attainable FLOP/s = min(peak, intensity × bandwidth)"),
    Term("model FLOPs utilisation (MFU)", "模型算力利用率", "01-compute", "useful model FLOP/s divided by the hardware's peak"),
    Term("warm-up", "预热", "01-compute", "untimed runs before measuring, so caches and lazy setup do not count"),
    Term("non-embedding parameters", "非嵌入参数", "01-compute", "the N in 6N: weights of the layers, not of the token embeddings"),
    # 02 tensors
    Term("tensor", "张量", "02-tensors", "an n-dimensional array with a shape, a dtype and a device"),
    Term("reduction", "归约", "02-tensors", "an operation that combines the values along a dim, e.g. sum, max"),
    Term("keepdim", "保留维度", "02-tensors", "keep the reduced dim with size 1 so the result still broadcasts"),
    Term("broadcasting", "广播", "02-tensors", "align shapes from the right; size-1 dims stretch to match"),
    Term("log-sum-exp", "对数求和指数", "02-tensors", "log Σ exp(x), computed stably by factoring out the max"),
    Term("numerical stability", "数值稳定性", "02-tensors", "getting finite, accurate results where naive formulas overflow"),
    Term("storage", "存储", "02-tensors", "the flat block of memory a tensor's elements live in"),
    Term("stride", "步长", "02-tensors", "how many storage elements to skip to move one step along a dim"),
    Term("storage offset", "存储偏移", "02-tensors", "where in the storage element [0, 0, …] of a view lives"),
    Term("contiguous", "连续的", "02-tensors", "elements laid out in row-major order with no gaps"),
    Term("view", "视图", "02-tensors", "a tensor that shares storage with another, with its own shape and strides"),
    Term("head splitting", "拆分注意力头", "02-tensors", "(batch, seq, d_model) → (batch, heads, seq, d_head) by view + transpose"),
)


def terms(chapter: str, upto: bool = False) -> list[Term]:
    """Terms introduced in ``chapter`` (or in it and every earlier chapter when ``upto``)."""
    known = sorted({t.chapter for t in TERMS})
    if chapter not in known:
        raise ValueError(f"unknown chapter {chapter!r}; chapters with glossary entries: {', '.join(known)}")
    return [t for t in TERMS if (t.chapter <= chapter if upto else t.chapter == chapter)]


def to_html(chapter: str, upto: bool = False) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(t.english)}</td><td>{html.escape(t.chinese)}</td><td>{html.escape(t.meaning)}</td></tr>"
        for t in terms(chapter, upto)
    )
    return ("<table><thead><tr><th>English</th><th>中文</th><th>meaning</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def show(chapter: str, upto: bool = False):
    """Display the glossary table in a notebook."""
    from IPython.display import HTML

    return HTML(to_html(chapter, upto))
