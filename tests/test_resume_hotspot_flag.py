"""``--resume`` over inputs analysed before session 32 (whose stored summary row has no
``ki67_hotspot_meets_min_nuclei``): the flag is derived on read from the stored row (its own flag,
else its hot-spot nuclei against the stored minimum), without re-running the input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from mmnst_path.cli import main

ROOT = Path(__file__).resolve().parents[1]
KEY = "ki67_hotspot_meets_min_nuclei"


def _summary(out: Path) -> dict[str, str]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    return row


@pytest.mark.parametrize(("drop", "older_flag", "stored_min", "want"), [
    # a row of session 32: the flag under its older name only (True here although 50 <= nuclei < 500:
    # the row's own flag is read, not re-derived)
    ((KEY,), True, None, "true"),
    ((KEY, "hotspot_meets_min_nuclei", "hotspot_min_nuclei"), None, None, "false"),  # older: config's minimum 500
    ((KEY, "hotspot_meets_min_nuclei", "hotspot_min_nuclei"), None, 50, "true"),  # the stored config's minimum is read
])
def test_resume_fills_the_hotspot_flag_of_rows_written_before_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 drop: tuple[str, ...], older_flag: bool | None,
                                                                 stored_min: int | None, want: str) -> None:
    """Mutations caught: the stored row reused as it is (an empty cell); the minimum not read from the
    stored config (empty cell or the wrong answer)."""
    import tifffile

    src = tmp_path / "in"
    src.mkdir()
    rgb = tifffile.imread(ROOT / "sample_tiles" / "ki67_recurrence.tif")[:256, :256]
    tifffile.imwrite(src / "t.tif", rgb, photometric="rgb", resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    out = tmp_path / "out"
    args = ["quantify", str(src), "--out", str(out), "--workers", "1", "--measures", "ki67"]
    assert main(args) == 0
    fresh = _summary(out)
    assert fresh[KEY] == "false"  # a 256 px tile: no window holds 500 tumour nuclei
    nuclei = int(fresh["ki67_hotspot_nuclei"])
    assert 50 <= nuclei < 500
    doc_path = out / "t" / "result.json"
    doc = json.loads(doc_path.read_text(encoding="utf-8"))
    for key in drop:  # as an earlier version wrote it
        doc["summary_row"].pop(key, None)
    if older_flag is not None:
        doc["summary_row"]["hotspot_meets_min_nuclei"] = older_flag
    if stored_min is not None:
        doc["config"]["hotspot_min_nuclei"] = stored_min
    doc_path.write_text(json.dumps(doc), encoding="utf-8")
    stamp = doc_path.stat().st_mtime_ns
    capsys.readouterr()
    assert main([*args, "--resume"]) == 0
    assert "up to date, skipped" in capsys.readouterr().err  # not re-run
    assert doc_path.stat().st_mtime_ns == stamp
    resumed = _summary(out)
    assert resumed[KEY] == want
    assert {k: v for k, v in resumed.items() if k not in (KEY, "seconds")} == {
        k: v for k, v in fresh.items() if k not in (KEY, "seconds")}
