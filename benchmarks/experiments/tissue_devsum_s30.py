"""Summary of dev.py JSON files (unrounded, 4 decimals): python devsum.py REF_NAME A.json [B.json ...]"""
import json
import sys

import numpy as np

ref = sys.argv[1]
res = {}
for p in sys.argv[2:]:
    res.update(json.load(open(p)))
R = res[ref]
def vals(name, kind): return {k.split("/", 1)[1]: v for k, v in res[name].items() if k.startswith(kind + "/")}
for name in res:
    S, K, Rr, G, B, D = (vals(name, k) for k in ("S", "K", "R", "G", "B", "D1"))
    Sr, Kr = vals(ref, "S"), vals(ref, "K")
    line = [name]
    if S:
        d = [S[k]["nec"] - Sr[k]["nec"] for k in S if k in Sr]
        line.append(f"S {np.mean([v['nec'] for v in S.values()]):.4f} (max {max(v['nec'] for v in S.values()):.4f}; up {sum(x > 0.5 for x in d)} / down {sum(x < -0.5 for x in d)}; n={len(S)})")
    if K:
        d = [K[k]["nec"] - Kr[k]["nec"] for k in K if k in Kr]
        line.append(f"K {np.mean([v['nec'] for v in K.values()]):.4f} (max {max(v['nec'] for v in K.values()):.4f}; max rise {max(d):+.4f}; n={len(K)})")
    if Rr:
        line.append(f"R {np.mean([v['nec'] for v in Rr.values()]):.4f} (max {max(v['nec'] for v in Rr.values()):.4f}; n={len(Rr)})")
    if G:
        line.append(f"G abs {np.mean([abs(v['nec'] - v['truth']) for v in G.values()]):.4f} signed {np.mean([v['nec'] - v['truth'] for v in G.values()]):+.4f} (n={len(G)})")
    if B:
        line.append(f"B {np.mean([v['nec'] for v in B.values()]):.4f} (>5: {sum(v['nec'] > 5 for v in B.values())}; n={len(B)})")
    if D:
        nvt = [v['nec'] for k, v in sorted(D.items()) if k.startswith("Non-Viable")]
        via = [v['nec'] for k, v in D.items() if k.startswith("Viable")]
        nt = [(k.split('-')[3] + '-' + k.split('-')[4], v['nec']) for k, v in sorted(D.items()) if k.startswith("Non-Tumor")]
        line.append("D1 NVT " + " / ".join(f"{x:.4f}" for x in nvt) + (f"; Viable max {max(via):.4f}" if via else "")
                    + f"; NT mean {np.mean([x for _, x in nt]):.4f} (" + " / ".join(f"{n} {x:.4f}" for n, x in nt) + ")")
    print(" | ".join(line))
