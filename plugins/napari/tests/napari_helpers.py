"""Helpers shared by the napari plugin tests (not a test module)."""

from __future__ import annotations

from typing import Any


def wait_idle(qtbot: Any, widget: Any) -> None:
    """Wait until an analysis widget's threaded run has ended (finished, failed or cancelled)."""
    qtbot.waitUntil(
        lambda: (
            not widget.controls.cancel_button.enabled
            and (widget.worker is None or not widget.worker.is_running)
        ),
        timeout=240_000,
    )
