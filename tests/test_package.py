"""Package-level contracts: the public API is deliberate and importing it is cheap."""

from __future__ import annotations

import subprocess
import sys

import mmnst_path


def test_all_holds_no_private_name():
    assert all(not name.startswith("_") or name == "__version__" for name in mmnst_path.__all__)


def test_all_names_resolve():
    for name in mmnst_path.__all__:
        assert getattr(mmnst_path, name) is not None


def test_import_is_cheap():
    """`import mmnst_path` must not pull openslide, dask, scikit-image, napari or Qt."""
    code = (
        "import sys, mmnst_path; heavy = ['openslide', 'dask', 'skimage', 'napari', 'qtpy', 'PyQt6',"
        " 'distributed', 'sklearn', 'numba']; print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_errors_are_also_builtins():
    assert issubclass(mmnst_path.SlideNotFoundError, FileNotFoundError)
    assert issubclass(mmnst_path.UnsupportedFormatError, ValueError)
    assert issubclass(mmnst_path.ConfigError, ValueError)
    assert issubclass(mmnst_path.CorruptFileError, OSError)
