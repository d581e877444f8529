"""``python -m course.train``: help, argument errors, a tiny run end to end, resume, and DDP with two
CPU processes (gloo) whose replicas must end with identical parameters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from course import train as cli

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--task", "copy", "--d-model", "32", "--n-heads", "2", "--layers", "1", "--d-ff", "64", "--batch-size", "16",
        "--device", "cpu", "--no-progress", "--eval-interval", "0"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def test_help_as_a_module():
    out = subprocess.run([sys.executable, "-m", "course.train", "--help"], capture_output=True, text=True, cwd=ROOT,
                         env=env(), timeout=120)
    assert out.returncode == 0, out.stderr
    for option in ("--task", "--preset", "--layers", "--steps", "--minutes", "--batch-size",
                   "--lr", "--device", "--checkpoint", "--resume", "--seed"):
        assert option in out.stdout
    # one flag per ModelConfig field, made from the dataclass (booleans get --no-...)
    for option in ("--d-model", "--n-heads", "--n-encoder-layers", "--n-decoder-layers", "--d-ff", "--dropout",
                   "--position", "--norm-first", "--no-norm-first", "--tie-output", "--no-tie-output"):
        assert option in out.stdout
    assert "{zh,en,copy,reverse}" in out.stdout and "{sinusoidal,rope}" in out.stdout


@pytest.mark.parametrize("args, message", [
    (["--d-model", "30", "--n-heads", "4"], "--d-model (30) must be divisible by --n-heads (4)"),
    (["--dropout", "1.5"], "dropout"),
    (["--n-decoder-layers", "0"], "--n-decoder-layers must be a positive int, got 0"),
    (["--resume"], "--resume needs --checkpoint"),
    (["--resume", "--checkpoint", "/nonexistent/run.pt"], "no checkpoint file"),
    (["--task", "fr"], "invalid choice"),
    (["--steps", "0"], "--steps must be a positive int, got 0"),
    (["--layers", "0"], "--n-encoder-layers must be a positive int, got 0"),
    (["--steps", "ten"], "invalid int value"),
    (["--lr", "-1"], "lr"),
    (["--position", "learned"], "invalid choice"),
])
def test_bad_arguments_are_argparse_errors(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("benchmark", ["vs_nn_transformer.py", "gpu_throughput.py"])
def test_the_benchmarks_take_the_trainers_model_flags(benchmark):
    # one declaration of the model flags (course.train.add_model_flags): --n-heads, not a --heads of their own
    script = str(ROOT / "benchmarks" / benchmark)
    out = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True, cwd=ROOT, env=env(),
                         timeout=120)
    assert out.returncode == 0 and "--n-heads" in out.stdout and "--no-norm-first" in out.stdout, out.stderr
    out = subprocess.run([sys.executable, script, "--d-model", "30", "--n-heads", "4"], capture_output=True,
                         text=True, cwd=ROOT, env=env(), timeout=120)
    assert out.returncode == 2 and "--d-model (30) must be divisible by --n-heads (4)" in out.stderr, out.stderr
    out = subprocess.run([sys.executable, script, "--heads", "4"], capture_output=True, text=True, cwd=ROOT, env=env(),
                         timeout=120)
    assert out.returncode == 2 and "unrecognized arguments: --heads" in out.stderr, out.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_requested_without_gpu(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--device", "cuda"])
    assert "no CUDA GPU" in capsys.readouterr().err


def test_tiny_run_end_to_end(tmp_path, capsys):
    out_json = tmp_path / "metrics.json"
    assert cli.main(TINY + ["--steps", "5", "--seed", "3", "--json", str(out_json)]) == 0
    printed = capsys.readouterr().out
    assert "task copy: 5 steps" in printed and "test: exact" in printed and "BLEU" in printed
    metrics = json.loads(out_json.read_text())
    assert metrics["steps"] == 5 and metrics["test"]["count"] == 1000 and 0 <= metrics["test"]["exact"] <= 1
    assert {"valid", "test", "hard", "short"} <= set(metrics) and metrics["hard"]["count"] == 1000
    assert "short (seen in training): exact" in printed and "hard (stratified test): exact" in printed


def test_model_flags_land_in_the_model_config():
    parser = cli.build_parser()
    config = cli.config_from_args(parser.parse_args(["--layers", "3", "--n-decoder-layers", "1", "--no-norm-first",
                                                     "--tie-output", "--position", "rope", "--dropout", "0.2"]), parser)
    m = config.model
    assert (m.n_encoder_layers, m.n_decoder_layers, m.norm_first, m.tie_output, m.position, m.dropout) == \
        (3, 3, False, True, "rope", 0.2)  # --layers, the shortcut, sets both stacks
    plain = cli.config_from_args(parser.parse_args([]), parser)
    from course.training import PRESETS
    assert plain.model == PRESETS["cpu"].model


def test_checkpoint_then_resume(tmp_path, capsys):
    ckpt, out_json = tmp_path / "run.pt", tmp_path / "m.json"
    assert cli.main(TINY + ["--steps", "3", "--checkpoint", str(ckpt)]) == 0
    assert torch.load(ckpt, weights_only=False)["step"] == 3
    assert cli.main(TINY + ["--steps", "6", "--checkpoint", str(ckpt), "--resume", "--json", str(out_json)]) == 0
    assert json.loads(out_json.read_text())["steps"] == 6
    assert torch.load(ckpt, weights_only=False)["step"] == 6
    capsys.readouterr()
    with pytest.raises(SystemExit):  # a checkpoint of another shape is refused
        cli.main(TINY[:2] + ["--d-model", "64"] + TINY[4:] + ["--steps", "7", "--checkpoint", str(ckpt), "--resume"])
    assert "different model" in capsys.readouterr().err


def digests(folder: Path) -> list[dict]:
    return [json.loads((folder / f"rank{r}.json").read_text()) for r in range(2)]


def test_ddp_two_cpu_processes_keep_identical_replicas(tmp_path):
    digest_dir, ckpt = tmp_path / "digests", tmp_path / "ddp.pt"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "course.train",
           *TINY, "--steps", "4", "--digest-dir", str(digest_dir), "--checkpoint", str(ckpt)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env(), timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count("task copy: 4 steps") == 1  # only rank 0 reports
    assert "2 process(es)" in out.stdout
    rank0, rank1 = digests(digest_dir)
    assert (rank0["world_size"], rank1["world_size"]) == (2, 2) and rank0["steps"] == rank1["steps"] == 4
    assert rank0["param_sha256"] == rank1["param_sha256"]  # the replicas stayed in step
    assert rank0["first_batch_sha256"] != rank1["first_batch_sha256"]  # each rank drew its own data
    state = torch.load(ckpt, weights_only=False)
    assert state["world_size"] == 2 and len(state["rng"]) == 2 and state["step"] == 4
    # a single process trained on rank 0's data alone ends elsewhere: the ranks really averaged gradients
    single_dir = tmp_path / "single"
    assert cli.main(TINY + ["--steps", "4", "--digest-dir", str(single_dir)]) == 0
    alone = json.loads((single_dir / "rank0.json").read_text())
    assert alone["first_batch_sha256"] == rank0["first_batch_sha256"]
    assert alone["param_sha256"] != rank0["param_sha256"]


def test_student_notebooks_build_the_model_and_report_whose_pieces(capsys):
    """--student-notebooks with the instructor's solutions: every piece is the student's, and it trains."""
    cli.main([*TINY, "--steps", "2", "--student-notebooks", str(ROOT / "solutions")])
    out = capsys.readouterr().out
    assert "11 of 11 pieces are yours." in out and "2 steps" in out


def test_student_notebooks_in_a_missing_folder_is_one_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*TINY, "--steps", "1", "--student-notebooks", str(tmp_path / "nowhere")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--student-notebooks" in err and "nowhere" in err and "Traceback" not in err
