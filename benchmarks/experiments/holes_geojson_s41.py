"""Session 41 H3 (D12 demo; writes ann/osteo_C21_holes.geojson and glass.npy in the current folder).

QuPath-style GeoJSON with a hole: one Tumor annotation over Viable C21 whose holes are the glass lumens
(QuPath's 'subtract'), and a Background annotation drawn inside the largest lumen, written before the Tumor."""
import json
import uuid

import numpy as np
from PIL import Image
from scipy import ndimage as ndi
from skimage import measure

img = np.asarray(Image.open("/work/shared/data/necrosis/Viable___Case-4-C21-25306-21689_120.jpg").convert("RGB"), float)
glass = (img.min(axis=2) > 205) & (img.max(axis=2) - img.min(axis=2) < 25)
glass = ndi.binary_opening(glass, iterations=3)
lab, n = ndi.label(glass)
sizes = ndi.sum(glass, lab, range(1, n + 1))
keep = [k + 1 for k in np.argsort(sizes)[::-1] if sizes[k] > 4000]
holes = []
for k in keep:
    m = ndi.binary_erosion(lab == k, iterations=4)  # drawn a little inside the glass edge
    cs = measure.find_contours(np.pad(m, 1).astype(float), 0.5)
    c = max(cs, key=len) - 1
    c = measure.approximate_polygon(c, 2.0)
    holes.append([[float(x), float(y)] for y, x in c])
print("holes", len(holes), "glass px in them", [int(sizes[k - 1]) for k in keep])
outer = [[16.0, 16.0], [1008.0, 16.0], [1008.0, 1008.0], [16.0, 1008.0], [16.0, 16.0]]
big = ndi.binary_erosion(lab == keep[0], iterations=30)
cs = measure.find_contours(np.pad(big, 1).astype(float), 0.5)
bg = measure.approximate_polygon(max(cs, key=len) - 1, 2.0)
bg_ring = [[float(x), float(y)] for y, x in bg]

def feat(coords, name, colour):
    return {"type": "Feature", "id": str(uuid.uuid4()), "geometry": {"type": "Polygon", "coordinates": coords},
            "properties": {"objectType": "annotation", "classification": {"name": name, "color": colour}, "isLocked": False}}

doc = {"type": "FeatureCollection", "features": [feat([bg_ring], "Background", -1),
                                                   feat([outer, *holes], "Tumor", -3670016)]}
json.dump(doc, open("ann/osteo_C21_holes.geojson", "w"), indent=1)

np.save("glass.npy", glass)
