"""course.student_code: chapter 08's model built from the student's own notebooks of chapters 05–08.

The assembled model computes what the course's reference computes (weights copied, every position
kind and norm placement), a piece that is missing, unfinished or failing falls back alone with the
reason, only answer cells run, and every bad notebook gives one message naming the file (and name).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from torch import nn

from course import student_code as sc
from course.blocks import Seq2SeqTransformer
from course.tasks import Task
from course.tokenizer import PAD

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS, RELEASE = ROOT / "solutions", ROOT / "release"
SIZES = dict(d_model=16, n_heads=2, n_encoder_layers=1, n_decoder_layers=2, d_ff=32, dropout=0.0)


@pytest.fixture(scope="module")
def solutions_build():
    return sc.build_student_model(SOLUTIONS)


@pytest.fixture(scope="module")
def release_build():
    return sc.build_student_model(RELEASE)


def _copy(tmp_path: Path, source: Path, names=sc.NOTEBOOKS) -> Path:
    for name in names:
        (tmp_path / name).mkdir(parents=True, exist_ok=True)
        shutil.copy(source / name / f"{name}.ipynb", tmp_path / name / f"{name}.ipynb")
    return tmp_path


def _edit(path: Path, grade_id: str, old: str, new: str) -> None:
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            src = "".join(cell["source"])
            assert old in src, (grade_id, old)
            cell["source"] = src.replace(old, new)
    path.write_text(json.dumps(nb))


# ------------------------------------------------------------------------------ the same function

def _layers(module: nn.Module) -> list[nn.Module]:
    return [m for _, m in module.named_modules() if all(hasattr(m, a) for a in ("norm1", "ff", "self_attn"))]


def _load_attention(ours: nn.Module, theirs: nn.Module) -> None:
    a = getattr(ours, "mha", ours)
    d = theirs.d_model
    w, b = theirs.in_proj.weight, theirs.in_proj.bias
    for i, name in enumerate(("q_proj", "k_proj", "v_proj")):
        getattr(a, name).weight.copy_(w[i * d:(i + 1) * d])
        getattr(a, name).bias.copy_(b[i * d:(i + 1) * d])
    a.out_proj.load_state_dict(theirs.out_proj.state_dict())


@torch.no_grad()
def load_reference(ours: nn.Module, ref: Seq2SeqTransformer) -> None:
    """Copy the reference's weights into a model assembled from chapter-05/07 pieces (by structure)."""
    for name in ("src_embed", "tgt_embed", "output"):
        getattr(ours, name).load_state_dict(getattr(ref, name).state_dict())
    for side in ("encoder", "decoder"):
        mine, theirs = _layers(getattr(ours, side)), list(getattr(ref, side).layers)
        assert len(mine) == len(theirs)
        for a, b in zip(mine, theirs):
            for norm in ("norm1", "norm2", "norm3"):
                if hasattr(b, norm):
                    getattr(a, norm).load_state_dict(getattr(b, norm).state_dict())
            a.ff.linear1.load_state_dict(b.ff.linear1.state_dict())
            a.ff.linear2.load_state_dict(b.ff.linear2.state_dict())
            _load_attention(a.self_attn, b.self_attn)
            if hasattr(b, "cross_attn"):
                _load_attention(a.cross_attn, b.cross_attn)
        final = [m for n, m in getattr(ours, side).named_modules() if n.endswith("norm") and isinstance(m, nn.LayerNorm)
                 and "layers" not in n]
        if isinstance(getattr(ref, side).norm, nn.LayerNorm):
            assert len(final) == 1, final
            final[0].load_state_dict(getattr(ref, side).norm.state_dict())
        else:
            assert not final


def _batch():
    task = Task("zh", test_size=1)
    return task, task.make_batch(["1204", "30012", "7"])


@pytest.mark.parametrize("which", ["solutions", "release"])
@pytest.mark.parametrize("norm_first, position", [(True, "sinusoidal"), (False, "sinusoidal"), (True, "rope"),
                                                  (False, "rope")])
def test_the_assembled_model_computes_the_reference_function(which, norm_first, position, solutions_build,
                                                             release_build):
    build = solutions_build if which == "solutions" else release_build
    task, b = _batch()
    config = dict(SIZES, norm_first=norm_first, position=position)
    torch.manual_seed(0)
    ref = Seq2SeqTransformer(len(task.source_tokenizer), len(task.target_tokenizer), **config).eval()
    with torch.no_grad():
        for p in ref.parameters():
            p.add_(0.1 * torch.randn_like(p))
    ours = build.model_class(len(task.source_tokenizer), len(task.target_tokenizer), **config).eval()
    load_reference(ours, ref)
    with torch.no_grad():
        torch.testing.assert_close(ours(b.src, b.src_lengths, b.tgt_in), ref(b.src, b.src_lengths, b.tgt_in),
                                   atol=1e-4, rtol=1e-4)
        assert torch.equal(ours.greedy_decode(b.src, b.src_lengths, 6), ref.greedy_decode(b.src, b.src_lengths, 6))


def test_the_solutions_are_all_yours_and_the_release_all_the_courses(solutions_build, release_build):
    assert solutions_build.fallbacks == [], solutions_build.report()
    assert release_build.yours == [], release_build.report()
    assert all("NotImplementedError" in p.reason or "builds on" in p.reason for p in release_build.pieces), \
        release_build.report()
    text = solutions_build.report()
    assert "11 of 11 pieces are yours" in text and "MultiHeadAttention" in text
    html = release_build._repr_html_()
    assert "course's" in html and "0 of 11 are yours" in html
    assert "<details><summary>source</summary>" in solutions_build._repr_html_()


def test_the_assembled_model_learns_with_the_students_loss(solutions_build):
    task, b = _batch()
    torch.manual_seed(0)
    model = solutions_build.model_class(len(task.source_tokenizer), len(task.target_tokenizer), **SIZES)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = solutions_build.loss_fn(model(b.src, b.src_lengths, b.tgt_in), b.tgt_out, 0.1)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0]


def test_the_notebooks_own_transformer_and_loss_are_used_when_passed(solutions_build):
    build = sc.build_student_model(SOLUTIONS, transformer=solutions_build.piece("Transformer").obj,
                                   loss=solutions_build.loss_fn)
    assert build.piece("Transformer").notebook == "08-transformer" and build.piece("Transformer").yours
    assert build.piece("smoothed_cross_entropy").path == "this notebook"


def test_the_course_wiring_is_used_when_chapter_08_is_missing(tmp_path):
    d = _copy(tmp_path, SOLUTIONS, sc.NOTEBOOKS[:3])
    build = sc.build_student_model(d)
    t = build.piece("Transformer")
    assert not t.yours and "08-transformer.ipynb: no such notebook" in t.reason
    assert issubclass(build.model_class, Seq2SeqTransformer)
    assert build.piece("smoothed_cross_entropy").obj is sc._course_loss
    assert set(build.yours) == {"MultiHeadAttention", "causal_mask", "sinusoidal_table", "apply_rope", "FeedForward",
                                "EncoderLayer", "DecoderLayer", "Encoder", "Decoder"}


# ------------------------------------------------------------------------------ one piece falls back

def test_a_failing_piece_falls_back_alone(tmp_path):
    d = _copy(tmp_path, SOLUTIONS)
    path = d / "07-encoder-decoder" / "07-encoder-decoder.ipynb"
    _edit(path, "FeedForward", "hidden = torch.relu(self.linear1(x))", "hidden = self.linear1(x)")
    build = sc.build_student_model(d)
    ff = build.piece("FeedForward")
    assert not ff.yours and ff.reason.startswith("fails its visible test FeedForward_tests"), ff.reason
    assert "hidden = self.linear1(x)" in ff.source  # the source shown is the student's own
    assert build.fallbacks == ["FeedForward"], build.report()  # the layers are still the student's, on the course's FF


def test_a_missing_name_is_named_with_its_file(tmp_path):
    d = _copy(tmp_path, SOLUTIONS)
    path = d / "05-attention" / "05-attention.ipynb"
    _edit(path, "MultiHeadAttention", "class MultiHeadAttention(nn.Module):", "class MultiHeadAttn(nn.Module):")
    build = sc.build_student_model(d)
    piece = build.piece("MultiHeadAttention")
    assert not piece.yours and piece.reason == "05-attention.ipynb defines no `MultiHeadAttention` in its answer cells"
    assert build.piece("EncoderLayer").yours  # chapter 07's layers now use the course's attention


def test_an_unreadable_or_missing_notebook_is_named(tmp_path):
    d = _copy(tmp_path, SOLUTIONS, ("06-position-encoding", "07-encoder-decoder", "08-transformer"))
    (d / "06-position-encoding" / "06-position-encoding.ipynb").write_text("{ not json")
    build = sc.build_student_model(d)
    missing, broken = build.piece("MultiHeadAttention"), build.piece("apply_rope")
    assert str(d / "05-attention" / "05-attention.ipynb") in missing.reason and "no such notebook" in missing.reason
    assert str(d / "06-position-encoding" / "06-position-encoding.ipynb") in broken.reason
    assert "cannot be read as a notebook" in broken.reason
    with pytest.raises(sc.StudentCodeError, match="no such folder"):
        sc.build_student_model(tmp_path / "nowhere")
    with pytest.raises(sc.StudentCodeError, match=r"05-attention.ipynb: cannot be read as a notebook"):
        bad = tmp_path / "bad"
        bad.mkdir()
        (bad / "05-attention.ipynb").write_text(json.dumps({"cells": 3}))
        sc.read_answers(bad / "05-attention.ipynb")


def test_a_syntax_error_is_reported_for_its_cell(tmp_path):
    d = _copy(tmp_path, SOLUTIONS)
    _edit(d / "06-position-encoding" / "06-position-encoding.ipynb", "apply_rope", "d = x.shape[-1]", "d = x.shape[-1")
    piece = sc.build_student_model(d).piece("apply_rope")
    assert not piece.yours and piece.reason.startswith("its answer cell (apply_rope) has a syntax error"), piece.reason


def test_an_edited_test_cell_cannot_vouch(tmp_path):
    d = _copy(tmp_path, RELEASE)
    path = d / "05-attention" / "05-attention.ipynb"
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "MultiHeadAttention_tests":
            cell["source"] = "pass\n"  # a student who blanked the locked test
    path.write_text(json.dumps(nb))
    piece = sc.build_student_model(d).piece("MultiHeadAttention")
    assert "test cell MultiHeadAttention_tests was edited" in piece.reason, piece.reason


def test_only_answer_cells_run(tmp_path):
    d = _copy(tmp_path, SOLUTIONS, ("05-attention",))
    path = d / "05-attention" / "05-attention.ipynb"
    flag = tmp_path / "ran"
    nb = json.loads(path.read_text())
    nb["cells"].insert(1, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                           "source": f"open({str(flag)!r}, 'w').write('x')\n"})
    path.write_text(json.dumps(nb))
    nbk = sc.read_answers(path)
    assert not flag.exists()
    assert "MultiHeadAttention" in nbk.namespace and "ex" not in nbk.namespace  # no set-up cell either


def test_a_model_that_fails_on_a_first_batch_gives_one_message():
    class Broken(nn.Module):
        def __init__(self, *args, parts=None, **kwargs):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, src, src_lengths, tgt_in):
            raise ValueError("shapes do not match")

    with pytest.raises(sc.StudentCodeError, match="fails on a first batch.*ValueError: shapes do not match"):
        sc.build_student_model(SOLUTIONS, transformer=Broken, loss=None)


def test_the_checksum_is_nbgraders():
    import nbformat
    from nbgrader.utils import compute_checksum

    nb = nbformat.read(RELEASE / "07-encoder-decoder" / "07-encoder-decoder.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert cells
    for c in cells:
        m = c.metadata.nbgrader
        assert sc.test_cell_checksum(c.source, m["grade_id"], m["points"]) == compute_checksum(c) == m["checksum"]


def test_cross_attention_maps_come_from_last_weights(solutions_build):
    task, b = _batch()
    model = solutions_build.model_class(len(task.source_tokenizer), len(task.target_tokenizer), **SIZES)
    maps = sc.cross_attention_maps(model, b.src, b.src_lengths, b.tgt_in)
    assert maps.shape == (SIZES["n_decoder_layers"], SIZES["n_heads"], b.tgt_in.shape[1], b.src.shape[1])
    torch.testing.assert_close(maps.sum(-1), torch.ones(maps.shape[:-1]))
    with pytest.raises(ValueError, match="last_weights"):
        sc.cross_attention_maps(Seq2SeqTransformer(len(task.source_tokenizer), len(task.target_tokenizer), **SIZES),
                                b.src, b.src_lengths, b.tgt_in)
    assert PAD == 0
