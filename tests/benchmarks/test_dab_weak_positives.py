"""The DAB weak-positive dev diagnosis (benchmarks/experiments/dab_weak_positives.py, issue #14, session 31 H7):
its offline threshold simulation on a hand-made per-nucleus dump, and the ki67_cells_tile truth masks it builds."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dwp():
    for sub in ("benchmarks", "benchmarks/experiments"):
        if str(ROOT / sub) not in sys.path:
            sys.path.insert(0, str(ROOT / sub))
    import dab_weak_positives

    return dab_weak_positives


def _dump(path: Path, tiles: list[tuple[str, float, float, list[tuple[str, float]]]]) -> Path:
    """Write a per-nucleus dump and its tiles' rows: (set, truth %, dumped threshold, [(class, DAB OD)])."""
    nuc, rows = [], []
    for seed, (kind, truth, thr, cells) in enumerate(tiles):
        for cls, od in cells:
            nuc.append({"positives": kind, "family": "none", "seed": seed, "cls": cls, "red_od": od})
        pos = sum(c == "positive" for c, _ in cells)
        idx = sum(c in ("positive", "negative") for c, _ in cells)
        rows.append({"positives": kind, "family": "none", "seed": seed, "true": truth, "threshold": thr,
                     "measured": 100 * pos / idx, "error": 100 * pos / idx - truth})
    for p, data in ((path, nuc), (path.with_name(path.stem + "_tiles.csv"), rows)):
        with p.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(data[0]))
            w.writeheader()
            w.writerows(data)
    return path


def _table(text: str) -> dict[tuple[str, str, str], list[float]]:
    out = {}
    for line in text.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        out[tuple(cells[:3])] = [float(c) for c in cells[3:]]
    return out


def test_simulation_reproduces_the_dump_and_counts_faint_positives(dwp, tmp_path):
    # a tile with 20 unstained nuclei at 0.03, 10 faint positives at 0.16 read negative, 10 strong positives:
    # HEAD's threshold stays 0.35 (stained median high); the baseline form (0.03 + 0.10) counts the faint ones
    cells = [("negative", 0.03)] * 20 + [("negative", 0.16)] * 10 + [("positive", 1.2)] * 10 + [("excluded", 0.5)]
    path = _dump(tmp_path / "d.csv", [("wide", 50.0, 0.35, cells)])
    t = _table(dwp.simulate(path, [("head", 0.0, 0.0), ("thr", 0.0, 0.0), ("baseline", 0.10, 0.10),
                                   ("min", 0.10, 0.10), ("baseline", 0.10, 0.20)]))
    wide = dwp.SETS.index("wide")
    assert t[("head", "0.0", "0.0")][wide] == pytest.approx(25.0)  # 10 of 40 read, truth 50
    assert t[("thr", "0.0", "0.0")][wide] == t[("head", "0.0", "0.0")][wide]  # HEAD's threshold recomputed: no change
    assert t[("baseline", "0.1", "0.1")][wide] == pytest.approx(0.0)  # the excluded nucleus is not flipped
    assert t[("min", "0.1", "0.1")][wide] == pytest.approx(0.0)
    assert t[("baseline", "0.1", "0.2")][wide] == pytest.approx(25.0)  # the floor holds the threshold at 0.2


def test_a_higher_threshold_takes_back_the_positives_below_it(dwp, tmp_path):
    # weakly stained slide: HEAD adapted the threshold down to 0.25, positives at 0.27 were flipped; the baseline
    # form (0.15 + 0.15 = 0.30) is higher and takes them back (but not the tile-level positives above it)
    cells = [("negative", 0.15)] * 20 + [("positive", 0.27)] * 10 + [("positive", 0.32)] * 10
    path = _dump(tmp_path / "d.csv", [("standard", 50.0, 0.25, cells)])
    t = _table(dwp.simulate(path, [("baseline", 0.15, 0.10), ("min", 0.15, 0.10)]))
    std = dwp.SETS.index("standard")
    assert t[("baseline", "0.15", "0.1")][std] == pytest.approx(25.0)  # 10 of 40 positive
    assert t[("min", "0.15", "0.1")][std] == pytest.approx(0.0)  # min keeps HEAD's lower threshold


def test_cells_tile_masks_are_the_tumour_nuclei_and_their_positives(dwp):
    tile = dwp.cells_tile(40)
    truth = tile.truth
    labels = np.unique(tile.masks["nuclei"])[1:]
    assert len(labels) == truth["n_tumour"]  # stroma, lymphocytes, macrophages dropped
    pos = np.unique(tile.masks["nuclei"][tile.masks["positive_nuclei"]])
    assert len(pos) == truth["ki67_positive"]
    assert not tile.masks["melanin"].any()
