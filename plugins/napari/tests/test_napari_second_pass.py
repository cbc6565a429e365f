"""Session 35's second pass over H5's Plugins-menu walk ("seen and left"), each fix with a test here (the
mutation each catches in its docstring)."""

from __future__ import annotations

import pytest
from mmnst_path_napari._analysis import plan_analysis
from mmnst_path_napari._widgets._analyze import AUTO
from mmnst_path_napari._widgets._cells import TrainCellsWidget
from test_napari_notice_once import PLUGIN, _analyzed

from mmnst_path.synthetic_azure import azure_b_tile

pytestmark = pytest.mark.napari


def test_train_cells_stains_follow_the_image_as_analyze_resolves_them(make_napari_viewer):
    """Train cells offered a fixed H-DAB default, no auto, no AzureB-DAB. Its choices are now Analyze's (auto
    first), auto resolves to Analyze's detection, and the status names the stains. Mutations: the old
    fixed choices (H-DAB default); ``resolved_stains`` returning the box's value."""
    tile = azure_b_tile(41)
    viewer = make_napari_viewer()
    layer = viewer.add_image(tile.rgb, rgb=True, scale=(tile.mpp, tile.mpp), units=("µm", "µm"), name="azure")
    widget = TrainCellsWidget(viewer)
    _, analyze = viewer.window.add_plugin_dock_widget(PLUGIN, "Analyze")
    assert list(widget.stains.choices) == list(analyze.stains.choices)
    assert widget.stains.value == AUTO
    _, reader = widget._layer_and_reader()
    analyze_stains = plan_analysis(reader, analyze.mapping(), ticked=["ki67"]).stains
    assert analyze_stains == "AzureB-DAB"
    assert widget.resolved_stains(layer, reader) == analyze_stains
    widget.preview()
    assert "(stains AzureB-DAB (detected from the image)):" in widget.status.value
    widget.stains.value = "H-DAB"
    assert widget.resolved_stains(layer, reader) == "H-DAB"
    assert widget.stains_words("H-DAB") == "stains H-DAB (chosen)"


def test_train_cells_status_stays_in_view_docked_under_analyze(make_napari_viewer):
    """Docked under Analyze (after a run), Train cells' status line was below a 1100-line window's bottom
    (H5's walk2/c_2). Its settings now scroll, the status below them: the two docked widgets need <= 1000 px
    together (+ the window's bars and dock titles: ~1100), and the status is the last widget, outside the scroll.
    Mutation: Train cells' settings not scrolled (``scroll_area``'s minimum height the form's)."""
    viewer, analyze = _analyzed(make_napari_viewer)
    _, cells = viewer.window.add_plugin_dock_widget(PLUGIN, "Train cells")
    cells.status.value = "view classified by your model (stains H-DAB (detected from the image)): " * 3
    need = sum(w.native.minimumSizeHint().height() for w in (analyze, cells))
    print("docked minimum heights", need, cells.native.minimumSizeHint().height())
    assert need <= 1000
    area = cells.native.layout().itemAt(0).widget()
    assert area.widget() is cells.form.native  # the settings scroll ...
    assert not area.isAncestorOf(cells.status.native)  # ... the status does not
    assert cells.native.minimumSizeHint().height() < cells.form.native.minimumSizeHint().height()  # (it scrolls)


def _bottom_in_window(widget, window) -> int:  # type: ignore[no-untyped-def]
    from qtpy.QtCore import QPoint

    return widget.mapTo(window, QPoint(0, widget.height())).y()


def test_train_cells_status_is_whole_in_a_1100_line_window(make_napari_viewer, qtbot):
    """The window H5 walked (1700 x 1100, Analyze after a run docked above Train cells): the status label lies
    inside the window, as tall as its wrapped text needs. Mutation: the settings not scrolled."""
    from mmnst_path_napari._layers import legend_html
    from qtpy.QtWidgets import QApplication

    viewer, analyze = _analyzed(make_napari_viewer)
    analyze.legend.value = legend_html(("ki67", "melanin"))  # the walk's run: Ki67 and melanin
    _, cells = viewer.window.add_plugin_dock_widget(PLUGIN, "Train cells")
    window = viewer.window._qt_window
    window.showNormal()
    window.resize(1700, 1100)
    cells.status.value = "trained on 24 of 24 clicks (tumour 12, stromal 12); held-out accuracy 0.57; " * 2
    qtbot.wait(50)
    QApplication.processEvents()
    label = cells.status.native
    print("window", window.height(), "status bottom", _bottom_in_window(label, window), label.height(),
          label.heightForWidth(label.width()))
    assert window.height() <= 1110
    assert _bottom_in_window(label, window) <= window.height()
    assert label.height() >= label.heightForWidth(label.width())


def _cut_texts(widget) -> list[str]:  # type: ignore[no-untyped-def]
    """Texts of the check boxes, buttons and one-line labels of a docked widget that its scroll area's
    viewport (or the widget) cuts: narrower than their text, or past the right edge."""
    from qtpy.QtCore import QPoint
    from qtpy.QtWidgets import QAbstractButton, QLabel

    view = widget.native.layout().itemAt(0).widget().viewport()
    cut = []
    for child in widget.native.findChildren((QAbstractButton, QLabel)):
        if not child.isVisible() or (isinstance(child, QLabel) and child.wordWrap()):
            continue
        frame = view if view.isAncestorOf(child) else widget.native
        right = child.mapTo(frame, QPoint(child.width(), 0)).x()
        if child.sizeHint().width() > child.width() or right > frame.width():
            cut.append(f"{child.text()!r} ({child.sizeHint().width()} px in {child.width()}, right {right} of "
                       f"{frame.width()})")
    return cut


def test_nothing_is_cut_at_the_default_dock_width(make_napari_viewer, qtbot):
    """Analyze + Train cells docked in a 1700 x 1100 window (~370 px wide docks): H5 saw "necrosis (needs e"
    and "follow weak DAB staining down to 0.25 OD (DAB, AEC…" cut. For every stains choice no check box,
    button or one-line label is cut, and the dock stays <= 380 px wide (the canvas keeps its room). Mutations:
    the measures back in one row (the dock grows past 380 px); ``_track_width`` not installed (cut: the form
    outgrows its area once napari's style sheet applies)."""
    from qtpy.QtWidgets import QApplication

    viewer = make_napari_viewer()
    window = viewer.window._qt_window
    window.showNormal()
    window.resize(1700, 1100)
    _, analyze = viewer.window.add_plugin_dock_widget(PLUGIN, "Analyze")
    _, cells = viewer.window.add_plugin_dock_widget(PLUGIN, "Train cells")
    assert analyze.weak_stain.tooltip.startswith("weak-stain adaptation")  # the short text's meaning
    for stains in analyze.stains.choices:
        analyze.stains.value = stains
        qtbot.wait(20)
        QApplication.processEvents()
        assert analyze.native.width() <= 380, stains
        for widget in (analyze, cells):
            assert _cut_texts(widget) == [], stains
    analyze.stains.value = "H-DAB"
    assert analyze.do_necrosis.text == "necrosis (needs eosin)"
    assert _cut_texts(analyze) == []


def test_the_class_map_necrosis_is_not_melanin_brown():
    """The tissue class map drew necrosis in the model card's brown, the melanin fraction map's colour (one
    legend, two browns). napari now shows the classes in the library pictures' display colours (necrosis
    magenta), the layer's metadata keeping the card's; melanin stays brown. Mutation: ``display_colours``
    returning the card's colours."""
    from types import SimpleNamespace

    import numpy as np
    from mmnst_path_napari._classmap import class_legend_html, tissue_class_layer
    from mmnst_path_napari._layers import MAP_COLORS

    from mmnst_path._picture_style import class_display_colour
    from mmnst_path.aggregate import LowResMap
    from mmnst_path.classify import default_model_path, load_model

    model = load_model(default_model_path("tissue"))
    nec = model.class_names.index("necrosis")
    card = tuple(model.classes[nec].colour)
    result = SimpleNamespace(maps={"tissue_classes": LowResMap(np.full((2, 2), nec, np.int8), 32.0)},
                             config={"necrosis": {"tissue_model": "default"}}, shape=(64, 64), mpp=2.0)
    _, kw, _ = tissue_class_layer(result, mpp=2.0)
    shown = np.asarray(kw["colormap"].color_dict[nec + 1][:3])
    melanin = np.asarray(MAP_COLORS["melanin"])
    assert np.abs(shown - melanin).max() > 0.3, (shown, melanin)
    np.testing.assert_allclose(shown * 255, class_display_colour("necrosis", card), atol=0.5)
    assert tuple(kw["metadata"]["mmnst_path"]["colours"][nec]) == card  # the card's, as result.json keeps
    want = "#{:02x}{:02x}{:02x}".format(*class_display_colour("necrosis", card))
    assert f'<span style="color:{want}">■</span>&nbsp;necrosis' in class_legend_html(model.class_names,
                                                                                    [c.colour for c in model.classes],
                                                                                    values=False)


def test_the_necrosis_fraction_map_is_the_library_necrosis_magenta() -> None:
    """The necrosis fraction map is drawn in the colour every other picture gives necrosis (the CLI overlay's
    necrosis panel, the class map), not green (the class map's stroma). Mutation caught: the old green."""
    from mmnst_path_napari._layers import MAP_COLORS

    from mmnst_path._picture_style import CLASS_DISPLAY_RGB

    assert tuple(round(c * 255) for c in MAP_COLORS["necrosis"]) == CLASS_DISPLAY_RGB["necrosis"]
