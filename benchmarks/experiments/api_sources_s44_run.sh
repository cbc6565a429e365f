#!/bin/bash
# usage: run.sh TREE OUTBASE
cd $1
export PYTHONPATH=$PWD
M="/work/main/.venv/bin/python -m mmnst_path"
set -x
nice -n 5 $M quantify sample_tiles --out $2/samples --workers 1 --quiet
nice -n 5 $M quantify /work/shared/data/wsi/CMU-1-Small-Region.svs --out $2/cmu --workers 1 --quiet
nice -n 5 $M quantify /work/shared/data/necrosis/Non-Tumor___Case-3-A15-2939-11262_112.jpg /work/shared/data/necrosis/Non-Viable-Tumor___Case-3-A12-16067-9053_104.jpg --mpp 1.0 --out $2/osteo --workers 1 --quiet
nice -n 5 $M quantify /work/shared/data/ki67/bcdata/0.png --mpp 0.25 --out $2/bcdata --workers 1 --quiet
echo done
