"""Rows for gate 1' of the compact-models rerun rule: H2's two captures merged, models below 20 000 rows topped up
by perturbed captured rows (default_rng(41), 0.25 x column SD, NaN kept)."""
import numpy as np

a = dict(np.load('/tmp/s41_h2/cap/rows.npz'))
b = dict(np.load('/tmp/s41_h2/cap2/rows.npz'))
rng = np.random.default_rng(41)
out = {}
for name in sorted(set(a) | set(b)):
    parts = [d[name] for d in (a, b) if name in d]
    x = np.concatenate(parts).astype(np.float32)
    n0 = len(x)
    if 0 < n0 < 20000:
        sd = np.nanstd(x.astype(np.float64), axis=0)
        sd = np.where(np.isfinite(sd), sd, 0.0)
        pick = x[rng.integers(0, n0, 20000 - n0)].astype(np.float64)
        noise = rng.normal(size=pick.shape) * (0.25 * sd)
        extra = (pick + noise).astype(np.float32)
        extra[np.isnan(pick)] = np.nan
        x = np.concatenate([x, extra])
    out[name] = x
    print(f"{name:40s} captured {n0:>8d}  rows {len(x):>8d}")
np.savez_compressed('/tmp/s41_lead/rows_rerun.npz', **out)
