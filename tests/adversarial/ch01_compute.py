"""Chapter 01's targets: three exercises that return numbers (a parameter count and a training step's FLOPs,
ints; a timing harness, a float)."""

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
    Target(A, "training_flops", name="training_flops", returns="number", module=M,
           wrong=("def training_flops(n_layer, d_model, n_head, d_ff, seq, batch=1):\n"
                  "    forward = sum(encoder_flops(n_layer, d_model, n_head, d_ff, seq, 0, batch).values())\n"
                  "    return 3 * forward  # the input x needs no gradient: one dL/dx is never computed\n"),
           borrowed=("import torch\n"
                     "from torch.nn.attention import SDPBackend, sdpa_kernel\n"
                     "from torch.utils.flop_counter import FlopCounterMode\n\n\n"
                     "def training_flops(n_layer, d_model, n_head, d_ff, seq, batch=1):\n"
                     "    layer = torch.nn.TransformerEncoderLayer(d_model, n_head, d_ff, dropout=0.0, batch_first=True,\n"
                     "                                             device='meta')\n"
                     "    stack = torch.nn.TransformerEncoder(layer, n_layer, enable_nested_tensor=False)\n"
                     "    x = torch.zeros(batch, seq, d_model, device='meta')\n"
                     "    with FlopCounterMode(display=False) as counter, sdpa_kernel(SDPBackend.MATH):\n"
                     "        stack(x).sum().backward()\n"
                     "    return counter.get_total_flops()\n")),
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
