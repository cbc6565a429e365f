"""The quantify results of an image opened alone: found in the usual places, the newest opened, the others offered.

A pathologist often drags only the slide (or tile) into napari. Its ``mmnst-path quantify`` results are looked for
in the ``results*/`` folders (``results/<input>/result.json``, ``results_2026/...``) of the image's folder, of the
folder above it (the README's layout: ``mmnst-path quantify slides/ --out results`` writes ``results/`` beside
``slides/``) and of the current folder (where napari was started: where quantify ran), and in the
folders where a result was opened or saved before (:func:`remember_place`: the ``--out`` folders, kept in
``$XDG_CONFIG_HOME/mmnst_path/napari_places.json``, at most :data:`MAX_PLACES`). A result is of the image when its
``result.json`` records the image's content fingerprint (``source.sha256``, the SHA-256 of the file's bytes): the
same file even when moved; one that records the image's path with another fingerprint was measured on an earlier
version of the file and is not offered (:func:`results_of_image` says how many were set aside). The newest (its
result.json written last) is opened first; the words of :func:`found_words` say which was opened and why.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MAX_PLACES", "FoundResults", "beside_places", "found_words", "layers_of_folder", "places", "remember_place", "results_of_image"]

#: folders remembered (the most recent first)
MAX_PLACES = 20


def _places_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mmnst_path" / "napari_places.json"


def places() -> list[Path]:
    """The folders where results were opened or saved before (the most recent first; those gone are left out)."""
    try:
        named = json.loads(_places_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(named, list):
        return []
    return [Path(p) for p in named if isinstance(p, str) and Path(p).is_dir()]


def remember_place(folder: str | Path) -> None:
    """Remember the ``--out`` folder of a result folder (``OUT/<input>``, holding result.json) or ``folder`` itself
    (a folder of result folders), so that a later image opened alone finds its results there. Never raises: a place
    that cannot be written is not remembered."""
    folder = Path(folder)
    if not str(folder) or str(folder) == ".":
        return
    out = folder.parent if (folder / "result.json").is_file() else folder
    if not out.is_dir():
        return
    out_s = os.path.realpath(out)
    kept = [out_s, *[str(p) for p in places() if os.path.realpath(p) != out_s]][:MAX_PLACES]
    file = _places_file()
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(".tmp")
        tmp.write_text(json.dumps(kept, indent=1) + "\n", encoding="utf-8")
        tmp.replace(file)
    except OSError:
        return


@dataclass(frozen=True)
class FoundResults:
    """The results of one image: ``folders`` (result folders, newest first), ``earlier`` (result folders recording
    the image's path with another fingerprint: measured on an earlier version of the file) and ``searched`` (the
    folders looked in)."""

    image: Path
    folders: tuple[Path, ...]
    earlier: tuple[Path, ...]
    searched: tuple[Path, ...]


def _candidates(searched: list[Path]) -> list[Path]:
    out: dict[str, Path] = {}
    for place in searched:
        for file in (place / "result.json", *sorted(place.glob("*/result.json"))):
            if file.is_file():
                out.setdefault(os.path.realpath(file.parent), file.parent)
    return list(out.values())


def beside_places(image: str | Path) -> list[Path]:
    """The ``results*/`` folders of ``image``'s folder, of the folder above it (``slides/x.tif`` finds
    ``results/`` beside ``slides/``) and of the current folder, in that order (each sorted by name)."""
    image = Path(image)
    out: list[Path] = []
    for base in (image.parent, image.parent.parent, Path.cwd()):
        try:
            out += sorted(p for p in base.glob("results*") if p.is_dir())
        except OSError:  # a folder that cannot be listed holds nothing to find
            continue
    return out


def results_of_image(image: str | Path, *, extra: list[Path] | None = None) -> FoundResults:
    """The quantify result folders of ``image`` in the usual places (see the module's words), newest first.

    Parameters
    ----------
    image : path
        The image file opened (a slide or a tile).
    extra : list of path, optional
        Folders to look in besides the ``results*/`` folders of :func:`beside_places`; by default the remembered
        places (:func:`places`).
    """
    from mmnst_path._batch_inputs import _sha256_file

    image = Path(image)
    searched: list[Path] = []
    for place in [*beside_places(image), *(places() if extra is None else extra)]:
        if all(os.path.realpath(place) != os.path.realpath(s) for s in searched):
            searched.append(Path(place))
    found: list[tuple[float, Path]] = []
    earlier: list[Path] = []
    sha: str | None = None
    real = os.path.realpath(image)
    try:
        size = image.stat().st_size
    except OSError:  # the file went away: nothing of it to find
        return FoundResults(image, (), (), tuple(searched))
    for folder in _candidates(searched):
        try:
            source = json.loads((folder / "result.json").read_text(encoding="utf-8")).get("source") or {}
            mtime = (folder / "result.json").stat().st_mtime
        except (OSError, ValueError, AttributeError):
            continue
        recorded = str(source.get("sha256") or "")
        if not recorded:
            continue
        if source.get("size") not in (None, size):  # another file's result: no need to read the image
            same = False
        else:
            if sha is None:  # hashed once, and only when a result of a file of its size is there to compare with
                try:
                    sha = _sha256_file(image)
                except OSError:
                    return FoundResults(image, (), (), tuple(searched))
            same = recorded == sha
        if same:
            found.append((mtime, folder))
        elif source.get("path") and os.path.realpath(str(source["path"])) == real:
            earlier.append(folder)
    found.sort(key=lambda t: (-t[0], str(t[1])))
    return FoundResults(image, tuple(f for _, f in found), tuple(earlier), tuple(searched))


def found_words(found: FoundResults, opened: Path | None) -> str:
    """What was found for an image opened alone and which result was opened: "opened results/tile (the newest
    of 2 results of tile.tif: 'results of the image' offers the other)", or where none was found."""
    name = found.image.name

    def short(folder: Path) -> str:
        try:
            return str(folder.relative_to(found.image.parent))
        except ValueError:
            return str(folder)

    if not found.folders:
        where = ", ".join(short(p) for p in found.searched) or (
            f"no results*/ folder beside {name}, beside its folder or in the current folder")
        text = f"no quantify result of {name} found (looked in {where})"
        if found.earlier:
            text += (f"; {len(found.earlier)} result(s) of an earlier version of the file (another SHA-256) not "
                     "offered")
        return text + ": open its result.json, or choose its result folder"
    n = len(found.folders)
    text = f"opened {short(opened) if opened else short(found.folders[0])} ("
    text += (f"the only result of {name}" if n == 1 else
             f"the newest of {n} results of {name}: 'results of the image' offers the others")
    text += ", same SHA-256 as its result.json records)"
    if found.earlier:
        text += f"; {len(found.earlier)} result(s) of an earlier version of the file not offered"
    return text


def layers_of_folder(viewer: Any, folder: Path) -> list[Any]:
    """The layers already read from ``folder`` (nuclei, class map)."""
    real = os.path.realpath(folder)
    return [lay for lay in viewer.layers if isinstance(lay.metadata, dict)
            and lay.metadata.get("mmnst_path", {}).get("result_folder")
            and os.path.realpath(str(lay.metadata["mmnst_path"]["result_folder"])) == real]
