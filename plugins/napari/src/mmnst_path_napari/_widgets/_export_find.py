"""Export's search for the results of an image opened alone (split out of ``_export.py``, session 42).

The image's quantify results are found by the SHA-256 of its bytes (:mod:`mmnst_path_napari._result_find`). Reading a
whole slide takes seconds to minutes, so the image is read in a napari worker thread, never on the GUI thread: the
dock shows the progress and a *stop* button, the status says what is being read, and the result found is opened when
the read ends, only if it still applies (the image still shown, no other result opened meanwhile). Removing the image
layer or closing the dock stops the read; a stopped read opens nothing.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from magicgui.widgets import ComboBox, ProgressBar, PushButton

__all__ = ["FindsResults"]


class FindsResults:
    """The *results of the image* part of the Export widget (a mixin: the widget gives ``viewer``, ``status``,
    ``points``, ``result_folder``, ``_follow_folder``)."""

    viewer: Any
    status: Any
    points: Any
    result_folder: Any

    def _find_widgets(self) -> list[Any]:
        """The widgets of the search (the choice of results, *open result*, the read's progress and *stop*)."""
        # a callable for the choices: napari resets docked widgets' choices on every layer change
        self._found: list[tuple[str, str]] = []
        self.found = ComboBox(label="results of the image", choices=lambda *_: list(self._found))
        self.open_found = PushButton(text="open result")
        self.find_progress = ProgressBar(value=0, min=0, max=100, label="reading the image")
        self.find_stop = PushButton(text="stop reading")
        self.find_progress.visible = self.find_stop.visible = False  # shown while the image is read
        self._looked: set[str] = set()
        self.find_worker: Any = None
        self._find_stop = threading.Event()
        self._find_file: str | None = None
        self._reading_words: str | None = None  # the status a read under way put up (:meth:`_said_meanwhile`)
        self.open_found.changed.connect(lambda *_: self.found.value and self.open_result(Path(self.found.value)))
        self.find_stop.changed.connect(lambda *_: self.stop_finding("stopped"))
        return [self.find_progress, self.find_stop]

    def _follow_find(self) -> None:
        """Connect the search to the viewer: a new layer may be an image opened alone; its removal stops its read;
        the dock closed stops it too."""
        from qtpy.QtCore import QTimer

        self._alive = alive = [True]  # not self in the slot: the widget is gone when its Qt object is destroyed
        # looked for once the event loop runs again: a reader inserts a result folder's slide before its nuclei and
        # maps, and the slide alone looked like an image opened alone (its folder was read a second time, or the
        # status said "not opened: another result was opened meanwhile")
        self.viewer.layers.events.inserted.connect(
            lambda *_: QTimer.singleShot(0, lambda: alive[0] and self.find_results())
        )
        self.viewer.layers.events.removed.connect(self._image_removed)

        def gone(*_: Any) -> None:
            alive[0] = False
            self._find_stop.set()

        self.native.destroyed.connect(gone)  # type: ignore[attr-defined]

    def find_results(self) -> str | None:
        """An image opened alone (no layer read from a result folder): its quantify results found in the usual
        places, the newest opened (its nuclei and class map, reviewed when reviewed), all offered in *results of the
        image*; the status says which was opened and why, or where none was found. When a result records a file of
        the image's size the image is read (SHA-256) in a worker thread (:meth:`_read_image`) and the search ends
        when the read does. Each image is looked for once; returns the words said (None: nothing looked for, or a
        read of another image is under way: this one is looked for when it ends)."""
        from .._result_find import candidates_of_image, match_results
        from ._common import rgb_image_layers

        if self.find_worker is not None or any(_folder_of(lay) for lay in self.viewer.layers):
            return None  # a read under way, or a result is open already (its result.json, an import)
        files = [f for f in map(_source, rgb_image_layers(self.viewer)) if f and f not in self._looked]
        if not files:
            return None
        self._looked.add(files[0])
        cands = candidates_of_image(files[0])
        if cands.needs_sha256:
            self._read_image(cands)
        else:
            self._show_found(match_results(cands, None))
        return self.status.value

    def _read_image(self, cands: Any) -> None:
        """Read the image's SHA-256 in a napari worker thread (:func:`~mmnst_path_napari._result_find.sha256_pieces`):
        its progress in the dock, the found results opened when it returns (:meth:`_image_read`)."""
        from napari.qt.threading import create_worker

        from .._result_find import sha256_pieces

        stop = self._find_stop = threading.Event()
        self._find_file = str(cands.image)
        self.status.value = self._reading_words = (
            f"reading {cands.image.name} ({_size_words(cands.size or 0)}) to find its results (the SHA-256 of its "
            "bytes); napari stays usable, 'stop reading' stops it")
        self.find_progress.value = 0
        self.find_progress.visible = self.find_stop.visible = True
        worker = create_worker(sha256_pieces, cands.image, stop=stop, _start_thread=False, _ignore_errors=True)
        alive = self._alive  # False once the dock's Qt widget is gone: nothing is shown then
        worker.yielded.connect(lambda v: alive[0] and not stop.is_set() and self._read_progress(v))
        worker.returned.connect(lambda sha: alive[0] and not stop.is_set() and self._image_read(cands, sha))
        worker.errored.connect(lambda exc: alive[0] and not stop.is_set() and self._read_failed(cands, exc))
        worker.finished.connect(lambda: alive[0] and self._read_ended(worker))
        self.find_worker = worker
        worker.start()

    def _read_progress(self, value: tuple[int, int]) -> None:
        done, total = value
        self.find_progress.value = int(100 * done / total) if total else 100

    def _read_ended(self, worker: Any) -> None:
        """The read ended (returned, stopped or failed): the progress goes, the next image opened alone is looked
        for."""
        if self.find_worker is worker:
            self.find_worker, self._find_file, self._reading_words = None, None, None
            self.find_progress.visible = self.find_stop.visible = False
            self.find_results()

    def _image_read(self, cands: Any, sha: str | None) -> None:
        """The read returned: the results found are opened when they still apply (the image still shown, no other
        result opened since)."""
        from .._result_find import match_results
        from ._common import rgb_image_layers

        if sha is None:
            return
        if any(_folder_of(lay) for lay in self.viewer.layers):
            self._say_after_read(f"results of {cands.image.name} not opened: another result was opened meanwhile")
            return
        if not any(f and Path(f) == cands.image for f in map(_source, rgb_image_layers(self.viewer))):
            return
        self._show_found(match_results(cands, sha))

    def _read_failed(self, cands: Any, exc: BaseException) -> None:
        self._say_after_read(f"results of {cands.image.name} not found: the image cannot be read ({exc})")

    def _said_meanwhile(self) -> str:
        """What the status said during the read that the read did not (an import's or an export's words), else "";
        the read's own line is gone from the status then."""
        now, reading = str(self.status.value), self._reading_words
        if reading is None:
            return ""
        self._reading_words = None
        if now == reading:
            self.status.value = ""
            return ""
        return now

    def _say_after_read(self, words: str) -> None:
        """The search's ``words`` on the status once the read has ended, before what was said during the read (an
        import made while the image was read lost its status line to the search's: session 43 H6)."""
        meanwhile = self._said_meanwhile()
        self.status.value = words + (f"; {meanwhile}" if meanwhile else "")

    def stop_finding(self, why: str = "stopped") -> None:
        """Stop a read under way (*stop reading*, the image removed): nothing is opened; the status says so. The
        thread ends within one piece of the file; the next image opened alone is looked for then."""
        if self.find_worker is None or self._find_stop.is_set():
            return
        self._find_stop.set()
        self.find_progress.visible = self.find_stop.visible = False
        self._say_after_read(f"search for the results of {Path(self._find_file or '').name} {why}: open its "
                             "result.json, or choose its result folder")

    def _image_removed(self, event: Any = None) -> None:
        layer = getattr(event, "value", None)
        if self._find_file and _source(layer) == self._find_file:
            self.stop_finding("stopped: the image was removed")

    def _show_found(self, found: Any) -> None:
        from .._result_find import found_words

        self._found = [(str(f), str(f)) for f in found.folders]
        self.found.reset_choices()
        opened = found.folders[0] if found.folders else None
        if opened is not None:
            self.found.value = str(opened)
            meanwhile = self._said_meanwhile()  # the read's line goes; what was said during it stays, last
            self.open_result(opened, said=found_words(found, opened))
            if meanwhile:
                self.status.value += f"; {meanwhile}"
        elif self._reading_words is not None:
            self._say_after_read(found_words(found, opened))
        else:
            self.status.value = found_words(found, opened)

    def open_result(self, folder: Path, *, said: str | None = None) -> list[Any]:
        """Open the nuclei and class map of a result folder over the image already shown (as its result.json
        opens them, reviewed when reviewed), in place of those of another result of it opened before; the melanin
        corrections of another folder (or of an Analyze run) are closed with them."""
        from .._melanin_review import close_other_corrections
        from .._result_find import layers_of_folder
        from .._result_folder import read_result_folder
        from ._common import add_or_replace, nuclei_layers

        data = read_result_folder(folder, image=False)
        closed = close_other_corrections(self.viewer, folder)  # never left over this folder's map
        for lay in [lay for lay in self.viewer.layers if _folder_of(lay)]:
            self.viewer.layers.remove(lay)  # another result of the image: its layers give way
        layers = [add_or_replace(self.viewer, d) for d in data]
        self.result_folder.value = folder
        self.points.reset_choices()
        nuclei = [lay for lay in layers_of_folder(self.viewer, folder) if lay in nuclei_layers(self.viewer)]
        if nuclei:
            self.points.value = nuclei[0]
        self._follow_folder()  # type: ignore[attr-defined]
        self.status.value = ((said or f"opened {folder}") + (f"; {self.status.value}" if self.status.value else "")
                             + (f"; {closed}" if closed else ""))
        return layers


def _size_words(n: int) -> str:
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= div:
            return f"{n / div:.1f} {unit}"
    return f"{n} B"


def _folder_of(layer: Any) -> str | None:
    meta = getattr(layer, "metadata", None)
    return meta.get("mmnst_path", {}).get("result_folder") if isinstance(meta, dict) else None


def _source(layer: Any) -> str | None:
    """The file a layer was read from (as Export's ``_source``)."""
    meta = getattr(layer, "metadata", None)
    named = meta.get("mmnst_path", {}).get("path") if isinstance(meta, dict) else None
    path = named or getattr(getattr(layer, "source", None), "path", None)
    return str(path) if path and not os.path.isdir(path) else None
