"""Chapter 01's targets: every exercise returns a number (there is no tensor-valued one), so three numbers:
a parameter count (an int), the FLOPs per token (an int) and a timing harness (a float)."""

from attacks import Target

A, M = "01-compute", "ch01_compute"

TARGETS = [
    Target(A, "layer_params", name="layer_params", returns="number", module=M,
           wrong=("def layer_params(d_model, d_ff):\n"
                  "    attention = 4 * d_model * d_model + 4 * d_model\n"
                  "    ffn = d_model * d_ff + d_ff + d_ff * d_model + d_model\n"
                  "    return attention + ffn  # forgot the two LayerNorms\n"),
           borrowed=("from torch.nn import TransformerEncoderLayer\n\n\n"
                     "def layer_params(d_model, d_ff):\n"
                     "    layer = TransformerEncoderLayer(d_model, 1, d_ff, batch_first=True)\n"
                     "    return sum(p.numel() for p in layer.parameters())\n")),
    Target(A, "forward_flops_per_token", name="forward_flops_per_token", returns="number", module=M,
           wrong=("def forward_flops_per_token(n_params, n_layer, seq, d_model):\n"
                  "    return 2 * n_params + 2 * n_layer * seq * d_model  # Q·Kᵀ only, weights·V forgotten\n\n\n"
                  "def training_flops_per_token(n_params, n_layer, seq, d_model):\n"
                  "    return 2 * forward_flops_per_token(n_params, n_layer, seq, d_model)  # backward = forward\n"),
           borrowed=("import torch\n"
                     "from torch.utils.flop_counter import FlopCounterMode\n\n\n"
                     "def _counted(fn):\n"
                     "    with FlopCounterMode(display=False) as counter:\n"
                     "        fn()\n"
                     "    return counter.get_total_flops()\n\n\n"
                     "def forward_flops_per_token(n_params, n_layer, seq, d_model):\n"
                     "    meta = dict(device='meta')  # shapes only: FlopCounterMode counts without computing\n"
                     "    dense = _counted(lambda: torch.empty(1, n_params, **meta) @ torch.empty(n_params, 1, **meta))\n"
                     "    scores = _counted(lambda: torch.empty(1, d_model, **meta) @ torch.empty(d_model, seq, **meta))\n"
                     "    return dense + 2 * n_layer * scores\n\n\n"
                     "def training_flops_per_token(n_params, n_layer, seq, d_model):\n"
                     "    return 3 * forward_flops_per_token(n_params, n_layer, seq, d_model)\n")),
    Target(A, "measure_seconds", name="measure_seconds", returns="number", module=M,
           wrong=("import statistics\nimport time\n\n\n"
                  "def measure_seconds(fn, warmup=2, repeats=5, sync=None, clock=time.perf_counter):\n"
                  "    if repeats < 1 or warmup < 0:\n        raise ValueError('need repeats >= 1 and warmup >= 0')\n"
                  "    for _ in range(warmup):\n        fn()\n"
                  "    durations = []\n    for _ in range(repeats):\n"
                  "        if sync is not None:\n            sync()\n"
                  "        start = clock()\n        fn()\n"
                  "        if sync is not None:\n            sync()\n"
                  "        durations.append(clock() - start)\n"
                  "    return float(statistics.mean(durations))  # the mean: one slow call drags it up\n"),
           borrowed=("import time\n\nfrom course.benchmarking import median_seconds\n\n\n"
                     "def measure_seconds(fn, warmup=2, repeats=5, sync=None, clock=time.perf_counter):\n"
                     "    return float(median_seconds(fn, warmup=warmup, repeats=repeats, sync=sync, clock=clock))\n")),
]
