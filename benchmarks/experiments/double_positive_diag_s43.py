"""Session 43 H9 (#14): why Ki67+ SOX10+ nuclei read Ki67-negative (dev tiles only).

For one generated double-stain tile, the DAB of each drawn nucleus (mean over 0.7 of its drawn
radius) as drawn, unmixed with the preset (``H-DAB-FastRed`` / ``H-DAB-AEC``), unmixed with the
tile's own (drawn) vectors and unmixed with :func:`marker_plane_matrix`, by true class (melanocyte
x Ki67); optionally a figure of preset vs plane reading against the drawn DAB.

    PYTHONPATH=. python benchmarks/experiments/double_positive_diag_s43.py 42203 --size 512 --png out.png
"""

from __future__ import annotations

import argparse

import numpy as np
from mmnst_path.quantify._ki67_marker_plane import marker_plane_matrix
from scipy import ndimage as ndi

import mmnst_path.synthetic_double as sd
from mmnst_path.stain import StainMatrix, load_stains, separate_stains

PRESET = {"fast_red": "H-DAB-FastRed", "aec": "H-DAB-AEC"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seed", type=int)
    ap.add_argument("--chromogen", default="fast_red")
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--png", default=None)
    args = ap.parse_args()
    seen: dict = {}
    render = sd._render

    def spy(concs, vectors, rng, **kw):  # the tile's concentrations and vectors, as drawn
        seen.update(concs=[np.array(c) for c in concs], vectors=[np.array(v) for v in vectors], kw=kw)
        return render(concs, vectors, rng, **kw)

    sd._render = spy
    tile = sd.double_stain_tile(args.seed, marker="nuclear", chromogen=args.chromogen, size=args.size)
    sd._render = render
    names = ("hematoxylin", "dab", args.chromogen)
    preset = load_stains(PRESET[args.chromogen])
    own = StainMatrix(names, np.stack(seen["vectors"][:3]), name="drawn", _warn=False)
    plane = marker_plane_matrix(tile.rgb, preset, args.chromogen, mpp=tile.mpp)
    drawn = ndi.gaussian_filter(seen["concs"][1], seen["kw"]["blur_px"])
    reads = [separate_stains(tile.rgb, m, stains=("dab",))[..., 0] for m in (preset, own, plane)]
    yy, xx = np.mgrid[: args.size, : args.size]
    rows = []
    for r, c, rad, mel, pos in tile.cells:
        disc = (yy - r) ** 2 + (xx - c) ** 2 <= (0.7 * rad * (1.0 if mel else 0.8)) ** 2
        if disc.any():
            rows.append((mel, pos, drawn[disc].mean(), *(x[disc].mean() for x in reads)))
    t = np.array(rows)
    print(f"tile {args.seed} {args.chromogen} size {args.size}: marker {tile.truth['marker_od']:.2f} OD")
    print("| nuclei | n | DAB drawn | preset - drawn (median) | drawn vectors - drawn | plane - drawn |")
    print("|---|---|---|---|---|---|")
    groups = {"SOX10+ Ki67+": (1, 1), "SOX10+ Ki67-": (1, 0), "stroma Ki67+": (0, 1), "stroma Ki67-": (0, 0)}
    for label, (m, p) in groups.items():
        g = t[(t[:, 0] == m) & (t[:, 1] == p)]
        if len(g):
            d = [np.median(g[:, k] - g[:, 2]) for k in (3, 4, 5)]
            print(f"| {label} | {len(g)} | {np.mean(g[:, 2]):.3f} | {d[0]:+.3f} | {d[1]:+.3f} | {d[2]:+.3f} |")
    if args.png:
        scatter_png(t, args.png, f"double_stain_tile({args.seed}, marker='nuclear', chromogen='{args.chromogen}', "
                    f"size={args.size})", list(groups.items()))


def scatter_png(t: np.ndarray, path: str, title: str, groups: list) -> None:
    """Two panels (preset, plane) of DAB read against DAB drawn per nucleus, drawn with PIL."""
    from PIL import Image, ImageDraw

    colours = ((200, 30, 30), (240, 150, 20), (120, 70, 20), (140, 140, 140))
    w, h, pad, lo, hi = 430, 430, 50, -0.4, 1.2
    img = Image.new("RGB", (2 * w + 20, h + 60), "white")
    draw = ImageDraw.Draw(img)
    draw.text((10, 5), title + ": DAB under the red SOX10 marker (per nucleus, core mean, OD)", fill="black")

    def xy(x0: int, a: float, b: float) -> tuple[float, float]:
        return (x0 + pad + (a - lo) / (hi - lo) * (w - 2 * pad), 30 + h - pad - (b - lo) / (hi - lo) * (h - 2 * pad))

    for panel, (k, name) in enumerate(((3, "preset (HEAD)"), (5, "plane fitted on the tile (candidate)"))):
        x0 = panel * (w + 20)
        draw.rectangle([xy(x0, lo, hi), xy(x0, hi, lo)], outline="black")
        draw.line([xy(x0, lo, lo), xy(x0, hi, hi)], fill=(170, 170, 170))
        draw.line([xy(x0, lo, 0.35), xy(x0, hi, 0.35)], fill=(60, 60, 200))
        draw.text((x0 + pad, 32), name + "  (blue: positive threshold 0.35; grey: read = drawn)", fill="black")
        draw.text((x0 + pad, 30 + h - pad + 8), f"DAB drawn {lo} .. {hi}; y: DAB read {lo} .. {hi}", fill="black")
        for (_label, (m, p)), col in zip(groups, colours, strict=True):
            g = t[(t[:, 0] == m) & (t[:, 1] == p)]
            for a, b in zip(g[:, 2], g[:, k], strict=True):
                x, y = xy(x0, float(a), float(np.clip(b, lo, hi)))
                draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=col)
        for i, ((label, _), col) in enumerate(zip(groups, colours, strict=True)):
            draw.text((x0 + pad + 8, 50 + 14 * i), label, fill=col)
    img.save(path)


if __name__ == "__main__":
    main()
