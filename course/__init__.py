"""The Transformer from first principles: helpers shared by the course notebooks.

Notebooks import from here: plotting style, widgets, checks used by graded cells, the glossary,
and (in later chapters) reference blocks, data and training code.
"""

__version__ = "0.1.0"
