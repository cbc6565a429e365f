"""The pixel size of each batch input: the file's, ``--mpp`` (for inputs whose file gives none), a ``--manifest``
row's, or ``--mpp`` over the file's with ``--mpp-override``; and the one line that says how ``--mpp`` was used.

``--mpp X`` is for inputs whose file gives no pixel size. In a batch where some input needs it, the others using
their file's own value is what the flag says, so they get no warning of their own: one line for the batch names
the inputs ``--mpp`` was used for and those that kept their file's value (session 42 H9, H5's walk #4: before, every
such row was "ok ⚠"). Where no input of the batch needs ``--mpp``, the user gave it for files that have their own:
each file whose value differs from it by more than :data:`MPP_DISAGREE` keeps its warning (its row's ``warnings``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._batch_inputs import request_hash

__all__ = ["MPP_DISAGREE", "file_mpp", "input_mpp", "input_request", "mpp_needed", "mpp_use_line"]

#: Relative difference between ``--mpp`` and a file's own pixel size above which, with ``--mpp`` needed by no
#: input of the batch, the file's row warns that ``--mpp`` was not used.
MPP_DISAGREE = 0.10


def file_mpp(path: Path) -> float | None:
    """The level-0 mpp the file itself gives (None when unknown); warnings of the open dropped."""
    from .io import open_slide

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_slide(path) as reader:
            return reader.mpp


def _safe_file_mpp(path: Path) -> float | str | None:
    try:
        return file_mpp(path)
    except Exception:  # unreadable: the analysis says why
        return "unreadable"


def mpp_needed(files: Sequence[Path], options: Any) -> dict[str, float | None]:
    """The file pixel size of each input a batch's ``--mpp`` concerns (str path -> µm/px, None: the file gives
    none); empty without ``--mpp`` or with ``--mpp-override``. Inputs with a manifest ``mpp`` and unreadable
    ones are left out."""
    if options.mpp is None or options.mpp_override:
        return {}
    out: dict[str, float | None] = {}
    for path in files:
        if str(path) in options.input_mpp:
            continue
        value = _safe_file_mpp(path)
        if not isinstance(value, str):
            out[str(path)] = value
    return out


def input_mpp(path: Path, options: Any, *, needed: bool = True) -> tuple[float | None, str]:
    """(mpp to pass to analyze_slide, where it comes from: "file", "--mpp", "manifest", "--mpp-override").

    ``needed``: some input of the batch has no pixel size of its own (``--mpp`` is for it), so a file whose own
    value differs is not warned about here (:func:`mpp_use_line` says it once)."""
    if options.mpp is None:
        return None, "file"
    manifest = str(path) in options.input_mpp
    own = file_mpp(path)
    if own is None:
        return options.mpp, "manifest" if manifest else "--mpp"
    differs = abs(own / options.mpp - 1) > 1e-3
    if options.mpp_override:
        if differs:
            warnings.warn(f"{path}: --mpp {options.mpp:g} overrides the file's {own:.4g} µm/px "
                          "(--mpp-override)", stacklevel=2)
        return options.mpp, "--mpp-override"
    if manifest:
        if differs:
            warnings.warn(f"{path}: the manifest's mpp {options.mpp:g} not used: the file gives {own:.4g} µm/px "
                          "(pass --mpp-override to use the manifest's anyway)", stacklevel=2)
        return None, "file"
    if not needed and abs(own / options.mpp - 1) > MPP_DISAGREE:
        warnings.warn(f"{path}: --mpp {options.mpp:g} not used: the file gives {own:.4g} µm/px "
                      "(pass --mpp-override to use --mpp anyway)", stacklevel=2)
    return None, "file"


def mpp_use_line(options: Any, found: dict[str, float | None]) -> str | None:
    """The batch's one line on ``--mpp`` when some inputs used it and others their file's own (else None)."""
    used = [Path(p).name for p, v in found.items() if v is None]
    own = {Path(p).name: v for p, v in found.items() if v is not None}
    if not own or not used:  # used for none: the rows whose file differs say so (input_mpp)
        return None

    def names(items: Sequence[str]) -> str:
        return ", ".join(items[:3]) + (f" and {len(items) - 3} more" if len(items) > 3 else "")

    values = sorted(v for v in own.values() if v is not None)
    span = f"{values[0]:.4g}" if values[0] == values[-1] else f"{values[0]:.4g}-{values[-1]:.4g}"
    n = len(own)
    kept = (f"{n} input{'s' if n > 1 else ''} ({names(list(own))}) use{'' if n > 1 else 's'} the file's own "
            f"{span} µm/px (--mpp-override uses --mpp for them too)")
    m = len(used)
    return f"--mpp {options.mpp:g} used for {m} input{'s' if m > 1 else ''} whose file gives no pixel size ({names(used)}); {kept}"


def input_request(path: Path, options: Any, req: str, roi_digest: str | None) -> str:
    """The request hash of one input: the batch's, but without ``--mpp`` for a file that gives its own pixel size
    (``--mpp`` is then not used, :func:`input_mpp`), so ``--resume`` with or without it skips that input alike."""
    if options.mpp is None or options.mpp_override:
        return req
    try:
        own = file_mpp(path)
    except Exception:  # unreadable: the analysis will say why; the batch's hash stands
        return req
    if own is None:
        return req
    return request_hash(options.config, mpp=None, roi_digest=roi_digest, mpp_override=False)
