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

import hashlib
import json
import os
import threading
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MAX_PLACES", "Candidates", "FoundResults", "beside_places", "candidates_of_image", "found_words",
           "layers_of_folder", "match_results", "places", "remember_place", "results_of_image", "sha256_of",
           "sha256_pieces"]

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


@dataclass(frozen=True)
class Candidates:
    """The result folders that may be of an image, read without reading the image: ``entries`` (folder, result.json's
    ``source``, result.json's mtime) of the results recording a fingerprint; ``size`` the image's bytes (None when
    the file went away)."""

    image: Path
    entries: tuple[tuple[Path, dict[str, Any], float], ...]
    searched: tuple[Path, ...]
    size: int | None

    @property
    def needs_sha256(self) -> bool:
        """Whether a result records a file of the image's size (or no size): only then is the image read."""
        return self.size is not None and any(src.get("size") in (None, self.size) for _, src, _ in self.entries)


def candidates_of_image(image: str | Path, *, extra: list[Path] | None = None) -> Candidates:
    """The result folders in the usual places (see the module's words) whose result.json records a fingerprint;
    cheap (the image is not read: :func:`match_results` with its SHA-256 says which are its)."""
    image = Path(image)
    searched: list[Path] = []
    for place in [*beside_places(image), *(places() if extra is None else extra)]:
        if all(os.path.realpath(place) != os.path.realpath(s) for s in searched):
            searched.append(Path(place))
    try:
        size: int | None = image.stat().st_size
    except OSError:  # the file went away: nothing of it to find
        return Candidates(image, (), tuple(searched), None)
    entries = []
    for folder in _candidates(searched):
        try:
            source = json.loads((folder / "result.json").read_text(encoding="utf-8")).get("source") or {}
            mtime = (folder / "result.json").stat().st_mtime
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(source, dict) and source.get("sha256"):
            entries.append((folder, source, mtime))
    return Candidates(image, tuple(entries), tuple(searched), size)


def sha256_pieces(path: str | Path, *, stop: threading.Event | None = None,
                  block: int = 1 << 22) -> Generator[tuple[int, int], None, str | None]:
    """Generator reading a file in ``block``-byte pieces, yielding ``(bytes read, size)`` after each and returning
    the SHA-256 of its bytes; it returns None when ``stop`` is set (checked between pieces: a stopped read ends
    within one piece). The body of napari Export's read in a worker thread."""
    h = hashlib.sha256()
    total = os.path.getsize(path)
    done = 0
    with open(path, "rb") as fh:
        for piece in iter(lambda: fh.read(block), b""):
            if stop is not None and stop.is_set():
                return None
            h.update(piece)
            done += len(piece)
            if stop is not None and stop.is_set():  # stopped during the piece: nothing more is said
                return None
            yield done, total
    return None if stop is not None and stop.is_set() else h.hexdigest()


def sha256_of(path: str | Path, *, stop: threading.Event | None = None) -> str | None:
    """SHA-256 of a file's bytes (:func:`sha256_pieces` run to its end in the calling thread)."""
    pieces = sha256_pieces(path, stop=stop)
    while True:
        try:
            next(pieces)
        except StopIteration as end:
            return end.value  # type: ignore[no-any-return]


def match_results(cands: Candidates, sha: str | None) -> FoundResults:
    """The results of :func:`candidates_of_image` that record the image's SHA-256 ``sha`` (newest first), and those
    recording its path with another one (an earlier version of the file). ``sha`` may be None only when
    ``cands.needs_sha256`` is False."""
    if cands.size is None:
        return FoundResults(cands.image, (), (), cands.searched)
    if sha is None and cands.needs_sha256:
        msg = f"sha=None: {cands.image} must be read (a result records a file of its size)"
        raise ValueError(msg)
    real = os.path.realpath(cands.image)
    found: list[tuple[float, Path]] = []
    earlier: list[Path] = []
    for folder, source, mtime in cands.entries:
        same = source.get("size") in (None, cands.size) and str(source["sha256"]) == sha
        if same:
            found.append((mtime, folder))
        elif source.get("path") and os.path.realpath(str(source["path"])) == real:
            earlier.append(folder)
    found.sort(key=lambda t: (-t[0], str(t[1])))
    return FoundResults(cands.image, tuple(f for _, f in found), tuple(earlier), cands.searched)


def results_of_image(image: str | Path, *, extra: list[Path] | None = None) -> FoundResults:
    """The quantify result folders of ``image`` in the usual places (see the module's words), newest first, read in
    the calling thread (napari's Export reads the image in a worker: :func:`candidates_of_image`,
    :func:`sha256_of`, :func:`match_results`).

    Parameters
    ----------
    image : path
        The image file opened (a slide or a tile).
    extra : list of path, optional
        Folders to look in besides the ``results*/`` folders of :func:`beside_places`; by default the remembered
        places (:func:`places`).
    """
    cands = candidates_of_image(image, extra=extra)
    sha = None
    if cands.needs_sha256:  # hashed once, and only when a result of a file of its size is there to compare with
        try:
            sha = sha256_of(cands.image)
        except OSError:
            return FoundResults(cands.image, (), (), cands.searched)
    return match_results(cands, sha)


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
