#!/bin/bash
# session 43 H1 gate chain: arms one after the other, gates in the rule's order; results read in order
PY=/work/main/.venv/bin/python
G=/tmp/s43_h1/g; mkdir -p $G
H=/tmp/s43_h1/head; C=/tmp/s43_h1/cand
# "$1" = 8: gate 8 only (CPU, run by hand once uptime shows load <= 4); else gates 1-7
if [ "$1" != 8 ]; then
for a in head cand; do T=/tmp/s43_h1/$a; (cd $T && PYTHONPATH=. $PY benchmarks/eval_pigment_families.py --chromogens dab --first-seed 11000 --seeds 8 --csv $G/g1_$a.csv > $G/g1_$a.log 2>&1); done
echo g12 > $G/g12.done
for a in head cand; do T=/tmp/s43_h1/$a; (cd $T && PYTHONPATH=. $PY benchmarks/experiments/false_pigment_tiles.py --analysis-mpp 0.5 --csv $G/g3_$a.csv > $G/g3_$a.log 2>&1); done
echo g3 > $G/g3.done
for a in head cand; do T=/tmp/s43_h1/$a; (cd $T && PYTHONPATH=. $PY benchmarks/accuracy.py /work/shared/data/ki67/bcdata /work/shared/data/ki67/shidc /work/shared/data/ki67/deepliif --rotate 0 > $G/g4_$a.out 2> $G/g4_$a.err); done
echo g4 > $G/g4.done
for a in head cand; do T=/tmp/s43_h1/$a; (cd $T && PYTHONPATH=. $PY benchmarks/eval_heldout.py --first-seed 11010 --seeds 8 --csv $G/g5_$a.csv > $G/g5_$a.log 2>&1); done
echo g5 > $G/g5.done
for a in head cand; do T=/tmp/s43_h1/$a; rm -rf $G/g6_$a; (cd $T && PYTHONPATH=. $PY -m mmnst_path quantify sample_tiles --out $G/g6_$a > $G/g6_$a.log 2>&1); done
echo g6 > $G/g6.done
for a in head cand; do T=/tmp/s43_h1/$a; (cd $T && PYTHONPATH=. $PY benchmarks/eval_pigment_families.py --chromogens aec fast_red --first-seed 11020 --seeds 2 --csv $G/g7_$a.csv > $G/g7_$a.log 2>&1); done
echo g7 > $G/g7.done
exit 0
fi
uptime > $G/g8.log
(cd /tmp/s43_h1/cand && PYTHONPATH=. $PY benchmarks/experiments/dab_melanin_model_cpu_s42.py $H $C --rounds 3 --work /tmp/s43_h1/cpu >> $G/g8.log 2>&1); uptime >> $G/g8.log
echo g8 > $G/g8.done
