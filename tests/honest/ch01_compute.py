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
    "matmul_flops": [
        "def matmul_flops(a_shape, b_shape):\n"
        "    if len(a_shape) < 2 or len(b_shape) < 2 or any(s < 0 for s in (*a_shape, *b_shape)):\n"
        "        raise ValueError(f'bad shapes {a_shape}, {b_shape}')\n"
        "    if a_shape[-1] != b_shape[-2]:\n        raise ValueError('inner sizes differ')\n"
        "    ba, bb = tuple(a_shape[:-2]), tuple(b_shape[:-2])\n"
        "    if ba and bb and ba != bb:\n        raise ValueError('batch dims differ')\n"
        "    count = 1\n    for s in ba or bb:\n        count *= s\n"
        "    return count * a_shape[-2] * b_shape[-1] * (2 * a_shape[-1])\n",
        "import math\n\n\ndef matmul_flops(a_shape, b_shape):\n    a, b = tuple(a_shape), tuple(b_shape)\n"
        "    if min(len(a), len(b)) < 2:\n        raise ValueError('need at least 2 dims')\n"
        "    if any(s < 0 for s in a + b):\n        raise ValueError('negative size')\n"
        "    if a[-1] != b[-2]:\n        raise ValueError(f'{a} @ {b}: inner sizes differ')\n"
        "    if len(a) > 2 and len(b) > 2 and a[:-2] != b[:-2]:\n        raise ValueError('batch mismatch')\n"
        "    outputs = math.prod(a[:-1]) * b[-1] if len(a) > 2 else math.prod(b[:-2]) * a[-2] * b[-1]\n"
        "    return outputs * a[-1] * 2\n",
        "def matmul_flops(a_shape, b_shape):\n    for shape in (a_shape, b_shape):\n"
        "        if len(shape) < 2:\n            raise ValueError(f'{shape} is not a matrix or a stack of them')\n"
        "        for size in shape:\n            if size < 0:\n                raise ValueError(f'negative size in {shape}')\n"
        "    m, k = a_shape[-2:]\n    k2, n = b_shape[-2:]\n    if k != k2:\n"
        "        raise ValueError(f'{k} != {k2}')\n    batch = list(a_shape[:-2]) or list(b_shape[:-2])\n"
        "    if a_shape[:-2] and b_shape[:-2] and list(a_shape[:-2]) != list(b_shape[:-2]):\n"
        "        raise ValueError('batch dims differ')\n    matrices = 1\n    for s in batch:\n        matrices = matrices * s\n"
        "    multiply_adds = matrices * m * n * k\n    return multiply_adds + multiply_adds\n",
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
    "encoder_flops": [
        "def encoder_flops(n_layer, d_model, n_head, d_ff, seq, vocab, batch=1):\n"
        "    if d_model % n_head != 0:\n        raise ValueError('n_head must divide d_model')\n"
        "    tokens = batch * seq\n"
        "    return {'projections': n_layer * 4 * 2 * tokens * d_model * d_model,\n"
        "            'attention': n_layer * 2 * 2 * batch * seq * seq * d_model,\n"
        "            'ffn': n_layer * 2 * 2 * tokens * d_model * d_ff,\n"
        "            'head': 2 * tokens * d_model * vocab}\n",
        "def encoder_flops(n_layer, d_model, n_head, d_ff, seq, vocab, batch=1):\n"
        "    if d_model % n_head:\n        raise ValueError(f'{n_head} heads do not divide {d_model}')\n"
        "    dh, x = d_model // n_head, (batch, seq, d_model)\n    parts = dict(projections=0, attention=0, ffn=0)\n"
        "    for _ in range(n_layer):\n"
        "        parts['projections'] += sum(matmul_flops(x, (d_model, d_model)) for _ in 'qkvo')\n"
        "        for h in range(n_head):\n"
        "            parts['attention'] += matmul_flops((batch, seq, dh), (batch, dh, seq))\n"
        "            parts['attention'] += matmul_flops((batch, seq, seq), (batch, seq, dh))\n"
        "        parts['ffn'] += matmul_flops(x, (d_model, d_ff)) + matmul_flops((batch, seq, d_ff), (d_ff, d_model))\n"
        "    parts['head'] = matmul_flops(x, (d_model, vocab))\n    return parts\n",
        "def encoder_flops(n_layer, d_model, n_head, d_ff, seq, vocab, batch=1):\n"
        "    if n_head < 1 or d_model % n_head != 0:\n        raise ValueError('bad n_head')\n"
        "    per_token_weights = 2 * (4 * d_model * d_model + 2 * d_model * d_ff)\n"
        "    per_token_attention = 2 * 2 * seq * d_model\n    tokens = batch * seq\n"
        "    ffn = n_layer * tokens * 4 * d_model * d_ff\n"
        "    return {'ffn': ffn, 'projections': n_layer * tokens * per_token_weights - ffn,\n"
        "            'attention': n_layer * tokens * per_token_attention, 'head': tokens * 2 * d_model * vocab}\n",
    ],
    "training_flops": [
        "def training_flops(n_layer, d_model, n_head, d_ff, seq, batch=1):\n"
        "    parts = encoder_flops(n_layer, d_model, n_head, d_ff, seq, 0, batch)\n"
        "    forward = sum(parts.values())\n"
        "    first_input_grad = 2 * batch * seq * d_model * 3 * d_model  # dL/dx of layer 0's packed QKV: not needed\n"
        "    return forward + 2 * forward - first_input_grad\n",
        "def training_flops(n_layer, d_model, n_head, d_ff, seq, batch=1):\n    t = batch * seq\n"
        "    weights = n_layer * 2 * t * (4 * d_model ** 2 + 2 * d_model * d_ff)\n"
        "    attention = n_layer * 4 * batch * seq * seq * d_model\n"
        "    return 3 * (weights + attention) - 6 * t * d_model ** 2\n",
        "def training_flops(n_layer, d_model, n_head, d_ff, seq, batch=1):\n    x = (batch, seq, d_model)\n    total = 0\n"
        "    for layer in range(n_layer):\n"
        "        qkv = matmul_flops(x, (d_model, 3 * d_model))\n"
        "        total += qkv + (qkv if layer > 0 else 0) + qkv  # forward, dL/dinput (not for x), dL/dW\n"
        "        rest = matmul_flops(x, (d_model, d_model)) + matmul_flops(x, (d_model, d_ff)) \\\n"
        "            + matmul_flops((batch, seq, d_ff), (d_ff, d_model)) \\\n"
        "            + 2 * matmul_flops((batch, seq, d_model), (batch, d_model, seq))\n"
        "        total += 3 * rest\n    return total\n",
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
        "    achieved = flops / seconds\n    return achieved / peak_flops_per_s\n\n\n"
        "def days_to_train(flops, peak_flops_per_s, utilisation, n_chips=1):\n"
        "    if not peak_flops_per_s > 0:\n        raise ValueError('peak must be > 0')\n"
        "    if not 0 < utilisation <= 1:\n        raise ValueError('utilisation must be in (0, 1]')\n"
        "    if n_chips < 1:\n        raise ValueError('need at least one chip')\n"
        "    achieved = peak_flops_per_s * utilisation * n_chips\n    return flops / achieved / 86400\n",
        "def mfu(flops, seconds, peak_flops_per_s):\n    if min(seconds, peak_flops_per_s) <= 0:\n"
        "        raise ValueError(f'need positive time and peak, got {seconds}, {peak_flops_per_s}')\n"
        "    return flops / (seconds * peak_flops_per_s)\n\n\n"
        "def days_to_train(flops, peak_flops_per_s, utilisation, n_chips=1):\n"
        "    if peak_flops_per_s <= 0 or utilisation <= 0 or utilisation > 1 or n_chips < 1:\n"
        "        raise ValueError('bad arguments')\n"
        "    hours = flops / (peak_flops_per_s * utilisation) / n_chips / 3600\n    return hours / 24\n",
        "def mfu(flops, seconds, peak_flops_per_s):\n    for name, v in (('seconds', seconds), ('peak_flops_per_s', peak_flops_per_s)):\n"
        "        if v <= 0:\n            raise ValueError(f'{name} must be positive, got {v}')\n"
        "    possible = peak_flops_per_s * seconds  # what the chip could have done\n    return flops / possible\n\n\n"
        "SECONDS_PER_DAY = 24 * 60 * 60\n\n\n"
        "def days_to_train(flops, peak_flops_per_s, utilisation, n_chips=1):\n"
        "    if not (peak_flops_per_s > 0 and 0 < utilisation <= 1 and n_chips >= 1):\n"
        "        raise ValueError(f'{peak_flops_per_s}, {utilisation}, {n_chips}')\n"
        "    per_day = peak_flops_per_s * SECONDS_PER_DAY * utilisation\n    return flops / (per_day * n_chips)\n",
    ],
    "roofline_point": [
        "def roofline_point(a_shape, b_shape, bytes_per_element, peak_flops_per_s, bandwidth):\n"
        "    flops = matmul_flops(a_shape, b_shape)\n    batch = 1\n    for s in (a_shape[:-2] or b_shape[:-2]):\n"
        "        batch *= s\n    elements = 1\n    for s in a_shape:\n        elements *= s\n    b_elements = 1\n"
        "    for s in b_shape:\n        b_elements *= s\n"
        "    c_elements = batch * a_shape[-2] * b_shape[-1]\n"
        "    i = flops / (bytes_per_element * (elements + b_elements + c_elements))\n"
        "    mem = i * bandwidth\n"
        "    return {'intensity': i, 'attainable': mem if mem < peak_flops_per_s else peak_flops_per_s,\n"
        "            'bound': 'memory' if mem < peak_flops_per_s else 'compute'}\n",
        "import math\n\n\ndef roofline_point(a_shape, b_shape, bytes_per_element, peak_flops_per_s, bandwidth):\n"
        "    out_shape = tuple(a_shape[:-2] or b_shape[:-2]) + (a_shape[-2], b_shape[-1])\n"
        "    moved = sum(math.prod(s) for s in (a_shape, b_shape, out_shape)) * bytes_per_element\n"
        "    intensity = matmul_flops(a_shape, b_shape) / moved\n    ridge = peak_flops_per_s / bandwidth\n"
        "    if intensity < ridge:\n"
        "        return {'intensity': intensity, 'attainable': intensity * bandwidth, 'bound': 'memory'}\n"
        "    return {'intensity': intensity, 'attainable': peak_flops_per_s, 'bound': 'compute'}\n",
        "import numpy as np\n\n\ndef roofline_point(a_shape, b_shape, bytes_per_element, peak_flops_per_s, bandwidth):\n"
        "    lead = a_shape[:-2] if len(a_shape) > 2 else b_shape[:-2]\n"
        "    c = int(np.prod(lead, dtype=np.int64)) * a_shape[-2] * b_shape[-1]\n"
        "    moved = bytes_per_element * (int(np.prod(a_shape, dtype=np.int64)) + int(np.prod(b_shape, dtype=np.int64)) + c)\n"
        "    intensity = matmul_flops(a_shape, b_shape) / moved\n"
        "    roofs = {'memory': intensity * bandwidth, 'compute': peak_flops_per_s}\n"
        "    bound = 'memory' if roofs['memory'] < roofs['compute'] else 'compute'\n"
        "    return {'intensity': float(intensity), 'attainable': float(roofs[bound]), 'bound': bound}\n",
    ],
}
