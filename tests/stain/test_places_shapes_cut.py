"""The chromogen places measure shapes only where a shape can decide (session 44 H4, #16): the same bodies, rings
and angles as measuring every object, for a fraction of the objects (the named-stains check runs this on every
lone tile's thumbnail)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from mmnst_path.stain import places as places_module
from mmnst_path.stain.guess import _colour_guess
from mmnst_path.synthetic import pigment_family_tile
from mmnst_path.synthetic_double import double_stain_tile


def _count_every_object(rgb, tissue, mpp, white, bodies, degs):
    """:func:`places._count` before the cut: every object's shape measured (session 44 START_HEAD's code (04f0fd0), verbatim logic)."""
    from skimage.measure import regionprops

    from mmnst_path.stain import od_from_rgb
    from mmnst_path.stain.guess import (
        AEC_DEG,
        CHROMOGEN_MIN_OD,
        CHROMOGEN_MIN_SHARE,
        MIN_OD,
        PINK_MIN_OD,
        RED_DEG,
        od_residual,
    )

    P = places_module
    keep = np.ones(rgb.shape[:2], bool) if tissue is None else np.asarray(tissue, bool)
    area_mm2 = float(keep.sum()) * mpp * mpp / 1e6
    od = od_from_rgb(rgb, background=white).astype(np.float64)
    norm = np.linalg.norm(od, axis=2)
    m, theta = od_residual(od)
    chrom = keep & (norm > MIN_OD) & (m >= CHROMOGEN_MIN_OD) & (m >= CHROMOGEN_MIN_SHARE * norm)
    px_um2 = mpp * mpp
    r = max(1, round(P.BODY_OPEN_UM / mpp))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    disc = yy * yy + xx * xx <= r * r
    ring = red_total = 0.0
    pink = keep & (norm > MIN_OD) & (m >= PINK_MIN_OD) & (theta < RED_DEG)
    for cls, sel in (("brown", (theta >= AEC_DEG) & (theta < 30.0)), ("red", theta < AEC_DEG), ("any", theta < 30.0),
                     ("pink", None)):
        objs = pink if sel is None else chrom & sel
        opened = ndi.binary_opening(objs, structure=disc)
        lab, _ = ndi.label(objs)
        for rp in regionprops(lab):
            a = rp.area * px_um2
            if cls == "red":
                red_total += a
                if (P.RING_AREA_UM2[0] <= rp.area_filled * px_um2 <= P.RING_AREA_UM2[1]
                        and rp.area < P.RING_MAX_FILL * rp.area_filled):
                    ring += a
            if not (P.BODY_AREA_UM2[0] <= a <= P.BODY_AREA_UM2[1]) or rp.area < P.BODY_FILL * rp.area_filled:
                continue
            ys, xs = rp.coords[:, 0], rp.coords[:, 1]
            if (rp.solidity >= P.BODY_SOLIDITY and rp.eccentricity <= P.BODY_MAX_ECC
                    and float(opened[ys, xs].mean()) >= P.BODY_OPEN_KEEP):
                if cls == "any":
                    deg = float(np.median(theta[ys, xs]))
                    dab = (float(m[ys, xs].mean()) >= P.DAB_BODY_SHARE * float(norm[ys, xs].mean())
                           and deg >= P.DAB_BODY_MIN_DEG)
                    bodies["dab"] += int(dab)
                    degs["dab" if dab else "other"].append(deg)
                    continue
                if cls == "pink":
                    bodies["pink"] += 1
                    continue
                if cls == "brown":
                    deg = float(np.median(theta[ys, xs]))
                    share = float(m[ys, xs].mean()) / float(norm[ys, xs].mean())
                    bodies["dab_brown"] += int(P.DAB_BROWN_DEG[0] <= deg <= P.DAB_BROWN_DEG[1]
                                               and share >= P.DAB_BODY_SHARE)
                bodies[cls] += 1
                degs[cls].append(float(np.percentile(theta[ys, xs], 50 if cls == "brown" else P.RED_BODY_PCT)))
    return area_mm2, ring, red_total


def _tiles():
    for marker in ("cytoplasmic", "nuclear"):
        for mpp in (0.5, 1.0):
            t = double_stain_tile(3, marker=marker, chromogen="fast_red", mpp=mpp)
            yield f"double {marker} {mpp}", t.rgb, mpp
    for chrom in ("dab", "aec"):
        t = pigment_family_tile(3, "perinuclear", chromogen=chrom)
        yield f"family {chrom}", t.rgb, float(t.mpp)


@pytest.mark.parametrize(("name", "rgb", "mpp"), list(_tiles()), ids=[t[0] for t in _tiles()])
def test_places_identical_to_measuring_every_object(name, rgb, mpp, monkeypatch):
    """Bodies, angles, ring and red areas are bit-identical to measuring every object's shape, while the shapes of
    only some of the objects are measured (the rest cannot be a body or a ring)."""
    import skimage.measure

    white = _colour_guess(rgb, None).white_point
    ref_bodies = {"brown": 0, "red": 0, "dab": 0, "pink": 0, "dab_brown": 0}
    ref_degs: dict = {"brown": [], "red": [], "dab": [], "other": []}
    ref = _count_every_object(rgb, None, mpp, white, ref_bodies, ref_degs)

    measured, labelled = [], []
    real_regionprops, real_label = skimage.measure.regionprops, ndi.label

    def spy_regionprops(lab, *args, **kwargs):
        measured.append(int(np.count_nonzero(np.bincount(lab.ravel())[1:])))
        return real_regionprops(lab, *args, **kwargs)

    def spy_label(img, *args, **kwargs):
        out = real_label(img, *args, **kwargs)
        labelled.append(int(out[1]))
        return out

    monkeypatch.setattr(skimage.measure, "regionprops", spy_regionprops)
    monkeypatch.setattr(ndi, "label", spy_label)
    bodies = {"brown": 0, "red": 0, "dab": 0, "pink": 0, "dab_brown": 0}
    degs: dict = {"brown": [], "red": [], "dab": [], "other": []}
    got = places_module._count(rgb, None, mpp, white, bodies, degs)

    assert [repr(float(v)) for v in got] == [repr(float(v)) for v in ref]
    assert bodies == ref_bodies
    assert {k: [repr(v) for v in vs] for k, vs in degs.items()} == {k: [repr(v) for v in vs] for k, vs in ref_degs.items()}
    assert sum(ref_bodies.values()) > 0  # the comparison sees bodies
    assert len(measured) == len(labelled) == 4
    assert sum(measured) < 0.5 * sum(labelled), (measured, labelled)  # most objects' shapes are never computed


def test_objects_under_eight_pixels_hold_no_hole():
    """The premise of skipping small red objects: ``area_filled`` (holes filled with an 8-connected background)
    adds nothing to any 4-connected object of fewer than 8 pixels (every such shape in a 5 x 5 box), and the ring
    of 8 around one pixel is the smallest that holds one."""
    from skimage.measure import regionprops

    rng = np.random.default_rng(44)
    seen = 0
    for _ in range(3000):
        img = np.zeros((7, 7), bool)
        y, x = 3, 3
        img[y, x] = True
        for _ in range(int(rng.integers(1, 7))):  # a random walk of 4-steps: a 4-connected shape
            dy, dx = ((0, 1), (1, 0), (0, -1), (-1, 0))[int(rng.integers(4))]
            y, x = min(max(y + dy, 1), 5), min(max(x + dx, 1), 5)
            img[y, x] = True
        lab, n = ndi.label(img)
        assert n == 1
        rp = regionprops(lab)[0]
        assert rp.area < places_module._HOLE_MIN_PX
        assert rp.area_filled == rp.area
        seen += 1
    ring = np.ones((3, 3), bool)
    ring[1, 1] = False
    rp = regionprops(ndi.label(ring)[0])[0]
    assert rp.area == places_module._HOLE_MIN_PX
    assert rp.area_filled == 9
    assert seen == 3000
