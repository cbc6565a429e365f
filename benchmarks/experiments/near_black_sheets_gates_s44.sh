#!/bin/bash
# session 44 H2 gate chain (rule: near_black_sheets_rule_s44.md); arms one after the other
PY=/work/main/.venv/bin/python
G=${G:-/tmp/s44_h2/g}; mkdir -p $G
for a in head cand; do T=/tmp/s44_h2/$a; (cd $T && PYTHONPATH=. nice -n 5 $PY benchmarks/eval_pigment_families.py --chromogens dab --families confluent --near-black --first-seed 14150 --seeds 50 --csv $G/g1_$a.csv > $G/g1_$a.log 2>&1); done
echo g1 > $G/g1.done
for a in head cand; do T=/tmp/s44_h2/$a; (cd $T && PYTHONPATH=. nice -n 5 $PY benchmarks/experiments/false_pigment_tiles.py --analysis-mpp 0.5 --csv $G/g2a_$a.csv > $G/g2a_$a.log 2>&1); done
echo g2a > $G/g2a.done
for a in head cand; do T=/tmp/s44_h2/$a; (cd $T && PYTHONPATH=. nice -n 5 $PY benchmarks/eval_pigment_families.py --chromogens dab --near-black --families dusty coarse sparse perinuclear over_nucleus whole_cell melanophage spindle none --first-seed 14150 --seeds 4 --csv $G/g2c_nb_$a.csv > $G/g2c_nb_$a.log 2>&1); done
for a in head cand; do T=/tmp/s44_h2/$a; (cd $T && PYTHONPATH=. nice -n 5 $PY benchmarks/eval_pigment_families.py --chromogens dab --first-seed 14150 --seeds 2 --csv $G/g2c_plain_$a.csv > $G/g2c_plain_$a.log 2>&1); done
echo g2c > $G/g2c.done
for a in head cand; do T=/tmp/s44_h2/$a; rm -rf $G/g3_$a; (cd $T && PYTHONPATH=. nice -n 5 $PY -m mmnst_path quantify sample_tiles --out $G/g3_$a > $G/g3_$a.log 2>&1); done
echo g3 > $G/g3.done
