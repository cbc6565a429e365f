#!/bin/bash
# Session 43 H11: the gates of the ring-rule mend alone, in the rule's order, stopping at the first failure.
# HEAD tree: git archive 76d18fa in /tmp/s43_h11/head (with /tmp/s43_h11/shared -> /work/shared); candidate: git archive of branch s43_h11 in /tmp/s43_h11/cand.
# Each tree runs its own scripts, HEAD first, one process at a time. Outputs in /tmp/s43_h11/gates.
set -u
PY=/work/main/.venv/bin/python
HEAD=/tmp/s43_h11/head
CAND=/tmp/s43_h11/cand  # git archive of the candidate commit (the worktree stays free to edit)
G=/tmp/s43_h11/gates
CMP="$PY $CAND/benchmarks/experiments/double_stain_ring_alone_s43_compare.py"
mkdir -p $G
stamp() { echo "$(date -u +%H:%M:%S) $*" >> $G/run.log; }
run2() {  # name, command (run in each tree)
  for arm in head cand; do
    tree=$HEAD; [ $arm = cand ] && tree=$CAND
    stamp "start $1 $arm"
    (cd $tree && PYTHONPATH=. bash -c "$2" > $G/$1_$arm.txt 2> $G/$1_$arm.err)
    stamp "end $1 $arm rc=$?"
  done
}
run2 g1 "$PY benchmarks/experiments/double_stain_he_probe_s43.py --first-seed 11130 --seeds 4"
$CMP probe $G/g1_head.txt $G/g1_cand.txt > $G/g1_cmp.txt 2>&1 || { stamp "gate 1 FAIL"; exit 1; }
stamp "gate 1 PASS"
run2 g2 "$PY benchmarks/eval_stain_guess.py --first-seed 11140 --seeds 4 --verbose"
$CMP eval $G/g2_head.txt $G/g2_cand.txt > $G/g2_cmp.txt 2>&1 || { stamp "gate 2 FAIL"; exit 1; }
stamp "gate 2 PASS"
run2 g3 "$PY benchmarks/eval_stain_guess.py --real --verbose"
$CMP real $G/g3_head.txt $G/g3_cand.txt > $G/g3_cmp.txt 2>&1 || { stamp "gate 3 FAIL"; exit 1; }
stamp "gate 3 PASS"
rm -rf $G/readme_head $G/readme_cand
for arm in head cand; do
  tree=$HEAD; [ $arm = cand ] && tree=$CAND
  stamp "start g4 $arm"
  (cd $tree && PYTHONPATH=. $PY -m mmnst_path quantify sample_tiles --out $G/readme_$arm > $G/g4_$arm.txt 2> $G/g4_$arm.err)
  stamp "end g4 $arm rc=$?"
done
$CMP readme $G/readme_head $G/readme_cand > $G/g4_cmp.txt 2>&1 || { stamp "gate 4 FAIL"; exit 1; }
stamp "gate 4 PASS"
# gate 5: targeted tests fail before (HEAD tree with the new test files), pass on the candidate; ruff, mypy, lint-imports
T="tests/stain/test_guess_he_ring_alone_s43.py tests/stain/test_guess_azure_reason_s43.py"
cp $CAND/tests/stain/test_guess_he_ring_alone_s43.py $CAND/tests/stain/test_guess_azure_reason_s43.py $HEAD/tests/stain/
stamp "start g5"
(cd $HEAD && PYTHONPATH=. $PY -m pytest $T -q -p no:cacheprovider > $G/g5_tests_head.txt 2>&1)
rm $HEAD/tests/stain/test_guess_he_ring_alone_s43.py $HEAD/tests/stain/test_guess_azure_reason_s43.py
(cd $CAND && PYTHONPATH=. $PY -m pytest $T tests/stain/test_guess_places.py tests/stain/test_guess_sox10_default.py \
   tests/stain/test_azure_b.py tests/stain/test_guess.py tests/test_module_constants.py tests/test_module_splits.py \
   -q -p no:cacheprovider > $G/g5_tests_cand.txt 2>&1); echo "cand tests rc=$?" >> $G/g5_tests_cand.txt
(cd $CAND && /work/main/.venv/bin/ruff check mmnst_path/stain tests/stain benchmarks/experiments/double_stain_ring_alone_s43_compare.py > $G/g5_ruff.txt 2>&1; echo "rc=$?" >> $G/g5_ruff.txt)
(cd $CAND && $PY -m mypy mmnst_path > $G/g5_mypy.txt 2>&1; echo "rc=$?" >> $G/g5_mypy.txt)
(cd $CAND && /work/main/.venv/bin/lint-imports > $G/g5_lint.txt 2>&1; echo "rc=$?" >> $G/g5_lint.txt)
stamp "end g5"
