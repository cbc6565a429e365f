#!/bin/bash
# Gate 5 of session 41 H9 (rule aec_colour_off_rule_s41.md): CPU (user + sys) of a whole `quantify` of a 1024² AEC tile (pigment_family_tile seed 4480,
# confluent, plain), HEAD (A), candidate (B) and a second HEAD copy (A2, the A/A control), one warm-up per arm, then
# ROUNDS interleaved rounds A B A2. usage: aec_colour_off_speed_s41.sh HEAD_TREE CAND_TREE HEAD2_TREE OUT_DIR [ROUNDS]
set -u
A=$1; B=$2; A2=$3; O=$4; R=${5:-3}; PY=/work/main/.venv/bin/python
mkdir -p $O; cd $O
PYTHONPATH=$A $PY -P -c "
import tifffile
from mmnst_path.synthetic import pigment_family_tile
t = pigment_family_tile(4480, 'confluent', chromogen='aec', size=1024, appearance='plain')
tifffile.imwrite('aec.tif', t.rgb, resolution=(1e4 / t.mpp, 1e4 / t.mpp), resolutionunit='CENTIMETER')
"
run() { /usr/bin/time -f "$1 $2 %U %S" -a -o times.txt env PYTHONPATH=${!1} $PY -P -m mmnst_path quantify aec.tif \
          --out out_$1 --stains H-AEC --workers 1 --overwrite > /dev/null 2>&1; }
: > times.txt
for arm in A B A2; do run $arm warm; done
for i in $(seq 1 $R); do for arm in A B A2; do run $arm $i; done; done
$PY - <<'PYEOF'
import numpy as np
rows = [l.split() for l in open("times.txt") if l.strip() and l.split()[1] != "warm"]
cpu = {a: [float(u) + float(s) for arm, _, u, s in rows if arm == a] for a in ("A", "B", "A2")}
for a, v in cpu.items():
    print(a, " ".join(f"{x:.2f}" for x in v), f"mean {np.mean(v):.4f}")
r, aa = np.mean(cpu["B"]) / np.mean(cpu["A"]), np.mean(cpu["A2"]) / np.mean(cpu["A"])
void = not 0.95 <= aa <= 1.05
print(f"GATE5 CPU candidate / HEAD {r:.6f} (<= 1.05), A/A {aa:.6f} (in [0.95, 1.05]) -> "
      + ("VOID (A/A outside)" if void else "PASS" if r <= 1.05 else "FAIL"))
PYEOF
