"""Session 36 H11 gate: the README job's outputs of two trees agree except where the change may move them.

Usage: python benchmarks/experiments/geojson_clip_gate_s36.py HEAD_OUT BRANCH_OUT

Compares (the rule in /work/notes/s36/h11_report.md): summary.csv cell by cell as text without ``seconds``;
each result.json's ``metrics`` without timing keys; cells.csv and cells.parquet bytes; cells.geojson feature by
feature: ids, properties, geometry type equal; a nucleus ring of HEAD inside the image [0, W] x [0, H] identical;
one reaching outside replaced by a ring inside the image, closed, with >= 4 positions, non-zero area and the area
of HEAD's ring cut to the image by an independent half-plane clip (y sides first, then x; written here, not
imported), within 1e-6 relative. Prints every count; exit 1 on any difference outside these.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path


def _cut(points: list[tuple[float, float]], sign: float, axis: int, bound: float) -> list[tuple[float, float]]:
    """Keep the part of the polygon where ``sign * (p[axis] - bound) >= 0``."""
    out: list[tuple[float, float]] = []
    for k in range(len(points)):
        a, b = points[k], points[(k + 1) % len(points)]
        da, db = sign * (a[axis] - bound), sign * (b[axis] - bound)
        if da >= 0:
            out.append(a)
        if (da >= 0) != (db >= 0):
            t = da / (da - db)
            out.append((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])))
    return out


def _area(points: list[tuple[float, float]] | list[list[float]]) -> float:
    n = len(points)
    return 0.5 * sum(points[k][0] * points[(k + 1) % n][1] - points[(k + 1) % n][0] * points[k][1] for k in range(n))


def _inside(ring: list[list[float]], w: float, h: float) -> bool:
    return all(0 <= x <= w and 0 <= y <= h for x, y in ring)


def main(head: Path, branch: Path) -> int:
    bad = 0
    a_rows = list(csv.DictReader((head / "summary.csv").open(encoding="utf-8")))
    b_rows = list(csv.DictReader((branch / "summary.csv").open(encoding="utf-8")))
    cells = diff = 0
    for ra, rb in zip(a_rows, b_rows, strict=True):
        for key in ra:
            if key == "seconds":
                continue
            cells += 1
            diff += ra[key] != rb.get(key)
    print(f"summary.csv: {len(a_rows)} rows, {cells} cells compared (seconds left out), {diff} differ")
    bad += diff
    for folder in sorted(p for p in head.iterdir() if p.is_dir()):
        other = branch / folder.name
        ja = json.loads((folder / "result.json").read_text(encoding="utf-8"))
        jb = json.loads((other / "result.json").read_text(encoding="utf-8"))
        ma = {k: v for k, v in ja["metrics"].items() if "second" not in k and "time" not in k}
        mb = {k: v for k, v in jb["metrics"].items() if "second" not in k and "time" not in k}
        keys_diff = sorted(k for k in ma.keys() | mb.keys() if ma.get(k) != mb.get(k))
        same_bytes = {name: (folder / name).read_bytes() == (other / name).read_bytes()
                      for name in ("cells.csv", "cells.parquet")}
        h, w = ja["shape"][:2]
        fa = json.loads((folder / "cells.geojson").read_text(encoding="utf-8"))["features"]
        fb = json.loads((other / "cells.geojson").read_text(encoding="utf-8"))["features"]
        n_props = n_inside_changed = n_clipped = n_clip_bad = 0
        worst = 0.0
        for a, b in zip(fa, fb, strict=True):
            n_props += a["id"] != b["id"] or a["properties"] != b["properties"] or (
                a["geometry"]["type"] != b["geometry"]["type"])
            ga, gb = a["geometry"], b["geometry"]
            if ga["type"] != "Polygon" or a["properties"].get("objectType") != "detection":
                n_inside_changed += ga != gb
                continue
            ring_a = ga["coordinates"][0]
            if _inside(ring_a, w, h):
                n_inside_changed += ga != gb
                continue
            n_clipped += 1
            ring_b = gb["coordinates"][0]
            pts = [(float(x), float(y)) for x, y in ring_a[:-1]]
            for sign, axis, bound in ((1.0, 1, 0.0), (-1.0, 1, float(h)), (1.0, 0, 0.0), (-1.0, 0, float(w))):
                pts = _cut(pts, sign, axis, bound)
            want = abs(_area(pts)) if pts else 0.0
            got = abs(_area(ring_b[:-1]))
            rel = abs(got - want) / want if want else float("inf")
            worst = max(worst, rel)
            ok = (_inside(ring_b, w, h) and ring_b[0] == ring_b[-1] and len(ring_b) >= 4 and got > 0 and rel <= 1e-6)
            n_clip_bad += not ok
        print(f"{folder.name}: metrics keys differing {keys_diff or 0} of {len(ma)}; bytes identical {same_bytes}; "
              f"geojson {len(fa)} vs {len(fb)} features, {n_props} with other id/properties/type, "
              f"{n_inside_changed} inside-image geometries changed, {n_clipped} border rings clipped "
              f"({n_clip_bad} failing the checks, worst relative area error {worst:.3g})")
        bad += len(keys_diff) + (not all(same_bytes.values())) + n_props + n_inside_changed + n_clip_bad
    print("PASS" if bad == 0 else f"FAIL ({bad} differences)")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
