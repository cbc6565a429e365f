"""Fixtures of the napari plugin tests: real data in ../shared/data, the project's sample tiles."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SHARED_DATA = (PROJECT_ROOT / ".." / "shared" / "data").resolve()
SAMPLE_TILES = PROJECT_ROOT / "sample_tiles"


@pytest.fixture(scope="session")
def wsi_dir() -> Path:
    """Real slides (read in place). Missing data is an error, not a skip."""
    d = SHARED_DATA / "wsi"
    if not d.is_dir():
        pytest.fail(f"real test data not found at {d}: clone the project next to shared/")
    return d


@pytest.fixture(scope="session")
def sample_tiles() -> Path:
    """The project's generated sample tiles."""
    if not (SAMPLE_TILES / "truth.json").is_file():
        pytest.fail(f"sample tiles not found in {SAMPLE_TILES}: run sample_tiles/generate.py")
    return SAMPLE_TILES


@pytest.fixture(autouse=True)
def _own_places(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test remembers its result places (the folders a result was opened from, where an image opened alone
    looks for its results) in a folder of its own, never the user's ~/.config."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))


@pytest.fixture(autouse=True)
def _no_unanswered_question(monkeypatch: pytest.MonkeyPatch) -> None:
    """A widget's Yes / No message box would wait for a click forever under pytest: a test that makes a widget ask
    answers it (monkeypatching ``QMessageBox.question`` again); an unanswered one fails the test."""
    from qtpy.QtWidgets import QMessageBox

    def unanswered(*args: object, **_kw: object) -> None:
        pytest.fail(f"a widget asked a question the test did not answer: {args[2] if len(args) > 2 else args}")

    monkeypatch.setattr(QMessageBox, "question", staticmethod(unanswered))
