#!/bin/bash
cd $1; export PYTHONPATH=$PWD
M="/work/main/.venv/bin/python -m mmnst_path"
D=/work/shared/data
$M quantify $D/ki67/bcdata/1.png --mpp 0.25 --out $2/bcdata --workers 1 --quiet
$M quantify $D/ki67/deepliif/799_2.png --mpp 0.31 --out $2/samples --workers 1 --quiet
$M quantify $D/necrosis/Viable___Case-4-C28-30914-19280_102.jpg $D/necrosis/Non-Tumor___Case-3-A18-9485-39729_118.jpg --mpp 1.0 --out $2/osteo --workers 1 --quiet
echo done
