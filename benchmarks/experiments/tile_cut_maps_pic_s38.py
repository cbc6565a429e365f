"""Session 38 H4: the picture h4_tile_cut_maps.png from the tile_cut_melanin_s38.py dumps (HEAD in /tmp/s38_h4/m, branch in /tmp/s38_h4/g)."""
import numpy as np
from PIL import Image, ImageDraw

M, G = "/tmp/s38_h4/m", "/tmp/s38_h4/g"

def mapimg(a, vmax):
    v = np.clip(np.nan_to_num(a) / vmax, 0, 1)
    rgb = np.stack([255 * v ** 0.5, 255 * v, 60 + 0 * v], -1)  # dark -> yellow
    rgb[~np.isfinite(a)] = (150, 150, 150)
    return rgb.astype(np.uint8)

def diffimg(d, finite):
    out = np.full((*d.shape, 3), 255, np.uint8)
    out[~finite] = (150, 150, 150)
    out[d > 0] = (220, 30, 30)
    out[d < 0] = (30, 60, 220)
    return out

panels = []
for s, scale in (("cmu", 4), ("tcga", 2)):
    h, h1 = np.load(f"{M}/head_{s}_512.json.melanin.npy"), np.load(f"{M}/head_{s}_16000.json.melanin.npy")
    c, c1 = np.load(f"{G}/c_{s}_512.json.melanin.npy"), np.load(f"{G}/c_{s}_16000.json.melanin.npy")
    fin = np.isfinite(h)
    vmax = float(np.nanpercentile(np.where(h > 0, h, np.nan), 95))
    dh, dc = np.nan_to_num(h - h1), np.nan_to_num(c - c1)
    row = []
    for img, title in ((mapimg(h, vmax), f"{s} HEAD tiled 512"),
                       (diffimg(dh, fin), f"HEAD tiled-1tile: {int((dh != 0).sum())} blocks, max {np.abs(dh).max():.4f}"),
                       (mapimg(c, vmax), f"{s} branch tiled 512"),
                       (diffimg(dc, fin), f"branch tiled-1tile: {int((dc != 0).sum())} blocks")):
        im = Image.fromarray(img).resize((img.shape[1] * scale, img.shape[0] * scale), Image.NEAREST)
        canvas = Image.new("RGB", (im.width, im.height + 18), "white")
        canvas.paste(im, (0, 18))
        ImageDraw.Draw(canvas).text((2, 2), title, fill="black")
        row.append(canvas)
    w = sum(p.width for p in row) + 10 * 3
    hgt = max(p.height for p in row)
    r = Image.new("RGB", (w, hgt), "white")
    x = 0
    for p in row:
        r.paste(p, (x, 0))
        x += p.width + 10
    panels.append(r)
W = max(p.width for p in panels)
out = Image.new("RGB", (W, sum(p.height for p in panels) + 10), "white")
y = 0
for p in panels:
    out.paste(p, (0, y))
    y += p.height + 10
out.save("/work/notes/s38/h4_tile_cut_maps.png")
print(out.size)
