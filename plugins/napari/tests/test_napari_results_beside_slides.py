"""A new user finds the result of the README's layout (session 42 H10, H5's walk #5).

README: ``mmnst-path quantify slides/ --out results`` writes ``results/`` beside ``slides/``. The pathologist, with
an empty napari configuration (no result opened before), drags ``slides/tile.tif`` into napari and opens Export from
the Plugins menu: the result in ``results/`` beside the slide's folder (or in the current folder's ``results*/``) is
opened. A result there of another image (same name and size, other bytes) is never opened.

Fails before: only the slide's own folder's ``results*/`` and the remembered places were searched ("no quantify
result of tile.tif found (looked in no results*/ folder beside tile.tif)").
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mmnst_path_napari._result_find import places
from napari_helpers import ki67_tile, nuclei_of, open_plugin_widget, search_done

from mmnst_path.cli import main

pytestmark = pytest.mark.napari

PLUGIN = "mmnst-path-napari"


def test_result_beside_the_slides_folder_found_by_a_new_user(make_napari_viewer, qtbot, tmp_path, monkeypatch):
    project = tmp_path / "project"
    tile = ki67_tile(project / "slides" / "tile.tif")
    monkeypatch.chdir(project)
    assert main(["quantify", "slides", "--out", "results"]) == 0  # the README's command, from the project folder
    monkeypatch.chdir(tmp_path)  # napari started elsewhere (a desktop launcher): not the current folder's results
    assert places() == []  # a new user: nothing remembered
    viewer = make_napari_viewer()
    viewer.open(str(tile), plugin=PLUGIN)
    export = search_done(qtbot, open_plugin_widget(viewer, "export_widget"))
    folder = project / "results" / "tile"
    (nuclei,) = nuclei_of(viewer)
    assert Path(nuclei.metadata["mmnst_path"]["result_folder"]) == folder, export.status.value
    assert Path(export.result_folder.value) == folder
    assert export.status.value.startswith(f"opened {folder} (the only result of tile.tif"), export.status.value


def test_result_in_the_current_folder_found(make_napari_viewer, qtbot, tmp_path, monkeypatch):
    tile = ki67_tile(tmp_path / "archive" / "2026" / "case7" / "tile.tif")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["quantify", str(tile), "--out", "results_case7"]) == 0
    viewer = make_napari_viewer()  # napari started where quantify ran
    viewer.open(str(tile), plugin=PLUGIN)
    export = search_done(qtbot, open_plugin_widget(viewer, "export_widget"))
    (nuclei,) = nuclei_of(viewer)
    assert Path(nuclei.metadata["mmnst_path"]["result_folder"]).resolve() == work / "results_case7" / "tile"
    assert export.status.value.startswith("opened "), export.status.value


def test_result_of_another_image_beside_the_folder_never_opened(make_napari_viewer, qtbot, tmp_path, monkeypatch):
    project = tmp_path / "project"
    ki67_tile(project / "slides" / "tile.tif")
    monkeypatch.chdir(project)
    assert main(["quantify", "slides", "--out", "results"]) == 0
    other = ki67_tile(project / "slides_2027" / "tile.tif", mark=True)  # same name and size, other bytes
    assert other.stat().st_size == (project / "slides" / "tile.tif").stat().st_size
    monkeypatch.chdir(tmp_path)
    viewer = make_napari_viewer()
    viewer.open(str(other), plugin=PLUGIN)
    export = search_done(qtbot, open_plugin_widget(viewer, "export_widget"))
    assert nuclei_of(viewer) == []
    status = export.status.value
    assert status.startswith(f"no quantify result of tile.tif found (looked in {project / 'results'})"), status
    assert "earlier version" not in status  # another file's result, not an earlier version of this one
