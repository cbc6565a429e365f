"""The contract of ``scripts/train_tissue_model.py`` after its split into ``scripts/_tissue_*.py`` (session 29): the
same command line (options, defaults, what they parse to), the names that benchmarks, tests and scripts import from
it, and one place (:data:`recipe`) where a source or seed list is read, so that patching it there takes effect.

Pinned from the script as it was before the split (f639776)."""

from pathlib import Path

import pytest

DEFAULTS = {
    "aug": 5, "rows": 600, "trees": 24, "depth": 12, "leaf": 15, "keratin": False, "mimic_tiles": False,
    "held_out_recipe": False, "brca": False, "tissue_tiles": False, "osteo_rows": 8, "grid_um": None,
    "predict_um": None, "micro_um": None, "add_evaluation": None, "intensity_aug": False, "thin": None,
    "repeat_necrosis": None, "min_share": 0.99, "version": None, "rows_npz": None, "save_maps": None,
    "maps_npz": None, "auto_context": False, "context_sigmas": None, "context_min_share": None,
    "context_folds": None, "context_fold_count": None, "context_trees": None, "context_keep_necrosis": None,
    "context_extra_maps": None, "context_extra_repeat": 1, "context_drop": None, "context_thin": None, "first_stage": None, "oof_npz": None, "jobs": 1,
    "nuclear_detail": False, "nuclear_morphology": False, "relative_level": False, "image_reference": None,
    "reference_weight": 1.0, "repeat_rows": None, "class_scale": None, "save_rows": None, "wavy_tiles": False, "rim_tiles": False,
    "oedema_tiles": False, "matrix_tiles": False, "clefted_tiles": False, "dense_tiles": False, "recipe_border": 0, "extra_only": False,
}
EVERY = ["--keratin", "--mimic-tiles", "--held-out-recipe", "--brca", "--tissue-tiles", "--intensity-aug",
         "--auto-context", "--nuclear-detail", "--nuclear-morphology", "--relative-level", "--wavy-tiles",
         "--rim-tiles", "--oedema-tiles", "--matrix-tiles", "--clefted-tiles", "--dense-tiles", "--extra-only", "--thin", "nct=0.5",
         "--repeat-necrosis", "nct=2", "--min-share", "0.6", "--context-sigmas", "8,16", "--context-min-share", "0.5",
         "--context-folds", "alternate", "--context-fold-count", "3", "--context-trees", "5",
         "--context-keep-necrosis", "0.8", "--recipe-border", "2", "--image-reference", "own",
         "--reference-weight", "0.5", "--repeat-rows", "nct=3", "--class-scale", "necrosis=0.5", "--grid-um", "4", "--predict-um", "8",
         "--micro-um", "2", "--osteo-rows", "3", "--jobs", "2", "--version", "9"]
EVERY_PARSED = {
    "aug": 5, "rows": 600, "trees": 24, "depth": 12, "leaf": 15, "keratin": True, "mimic_tiles": True,
    "held_out_recipe": True, "brca": True, "tissue_tiles": True, "osteo_rows": 3, "grid_um": 4.0, "predict_um": 8.0,
    "micro_um": 2.0, "intensity_aug": True, "thin": {"nct": 0.5}, "repeat_necrosis": {"nct": 2}, "min_share": 0.6,
    "version": "9", "auto_context": True, "context_sigmas": (8.0, 16.0), "context_min_share": 0.5,
    "context_folds": "alternate", "context_fold_count": 3, "context_trees": 5, "context_keep_necrosis": 0.8,
    "context_extra_repeat": 1, "jobs": 2, "nuclear_detail": True, "nuclear_morphology": True, "relative_level": True,
    "image_reference": "own", "reference_weight": 0.5, "repeat_rows": {"nct": 3}, "class_scale": {"necrosis": 0.5}, "wavy_tiles": True,
    "rim_tiles": True, "oedema_tiles": True, "matrix_tiles": True, "clefted_tiles": True, "dense_tiles": True, "recipe_border": 2,
    "extra_only": True,
}
#: the names benchmarks/, tests/ and scripts/squamous_context_maps.py take from the script
IMPORTED = ("AUG", "ATTRIBUTION", "BRCA_MPP", "CLASSES", "CLEFTED_SEEDS", "INTENSITY_AUG", "K16", "K16_DEBRIS",
            "KERATIN_CLASSES", "MATRIX_SEEDS", "MIMIC_SEEDS", "NCT", "OEDEMA_SEEDS", "OSTEO_TRAIN", "PURE_SHARE",
            "RIM_LAYOUTS", "RIM_SEEDS", "ROWS_FACTOR", "SAMPLE_RECIPE", "SYNTH_SEEDS", "TISSUE_SEEDS", "ImageMap",
            "_cached_rows", "_repeats", "_sample_generator", "_sample_recipe_tiles", "_uses", "augment",
            "brca_labels", "context_images", "context_settings_arg", "feature_rows", "fold_of", "held_out",
            "load_maps", "main", "parser", "repeat_necrosis", "repeat_rows", "save_maps", "settings_of", "sources",
            "tile_maps", "tile_rows", "tissue_feature_specs", "wavy_sources")


@pytest.fixture
def tr(project_module):
    return project_module("scripts/train_tissue_model.py")


def test_defaults_parse_as_before(tr) -> None:
    ns = vars(tr.parser().parse_args([]))
    scripts = Path(tr.__file__).resolve().parent
    assert ns.pop("train") == scripts.parent.parent / "shared" / "train"
    assert ns.pop("osteo") == scripts.parent.parent / "shared" / "data" / "necrosis"
    assert ns.pop("out") == scripts.parent / "mmnst_path" / "models" / "tissue_default.mmnst"
    assert ns == DEFAULTS
    assert list(ns) == list(DEFAULTS)  # the options in the same order (the --help order)


def test_every_option_parses_as_before(tr) -> None:
    ns = vars(tr.parser().parse_args(EVERY))
    assert {k: v for k, v in ns.items() if v is not None and k not in ("train", "osteo", "out")} == EVERY_PARSED
    assert tr.parser().description == "Train the shipped default tissue (pixel) classifier from redistributable data."


def test_imported_names_stay(tr) -> None:
    missing = [n for n in IMPORTED if not hasattr(tr, n)]
    assert not missing


def test_recipe_lists_are_read_where_patched(tr, monkeypatch) -> None:
    """The seed lists and sources are the recipe module's: the script re-exports those very objects, and the row
    code reads them there (a patch of ``tr.recipe`` reaches :func:`feature_rows`)."""
    for name in ("AUG", "ROWS_FACTOR", "WAVY_SEEDS", "RIM_SEEDS", "sources", "wavy_sources", "_sample_recipe_tiles"):
        assert getattr(tr, name) is getattr(tr.recipe, name)
    seen = []
    monkeypatch.setattr(tr.recipe, "wavy_sources", lambda kind="wavy": iter(seen.append(kind) or ()))
    args = tr.parser().parse_args(["--wavy-tiles", "--extra-only", "--save-rows", "x.npz"])
    assert list(tr.recipe._wavy_rows(args, tr.settings_of(args))) == []
    assert seen == ["wavy"]
