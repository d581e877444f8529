"""The grading runtime's parts that make it fast, shown to keep what they promise: the tamper watch's quick
path misses no patch, a layer of the judge's handed to the student's code twice is one object there and
its changes still travel, the warm processes load what a notebook imports, and nbgrader starts without
the import it never uses."""

import subprocess
import sys

import nbformat
import torch
from course_grader.grading.isolated import grade_notebook
from course_grader.grading.runtime import wire
from course_grader.grading.runtime.imports import imports_of
from course_grader.grading.runtime.watch import Watch
from torch import nn

from tools import nbauthor as nba

SETUP = "import torch\nfrom torch import nn\nfrom course.notebook import setup\nsetup()"


# --- the watch ----------------------------------------------------------------------------------

def test_the_watch_sees_a_patch_through_its_quick_path_and_forgives_nothing_restored_late():
    watch = Watch()
    assert watch.changed() == []
    original = torch.allclose
    try:
        torch.allclose = lambda *a, **k: True
        assert watch.changed() == ["torch.allclose"]
    finally:
        torch.allclose = original
    assert watch.changed() == []


def test_the_watch_sees_a_method_added_that_shadows_an_inherited_one():
    watch = Watch()
    try:
        nn.Linear.__eq__ = lambda self, other: True  # Linear had no __eq__ of its own: object's was found
        assert "torch.nn.Linear.__eq__" in watch.changed()
    finally:
        del nn.Linear.__eq__
    assert watch.changed() == []


def test_the_watch_sees_a_deleted_function_and_ignores_a_new_private_name():
    watch = Watch()
    import course.checks.core as core

    core._a_cache_filled_later = 1  # a module's own private state may change: not a patch
    try:
        assert watch.changed() == []
        saved = core.close
        del core.close
        try:
            assert "course.checks.core.close" in watch.changed()
        finally:
            core.close = saved
    finally:
        del core._a_cache_filled_later
    assert watch.changed() == []


# --- the judge's layers, sent by state ---------------------------------------------------------

def test_a_layer_sent_twice_in_a_cell_is_one_twin_and_a_changed_layer_is_sent_again():
    layers, twins = wire.SentLayers(), []

    def send(value):
        data, blob, _ = wire.dumps(value, lambda fn: {"callback": 0, "name": "hook"}, modules=True, layers=layers)
        decoder = wire.Decoder(blob, lambda ref: (lambda *a: None), module_class=lambda name: nn.Linear, modules=twins)
        return data, decoder.value(data)

    layer = nn.Linear(3, 2)
    first_data, first = send([layer, layer])
    assert first[0] is first[1] and len(twins) == 1
    again_data, again = send(layer)
    assert again_data == {"twin": 0} and again is first[0]  # unchanged: its number alone
    with torch.no_grad():
        layer.weight.mul_(2.0)  # the judge changed it in place
    changed_data, changed = send(layer)
    assert "vars" in changed_data and changed is first[0]  # the same twin, with the new state
    assert torch.equal(changed.weight, layer.weight)
    layer.weight.data.add_(1.0)  # a change through .data bumps no version, and every identity stays: still seen
    data, changed = send(layer)
    assert "vars" in data and torch.equal(changed.weight, layer.weight)
    layer.calls = []
    send(layer)
    layer.calls.append(1)  # public data changed in place
    data, changed = send(layer)
    assert "vars" in data and changed.calls == [1]
    layer.weight.grad = torch.ones_like(layer.weight)
    send(layer)
    layer.zero_grad()  # the gradient set to None
    data, changed = send(layer)
    assert "vars" in data and changed.weight.grad is None
    assert send(layer)[0] == {"twin": 0}
    handle = layer.register_forward_hook(lambda *a: None)  # a hook dict changed in place
    data, changed = send(layer)
    assert "vars" in data and len(changed._forward_hooks) == 1
    handle.remove()
    data, changed = send(layer)
    assert "vars" in data and len(changed._forward_hooks) == 0


def test_through_the_grader_the_student_sees_one_object_per_layer_and_its_changes(tmp_path):
    answer = ("seen = []\n\ndef keep(layer, x):\n    ### BEGIN SOLUTION\n    seen.append(layer)\n"
              "    return len({id(s) for s in seen}), layer(x)\n    ### END SOLUTION")
    test = ("import torch\nfrom torch import nn\nfrom course.checks import check, close\n"
            "torch.manual_seed(0)\nlin = nn.Linear(4, 3)\nx = torch.randn(2, 4)\n"
            "n, y = keep(lin, x)\ncheck(n == 1, 'one twin')\nclose(y, lin(x).detach(), name='first')\n"
            "n, y = keep(lin, x)\ncheck(n == 1, f'still one twin, got {n}')\n"
            "with torch.no_grad():\n    lin.weight.mul_(3.0)\n"
            "n, y = keep(lin, x)\ncheck(n == 1, 'one twin after a change')\nclose(y, lin(x).detach(), name='changed')\n")
    cells = [nba.md("# t"), nba.code(SETUP), nba.answer("keep", answer), nba.tests("keep_test", 1, test)]
    nb = nbformat.read(nba.save(tmp_path / "t.ipynb", cells), as_version=4)
    report = grade_notebook(nb)
    verdict = report.verdicts["keep_test"]
    assert verdict.passed, verdict.message


# --- what the warm processes load ---------------------------------------------------------------

def test_imports_of_names_modules_and_possible_submodules_in_order():
    source = ("import math\nimport torch.nn.functional as F\nfrom course.experiments import ch02_tensors as ex\n"
              "from .relative import nothing\nfrom course import glossary, notebook\n")
    assert imports_of(source, "def broken(:") == [
        "math", "torch.nn.functional", "course.experiments", "course.experiments.ch02_tensors", "course",
        "course.glossary", "course.notebook"]


def test_nbgrader_starts_without_the_unused_iri_validator():
    probe = ("import course_grader.nbgrader_cli, sys, nbformat, jsonschema\n"
             "print(sys.modules.get('rfc3987_syntax') is None)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"
    version = subprocess.run([sys.executable, "-m", "course_grader.nbgrader_cli", "--version"], capture_output=True,
                             text=True, check=True).stdout
    assert "nbgrader version" in version
