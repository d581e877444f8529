"""What the visible tests of chapter 06 (position encoding) use, and what its exercises may not borrow."""

from course.checks.borrowed import Borrowed

# what would do each exercise's work (switched off while the student's code runs under the checks)
BORROWED = {
    "sinusoidal_table": Borrowed("build the table from sin and cos yourself: the course's SinusoidalPositions is "
                                 "what chapter 08 uses, not what this exercise may call",
                                 python=("course.blocks.SinusoidalPositions", "course.experiments.ch06_position"
                                         ".sinusoidal_positions"),
                                 given=("course.blocks.SinusoidalPositions",
                                        "course.experiments.ch06_position.sinusoidal_positions")),
    "apply_rope": Borrowed("rotate the pairs yourself: the course's RotaryEmbedding is the reference",
                           python=("course.blocks.RotaryEmbedding",), given=("course.blocks.RotaryEmbedding",)),
}
