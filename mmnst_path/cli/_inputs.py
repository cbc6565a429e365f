"""The inputs of ``mmnst-path quantify``: files, folders searched recursively and globs expanded to the images
and slides to analyse, and the one-line notes on what was passed over (split out of
:mod:`mmnst_path.cli._quantify`, which re-exports everything here).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["NAMED_ONLY_EXTENSIONS", "SLIDE_EXTENSIONS", "UNREAD_IMAGE_EXTENSIONS", "expand_inputs", "skipped_notes"]

#: File extensions picked up when a folder is given (lower case, compared case-insensitively).
SLIDE_EXTENSIONS = (
    ".svs", ".tif", ".tiff", ".ndpi", ".mrxs", ".scn", ".vms", ".vmu", ".bif", ".svslide",
    ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp",
)  # fmt: skip

#: slide and image formats met in pathology folders that this package does not read: a folder's file of
#: one of these is named in a note (not passed over in silence like notes, tables and annotations); a VSI's
#: ``.ets`` pyramid files are not listed (the ``.vsi`` beside them is the slide a note names)
UNREAD_IMAGE_EXTENSIONS = (
    ".czi", ".vsi", ".jp2", ".j2k", ".jpx", ".isyntax", ".kfb", ".sdpc", ".tmap",
    ".nd2", ".lif", ".ims", ".heic", ".heif", ".avif", ".jxl", ".zvi", ".lsm", ".oib", ".oir",
)  # fmt: skip

#: slide formats read when a file is named but not taken from a folder: a DICOM slide is a series of files, one
#: a pyramid level (OpenSlide opens the series from any one of them), and a QPTIFF is often a multiplex
#: fluorescence image; a folder's file of one of these is named in its own note
NAMED_ONLY_EXTENSIONS = (".dcm", ".qptiff")


def expand_inputs(inputs: Sequence[str], *, exclude: str | os.PathLike[str] | None = None,
                  skipped: list[Path] | None = None) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to analyse, and (input, reason) pairs for inputs that match nothing.

    Folders are searched recursively for :data:`SLIDE_EXTENSIONS` (hidden files and folders
    skipped, symlink loops not followed twice); a pattern with ``*?[`` is a glob. Order is
    stable (sorted within each folder) and duplicates are dropped. Anything inside ``exclude``
    (the output folder) is skipped, so a run never takes earlier results as inputs. Files of a
    searched folder in a slide or image format this package does not read (:data:`UNREAD_IMAGE_EXTENSIONS`:
    CZI, VSI, JPEG 2000, ...) are appended to ``skipped`` when a list is given, so the caller
    can say what it left out, as are files read only when named (:data:`NAMED_ONLY_EXTENSIONS`: DICOM,
    QPTIFF), each file once; other files (notes, tables, annotations) are passed over silently. A glob's
    matches are filtered the same way (``'slides/*'`` takes the slides, not the notes beside them) unless the
    pattern itself ends with the file's extension (``'in/*.qptiff'`` asks for those); a file named without a
    pattern is always tried.
    """
    files: list[Path] = []
    missing: list[tuple[str, str]] = []
    seen: set[str] = set()
    seen_skipped: set[str] = set()
    skip = os.path.realpath(exclude) if exclude is not None else None

    def excluded(p: Path) -> bool:
        real = os.path.realpath(p)
        return skip is not None and (real == skip or real.startswith(skip.rstrip(os.sep) + os.sep))

    def add(p: Path) -> None:
        key = os.path.normcase(os.path.abspath(p))
        if key not in seen and not excluded(p):
            seen.add(key)
            files.append(p)

    def add_skipped(p: Path) -> None:  # once, though a folder and its subfolder are both given
        key = os.path.normcase(os.path.abspath(p))
        if skipped is not None and key not in seen_skipped and not excluded(p):
            seen_skipped.add(key)
            skipped.append(p)

    for item in inputs:
        candidates = [Path(m) for m in sorted(glob.glob(item, recursive=True))] if glob.has_magic(item) else [Path(item)]
        if not candidates:
            missing.append((item, f"no file matches the pattern {item!r}"))
        pattern = glob.has_magic(item)
        if pattern and candidates and all(_passed_over(p, item) for p in candidates):
            missing.append((item, f"the pattern {item!r} matches no slide or image file ({', '.join(SLIDE_EXTENSIONS)})"))
        for path in candidates:
            if pattern and _passed_over(path, item):  # a note, table or annotation beside the slides: not an input
                if path.name.lower().endswith(UNREAD_IMAGE_EXTENSIONS + NAMED_ONLY_EXTENSIONS):
                    add_skipped(path)
                continue
            if path.is_dir():
                if excluded(path) and glob.has_magic(item):
                    continue
                others: list[Path] = []
                found = [f for f in _walk(path, skip, others) if not excluded(f)]
                for f in others:
                    add_skipped(f)
                if not found:
                    missing.append((str(path), f"folder {str(path)!r} holds no slide or image file ({', '.join(SLIDE_EXTENSIONS)})"))
                for f in found:
                    add(f)
            elif path.exists() or path.is_symlink():
                add(path)
            else:
                missing.append((str(path), f"input {str(path)!r} does not exist"))
    return files, missing


def _passed_over(path: Path, pattern: str) -> bool:
    """A glob's match that is a file but not a slide or image this package searches for, and of a type the
    pattern does not name (``'in/*'`` passes over ``notes.txt``; ``'in/*.txt'`` asks for it)."""
    name = path.name.lower()
    if path.is_dir() or name.endswith(SLIDE_EXTENSIONS):
        return False
    return not (path.suffix and pattern.lower().endswith(path.suffix.lower()))


def _walk(root: Path, skip: str | None = None, others: list[Path] | None = None) -> list[Path]:
    out: list[Path] = []
    visited: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in visited or real == skip:  # symlink loop, or the output folder
            dirnames[:] = []
            continue
        visited.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and name.lower().endswith(SLIDE_EXTENSIONS):
                out.append(Path(dirpath) / name)
            elif (others is not None and not name.startswith(".")
                  and name.lower().endswith(UNREAD_IMAGE_EXTENSIONS + NAMED_ONLY_EXTENSIONS)):
                others.append(Path(dirpath) / name)
    return out


def skipped_notes(skipped: Sequence[Path], *, shown: int = 3) -> list[str]:
    """One-line notes naming the files of the input folders that were left out (the first ``shown`` of each
    kind): formats not read (convert them), and formats read only when named (:data:`NAMED_ONLY_EXTENSIONS`)."""
    named = [p for p in skipped if p.name.lower().endswith(NAMED_ONLY_EXTENSIONS)]
    unread = [p for p in skipped if not p.name.lower().endswith(NAMED_ONLY_EXTENSIONS)]
    notes = []
    if unread:
        notes.append(f"note: skipped {_count(unread)} in a slide or image format mmnst-path does not read "
                     f"(convert to OME-TIFF or TIFF first): {_names(unread, shown)}")
    if named:
        notes.append(f"note: skipped {_count(named)} in a format read only when the file is named, not from a "
                     f"folder (DICOM: one file of a slide's series; QPTIFF: brightfield only): {_names(named, shown)}")
    return notes


def _count(paths: Sequence[Path]) -> str:
    return f"{len(paths)} file" if len(paths) == 1 else f"{len(paths)} files"


def _names(paths: Sequence[Path], shown: int) -> str:
    more = f" and {len(paths) - shown} more" if len(paths) > shown else ""
    return ", ".join(str(p) for p in paths[:shown]) + more
