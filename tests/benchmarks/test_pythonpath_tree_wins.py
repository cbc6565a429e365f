"""A tree named in PYTHONPATH is the one a benchmark or training script measures (A/B runs against
``git archive REV``): the scripts put their own checkout on ``sys.path`` after PYTHONPATH's entries.
Before session 34 ``accuracy.py`` inserted its checkout first, so a "HEAD" run from a candidate's
worktree measured the candidate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKER = "THE TREE NAMED IN PYTHONPATH WAS IMPORTED"


@pytest.mark.parametrize(("script", "args"), [
    ("benchmarks/accuracy.py", ["--mpp", "0.5", "{empty}"]),
    ("benchmarks/eval_ki67_cells.py", ["--seeds", "1"]),
    ("scripts/train_tissue_model.py", ["--help"]),
])
def test_the_tree_in_pythonpath_is_imported(tmp_path, script, args):
    fake = tmp_path / "tree" / "mmnst_path"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(f"raise ImportError({MARKER!r})\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "tree"))
    argv = [a.replace("{empty}", str(empty)) for a in args]
    run = subprocess.run([sys.executable, str(ROOT / script), *argv], env=env, capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    assert MARKER in run.stderr, (run.returncode, run.stderr[-2000:])
