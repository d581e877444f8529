"""An import every grading process skips: ``rfc3987_syntax``, which costs about two seconds and is never used.

Importing ``nbformat`` (nbgrader, nbclient) imports ``jsonschema``, whose format checkers import
``rfc3987_syntax`` when it is installed (it comes with ``jsonschema[format-nongpl]``, which
``jupyter-events`` asks for); that module builds about 35 Earley parsers when imported (1.98 s measured
here, 2026-12-05), only to check the "iri" and "iri-reference" string formats, which no notebook schema
uses (jsonschema issue #1428; opendatahub-io/notebooks issue #3532). ``jsonschema`` imports it inside
``suppress(ImportError)``, so a ``None`` in ``sys.modules`` makes it skip those two formats, nothing else.
"""

from __future__ import annotations

import functools
import sys

UNUSED = ("rfc3987_syntax",)


def skip_unused() -> None:
    """Make ``import rfc3987_syntax`` fail fast in this process (call it before nbformat is imported)."""
    for name in UNUSED:
        sys.modules.setdefault(name, None)


def imports_of(*sources: str) -> list[str]:
    """The modules the code in ``sources`` imports, in order (``from a import b`` names ``a`` and, in case it is
    a submodule, ``a.b``); code that does not parse names none. What a warm process loads before forking."""
    return list(dict.fromkeys(name for source in sources for name in _imports_in(source)))


@functools.lru_cache(maxsize=1024)  # the locked cells of an assignment, the same in every submission
def _imports_in(source: str) -> tuple[str, ...]:
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ()
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*")]
    return tuple(names)


def load(names: list[str]) -> None:
    """Import each of ``names`` that exists (a ``from`` import's attribute is not a module: skipped)."""
    import importlib

    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            continue


def import_all(package: str) -> list[str]:
    """Import a package and every module in it (one level); their names."""
    import importlib
    import pkgutil

    found = [f"{package}.{info.name}" for info in pkgutil.iter_modules(importlib.import_module(package).__path__)]
    for name in found:
        importlib.import_module(name)
    return found
