"""The warnings of one run, kept on its result (session 43 H8, H7's walk #2).

A notebook user of :func:`~mmnst_path.pipeline.analyze_slide` / :func:`~mmnst_path.pipeline.analyze_region` sees
Python warnings once (a filter may hide repeats) and keeps none with the result; the command line records every
warning of an input in its summary row. :func:`run_keeping_warnings` runs the analysis, re-issues each warning it
raised to the caller (same category and origin) and returns their texts, for
:attr:`~mmnst_path.aggregate.SlideResult.warnings`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["run_keeping_warnings"]

T = TypeVar("T")


def run_keeping_warnings(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, tuple[str, ...]]:
    """``fn(*args, **kwargs)`` and the texts of the :class:`UserWarning` s it raised (whitespace folded, each once).

    Every warning raised inside (of any category) is issued again to the caller once the call returns or raises (each
    text once per place, as Python's default filter shows it), so the caller's filters (``-W error``,
    ``pytest.warns``, ``catch_warnings``) still see it.
    """
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:  # type: ignore[assignment]
            warnings.simplefilter("always")
            result = fn(*args, **kwargs)
    finally:
        seen: set[tuple[type, str, str, int]] = set()  # as the default filter: each text once per place
        for w in caught:
            key = (w.category, str(w.message), w.filename, w.lineno)
            if key not in seen:
                seen.add(key)
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    texts = (" ".join(str(w.message).split()) for w in caught if issubclass(w.category, UserWarning))
    return result, tuple(dict.fromkeys(texts))
