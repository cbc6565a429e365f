"""Analyze's melanocyte marker choice for a Ki67 double stain (session 43 H7's walk, defect 4): which marker the
red chromogen beside DAB shows, as the CLI's ``--melanocyte-marker`` sets ``[ki67] melanocyte_marker``."""

from __future__ import annotations

from magicgui.widgets import ComboBox

__all__ = ["MARKER_CHOICES", "double_stain", "follow_marker", "marker_box", "marker_setting"]

#: the choice's words and the ``Ki67Params.melanocyte_marker`` value each sets ("auto": where the marker sits when
#: the stains are detected, else read as cytoplasmic and said assumed)
MARKER_CHOICES = (("auto", "auto"), ("cytoplasmic (MART-1, Melan-A)", "cytoplasmic"), ("nuclear (SOX10)", "nuclear"))

_TIP = ("the melanocyte marker of a Ki67 double stain (the red chromogen beside DAB): cytoplasmic (MART-1, Melan-A) "
        "or nuclear (SOX10); auto: where it sits when the stains are detected, else cytoplasmic, said assumed "
        "(config key: [ki67] melanocyte_marker; the CLI's --melanocyte-marker)")


def marker_box() -> ComboBox:
    """The "marker" choice, ``auto`` at first; shown while the stains are auto or a double stain."""
    return ComboBox(label="marker", choices=list(MARKER_CHOICES), value="auto", tooltip=_TIP)


def double_stain(stains: str) -> bool:
    """Whether the stain preset ``stains`` is a Ki67 double stain (DAB beside a red marker chromogen)."""
    from mmnst_path.pipeline import AnalysisConfig
    from mmnst_path.quantify._ki67_stains import marker_channel

    return marker_channel(AnalysisConfig(stains=stains).stain_matrix()) is not None


def follow_marker(box: ComboBox, stains: str) -> None:
    """Show the marker choice for ``auto`` stains (the run may find a double stain) and double-stain presets; hide
    it for a single stain, where no marker is read (its value then left out of the run: :func:`marker_setting`)."""
    box.visible = stains == "auto" or double_stain(stains)


def marker_setting(box: ComboBox, stains: str) -> str:
    """The ``melanocyte_marker`` the run takes: the choice, ``"auto"`` for single-stain presets (hidden there)."""
    return str(box.value) if stains == "auto" or double_stain(stains) else "auto"
