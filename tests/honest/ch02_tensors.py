"""Chapter 02: three correct answers per answer cell, written differently from the instructor's (loops,
einsum, other maths, other APIs — never the built-in or course code the exercise re-implements, which
scores zero by design). The honest suite hands them in and expects full marks."""

ASSIGNMENT = "02-tensors"

VARIANTS = {
    "center_rows": [
        "def center_rows(x):\n    return x - x.sum(dim=1, keepdim=True) / x.shape[1]\n",
        "def center_rows(x):\n    return torch.stack([row - row.mean() for row in x])\n",
        "def center_rows(x):\n    n = x.shape[1]\n    centering = torch.eye(n, dtype=x.dtype) - torch.full((n, n), 1.0 / n, dtype=x.dtype)\n"
        "    return x @ centering\n",
    ],
    "log_sum_exp": [
        # in float64, then back; softmax from the max-shifted exponentials
        "def log_sum_exp(x, dim=-1):\n    x64 = x.double()\n    m = x64.max(dim=dim, keepdim=True).values\n"
        "    return (m + (x64 - m).exp().sum(dim=dim, keepdim=True).log()).squeeze(dim).to(x.dtype)\n\n\n"
        "def stable_softmax(x, dim=-1):\n    shifted = x - x.max(dim=dim, keepdim=True)[0]\n"
        "    e = shifted.exp()\n    return e / torch.sum(e, dim=dim, keepdim=True)\n",
        # amax + unsqueeze; softmax as exp(x - lse)
        "def log_sum_exp(x, dim=-1):\n    m = torch.amax(x, dim=dim)\n"
        "    return m + torch.log(torch.exp(x - m.unsqueeze(dim)).sum(dim))\n\n\n"
        "def stable_softmax(x, dim=-1):\n    z = x - torch.amax(x, dim=dim, keepdim=True)\n"
        "    return torch.exp(z - torch.log(torch.exp(z).sum(dim=dim, keepdim=True)))\n",
        # moving the dim last, then working on rows
        "def log_sum_exp(x, dim=-1):\n    y = x.movedim(dim, -1)\n    m = y.max(-1).values\n"
        "    return m + (y - m[..., None]).exp().sum(-1).log()\n\n\n"
        "def stable_softmax(x, dim=-1):\n    y = x.movedim(dim, -1)\n    e = (y - y.max(-1, keepdim=True).values).exp()\n"
        "    return (e / e.sum(-1, keepdim=True)).movedim(-1, dim)\n",
    ],
    "broadcast_shape": [
        "def broadcast_shape(a, b):\n    if len(a) < len(b):\n        a, b, swapped = b, a, True\n    else:\n        swapped = False\n"
        "    b_padded = (1,) * (len(a) - len(b)) + tuple(b)\n    out = []\n"
        "    for da, db in zip(a, b_padded):\n        if da == 1:\n            out.append(db)\n"
        "        elif db == 1 or db == da:\n            out.append(da)\n        else:\n"
        "            first, second = (b, a) if swapped else (a, b)\n"
        "            raise ValueError(f'shapes {first} and {second} are not broadcastable')\n    return tuple(out)\n",
        "import itertools\n\n\ndef broadcast_shape(a, b):\n    out = []\n"
        "    for da, db in itertools.zip_longest(reversed(a), reversed(b), fillvalue=1):\n"
        "        if da != db and 1 not in (da, db):\n            raise ValueError(f'{a} vs {b}: incompatible')\n"
        "        out.insert(0, db if da == 1 else da)\n    return tuple(out)\n",
        "def broadcast_shape(a, b):\n    n = max(len(a), len(b))\n    pa = (1,) * (n - len(a)) + tuple(a)\n"
        "    pb = (1,) * (n - len(b)) + tuple(b)\n    if any(x != y and x != 1 and y != 1 for x, y in zip(pa, pb)):\n"
        "        raise ValueError(f'cannot broadcast {a} with {b}')\n"
        "    return tuple(y if x == 1 else x for x, y in zip(pa, pb))\n",
    ],
    "pairwise_sq_distances": [
        "def pairwise_sq_distances(x, y):\n    return ((x.unsqueeze(1) - y.unsqueeze(0)) ** 2).sum(-1)\n",
        "def pairwise_sq_distances(x, y):\n    return (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2 * x @ y.T\n",
        "def pairwise_sq_distances(x, y):\n    d = x[:, None, :] - y[None, :, :]\n    return torch.einsum('nmd,nmd->nm', d, d)\n",
    ],
    "contiguous_strides": [
        "def contiguous_strides(shape):\n    if not shape:\n        return ()\n"
        "    rest = contiguous_strides(shape[1:])\n    return (rest[0] * max(shape[1], 1) if rest else 1,) + rest\n",
        "import math\n\n\ndef contiguous_strides(shape):\n"
        "    return tuple(math.prod(max(s, 1) for s in shape[k + 1:]) for k in range(len(shape)))\n",
        "def contiguous_strides(shape):\n    out = [1] * len(shape)\n    for k in range(len(shape) - 2, -1, -1):\n"
        "        out[k] = out[k + 1] * max(shape[k + 1], 1)\n    return tuple(out)\n",
    ],
    "slice_view": [
        "def slice_view(shape, strides, offset, dim, start, stop, step=1):\n"
        "    n = len(shape)\n    if dim < -n or dim >= n:\n        raise ValueError(f'no dim {dim} in {shape}')\n"
        "    d = dim + n if dim < 0 else dim\n"
        "    if start < 0 or stop < start or stop > shape[d] or step < 1:\n"
        "        raise ValueError(f'bad slice {start}:{stop}:{step} of size {shape[d]}')\n"
        "    size = (stop - start + step - 1) // step\n"
        "    new_shape = tuple(size if k == d else s for k, s in enumerate(shape))\n"
        "    new_strides = tuple(st * step if k == d else st for k, st in enumerate(strides))\n"
        "    return new_shape, new_strides, offset + start * strides[d]\n",
        "import math\n\n\ndef slice_view(shape, strides, offset, dim, start, stop, step=1):\n"
        "    try:\n        d = range(len(shape))[dim]\n    except IndexError:\n"
        "        raise ValueError(f'dim {dim} out of range') from None\n"
        "    if not (0 <= start <= stop <= shape[d]) or step <= 0:\n        raise ValueError('slice out of range')\n"
        "    shape, strides = list(shape), list(strides)\n    first = offset + start * strides[d]\n"
        "    shape[d] = math.ceil((stop - start) / step)\n    strides[d] *= step\n"
        "    return tuple(shape), tuple(strides), first\n",
        "def slice_view(shape, strides, offset, dim, start, stop, step=1):\n"
        "    if not isinstance(dim, int) or not -len(shape) <= dim < len(shape):\n        raise ValueError('dim')\n"
        "    if step < 1 or start < 0 or start > stop or stop > shape[dim]:\n        raise ValueError('range')\n"
        "    kept = 0\n    i = start\n    while i < stop:\n        kept += 1\n        i += step\n"
        "    out_shape, out_strides = list(shape), list(strides)\n    out_shape[dim] = kept\n"
        "    out_strides[dim] = strides[dim] * step\n"
        "    return tuple(out_shape), tuple(out_strides), offset + strides[dim] * start\n",
    ],
    "is_contiguous": [
        "def is_contiguous(shape, strides):\n    if 0 in shape:\n        return True\n"
        "    return all(st == ex for sz, st, ex in zip(shape, strides, contiguous_strides(shape)) if sz != 1)\n",
        "def is_contiguous(shape, strides):\n    if any(s == 0 for s in shape):\n        return True\n"
        "    kept = [(sz, st) for sz, st in zip(shape, strides) if sz != 1]\n    want = 1\n"
        "    for sz, st in reversed(kept):\n        if st != want:\n            return False\n        want *= sz\n    return True\n",
        "def is_contiguous(shape, strides):\n    if min(shape, default=1) == 0:\n        return True\n"
        "    ok, step = True, 1\n    for k in reversed(range(len(shape))):\n"
        "        ok = ok and (shape[k] == 1 or strides[k] == step)\n        step *= shape[k]\n    return ok\n",
    ],
    "split_heads": [
        "def split_heads(x, n_heads):\n    b, s, d = x.shape\n    if d % n_heads:\n"
        "        raise ValueError(f'{d} is not divisible by {n_heads}')\n"
        "    return x.unflatten(-1, (n_heads, d // n_heads)).permute(0, 2, 1, 3)\n\n\n"
        "def merge_heads(x):\n    return x.permute(0, 2, 1, 3).flatten(2)\n",
        "def split_heads(x, n_heads):\n    b, s, d = x.shape\n    if d % n_heads != 0:\n"
        "        raise ValueError('d_model must be divisible by n_heads')\n"
        "    return x.reshape(b, s, n_heads, -1).transpose(1, 2)\n\n\n"
        "def merge_heads(x):\n    b, h, s, dh = x.shape\n    return x.transpose(1, 2).contiguous().view(b, s, h * dh)\n",
        "def split_heads(x, n_heads):\n    d = x.shape[-1]\n    if d % n_heads:\n"
        "        raise ValueError(f'cannot split {d} features into {n_heads} heads')\n"
        "    return x.view(*x.shape[:2], n_heads, d // n_heads).swapaxes(1, 2)\n\n\n"
        "def merge_heads(x):\n    return x.movedim(1, 2).reshape(*x.shape[:1], x.shape[2], -1)\n",
    ],
}

_P_CHECK = ("    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:\n"
            "        raise ValueError(f'p must be in [0, 1], got {p!r}')\n")
