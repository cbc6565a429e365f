"""napari sample-data contribution: the project's generated sample tiles (known truth).

The tiles live in the project's ``sample_tiles/`` folder (written by
``sample_tiles/generate.py``; their true values are in ``sample_tiles/truth.json``). They are
opened with the library reader, so they carry their pixel size (0.5 µm/px) like any slide.
Set ``MMNST_PATH_SAMPLE_TILES`` to use another folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = [
    "SAMPLES",
    "sample_he_melanin",
    "sample_he_necrosis",
    "sample_ki67_aec_pigmented",
    "sample_ki67_azure_b",
    "sample_ki67_mart1_fastred",
    "sample_ki67_pigmented",
    "sample_ki67_primary",
    "sample_ki67_recurrence",
    "sample_tiles_dir",
]

#: sample key -> file name in sample_tiles/
SAMPLES: dict[str, str] = {
    "ki67_primary": "ki67_primary.tif",
    "ki67_recurrence": "ki67_recurrence.tif",
    "ki67_pigmented": "ki67_pigmented.tif",
    "he_melanin": "he_melanin.tif",
    "he_necrosis": "he_necrosis.tif",
    "ki67_aec_pigmented": "ki67_aec_pigmented.tif",
    "ki67_azure_b": "ki67_azure_b.tif",
    "ki67_mart1_fastred": "ki67_mart1_fastred.tif",
}


def sample_tiles_dir() -> Path:
    """Folder holding the sample tiles: $MMNST_PATH_SAMPLE_TILES or the project's sample_tiles/."""
    env = os.environ.get("MMNST_PATH_SAMPLE_TILES")
    if env:
        return Path(env)
    # src/mmnst_path_napari/_sample_data.py -> project root is 4 levels above the package
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "sample_tiles"
        if (candidate / "truth.json").is_file():
            return candidate
    msg = (
        "sample tiles not found: expected a sample_tiles/ folder with truth.json above "
        f"{here.parent} (editable install of the project) or $MMNST_PATH_SAMPLE_TILES"
    )
    raise FileNotFoundError(msg)


def _load(key: str) -> list[tuple[Any, dict[str, Any], str]]:
    from ._reader import read_slide

    path = sample_tiles_dir() / SAMPLES[key]
    if not path.is_file():
        msg = f"sample tile {key!r}: file {path} does not exist (run sample_tiles/generate.py)"
        raise FileNotFoundError(msg)
    return read_slide(path)


def sample_ki67_primary() -> list[tuple[Any, dict[str, Any], str]]:
    """Ki67 IHC tile, about 6 % positive."""
    return _load("ki67_primary")


def sample_ki67_recurrence() -> list[tuple[Any, dict[str, Any], str]]:
    """Ki67 IHC tile, about 40 % positive."""
    return _load("ki67_recurrence")


def sample_ki67_pigmented() -> list[tuple[Any, dict[str, Any], str]]:
    """Ki67 IHC tile with melanin over negative cells."""
    return _load("ki67_pigmented")


def sample_he_melanin() -> list[tuple[Any, dict[str, Any], str]]:
    """H&E tile with melanin pigment."""
    return _load("he_melanin")


def sample_he_necrosis() -> list[tuple[Any, dict[str, Any], str]]:
    """H&E tile with a necrotic area."""
    return _load("he_necrosis")


def sample_ki67_aec_pigmented() -> list[tuple[Any, dict[str, Any], str]]:
    """Ki67 IHC in AEC (red chromogen) with melanin around tumour nuclei."""
    return _load("ki67_aec_pigmented")


def sample_ki67_azure_b() -> list[tuple[Any, dict[str, Any], str]]:
    """Ki67 IHC (DAB) with an azure B counterstain: melanin green-blue."""
    return _load("ki67_azure_b")


def sample_ki67_mart1_fastred() -> list[tuple[Any, dict[str, Any], str]]:
    """Ki67 (DAB) / MART-1 (Fast Red) double stain: the melanocyte-restricted index."""
    return _load("ki67_mart1_fastred")
