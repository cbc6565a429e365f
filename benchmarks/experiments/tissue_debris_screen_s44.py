"""Session 44 H3 (#13): dev screen of candidate tissue feature columns that could tell collagen, keratin and mucin
from necrosis (karyorrhectic debris, fine fibre coherence, eosin ridges).

    PYTHONPATH=.:benchmarks python benchmarks/experiments/tissue_debris_screen_s44.py cache /tmp/s44_h3/dev.npz
    PYTHONPATH=.:benchmarks python benchmarks/experiments/tissue_debris_screen_s44.py auc /tmp/s44_h3/dev.npz

Dev tiles only: the held-out renderer's dev seeds 14200-14249 (``--necrosis random`` and ``none`` of each seed) and
:func:`mmnst_path.synthetic_tissue.he_mimic_tile` seeds 14200-14223. Per output block (8 µm) the shipped model's
columns, its class (argmax of the whole forest, no smoothing), the truth class shares and the candidate columns of
:func:`candidate_columns`. ``auc``: per candidate column, the AUC of "mimic blocks the shipped model reads necrosis"
(collagen / loose / keratin / mucin, >= 90 % one class) against true necrosis blocks (>= 90 %).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from mmnst_path.classify.tissue_features import (
    TissueFeatureSettings,
    _g,
    _micro_factor,
    block_factor,
    block_mean,
    grid_factors,
    tissue_features,
)

HELD_SEEDS = tuple(range(14200, 14250))
MIMIC_SEEDS = tuple(range(14200, 14224))
MIMIC_CLASSES = ("collagen", "loose", "keratin", "mucin")
SETTINGS = TissueFeatureSettings()


def _hessian(x: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (l1 <= l2) of the scale-normalised Hessian of ``x`` at ``s`` px."""
    rr = _g(x, s, order=(2, 0)) * s * s
    cc = _g(x, s, order=(0, 2)) * s * s
    rc = _g(x, s, order=(1, 1)) * s * s
    tr, d = (rr + cc) / 2, np.sqrt(((rr - cc) / 2) ** 2 + rc * rc)
    return tr - d, tr + d


def candidate_columns(rgb: np.ndarray, mpp: float) -> tuple[dict[str, np.ndarray], tuple[int, int]]:
    """Candidate columns per output block, computed on the ~1 µm micro grid (scales in µm)."""
    from mmnst_path.stain import load_stains, od_from_rgb

    st = SETTINGS
    f, k, j = grid_factors(mpp, st)
    big = f * k * j
    m, n = rgb.shape[:2]
    mp, np_ = -(-m // big) * big, -(-n // big) * big
    rgb = np.pad(rgb, ((0, mp - m), (0, np_ - n), (0, 0)), mode="edge")
    matrix = load_stains("H&E")
    cols = [matrix.names.index("hematoxylin"), matrix.names.index("eosin")]
    fm = _micro_factor(block_factor(mpp, st.grid_um), mpp, st.micro_um)
    od_m = block_mean(od_from_rgb(rgb, background=matrix.background), fm)
    conc = (od_m.reshape(-1, 3) @ np.asarray(matrix.inverse, np.float32)[:, cols]).reshape(*od_m.shape[:2], 2)
    h, e = np.maximum(conc[..., 0], 0), np.maximum(conc[..., 1], 0)
    up = 1.0 / (fm * mpp)  # micro px per µm
    eps = st.eps_od
    b = big // fm  # micro px per output block
    out: dict[str, np.ndarray] = {}
    hloc = _g(h, 4 * up) + eps
    # A: karyorrhectic debris: small dark H blobs (1 µm) against nucleus-sized ones (3 µm)
    small = np.maximum(-ndi.gaussian_laplace(h, 1.0 * up) * up * up, 0) / hloc
    large = np.maximum(-ndi.gaussian_laplace(h, 3.0 * up) * (3 * up) ** 2, 0) / hloc
    l1s, l2s = _hessian(h, 1.0 * up)
    dot = np.maximum(-l2s, 0) / hloc  # both curvatures negative: a round dark dot (not a ridge / fibre)
    for name, x in (("deb_small", small), ("deb_large", large), ("deb_dot", dot)):
        out[name] = block_mean(x, b)
    for s in (6.0, 18.0):
        gs, gl = _g(small, s * up), _g(large, s * up)
        out[f"deb_share_s{s:g}"] = block_mean(gs / (gs + gl + 1e-3), b)
        out[f"deb_dot_s{s:g}"] = block_mean(_g(dot, s * up), b)
    # B: fibre coherence of eosin at fine scale (derivative 1 µm, integration 2 µm) and its wide alignment
    er, ec = _g(e, 1.0 * up, order=(1, 0)), _g(e, 1.0 * up, order=(0, 1))
    for integ in (2.0, 8.0, 18.0):
        jrr, jcc, jrc = (_g(v, integ * up) for v in (er * er, ec * ec, er * ec))
        coh = np.sqrt((jrr - jcc) ** 2 + 4 * jrc * jrc) / (jrr + jcc + 1e-8)
        out[f"ecoh_i{integ:g}"] = block_mean(coh, b)
    # C: eosin ridges (1.5 µm): |l1| - |l2| where l1 < 0 (a bright eosin line) over the eosin level
    el1, el2 = _hessian(e, 1.5 * up)
    eloc = _g(e, 4 * up) + eps
    ridge = np.maximum(-el1, 0) * (1 - np.abs(el2) / (np.abs(el1) + 1e-6)).clip(0, 1) / eloc
    blobness = np.maximum(-el2, 0) / eloc
    for s in (6.0, 18.0):
        gr, gb = _g(ridge, s * up), _g(blobness, s * up)
        out[f"eridge_s{s:g}"] = block_mean(gr, b)
        out[f"eridge_share_s{s:g}"] = block_mean(gr / (gr + gb + 1e-3), b)
    # H ridge share (thin nuclei, parakeratotic streaks) vs dots
    hr = np.maximum(-l1s, 0) * (1 - np.abs(l2s) / (np.abs(l1s) + 1e-6)).clip(0, 1) / hloc
    out["h_ridge_share_s18"] = block_mean(_g(hr, 18 * up) / (_g(hr, 18 * up) + _g(dot, 18 * up) + 1e-3), b)
    shape = next(iter(out.values())).shape
    return {kk: v.reshape(-1) for kk, v in out.items()}, shape


def _shares(classes: np.ndarray, names: tuple[str, ...], mpp: float, shape: tuple[int, int]) -> np.ndarray:
    f, k, j = grid_factors(mpp, SETTINGS)
    big = f * k * j
    m, n = classes.shape
    mp, np_ = -(-m // big) * big, -(-n // big) * big
    out = []
    for i in range(len(names)):
        x = np.pad((classes == i).astype(np.float32), ((0, mp - m), (0, np_ - n)))
        out.append(block_mean(x, big)[: shape[0], : shape[1]].reshape(-1))
    return np.stack(out, -1)


def build_cache(path: Path) -> None:
    from heldout_render_he import CLASSES, render_he

    from mmnst_path.classify import load_model
    from mmnst_path.classify.tissue import tissue_feature_settings
    from mmnst_path.synthetic_tissue import he_mimic_tile

    model = load_model(Path("mmnst_path/models/tissue_default.mmnst"), kind="tissue")
    rows: dict[str, list[np.ndarray]] = {}
    mimic_names = ("tumour", "stroma", "necrosis", "blood", "mucin", "keratin", "fat", "background")

    def add(tag: str, rgb: np.ndarray, mpp: float, cls_share: np.ndarray | None, names: tuple[str, ...],
            masks: dict | None = None) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            feats, _ = tissue_features(rgb, mpp=mpp, settings=tissue_feature_settings(model))
        x = feats.reshape(-1, feats.shape[-1])
        proba = model.forest.predict_proba(x.astype(np.float32))
        cand, shape = candidate_columns(rgb, mpp)
        assert shape == feats.shape[:2], (shape, feats.shape)
        if cls_share is None:
            assert masks is not None
            cls_share = np.stack([_mask_share(masks.get(c), mpp, shape) for c in names], -1)
        rows.setdefault("tag", []).append(np.full(len(x), tag))
        rows.setdefault("x", []).append(x)
        rows.setdefault("proba", []).append(proba.astype(np.float32))
        rows.setdefault("cand", []).append(np.stack([cand[c] for c in sorted(cand)], -1))
        rows.setdefault("truth", []).append(_to_common(cls_share, names))
        rows.setdefault("mpp", []).append(np.full(len(x), mpp, np.float32))
        print(tag, flush=True)

    for s in HELD_SEEDS:
        for nec in ("random", "none"):
            t = render_he(s, size=640, necrosis=nec)
            shape = (-(-640 // round(8 / t.mpp)),) * 2
            add(f"held_{nec}_{s}", t.rgb, t.mpp, _shares(t.classes, CLASSES, t.mpp, shape), CLASSES)
    for s in MIMIC_SEEDS:
        mpp, size = (1.0, 384) if s % 2 else (0.5, 640)
        t = he_mimic_tile(s, size=size, mpp=mpp)
        add(f"mimic_{s}", t.rgb, mpp, None, mimic_names, masks=t.masks)
    cand_names = sorted(candidate_columns(np.full((64, 64, 3), 200, np.uint8), 0.5)[0])
    np.savez(path, cand_names=np.array(cand_names), class_names=np.array(model.class_names),
             **{k: np.concatenate(v) for k, v in rows.items()})


COMMON = ("glass", "tumour", "collagen", "loose", "necrosis", "keratin", "mucin", "blood", "fat")


def _to_common(share: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Class shares in the held-out renderer's class order (the mimic generator's stroma -> collagen,
    background -> glass, no loose)."""
    alias = {"stroma": "collagen", "background": "glass"}
    out = np.zeros((len(share), len(COMMON)), np.float32)
    for i, nm in enumerate(names):
        nm = alias.get(nm, nm)
        if nm in COMMON:
            out[:, COMMON.index(nm)] += share[:, i]
    return out


def _mask_share(mask: np.ndarray | None, mpp: float, shape: tuple[int, int]) -> np.ndarray:
    if mask is None:
        return np.zeros(shape[0] * shape[1], np.float32)
    return _shares(mask.astype(np.int32), ("_", "x"), mpp, shape)[:, 1]


def _auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(a positive scores above a negative) (ties half)."""
    allv = np.concatenate([pos, neg])
    from scipy.stats import rankdata

    rk = rankdata(allv)
    return float((rk[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def auc_report(path: Path) -> None:
    z = np.load(path, allow_pickle=False)
    names = list(z["cand_names"])
    nec = list(z["class_names"]).index("necrosis")
    pred = z["proba"].argmax(1)
    truth = z["truth"]
    tag = z["tag"]
    for src in ("held", "mimic"):
        sel = np.char.startswith(tag.astype(str), src)
        pure = truth.max(1) >= 0.9
        cls = truth.argmax(1)
        is_nec = sel & pure & (cls == COMMON.index("necrosis"))
        print(f"== {src}: necrosis blocks {is_nec.sum()} (read necrosis {(pred[is_nec] == nec).mean():.3f})")
        for mc in MIMIC_CLASSES:
            mis = sel & pure & (cls == COMMON.index(mc)) & (pred == nec)
            allm = sel & pure & (cls == COMMON.index(mc))
            if allm.sum() < 20:
                continue
            line = [f"{mc}: {allm.sum()} blocks, read necrosis {mis.sum()} ({mis.sum() / allm.sum():.3f})"]
            print("  " + line[0])
        mis = sel & pure & np.isin(cls, [COMMON.index(c) for c in MIMIC_CLASSES]) & (pred == nec)
        print(f"  AUC misread mimic ({mis.sum()}) vs true necrosis ({is_nec.sum()}), per column "
              "(0.5 = no separation; |AUC - 0.5| counts)")
        aucs = []
        for i, nm in enumerate(names):
            a = _auc(z["cand"][mis, i], z["cand"][is_nec, i])
            per = []
            for mc in MIMIC_CLASSES:
                mm = mis & (cls == COMMON.index(mc))
                if mm.sum() >= 20:
                    per.append(f"{mc} {_auc(z['cand'][mm, i], z['cand'][is_nec, i]):.3f}")
            aucs.append((abs(a - 0.5), nm, a, per))
        for _, nm, a, per in sorted(aucs, reverse=True):
            print(f"    {nm:22s} {a:.3f}  [{', '.join(per)}]")


if __name__ == "__main__":
    cmd, p = sys.argv[1], Path(sys.argv[2])
    if cmd == "cache":
        p.parent.mkdir(parents=True, exist_ok=True)
        build_cache(p)
    else:
        auc_report(p)
