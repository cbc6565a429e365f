"""Per-input outputs of ``mmnst-path quantify``: cells.csv(.gz), cells.geojson, PNGs, --roi, progress lines."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import numpy as np
from PIL import Image

from mmnst_path._geojson_regions import is_run_region
from mmnst_path.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "sample_tiles"


def _tif(path: Path, rgb: np.ndarray) -> Path:
    import tifffile

    tifffile.imwrite(path, rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    return path


def test_outputs_and_roi(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import tifffile

    tif = _tif(tmp_path / "tile.tif", tifffile.imread(SAMPLES / "ki67_pigmented.tif")[:400, :400])
    out = tmp_path / "out"
    assert main(["quantify", str(tif), "--out", str(out), "--workers", "1", "--stains", "H-DAB"]) == 0
    err = capsys.readouterr().err
    assert "[1/1]" in err  # plain progress lines when stderr is not a terminal
    folder = out / "tile"
    plain = (folder / "cells.csv").read_bytes()
    assert gzip.decompress((folder / "cells.csv.gz").read_bytes()) == plain
    row = next(csv.DictReader((out / "summary.csv").open()))
    doc = json.loads((folder / "cells.geojson").read_text(encoding="utf-8"))
    ann = [f for f in doc["features"] if f["properties"]["objectType"] == "annotation"
           and not is_run_region(f["properties"])]  # (hot spot, melanin, tissue classes: session 42 H9)
    det = [f for f in doc["features"] if f["properties"]["objectType"] == "detection"]
    assert len(det) == len(plain.decode().splitlines()) - 1
    (whole,) = ann
    assert whole["properties"]["measurements"]["Num Positive"] == int(row["ki67_positive"])
    assert whole["properties"]["measurements"]["Num Negative"] == int(row["ki67_negative"])
    assert abs(whole["properties"]["measurements"]["Positive %"] - float(row["ki67_index_pct"])) < 1e-3
    # PNGs: tissue.png is the thumbnail, overlay.png three panels of it (tissue, Ki67, melanin; none for necrosis,
    # not measured on H-DAB: session 42 H9)
    tissue = np.asarray(Image.open(folder / "tissue.png"))
    overlay = np.asarray(Image.open(folder / "overlay.png"))
    assert tissue.shape[2] == 3
    assert overlay.shape[0] == tissue.shape[0]
    assert overlay.shape[1] == 3 * tissue.shape[1] + 8
    melanin_panel = overlay[:, 2 * (tissue.shape[1] + 4) : 3 * tissue.shape[1] + 8].astype(int)
    assert np.abs(melanin_panel - tissue).mean() > 1  # the melanin map is drawn over the thumbnail

    # --roi: the left half only, QuPath coordinates (x = col + 0.5)
    roi = tmp_path / "left.geojson"
    roi.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": "9a0b7a3e-2f1c-4c55-9a8d-3c6b1e2f4a10",
        "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [200, 400], [0, 400], [0, 0]]]},
        "properties": {"objectType": "annotation", "name": "left"}}]}))
    out2 = tmp_path / "roi"
    assert main(["quantify", str(tif), "--out", str(out2), "--workers", "1", "--stains", "H-DAB", "--roi", str(roi),
                 "--quiet"]) == 0
    row2 = next(csv.DictReader((out2 / "summary.csv").open()))
    cells = list(csv.DictReader((out2 / "tile" / "cells.csv").open()))
    assert 0 < int(row2["ki67_negative"]) < int(row["ki67_negative"])
    assert all(float(c["x"]) < 200 for c in cells)
    doc2 = json.loads((out2 / "tile" / "cells.geojson").read_text(encoding="utf-8"))
    (left,) = [f for f in doc2["features"] if f["properties"]["objectType"] == "annotation"
               and not is_run_region(f["properties"])]
    assert left["properties"]["name"] == "left"
    assert left["properties"]["measurements"]["Num Negative"] == int(row2["ki67_negative"])
    assert float(row2["tissue_area_mm2"]) < float(row["tissue_area_mm2"])
    assert main(["quantify", str(tif), "--out", str(tmp_path / "x"), "--roi", str(tmp_path / "none.geojson")]) == 2


def test_quiet_prints_no_progress(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    tif = _tif(tmp_path / "blank.tif", np.full((64, 64, 3), 250, np.uint8))
    assert main(["quantify", str(tif), "--out", str(tmp_path / "o"), "--quiet", "--workers", "1"]) == 0
    assert capsys.readouterr().err == ""


def test_rich_progress_shows_inputs_and_tiles() -> None:
    import io

    from rich.console import Console

    from mmnst_path.cli._quantify import _RichProgress

    buf = io.StringIO()
    p = _RichProgress(Console(file=buf, force_terminal=True, width=120))
    p.batch_started(2)
    p.input_started(0, Path("a.svs"))
    p.tiles(3, 6)
    p.input_finished(0, Path("a.svs"), {"status": "ok"}, skipped=False, seconds=1.0)
    p.progress.refresh()
    p.close()
    text = buf.getvalue()
    assert "inputs" in text
    assert "tiles of a.svs" in text
    assert "3/6" in text
    assert "a.svs: " in text
