"""The analysis' worker body: the library call in a helper thread, its progress (and a stuck tile) yielded
to napari's ``thread_worker`` (split out of ``_analyze.py``, session 35)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Generator
from typing import Any

from ._common import Cancelled

__all__ = ["run_in_thread"]


def run_in_thread(
    fn: Callable[[Callable[[int, int], None]], Any], cancel: threading.Event, heartbeat_s: float = 5.0
) -> Generator:
    """Generator running ``fn(progress)`` in a helper thread, yielding ``(done, total)`` updates.

    Meant as the body of a napari ``thread_worker``: the yields reach the GUI thread, ``progress``
    raises :class:`Cancelled` once ``cancel`` is set, and the generator returns ``fn``'s result
    (or raises its exception). When no progress comes for ``heartbeat_s`` seconds it yields
    ``(done, total, seconds since the last progress)``, so a stuck tile shows in the GUI.
    """
    q: queue.Queue = queue.Queue()

    def progress(done: int, total: int) -> None:
        if cancel.is_set():
            raise Cancelled("analysis cancelled")
        q.put(("progress", (int(done), int(total))))

    def target() -> None:
        try:
            q.put(("done", fn(progress)))
        except BaseException as exc:
            q.put(("error", exc))

    threading.Thread(target=target, daemon=True, name="mmnst-path-analysis").start()
    last = (0, 0)
    since = time.monotonic()
    while True:
        try:
            kind, value = q.get(timeout=heartbeat_s)
        except queue.Empty:  # nothing finished for a while: say so (a stuck tile is visible)
            yield (*last, time.monotonic() - since)
            continue
        if kind == "progress":
            last, since = value, time.monotonic()
            yield value
        elif kind == "done":
            return value
        else:
            raise value
