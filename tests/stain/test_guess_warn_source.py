"""The ambiguous-stain warning names the file it is about, as every other warning of a batch does (session 39 H11's
walk: on a batch of slides the line could only be told apart by the progress line above it)."""

from __future__ import annotations

import types
import warnings

import pytest

from mmnst_path.stain.guess import AmbiguousStainsWarning, warn_if_ambiguous


def _guess(ambiguous: bool) -> types.SimpleNamespace:
    return types.SimpleNamespace(name="H-DAB", ambiguous=ambiguous, reason="no chromogen seen", alternative="H-AEC")


def test_the_warning_starts_with_the_file_it_is_about() -> None:
    with pytest.warns(AmbiguousStainsWarning) as rec:
        warn_if_ambiguous(_guess(True), source="/slides/a.svs")  # type: ignore[arg-type]
    text = str(rec[0].message)
    assert text.startswith("/slides/a.svs: stains detected as H-DAB, but ambiguous: no chromogen seen")
    assert "--stains H-AEC" in text


def test_without_a_file_the_warning_is_as_before_and_a_clear_guess_says_nothing() -> None:
    with pytest.warns(AmbiguousStainsWarning) as rec:
        warn_if_ambiguous(_guess(True))  # type: ignore[arg-type]
    assert str(rec[0].message).startswith("stains detected as H-DAB")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_ambiguous(_guess(False), source="/slides/a.svs")  # type: ignore[arg-type]
