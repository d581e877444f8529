"""Chapter 06: three correct answers per answer cell, written differently from the instructor's (loops,
complex numbers, outer products, other APIs — never the course's SinusoidalPositions, RotaryEmbedding or the
experiments' copies of them, which score zero by design). The honest suite hands them in and expects full marks."""

ASSIGNMENT = "06-position-encoding"

VARIANTS = {
    "is_permutation_equivariant": [
        "def is_permutation_equivariant(layer, x, perm):\n    with torch.no_grad():\n"
        "        a, b = layer(x[:, perm]), layer(x)[:, perm]\n"
        "    return bool(((a - b).abs() <= 1e-6 + 1e-5 * b.abs()).all())\n",
        "def is_permutation_equivariant(layer, x, perm):\n    with torch.no_grad():\n"
        "        lhs = layer(torch.index_select(x, 1, perm))\n"
        "        rhs = torch.index_select(layer(x), 1, perm)\n"
        "    return torch.allclose(lhs, rhs, rtol=1e-5, atol=1e-6)\n",
        "def is_permutation_equivariant(layer, x, perm):\n"
        "    inverse = torch.empty_like(perm)\n    inverse[perm] = torch.arange(len(perm))\n"
        "    with torch.no_grad():\n        undone = layer(x[:, perm])[:, inverse]  # permute, apply, permute back\n"
        "        plain = layer(x)\n"
        "    return float((undone - plain).abs().max()) < 1e-6\n",
    ],
    "sinusoidal_table": [
        "def sinusoidal_table(n_positions, d):\n    table = torch.zeros(n_positions, d)\n"
        "    for p in range(n_positions):\n        for j in range(d):\n"
        "            w = 10000.0 ** (-2 * (j // 2) / d)\n"
        "            table[p, j] = math.sin(p * w) if j % 2 == 0 else math.cos(p * w)\n    return table\n",
        "def sinusoidal_table(n_positions, d):\n    j = torch.arange(d, dtype=torch.float64)\n"
        "    w = torch.exp(-math.log(10000.0) * 2 * torch.div(j, 2, rounding_mode='floor') / d)  # (d,)\n"
        "    angles = torch.outer(torch.arange(n_positions, dtype=torch.float64), w)  # (n, d)\n"
        "    return torch.where(j % 2 == 0, torch.sin(angles), torch.cos(angles)).float()\n",
        "def sinusoidal_table(n_positions, d):\n    half = (d + 1) // 2\n"
        "    w = 10000.0 ** (-2 * torch.arange(half, dtype=torch.float64) / d)\n"
        "    angles = torch.arange(n_positions, dtype=torch.float64)[:, None] * w  # (n, half)\n"
        "    both = torch.stack([angles.sin(), angles.cos()], dim=-1).reshape(n_positions, 2 * half)\n"
        "    return both[:, :d].to(torch.float32)\n",
    ],
    "shift_matrix": [
        "def shift_matrix(k, d):\n    if d % 2 != 0:\n        raise ValueError('d must be even')\n"
        "    blocks = []\n    for i in range(d // 2):\n        a = k * 10000.0 ** (-2 * i / d)\n"
        "        blocks.append(torch.tensor([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]]))\n"
        "    return torch.block_diag(*blocks)\n",
        "def shift_matrix(k, d):\n    if d % 2:\n        raise ValueError(f'odd d = {d}')\n"
        "    a = k * 10000.0 ** (-2 * torch.arange(d // 2, dtype=torch.float64) / d)\n"
        "    c, s = torch.cos(a), torch.sin(a)\n    m = torch.zeros(d, d, dtype=torch.float64)\n"
        "    idx = torch.arange(0, d, 2)\n    m[idx, idx], m[idx, idx + 1] = c, s\n"
        "    m[idx + 1, idx], m[idx + 1, idx + 1] = -s, c\n    return m.float()\n",
        "def shift_matrix(k, d):\n    if d % 2 == 1:\n        raise ValueError('shift_matrix needs an even d')\n"
        "    m = torch.zeros(d, d)\n    for i in range(0, d, 2):\n"
        "        z = complex(math.cos(k * 10000.0 ** (-i / d)), math.sin(k * 10000.0 ** (-i / d)))\n"
        "        m[i:i + 2, i:i + 2] = torch.tensor([[z.real, z.imag], [-z.imag, z.real]])\n    return m\n",
    ],
    "pe_dot": [
        "def pe_dot(offset, d):\n    total = 0.0\n    for i in range(d // 2):\n"
        "        total += math.cos(offset / 10000.0 ** (2 * i / d))\n    return total\n",
        "def pe_dot(offset, d):\n    w = 10000.0 ** (-2 * torch.arange(d // 2, dtype=torch.float64) / d)\n"
        "    return torch.cos(offset * w).sum().item()\n",
        "def pe_dot(offset, d):\n    import cmath\n"
        "    return float(sum(cmath.exp(1j * offset * 10000.0 ** (-2 * i / d)) for i in range(d // 2)).real)\n",
    ],
    "rope_matrices": [
        "def rope_rotation(angle):\n    return torch.tensor([[math.cos(angle), -math.sin(angle)],\n"
        "                         [math.sin(angle), math.cos(angle)]])\n\n\n"
        "def rope_matrix(m, d, base=10000.0):\n    r = torch.zeros(d, d)\n    for i in range(d // 2):\n"
        "        r[2 * i:2 * i + 2, 2 * i:2 * i + 2] = rope_rotation(m * base ** (-2 * i / d))\n    return r\n",
        "def rope_rotation(angle):\n    a = torch.tensor(float(angle), dtype=torch.float64)\n"
        "    return torch.stack([torch.stack([a.cos(), -a.sin()]), torch.stack([a.sin(), a.cos()])]).float()\n\n\n"
        "def rope_matrix(m, d, base=10000.0):\n"
        "    return torch.block_diag(*(rope_rotation(m / base ** (2 * i / d)) for i in range(d // 2)))\n",
        "def rope_rotation(angle):\n    z = complex(math.cos(angle), math.sin(angle))\n"
        "    return torch.tensor([[z.real, -z.imag], [z.imag, z.real]], dtype=torch.float32)\n\n\n"
        "def rope_matrix(m, d, base=10000.0):\n    r = torch.eye(d)\n    for i in range(0, d, 2):\n"
        "        r[i:i + 2, i:i + 2] = rope_rotation(m * base ** (-i / d))\n    return r\n",
    ],
    "apply_rope": [
        "def apply_rope(x, positions, base=10000.0):\n    d = x.shape[-1]\n"
        "    theta = base ** (-2 * torch.arange(d // 2, dtype=torch.float64, device=x.device) / d)\n"
        "    angles = positions.double()[:, None] * theta  # (seq, d/2)\n"
        "    rot = torch.polar(torch.ones_like(angles), angles)  # e^{i m theta}\n"
        "    z = torch.view_as_complex(x.double().reshape(*x.shape[:-1], d // 2, 2).contiguous())\n"
        "    return torch.view_as_real(z * rot).reshape(x.shape).to(x.dtype)\n",
        "def apply_rope(x, positions, base=10000.0):\n    d = x.shape[-1]\n"
        "    theta = torch.tensor([base ** (-2 * i / d) for i in range(d // 2)], dtype=torch.float64, device=x.device)\n"
        "    a = positions.double()[:, None] * theta.repeat_interleave(2)[None, :]  # (seq, d)\n"
        "    swapped = torch.stack([-x[..., 1::2], x[..., 0::2]], dim=-1).flatten(-2)  # (-x1, x0, -x3, x2, ...)\n"
        "    return (x * a.cos().to(x.dtype) + swapped * a.sin().to(x.dtype))\n",
        "def apply_rope(x, positions, base=10000.0):\n    d = x.shape[-1]\n    out = torch.empty_like(x)\n"
        "    for i in range(d // 2):\n        a = positions.double() * base ** (-2 * i / d)  # (seq,)\n"
        "        c, s = a.cos().to(x.dtype), a.sin().to(x.dtype)\n"
        "        u, w = x[..., 2 * i], x[..., 2 * i + 1]\n"
        "        out[..., 2 * i] = u * c - w * s\n        out[..., 2 * i + 1] = u * s + w * c\n    return out\n",
    ],
}
