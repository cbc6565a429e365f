"""Analyze's plan (no Qt): the CLI's stain detection, measures the stains refuse said in words,
estimated stain vectors from a region."""

from __future__ import annotations

import pytest
from mmnst_path_napari._analysis import plan_analysis

from mmnst_path import Box, open_slide
from mmnst_path.pipeline import AnalysisConfig


@pytest.fixture(scope="module")
def cmu(wsi_dir):
    with open_slide(str(wsi_dir / "CMU-1-Small-Region.svs")) as reader:
        yield reader


def _mapping(stains: str = "auto") -> dict:
    m = AnalysisConfig().to_mapping()
    m["stains"] = stains
    return m


def test_auto_detects_he_and_refuses_ki67_in_words(cmu):
    plan = plan_analysis(cmu, _mapping(), ticked=("ki67", "melanin", "necrosis"))
    assert plan.stains == "H&E"
    assert plan.stains_source == "detected from the image"
    assert plan.config.stains == "H&E"
    assert plan.config.measures == ("melanin", "necrosis")
    (msg,) = plan.refused
    assert msg.startswith("Ki67 NOT measured")
    assert "no Ki67 chromogen (DAB, AEC, Fast Red)" in msg
    assert "[" not in msg  # in words, no Python list of stain names (session 34's shots)


def test_only_ki67_on_he_is_an_error_that_says_why(cmu):
    with pytest.raises(ValueError, match="nothing to measure: Ki67 NOT measured"):
        plan_analysis(cmu, _mapping(), ticked=("ki67",))


def test_chosen_ihc_stains_refuse_necrosis(cmu):
    plan = plan_analysis(cmu, _mapping("H-DAB"), ticked=("ki67", "necrosis"))
    assert plan.stains_source == "chosen"
    assert plan.config.measures == ("ki67",)
    assert plan.refused[0] == ("necrosis NOT measured: it needs an H&E slide (eosin); the stains H-DAB have no eosin "
                               "(untick necrosis for IHC slides)")


def test_estimated_vectors_keep_the_detected_reference(cmu):
    plan = plan_analysis(
        cmu, _mapping(), ticked=("melanin", "necrosis"), estimate_box=Box(1000, 600, 1024, 1024)
    )
    assert plan.stains == "H&E"
    assert plan.stains_source.startswith("estimated from the view (reference H&E")
    assert plan.config.stains.lstrip().startswith("{")  # the estimated matrix itself
    assert plan.config.measures == ("melanin", "necrosis")


def test_a_script_without_main_guard_does_not_hang(tmp_path, wsi_dir):
    """The GUI analysis spawns no process: a script without ``if __name__ == "__main__":`` (which
    a spawned pool re-imports, and hung at "tiles 0/6") runs to the end."""
    import subprocess
    import sys

    script = tmp_path / "no_guard.py"
    script.write_text(
        "import numpy as np\n"
        "from mmnst_path import open_slide\n"
        "from mmnst_path.pipeline import AnalysisConfig\n"
        "from mmnst_path_napari._analysis import run_analysis\n"
        f"reader = open_slide({str(wsi_dir / 'CMU-1-Small-Region.svs')!r})\n"
        "roi = [np.array([[1000, 600], [1000, 1400], [1800, 1400], [1800, 600]], float)]\n"
        "config = AnalysisConfig.from_mapping({'stains': 'H&E', 'measures': ['melanin']})\n"
        "result = run_analysis(reader, config, mpp=None, roi=roi, threads=2)\n"
        "print('tiles', len(result.tiles))\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=180, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("tiles ")
