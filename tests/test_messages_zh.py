"""A failing check speaks the edition's language (course.checks.messages).

1. Every English sentence of a converted check module or chapter test cell is a template with a Chinese twin
   (same placeholders), found by reading the code (AST); no sentence is built so that no catalogue can match it
   (an f-string, ``+``), and none reaches an exception or ``print`` without passing through the catalogue.
2. A wrong answer run through a real test cell of a Chinese chapter fails in Chinese; in English, in English.
3. End to end: a wrong answer graded in the zh edition (nbgrader, the sandboxes, the judge) gets Chinese
   messages in its autograded notebook, from the judge's verdict and from the kernel run's output.
"""

from __future__ import annotations

import ast
import re
import shutil

import pytest
import torch
from notebooks import ROOT, assert_rejected

from course.checks import messages
from course.checks.messages import catalogue, english, fail, msg, placeholders, render
from course.language import use_language

# the chapters whose messages are converted (a chapter is added here with its catalogues)
CONVERTED = ("01-compute", "02-tensors", "03-layernorm", "04-dropout-residual", "05-attention", "06-position-encoding",
             "07-encoder-decoder", "08-transformer")
SLUGS = tuple("ch" + a.replace("-", "_") for a in CONVERTED)
MODULES = (
    *(f"course/checks/{name}.py" for name in ("core", "plain", "borrowed", "elsewhere", "messages")),
    *(f"course/checks/{slug}.py" for slug in SLUGS),
    *(f"grader/course_grader/checks/{slug}.py" for slug in SLUGS),
)
# the grader's notes in a feedback: only what passes through render/msg/fail is a message there (help texts, logs)
GRADING = ("grader/course_grader/grading/nbgrader_plugins.py", "grader/course_grader/grading/kernel_run.py",
           "grader/course_grader/grading/scan.py", "grader/course_grader/intake.py",
           "grader/course_grader/grading/isolated.py")
# code that never speaks to a student: (file, function) whose strings are not messages
NOT_MESSAGES = {("course/checks/borrowed.py", "declared"), ("course/checks/borrowed.py", "_raising_code")}
REGEX = {"fullmatch", "search", "match", "compile", "sub", "_re_search"}
SPEAKERS = {"AssertionError", "ValueError", "TypeError", "RuntimeError", "NotPlain", "print"}
CJK = re.compile(r"[\u4e00-\u9fff]")
CHINESE_TEXT = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")  # characters or full-width punctuation


def _is_code(text: str) -> bool:
    """Python (an expression, a call's arguments, statements) once the placeholders are filled: not a sentence."""
    filled = re.sub(r"\{[^{}]*\}", "x", text)
    if not re.search(r"[A-Za-z]{2}", re.sub(r"\{[^{}]*\}", "", text)):
        return True  # placeholders and punctuation only
    for candidate in (filled, "f" + filled):
        try:
            ast.parse(candidate)
            return True
        except SyntaxError:
            continue
    return False


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _docstrings(tree: ast.AST) -> set[ast.AST]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(first.value)
    return found


def _function_of(node: ast.AST, parents: dict) -> str | None:
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return node.name
    return None


def _not_a_message(node: ast.AST, parents: dict) -> bool:
    """A fragment looked for in an error's English text (``x in str(err)``, a key of ``errors=``), a regex."""
    parent = parents.get(node)
    if isinstance(parent, ast.Compare) or (isinstance(parent, ast.Dict) and node in parent.keys):
        return True
    if isinstance(parent, ast.Call) and _called(parent) in REGEX:
        return True
    return isinstance(parent, ast.keyword) and parent.arg == "match"


def _called(node: ast.AST) -> str | None:
    func = node.func if isinstance(node, ast.Call) else None
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def sentences(source: str, where: str) -> tuple[set[str], list[str]]:
    """The English sentences of ``source`` (string literals that are not code), and what is wrong with how any
    of them is built or shown."""
    tree = ast.parse(source)
    parents, docs = _parents(tree), _docstrings(tree)
    found: set[str] = set()
    problems: list[str] = []
    for node in ast.walk(tree):
        if (where, _function_of(node, parents)) in NOT_MESSAGES:
            continue
        if isinstance(node, ast.JoinedStr):
            if isinstance(parents.get(node), ast.FormattedValue) or _not_a_message(node, parents):
                continue  # a format spec, a regex
            parts = "".join(v.value if isinstance(v, ast.Constant) else "{x}" for v in node.values)
            if not _is_code(parts):
                problems.append(f"{where}:{node.lineno}: an f-string sentence no catalogue can match, "
                                f"write a template with values: {parts[:80]!r}")
            continue
        if not (isinstance(node, ast.Constant) and type(node.value) is str) or node in docs:
            continue
        if isinstance(parents.get(node), ast.JoinedStr) or _is_code(node.value) or _not_a_message(node, parents):
            continue
        found.add(node.value)
        parent = parents.get(node)
        if isinstance(parent, ast.BinOp):
            problems.append(f"{where}:{node.lineno}: a sentence joined with +, write one template: "
                            f"{node.value[:80]!r}")
        if isinstance(parent, ast.Call) and _called(parent) in SPEAKERS:
            problems.append(f"{where}:{node.lineno}: {_called(parent)}() of an untranslated sentence, pass it through "
                            f"fail/render/msg: {node.value[:80]!r}")
    return found, problems


def templates(source: str) -> set[str]:
    """The literal templates given to render, msg or fail in ``source``."""
    return {node.args[0].value for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and _called(node) in ("render", "msg", "fail") and node.args
            and isinstance(node.args[0], ast.Constant) and type(node.args[0].value) is str}


def graded_cell_sources(assignment: str) -> list[tuple[str, str]]:
    """(where, code) of every test cell of a chapter's text source."""
    text = (ROOT / "chapters" / f"{assignment}.py").read_text(encoding="utf-8")
    cells = re.split(r"(?m)^(?=# %%)", text)
    return [(f"chapters/{assignment}.py [{cell.splitlines()[0]}]", cell) for cell in cells  # a zh twin is the same
            if cell.startswith("# %%") and " tests=" in cell.splitlines()[0] and 'lang="zh"' not in cell.splitlines()[0]]


def converted_sentences() -> tuple[set[str], list[str]]:
    found: set[str] = set()
    problems: list[str] = []
    sources = [(m, (ROOT / m).read_text(encoding="utf-8")) for m in MODULES]
    sources += [cell for a in CONVERTED for cell in graded_cell_sources(a)]
    for where, source in sources:
        got, wrong = sentences(source, where)
        found |= got
        problems += wrong
    for where in GRADING:
        found |= templates((ROOT / where).read_text(encoding="utf-8"))
    return found, problems


def _catalogue_modules() -> list[tuple[str, dict]]:
    import importlib

    names = [f"course.checks.zh.{m}" for m in ("core", *SLUGS)] + [f"course_grader.checks.zh.{s}" for s in SLUGS]
    names.append("course_grader.grading.messages_zh")
    return [(n, importlib.import_module(n).MESSAGES) for n in names]


def test_every_sentence_of_a_converted_chapter_has_a_chinese_twin_with_the_same_placeholders():
    found, problems = converted_sentences()
    assert not problems, "\n".join(problems)
    zh = catalogue("zh")
    missing = sorted(s for s in found if s not in zh)
    assert not missing, f"{len(missing)} sentences have no Chinese twin (course/checks/zh/, " \
                        "course_grader/checks/zh/):\n" + "\n".join(map(repr, missing))
    for english_text in found:
        chinese = zh[english_text]
        assert CHINESE_TEXT.search(chinese), f"the twin of {english_text!r} is not Chinese: {chinese!r}"
        assert placeholders(chinese) == placeholders(english_text), (
            f"placeholders differ:\n  {english_text!r}\n  {chinese!r}")


def test_the_catalogues_hold_no_sentence_the_code_no_longer_says():
    found, _ = converted_sentences()
    seen: dict[str, str] = {}
    for name, table in _catalogue_modules():
        stale = sorted(k for k in table if k not in found)
        assert not stale, f"{name} translates sentences no converted code says:\n" + "\n".join(map(repr, stale))
        for k, v in table.items():
            assert seen.setdefault(k, v) == v, f"{k!r} is translated twice, differently ({name})"


def test_the_finder_sees_what_it_must():
    """The AST reader itself: a sentence, an f-string sentence, a sentence joined with +, one raised directly."""
    found, problems = sentences(
        'check(ok, "x is {x}: fix it", x=1)\nname = f"{a} against the reference"\n'
        'y = "left half " + rule\nraise ValueError("bad input here")\nz = "layer_norm([[1, 3]])"\n'
        'if "must match the size" in str(err): pass\n', "<probe>")
    assert found == {"x is {x}: fix it", "left half ", "bad input here"}
    assert len(problems) == 3 and "f-string" in problems[0]


# ------------------------------------------------------------------------------------------- the mechanism

def test_a_template_is_formatted_only_on_failure_and_in_the_language_in_use(monkeypatch):
    monkeypatch.setitem(catalogue("zh"), "probe {n} of {what}", "探针 {n}，{what}")
    monkeypatch.setitem(catalogue("zh"), "the thing", "那个东西")
    from course.checks import check

    class Loud:
        def __format__(self, spec):
            raise RuntimeError("formatted although the check passed")

    check(True, "probe {n} of {what}", n=Loud(), what="x")  # nothing formatted
    with use_language("zh"):
        with pytest.raises(AssertionError, match="^探针 3，那个东西$") as err:
            check(False, "probe {n} of {what}", n=3, what="the thing")  # a str value in the catalogue: translated
    assert english(err.value) == "probe 3 of the thing"
    with use_language("en"), pytest.raises(AssertionError, match="^probe 3 of the thing$"):
        check(False, "probe {n} of {what}", n=3, what="the thing")
    with use_language("zh"), pytest.raises(AssertionError, match=r"^a ready {string}$"):
        check(False, "a ready {string}")  # no values: shown as it is (an older caller's f-string)
    with use_language("zh"):
        assert str(msg("probe {n} of {what}", n=1, what=msg("the thing"))) == "探针 1，那个东西"
        assert render("not in any catalogue {x}", x=2) == "not in any catalogue 2"


def test_a_translation_that_does_not_fit_its_values_falls_back_to_english(monkeypatch):
    monkeypatch.setitem(catalogue("zh"), "probe {n}", "探针 {m}")
    with use_language("zh"):
        assert str(fail("probe {n}", n=4)) == "probe 4"


def test_the_catalogues_are_found_in_both_packages():
    assert "{name}: expected shape {expected}, got shape {got}" in catalogue("zh")  # course.checks.zh
    assert any(k.startswith("layer_norm on {label}") for k in catalogue("zh"))  # course_grader.checks.zh
    assert "**Grading notes** (read these first)" in catalogue("zh")  # course_grader.grading.messages_zh
    assert messages.PACKAGES["zh"][:2] == ("course.checks.zh", "course_grader.checks.zh")


def test_a_submission_is_graded_in_its_notebooks_edition(monkeypatch):
    from course_grader.grading.nbgrader_plugins import align_outputs
    from nbformat.v4 import new_code_cell, new_notebook

    from course.language import graded_in as edition

    monkeypatch.delenv("COURSE_LANGUAGE", raising=False)
    assert edition(new_notebook(metadata={"course_language": "zh"})) == "zh"
    assert edition(new_notebook()) == "en"
    monkeypatch.setenv("COURSE_LANGUAGE", "zh")  # a notebook without the metadata: the class's edition
    assert edition(new_notebook()) == "zh"
    assert edition(new_notebook(metadata={"course_language": "xx"})) == "zh"
    cell = new_code_cell("")
    with use_language("zh"):
        align_outputs(cell, False, "失败的原因")
    assert cell.outputs[0].traceback == ["在单独的进程中评分时，这个测试没有通过：失败的原因"]


# ------------------------------------------------------------------------------- a wrong answer, both editions

def _unbiased_layer_norm(x, weight, bias, eps=1e-5):
    var, mean = torch.var_mean(x, dim=-1, keepdim=True)  # d - 1: the classic mistake
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


def test_a_wrong_layer_norm_fails_in_chinese_in_the_chinese_edition():
    with use_language("zh"):
        err = assert_rejected("03-layernorm", "layer_norm_tests", tree="source-zh", layer_norm=_unbiased_layer_norm)
    said = str(err)
    assert CJK.search(said), said
    assert "layer_norm([[1, 3]])" in said and "除以 d" in said, said
    with use_language("en"):
        err = assert_rejected("03-layernorm", "layer_norm_tests", layer_norm=_unbiased_layer_norm)
    assert str(err) == "layer_norm([[1, 3]]): you divided by d - 1 (the unbiased variance, torch.var's default): " \
                       "LayerNorm divides by d, see Part 1, detail 1"


def test_a_hidden_check_and_a_borrowed_function_speak_chinese_too():
    from course_grader.checks import ch03_layernorm as hidden

    def eps_ignored(x, weight, bias, eps=1e-5):
        var, mean = torch.var_mean(x, dim=-1, keepdim=True, correction=0)
        return (x - mean) / torch.sqrt(var + 1e-5) * weight + bias

    with use_language("zh"), pytest.raises(AssertionError) as err:
        hidden.check_layer_norm(eps_ignored)
    assert CJK.search(str(err.value)) and "eps" in str(err.value), str(err.value)
    with use_language("zh"), pytest.raises(AssertionError) as err:
        hidden.check_layer_norm(lambda x, w, b, eps=1e-5: torch.nn.functional.layer_norm(x, x.shape[-1:], w, b, eps))
    assert "不能调用" in str(err.value) and "F.layer_norm" in str(err.value), str(err.value)
    with use_language("en"), pytest.raises(AssertionError, match="may not call"):
        hidden.check_layer_norm(lambda x, w, b, eps=1e-5: torch.nn.functional.layer_norm(x, x.shape[-1:], w, b, eps))


def _unscaled_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1)  # no 1/√d_k: the mistake chapter 05's test cell names
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)
    return weights @ v, weights


def test_a_wrong_attention_fails_in_chinese_in_the_chinese_edition():
    with use_language("zh"):
        err = assert_rejected("05-attention", "attention_tests", tree="source-zh",
                              scaled_dot_product_attention=_unscaled_attention)
    said = str(err)
    assert said.startswith("手算示例的权重"), said  # the case's name and the mistake, both in Chinese
    assert "未缩放的分数 q·kᵀ" in said and "√d_k" in said and "第 1 部分" in said, said
    with use_language("en"):
        err = assert_rejected("05-attention", "attention_tests", scaled_dot_product_attention=_unscaled_attention)
    assert str(err) == "weights of the hand-worked case: they match the unscaled scores q·kᵀ: divide by √d_k, " \
                       "d_k = the last dim of q and k (Part 1)"


def test_a_chapter_07_hint_follows_a_raised_error_in_both_editions():
    """The hint is added when the student's layer raised: read in the English text of the error (messages.english),
    whatever language the error was written in."""
    from torch import nn

    from course.checks import ch07_encoder_decoder as ref

    class Raising(nn.Module):
        def forward(self, x, mask=None):
            raise RuntimeError("shapes do not match")

    hint = "each layer gets the same mask; see Part 4"
    for lang, raised, shown in (("zh", "抛出了 RuntimeError", "每一层都得到同一个掩码"), ("en", "raised RuntimeError", hint)):
        with use_language(lang), pytest.raises(AssertionError) as err:
            ref._run(Raising(), torch.zeros(1, 2, 4), None, hint=hint)
        assert raised in str(err.value) and shown in str(err.value), str(err.value)


def test_the_tamper_scan_and_the_intake_notes_speak_the_editions_language(tmp_path):
    from course_grader.grading.scan import scan_source
    from course_grader.intake import prepare

    with use_language("zh"):
        (finding,) = scan_source("torch.allclose = max\n", "answer")
    assert finding.message == "赋值给 torch.allclose：不允许修改库函数和库对象", finding.message
    (finding,) = scan_source("torch.allclose = max\n", "answer")
    assert finding.message == "assigns to torch.allclose: changing library functions and objects is not allowed"
    a = "03-layernorm"
    for tree, phrase in (("release-zh", "不是有效的 JSON"), ("release", "not valid JSON")):  # the graded notebook's
        folder = tmp_path / tree / a
        folder.mkdir(parents=True)
        (folder / f"{a}.ipynb").write_text('{"cells": [')
        (note,) = prepare(folder, ROOT / tree / a / f"{a}.ipynb")
        assert phrase in note, note


def test_a_wrong_embed_fails_in_chinese_in_the_chinese_edition():
    """Chapter 08: a known mistake named by the test cell (ref.explain), and a call tried with second values
    (ref.second_values, whose prefix says which values) in the edition's language."""
    def unscaled(ids, emb, pos=None):
        return emb(ids) + (0 if pos is None else pos[: ids.shape[1]])

    def factor_written_in(ids, emb, pos=None):  # √4 = 2 for the first embedding, whatever d_model is
        return emb(ids) * 2.0 + (0 if pos is None else pos[: ids.shape[1]])

    with use_language("zh"):
        said = str(assert_rejected("08-transformer", "embed_tests", tree="source-zh", embed=unscaled))
        second = str(assert_rejected("08-transformer", "embed_tests", tree="source-zh", embed=factor_written_in))
    assert said == "embed：词元嵌入没有缩放；请把它们乘以 √d_model（第 2 部分）", said
    assert second.startswith("embed(形状为 (2, 2) 的 ids, embedding=nn.Embedding(3, 9)") and "系数是 √9 = 3" in second, \
        second
    with use_language("en"):
        said = str(assert_rejected("08-transformer", "embed_tests", embed=unscaled))
        second = str(assert_rejected("08-transformer", "embed_tests", embed=factor_written_in))
    assert said == "embed: the token embeddings are not scaled; multiply them by √d_model (Part 2)", said
    assert second.startswith("embed(ids (2, 2), embedding=nn.Embedding(3, 9), positions (4, 9)): the factor is √9 = 3"), \
        second


# ----------------------------------------------------------------------------------------------- end to end

WRONG_ANSWER = '''def layer_norm(x, weight, bias, eps=1e-5):
    var, mean = torch.var_mean(x, dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight + bias
'''


@pytest.mark.slow
def test_a_wrong_answer_graded_in_the_chinese_edition_gets_chinese_feedback(tmp_path, monkeypatch):
    import nbformat
    from course_grader import pipeline

    a = "03-layernorm"
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    for tree in ("source", "source-zh"):
        shutil.copytree(ROOT / tree / a, course / tree / a)
    monkeypatch.setenv("COURSE_LANGUAGE", "zh")
    pipeline.release(course, a, ["zh"])
    nb = nbformat.read(course / "source-zh" / a / f"{a}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "layer_norm":
            cell.source = WRONG_ANSWER
    dest = course / "submitted" / "wrong" / a
    dest.mkdir(parents=True)
    nbformat.write(nb, dest / f"{a}.ipynb")
    pipeline.autograde(a, root=course, jobs=1)
    graded = nbformat.read(course / "autograded" / "wrong" / a / f"{a}.ipynb", as_version=4)
    test = next(c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "layer_norm_tests")
    errors = [o for o in test.outputs if o.output_type == "error"]
    assert len(errors) == 2, test.outputs  # the judge's verdict first, then the kernel run's own traceback
    for output in errors:
        assert "除以 d" in output.evalue, output.evalue
