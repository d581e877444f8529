"""Training throughput of the course's reference model on a CUDA GPU: tokens/s, MFU, and nn.Transformer for scale.

    python benchmarks/gpu_throughput.py                       # the "gpu" preset's sizes, bf16 autocast
    python benchmarks/gpu_throughput.py --d-model 1024 --n-heads 16 --batch-size 256   # the trainer's model flags

One training step = forward, backward and a fused AdamW update, under bf16 autocast, on zh batches
already on the GPU (so the number is the model's, not the Python batch builder's). FLOPs per step
are counted by torch's FlopCounterMode on one real step (matrix products and attention, forward
and backward); MFU = (FLOPs per step / median step time) / the accelerator's dense bf16 peak
(989 TFLOP/s for an H100 SXM; the H200 has the same compute). nn.Transformer with the same sizes
and weights runs the same steps, interleaved, for a ratio measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vs_nn_transformer import TorchSeq2Seq, step_fn, timed  # noqa: E402

from course.blocks import Seq2SeqTransformer  # noqa: E402
from course.hardware import H100_SXM  # noqa: E402
from course.tasks import Task  # noqa: E402
from course.tokenizer import PAD  # noqa: E402
from course.train import add_model_flags, model_config  # noqa: E402
from course.training import PRESETS  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_flags(p, defaults="the gpu preset's, without dropout")
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--repeats", type=int, default=7, help="interleaved timed blocks per model")
    p.add_argument("--steps", type=int, default=10, help="steps per timed block")
    args = p.parse_args(argv)
    config = model_config(args, p, PRESETS["gpu"].model.replace(dropout=0.0))
    if config.position != "sinusoidal" or config.tie_output:
        p.error("nn.Transformer is compared with the sinusoidal, untied model only")
    if not torch.cuda.is_available():
        p.error("this benchmark needs a CUDA GPU")
    dev = torch.device("cuda")
    task = Task("zh", test_size=10)
    g = torch.Generator().manual_seed(0)
    batches = [task.sample_batch(args.batch_size, g).to(dev) for _ in range(8)]
    tokens = statistics.mean(int((b.src != PAD).sum() + (b.tgt_out != PAD).sum()) for b in batches)
    torch.manual_seed(0)
    ours = Seq2SeqTransformer(len(task.source_tokenizer), len(task.target_tokenizer), config)
    theirs = TorchSeq2Seq.from_course(ours).to(dev)
    ours.to(dev)
    steps = {name: step_fn(model, batches, lr=1e-4, bf16_cuda=True)
             for name, model in (("Seq2SeqTransformer", ours), ("nn.Transformer", theirs))}
    flops = {}
    for name, step in steps.items():
        for _ in range(3):  # warm-up (kernel selection, allocator)
            step()
        counter = FlopCounterMode(display=False)
        with counter:
            step()
        flops[name] = counter.get_total_flops()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(args.repeats):
        for name, step in steps.items():
            times[name].append(timed(step, args.steps, sync=torch.cuda.synchronize))
    peak = H100_SXM.peak("bf16")
    m = config
    print(f"{torch.cuda.get_device_name()} · torch {torch.__version__} · d_model {m.d_model}, {m.n_heads} heads, "
          f"{m.n_encoder_layers}+{m.n_decoder_layers} layers, d_ff {m.d_ff}, batch {args.batch_size} "
          f"({tokens:.0f} non-pad tokens a step), bf16 autocast, fused AdamW")
    for name in steps:
        t = statistics.median(times[name])
        tflops = flops[name] / t / 1e12
        print(f"{name:19s} step {1000 * t:7.2f} ms · {tokens / t:,.0f} tokens/s · "
              f"{flops[name] / 1e9:,.1f} GFLOP a step · {tflops:6.1f} TFLOP/s · "
              f"MFU {100 * tflops * 1e12 / peak:4.1f}% of {peak / 1e12:.0f}")
    ratio = statistics.median(a / b for a, b in zip(times["Seq2SeqTransformer"], times["nn.Transformer"]))
    print(f"step-time ratio ours/nn.Transformer: median {ratio:.3f} over {args.repeats} interleaved blocks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
