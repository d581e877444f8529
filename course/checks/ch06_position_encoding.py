"""What the visible tests of chapter 06 (position encoding) use, and what its exercises may not borrow."""

from contextlib import contextmanager

from course.checks.borrowed import Borrowed
from course.checks.ch05_attention import expect  # noqa: F401  (ref.expect: close(), naming the known mistakes)
from course.checks.messages import fail

_EX = "course.experiments.ch06_position_encoding"
# the course's sinusoidal table (chapter 08 uses it; the experiments and widgets of this chapter draw with it) and
# the rates θ_i / ω_i it is built from
_TABLE = ("course.blocks.SinusoidalPositions", f"{_EX}.sinusoidal_positions", f"{_EX}.frequencies")
# the course's RoPE: the module chapter 08 uses, the experiments' interleaved copy (_rope, rope_score), and the
# rotate-half version with the permutation that turns it into the interleaved one; the widget's 2-D rotation
_ROPE = ("course.blocks.RotaryEmbedding", f"{_EX}._rope", f"{_EX}.rope_score", f"{_EX}.rotate_half_rope",
         f"{_EX}.half_to_interleaved", f"{_EX}.frequencies", "course.widgets.ch06_position_encoding._rotate")
_GIVEN_TABLE = ("course.blocks.SinusoidalPositions", f"{_EX}.sinusoidal_positions")
_GIVEN_ROPE = ("course.blocks.RotaryEmbedding", f"{_EX}._rope", f"{_EX}.rotate_half_rope")

# what would do each exercise's work (switched off while the student's code runs under the checks);
# is_permutation_equivariant has nothing to borrow (torch.allclose is fine there)
BORROWED = {
    "sinusoidal_table": Borrowed("build the table from sin and cos yourself: the course's SinusoidalPositions is "
                                 "what chapter 08 uses, not what this exercise may call",
                                 python=_TABLE, given=_GIVEN_TABLE),
    "shift_matrix": Borrowed("build the 2×2 blocks from cos and sin yourself: the course's sinusoidal table and "
                             "RoPE would hand you the rotation",
                             python=(*_TABLE, *_ROPE), given=(*_GIVEN_TABLE, *_GIVEN_ROPE)),
    "pe_dot": Borrowed("sum the cosines of the closed form yourself (no table): the course's sinusoidal table is "
                       "what it is checked against",
                       python=_TABLE, given=_GIVEN_TABLE),
    "rope_rotation": Borrowed("write the 2×2 rotation from cos and sin yourself: the course's RoPE is the reference",
                              python=_ROPE, given=_GIVEN_ROPE),
    "rope_matrix": Borrowed("assemble R_m from your own 2×2 rotations: the course's RoPE is the reference",
                            python=_ROPE, given=_GIVEN_ROPE),
    "apply_rope": Borrowed("rotate the pairs yourself: the course's RotaryEmbedding (and the experiments' copies of "
                           "it) are the reference",
                           python=_ROPE, given=_GIVEN_ROPE),
}


@contextmanager
def beyond_integer_positions(shortcut: str):
    """The checks inside use a fractional offset or position; when one fails, add ``shortcut``: the sentence that
    says why an answer read off a table of integer positions (or fitted to one) cannot follow the closed form."""
    try:
        yield
    except AssertionError as err:
        raise fail("{error}\n{why}", error=err, why=shortcut) from None


def stays_on_device(fn, x, *args, name: str = "apply_rope"):
    """``call(fn, x, *args)`` with ``x`` (and the tensors in ``args``) on PyTorch's ``meta`` device, which has
    shapes but no data: a tensor built on the CPU inside ``fn`` meets them and fails, as it would on a GPU."""
    from course.checks.core import call, check

    device = x.device
    try:
        out = call(fn, x, *args)
    except AssertionError as err:
        raise fail("{name} with its inputs on another device than the CPU (here {device}) failed: {error}. Build "
                   "every new tensor (frequencies, angles, positions) on x.device, e.g. torch.arange(..., "
                   "device=x.device), and do not read values out of a tensor (.item(), int(...), .tolist()): on a GPU "
                   "the model's inputs are not on the CPU, and chapter 08 runs your function there", name=name,
                   device=device, error=err) from None
    check(getattr(out, "device", None) == device,
          "{name} returned a tensor on {got} for inputs on {device}: keep it on x.device", name=name,
          got=getattr(out, "device", None), device=device)
    return out
