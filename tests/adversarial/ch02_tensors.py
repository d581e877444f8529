"""Chapter 02's targets: log-sum-exp and softmax (tensors), pairwise distances (a tensor) and the broadcast
shape (a tuple)."""

from attacks import Target

A, M = "02-tensors", "ch02_tensors"

TARGETS = [
    Target(A, "log_sum_exp", name="log_sum_exp", returns="tensor", module=M,
           wrong=("def log_sum_exp(x, dim=-1):\n"
                  "    m = x.max()  # one global max: rows far below it underflow to log(0)\n"
                  "    return m + torch.log(torch.exp(x - m).sum(dim=dim))\n\n\n"
                  "def stable_softmax(x, dim=-1):\n"
                  "    e = torch.exp(x - x.max())\n"
                  "    return e / e.sum(dim=dim, keepdim=True)\n"),
           borrowed=("from torch import logsumexp\nfrom torch.nn.functional import softmax\n\n\n"
                     "def log_sum_exp(x, dim=-1):\n    return logsumexp(x, dim=dim)\n\n\n"
                     "def stable_softmax(x, dim=-1):\n    return softmax(x, dim=dim)\n")),
    Target(A, "pairwise_sq_distances", name="pairwise_sq_distances", returns="tensor", module=M,
           wrong=("def pairwise_sq_distances(x, y):\n"
                  "    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(dim=-1).sqrt()  # distances, not squared\n"),
           borrowed=("from torch import cdist as _cdist\n\n\n"
                     "def pairwise_sq_distances(x, y):\n    return _cdist(x, y) ** 2\n")),
    Target(A, "broadcast_shape", name="broadcast_shape", returns="tuple", module=M,
           wrong=("def broadcast_shape(a, b):\n"
                  "    n = max(len(a), len(b))  # pads on the right: aligns from the left\n"
                  "    a, b = tuple(a) + (1,) * (n - len(a)), tuple(b) + (1,) * (n - len(b))\n"
                  "    out = []\n    for da, db in zip(a, b):\n"
                  "        if da != db and 1 not in (da, db):\n"
                  "            raise ValueError(f'shapes {a} and {b} cannot be broadcast')\n"
                  "        out.append(db if da == 1 else da)\n    return tuple(out)\n"),
           borrowed=("def broadcast_shape(a, b):\n"
                     "    try:  # let torch broadcast two tensors of those shapes\n"
                     "        return tuple((torch.zeros(a) + torch.zeros(b)).shape)\n"
                     "    except RuntimeError:\n"
                     "        raise ValueError(f'shapes {a} and {b} cannot be broadcast') from None\n")),
]
