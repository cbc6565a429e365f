"""What the two tissue trainers share (``scripts/train_tissue_model.py`` and ``scripts/train_tissue_ihc_model.py``,
session 29): the forest options, ``--add-evaluation``, the train / held-out split of the rows, the held-out
reports. Imported by them, which put the project and ``scripts/`` on ``sys.path``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from mmnst_path.classify.train import class_report


def forest_options(ap: argparse.ArgumentParser) -> None:
    """``--trees``, ``--depth``, ``--leaf``: the random forest's size (defaults 24, 12, 15)."""
    ap.add_argument("--trees", type=int, default=24)
    ap.add_argument("--depth", type=int, default=12)
    ap.add_argument("--leaf", type=int, default=15)


def add_evaluation(out: Path, evaluation: Path, **card: Any) -> int:
    """``--add-evaluation``: merge the JSON file ``evaluation`` into the card of the tissue model at ``out`` as
    ``card['evaluation']``, set the other ``card`` entries given, and save it again; returns the exit status 0."""
    from mmnst_path.classify import load_model

    model = load_model(out, kind="tissue")
    model.card["evaluation"] = json.loads(evaluation.read_text(encoding="utf-8"))
    model.card.update(card)
    replace(model).save(out)
    print(f"wrote {out} ({load_model(out).model_id})", file=sys.stderr)
    return 0


@dataclass
class SplitRows:
    """Feature rows and class indices split into training and held-out parts as they come, image by image; the
    held-out ones also per source, the training ones with their source per row."""

    tr_x: list[np.ndarray] = field(default_factory=list)
    tr_y: list[np.ndarray] = field(default_factory=list)
    va_x: list[np.ndarray] = field(default_factory=list)
    va_y: list[np.ndarray] = field(default_factory=list)
    per_source: dict[str, list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    tr_src: list[np.ndarray] = field(default_factory=list)

    def add(self, src: str, x: np.ndarray, y: np.ndarray, held: bool) -> None:
        (self.va_x if held else self.tr_x).append(x)
        (self.va_y if held else self.tr_y).append(y)
        if held:
            self.per_source.setdefault(src, []).append((x, y))
        else:
            self.tr_src.append(np.full(len(y), src, dtype="<U16"))

    def per_source_reports(self, model: Any, classes: tuple[str, ...]) -> dict[str, dict]:
        """The held-out class report of every source with held-out rows."""
        return {src: class_report(np.concatenate([p[1] for p in parts]),
                                  model.predict(np.concatenate([p[0] for p in parts])), classes)
                for src, parts in self.per_source.items()}


def report_line(rep: dict) -> str:
    """Accuracy and per-class precision / recall of a class report (classes with support only)."""
    return f"acc {rep['accuracy']:.3f} " + " ".join(
        f"{c}:P{v['precision']:.2f}/R{v['recall']:.2f}(n={v['support']})" for c, v in rep["per_class"].items()
        if v["support"])


def print_saved(out: Path, model: Any, t0: float) -> None:
    """The closing line: the model file, its size, id and node count, and the seconds since ``t0``."""
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {model.model_id}, "
          f"{model.forest.n_nodes} nodes) in {time.time() - t0:.0f} s", file=sys.stderr)
