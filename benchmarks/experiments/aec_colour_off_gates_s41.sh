#!/bin/bash
# Session 41 H9's gate chain (rule: benchmarks/experiments/aec_colour_off_rule_s41.md), gates 1-4, run once, in the
# rule's order, stopping at the first failure. A = HEAD e834edc tree, B = candidate tree (git archive of the candidate
# commit). Gate 5: aec_ki67_speed_s41.sh (tile seed 4480, ratio <= 1.05). usage: aec_colour_off_gates_s41.sh A B OUT
set -u
A=$1; B=$2; O=$3; PY=/work/main/.venv/bin/python
J="$PY $B/benchmarks/experiments/aec_colour_off_gates_s41.py"
mkdir -p $O
stamp() { echo "== $(date -u +%H:%M:%S) $*"; }
for arm in A B; do T=${!arm}; stamp "families $arm"
  (cd $T && PYTHONPATH=. $PY $B/benchmarks/experiments/aec_colour_off_record_s41.py $O/angles_$arm.csv -- \
     --chromogens dab aec fast_red --first-seed 4360 --seeds 8 --csv $O/fam_$arm.csv > $O/fam_$arm.log 2>&1) || { echo "families $arm crashed"; exit 2; }
done
$J families $O/fam_A.csv $O/fam_B.csv $O/angles_A.csv || { stamp STOP; exit 1; }
for arm in A B; do T=${!arm}; stamp "red $arm"
  (cd $T && PYTHONPATH=. $PY benchmarks/eval_red_chromogens.py --first-seed 4370 --seeds 4 --csv $O/red_$arm.csv \
     > $O/red_$arm.log 2>&1) || { echo "red $arm crashed"; exit 2; }
done
$J red $O/red_A.csv $O/red_B.csv || { stamp STOP; exit 1; }
for arm in A B; do T=${!arm}; stamp "readme $arm"
  (cd $A && PYTHONPATH=$T $PY -P -m mmnst_path quantify sample_tiles --out $O/readme_$arm > $O/readme_$arm.log 2>&1) \
     || { echo "readme $arm crashed"; exit 2; }
done
$PY $B/benchmarks/experiments/aec_ki67_readme_cmp_s41.py $O/readme_A $O/readme_B || { stamp STOP; exit 1; }
for arm in A B; do T=${!arm}; stamp "accuracy $arm"
  for k in 0 1 2 3; do
    (cd $T && PYTHONPATH=. $PY benchmarks/accuracy.py /work/shared/data/ki67/bcdata /work/shared/data/ki67/shidc \
       /work/shared/data/ki67/deepliif --rotate $k > $O/acc_${arm}_$k.txt 2> $O/acc_${arm}_$k.err) \
       || { echo "accuracy $arm $k crashed"; exit 2; }
  done
done
ok=1; for k in 0 1 2 3; do
  if cmp -s $O/acc_A_$k.txt $O/acc_B_$k.txt; then echo "GATE4 accuracy rotate $k: identical -> PASS"
  else echo "GATE4 accuracy rotate $k: DIFFERS -> FAIL"; diff $O/acc_A_$k.txt $O/acc_B_$k.txt | head; ok=0; fi
done
grep -h "ROTATIONS\|MAE" $O/acc_A_*.txt | head -12
[ $ok = 1 ] || { stamp STOP; exit 1; }
stamp "gates 1-4 done"
