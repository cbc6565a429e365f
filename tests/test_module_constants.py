"""Every module of the package binds each of its module-level names once.

A second ``NAME = ...`` further down a module silently replaces the first for every function that reads it,
including functions defined above the second binding: in session 29 a new generator option re-bound
``_synthetic_pigment.GRANULAR_HAZE`` and changed the default near-black granular tiles (and so the training rows
of a shipped model) without any test noticing.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mmnst_path"


def _rebound(source: str) -> list[str]:
    counts: Counter[str] = Counter()
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else [])
        counts.update(t.id for t in targets if isinstance(t, ast.Name))
    return sorted(name for name, n in counts.items() if n > 1)


def test_the_check_sees_a_second_binding() -> None:
    assert _rebound("A = 1\ndef f():\n    return A\nA = 2\nB: int = 3\n") == ["A"]
    assert _rebound("A = 1\nB = A\n") == []


def test_no_module_rebinds_a_module_level_name() -> None:
    found = {str(p.relative_to(PACKAGE)): names for p in sorted(PACKAGE.rglob("*.py"))
             if (names := _rebound(p.read_text(encoding="utf-8")))}
    assert not found, f"module-level names bound twice: {found}"
