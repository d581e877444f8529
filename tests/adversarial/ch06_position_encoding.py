"""Chapter 06's targets: the closed-form dot product (a number), the sinusoidal table and RoPE (tensors).

The number comes first: the hang attack runs on the first target only and the shadowing attack only on
tensor-valued ones, so every target meets at least 18 attacks."""

from attacks import Target

A, M = "06-position-encoding", "ch06_position_encoding"

TARGETS = [
    Target(A, "pe_dot", name="pe_dot", returns="number", module=M,
           wrong=("def pe_dot(offset, d):\n"
                  "    return float(sum(math.cos(offset * 10000.0 ** (-2 * i / d)) for i in range(d)))  # d terms, not d/2\n"),
           borrowed=("import course.blocks\n\n\n"
                     "def pe_dot(offset, d):\n"
                     "    table = course.blocks.SinusoidalPositions.build(abs(offset) + 1, d).double()\n"
                     "    return float(table[0] @ table[abs(offset)])\n")),
    Target(A, "sinusoidal_table", name="sinusoidal_table", returns="tensor", module=M,
           wrong=("def sinusoidal_table(n_positions, d):\n"
                  "    position = torch.arange(n_positions, dtype=torch.float64)[:, None]\n"
                  "    i = torch.arange((d + 1) // 2, dtype=torch.float64)\n"
                  "    angles = position * 10000.0 ** (-i / d)  # the exponent is -2i/d\n"
                  "    table = torch.zeros(n_positions, d, dtype=torch.float64)\n"
                  "    table[:, 0::2] = torch.sin(angles)\n    table[:, 1::2] = torch.cos(angles[:, : d // 2])\n"
                  "    return table.float()\n"),
           # the course's table (what chapter 08 uses), bound before the checks switch it off
           borrowed=("from course.experiments.ch06_position_encoding import sinusoidal_positions\n\n\n"
                     "def sinusoidal_table(n_positions, d):\n    return sinusoidal_positions(n_positions, d).float()\n")),
    Target(A, "apply_rope", name="apply_rope", returns="tensor", module=M,
           wrong=("def apply_rope(x, positions, base=10000.0):\n    d = x.shape[-1]\n"
                  "    theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)\n"
                  "    angles = positions.to(torch.float64)[:, None] * theta[None, :]\n"
                  "    cos, sin = torch.cos(angles).to(x.dtype), torch.sin(angles).to(x.dtype)\n"
                  "    first, second = x[..., : d // 2], x[..., d // 2:]  # rotate-half pairs, not (2i, 2i+1)\n"
                  "    return torch.cat([first * cos - second * sin, second * cos + first * sin], dim=-1)\n"),
           # the experiments' rotate-half RoPE, with the permutation the notebook shows, gives the interleaved one
           borrowed=("def apply_rope(x, positions, base=10000.0):\n    d = x.shape[-1]\n"
                     "    order = ex.half_to_interleaved(d)\n    inverse = torch.argsort(order)\n"
                     "    return ex.rotate_half_rope(x[..., inverse], positions, base)[..., order]\n")),
]
