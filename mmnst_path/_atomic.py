"""Atomic file writes: a temporary file in the target folder, fsynced, then :func:`os.replace`, so an
interrupted run never leaves a half-written file; the file gets the mode :func:`open` would give it
(``0o666 & ~umask``), so colleagues sharing the folder can read it. Re-exported by
:mod:`mmnst_path.report`. :func:`interrupt_held` keeps Ctrl-C out of writing a set of files that belong
together (a batch's summary.csv, summary.json and report.html), so they never disagree."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_open_text", "atomic_write_bytes", "atomic_write_text", "current_umask", "interrupt_held"]

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask, read without changing it where the OS tells it (Linux ``/proc``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:  # os.umask can only be read by setting it: restore at once
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


@contextlib.contextmanager
def _atomic_binary(path: Path) -> Iterator[io.BufferedWriter]:
    """A binary file in ``path``'s folder that replaces ``path`` (after fsync) only if the block
    completes; on any exception it is removed and ``path`` is left as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates 0600; a results file gets the mode open() would give it (0666 & ~umask),
        # so colleagues sharing the folder can read it
        mode = 0o666 & ~current_umask()
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        else:  # Windows: only the read-only bit means anything
            os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as raw:
            yield raw
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder + ``os.replace``)."""
    path = Path(path)
    with _atomic_binary(path) as fh:
        fh.write(data)
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """UTF-8 text version of :func:`atomic_write_bytes`."""
    return atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_open_text(path: str | os.PathLike[str], *, compress: bool = False) -> Iterator[io.TextIOBase]:
    """Open a UTF-8 text file for streaming writes that appears at ``path`` only when complete.

    ``compress=True`` writes gzip (with a zero timestamp, so equal content gives equal bytes).
    """
    with _atomic_binary(Path(path)) as raw:
        if compress:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz, \
                    io.TextIOWrapper(gz, encoding="utf-8", newline="") as fh:
                yield fh  # type: ignore[misc]
        else:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            yield text  # type: ignore[misc]
            text.flush()
            text.detach()  # leaves ``raw`` open for the flush and fsync of _atomic_binary


@contextlib.contextmanager
def interrupt_held() -> Iterator[list[int]]:
    """Hold Ctrl-C (SIGINT) while the block runs: a Ctrl-C pressed meanwhile is noted, not raised.

    Each file is written atomically anyway; this keeps a *set* of files whole, e.g. a batch's summary.csv,
    summary.json and report.html written after a first Ctrl-C, which a second one would leave
    disagreeing (summary.csv new, report.html missing). The caller decides what a held Ctrl-C means after
    the block (the yielded list holds one entry per Ctrl-C held). Outside the main thread, or where the
    handler cannot be set, the block runs unprotected (Python delivers signals to the main thread only).
    """
    held: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield held
        return
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, _frame: held.append(signum))
    except (ValueError, OSError):  # an embedded interpreter without signal support
        yield held
        return
    try:
        yield held
    finally:
        signal.signal(signal.SIGINT, previous)
