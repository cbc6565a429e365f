"""The shared shell of the stroma generators (:func:`mmnst_path._synthetic_wavy.stroma_maps`, session 29): zeroed
float32 maps, no random draw on an empty region, the painter's name and the shared Parameters / Returns docs."""

import numpy as np
import pytest

from mmnst_path._synthetic_matrix import clefted_stroma, matrix_stroma
from mmnst_path._synthetic_oedema import oedema_stroma
from mmnst_path._synthetic_wavy import stroma_maps, wavy_stroma

PAINTERS = (wavy_stroma, oedema_stroma, matrix_stroma, clefted_stroma)


@pytest.mark.parametrize("fn", PAINTERS, ids=lambda f: f.__name__)
def test_empty_region_draws_nothing(fn):
    rng = np.random.default_rng(3)
    h, e = fn(np.zeros((20, 30), bool), 0.5, rng)
    assert h.dtype == e.dtype == np.float32
    assert h.shape == e.shape == (20, 30)
    assert not h.any()
    assert not e.any()
    assert rng.random() == np.random.default_rng(3).random()  # the generator was not touched


@pytest.mark.parametrize("fn", PAINTERS, ids=lambda f: f.__name__)
def test_name_and_docs(fn):
    assert fn.__name__.endswith("_stroma")
    assert fn.__doc__.startswith("Hematoxylin and eosin concentration maps")
    assert "region : numpy.ndarray" in fn.__doc__
    assert "(hematoxylin, eosin) concentration maps" in fn.__doc__


def test_painter_paints_in_place_on_zeroed_maps():
    seen = []

    def paint(region, mpp, rng, h, e):
        """Doc."""
        seen.append((h.copy(), e.copy()))
        h += 1.0
        e[region] = mpp

    f = stroma_maps(paint)
    region = np.zeros((4, 5), bool)
    region[1, 2] = True
    h, e = f(region, 0.25, np.random.default_rng(0))
    assert not seen[0][0].any()
    assert not seen[0][1].any()
    assert (h == 1.0).all()
    assert e[1, 2] == np.float32(0.25)
    assert e.sum() == np.float32(0.25)
    assert f.__name__ == "paint"
    assert f.__doc__.startswith("Doc.")
    assert "Returns" in f.__doc__
