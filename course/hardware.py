"""Published peak numbers for accelerators (dense, no sparsity), from NVIDIA's datasheets.

Shared by chapter 01 (MFU, the roofline widget) and benchmarks/gpu_throughput.py (MFU on a lent GPU).
FLOP/s and bytes/s are in plain units.
"""

from __future__ import annotations

from dataclasses import dataclass

TERA = 1e12


@dataclass(frozen=True)
class Accelerator:
    name: str
    peak_flops: dict[str, float]  # precision -> FLOP/s
    memory_bandwidth: float | None  # bytes/s

    def peak(self, precision: str) -> float:
        try:
            return self.peak_flops[precision]
        except KeyError:
            raise ValueError(f"{self.name} has no peak listed for {precision!r}; "
                             f"known: {', '.join(self.peak_flops)}") from None


A100_SXM = Accelerator(
    "A100 SXM",
    {"fp32": 19.5 * TERA, "tf32": 156 * TERA, "bf16": 312 * TERA, "fp16": 312 * TERA},
    2.039e12,  # 80 GB SXM model
)
H100_SXM = Accelerator(
    "H100 SXM",
    {"fp32": 67 * TERA, "bf16": 989 * TERA, "fp16": 989 * TERA},
    3.35e12,
)

ACCELERATORS = {a.name: a for a in (A100_SXM, H100_SXM)}
