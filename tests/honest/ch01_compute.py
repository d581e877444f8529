"""Chapter 01: three correct answers per answer cell, written differently from the instructor's (other
arithmetic, loops, other library calls — never the FLOP counter, nn.TransformerEncoderLayer or the course's
timing harness, which score zero by design). The honest suite hands them in and expects full marks."""

ASSIGNMENT = "01-compute"

_TIMED_LOOP = (
    "    durations = []\n    for _ in range(repeats):\n"
    "        if sync is not None:\n            sync()\n"
    "        start = clock()\n        fn()\n"
    "        if sync is not None:\n            sync()\n"
    "        durations.append(clock() - start)\n")

VARIANTS = {
    "pf_days": [
        "def pf_days(flops):\n    return flops / 8.64e19\n",
        "PETA = 10 ** 15\nSECONDS_PER_DAY = 86_400\n\n\ndef pf_days(flops):\n"
        "    return float(flops) / PETA / SECONDS_PER_DAY\n",
        "def pf_days(flops):\n    flop_per_day = 1e15 * 3600 * 24\n    return flops / flop_per_day\n",
    ],
    "matmul_flops": [
        "def matmul_flops(m, k, n):\n    if m < 0 or k < 0 or n < 0:\n"
        "        raise ValueError(f'negative size in {(m, k, n)}')\n    return m * n * (2 * k)\n",
        "import math\n\n\ndef matmul_flops(m, k, n):\n    sizes = (m, k, n)\n"
        "    if any(s < 0 for s in sizes):\n        raise ValueError(f'sizes must be >= 0, got {sizes}')\n"
        "    return 2 * math.prod(sizes)\n",
        "def matmul_flops(m, k, n):\n    for name, s in (('m', m), ('k', k), ('n', n)):\n"
        "        if s < 0:\n            raise ValueError(f'{name}={s} is negative')\n"
        "    multiplies = m * k * n\n    adds = m * k * n\n    return multiplies + adds\n",
    ],
    "attention_flops": [
        "def attention_flops(seq, d_model, n_layer=1):\n    return 4 * n_layer * seq * seq * d_model\n",
        "def attention_flops(seq, d_model, n_layer=1):\n"
        "    per_layer = matmul_flops(seq, d_model, seq) + matmul_flops(seq, seq, d_model)\n"
        "    return sum(per_layer for _ in range(n_layer))\n",
        "def attention_flops(seq, d_model, n_layer=1):\n    scores = 2 * seq * d_model * seq  # Q @ K^T\n"
        "    weighted = 2 * seq * seq * d_model  # weights @ V\n    return n_layer * scores + n_layer * weighted\n",
    ],
    "layer_params": [
        "def layer_params(d_model, d_ff):\n    d, f = d_model, d_ff\n    return 4 * d * d + 2 * d * f + 9 * d + f\n",
        "def linear(n_in, n_out):\n    return n_in * n_out + n_out\n\n\n"
        "def layer_params(d_model, d_ff):\n    attn = 4 * linear(d_model, d_model)\n"
        "    ffn = linear(d_model, d_ff) + linear(d_ff, d_model)\n    return attn + ffn + 2 * (2 * d_model)\n",
        "def layer_params(d_model, d_ff):\n    weights = 4 * d_model ** 2 + 2 * d_model * d_ff\n"
        "    biases = 4 * d_model + d_ff + d_model\n    norms = 4 * d_model  # two LayerNorms, gamma and beta\n"
        "    return weights + biases + norms\n",
    ],
    "forward_flops_per_token": [
        "def forward_flops_per_token(n_params, n_layer, seq, d_model):\n"
        "    return 2 * (n_params + 2 * n_layer * seq * d_model)\n\n\n"
        "def training_flops_per_token(n_params, n_layer, seq, d_model):\n"
        "    return 6 * n_params + 12 * n_layer * seq * d_model\n",
        "def forward_flops_per_token(n_params, n_layer, seq, d_model):\n    dense = 2 * n_params\n"
        "    attention = attention_flops(seq, d_model, n_layer) // seq  # per token\n    return dense + attention\n\n\n"
        "def training_flops_per_token(n_params, n_layer, seq, d_model):\n"
        "    fwd = forward_flops_per_token(n_params, n_layer, seq, d_model)\n    return fwd + 2 * fwd\n",
        "def forward_flops_per_token(n_params, n_layer, seq, d_model):\n"
        "    return sum([2 * n_params] + [4 * seq * d_model] * n_layer)\n\n\n"
        "def training_flops_per_token(n_params, n_layer, seq, d_model):\n"
        "    backward = 2 * forward_flops_per_token(n_params, n_layer, seq, d_model)\n"
        "    return forward_flops_per_token(n_params, n_layer, seq, d_model) + backward\n",
    ],
    "measure_seconds": [
        "import statistics\nimport time\n\n\n"
        "def measure_seconds(fn, warmup=2, repeats=5, sync=None, clock=time.perf_counter):\n"
        "    if warmup < 0 or repeats < 1:\n        raise ValueError('need warmup >= 0 and repeats >= 1')\n"
        "    for _ in range(warmup):\n        fn()\n" + _TIMED_LOOP +
        "    return float(statistics.median(durations))\n",
        "import time\n\n\n"
        "def measure_seconds(fn, warmup=2, repeats=5, sync=None, clock=time.perf_counter):\n"
        "    if not (repeats >= 1 and warmup >= 0):\n        raise ValueError(f'bad warmup={warmup} / repeats={repeats}')\n"
        "    wait = sync if sync is not None else (lambda: None)\n    for _ in range(warmup):\n        fn()\n"
        "    times = []\n    for _ in range(repeats):\n        wait()\n        t0 = clock()\n        fn()\n        wait()\n"
        "        times.append(clock() - t0)\n    times.sort()\n    mid = len(times) // 2\n"
        "    return float(times[mid]) if len(times) % 2 else (times[mid - 1] + times[mid]) / 2.0\n",
        "import time\n\nimport torch\n\n\n"
        "def measure_seconds(fn, warmup=2, repeats=5, sync=None, clock=time.perf_counter):\n"
        "    if repeats < 1:\n        raise ValueError('repeats must be at least 1')\n"
        "    if warmup < 0:\n        raise ValueError('warmup must be non-negative')\n"
        "    for _ in range(warmup):\n        fn()\n" + _TIMED_LOOP +
        "    t = torch.tensor(durations, dtype=torch.float64)\n"
        "    return float(torch.quantile(t, 0.5))\n",
    ],
    "mfu": [
        "def mfu(flops, seconds, peak_flops_per_s):\n    if not seconds > 0:\n        raise ValueError('seconds must be > 0')\n"
        "    if not peak_flops_per_s > 0:\n        raise ValueError('peak must be > 0')\n"
        "    achieved = flops / seconds\n    return achieved / peak_flops_per_s\n",
        "def mfu(flops, seconds, peak_flops_per_s):\n    if min(seconds, peak_flops_per_s) <= 0:\n"
        "        raise ValueError(f'need positive time and peak, got {seconds}, {peak_flops_per_s}')\n"
        "    return flops / (seconds * peak_flops_per_s)\n",
        "def mfu(flops, seconds, peak_flops_per_s):\n    for name, v in (('seconds', seconds), ('peak_flops_per_s', peak_flops_per_s)):\n"
        "        if v <= 0:\n            raise ValueError(f'{name} must be positive, got {v}')\n"
        "    possible = peak_flops_per_s * seconds  # what the chip could have done\n    return flops / possible\n",
    ],
    "matmul_intensity": [
        "def matmul_intensity(m, k, n, bytes_per_element=4):\n"
        "    return 2 * m * k * n / (bytes_per_element * (m * k + k * n + m * n))\n",
        "def matmul_intensity(m, k, n, bytes_per_element=4):\n"
        "    elements = m * k + k * n + m * n  # A and B read, C written\n"
        "    return matmul_flops(m, k, n) / elements / bytes_per_element\n",
        "def matmul_intensity(m, k, n, bytes_per_element=4):\n"
        "    return 2.0 / (bytes_per_element * (1 / n + 1 / m + 1 / k))\n",
    ],
}
