"""Annotation class names shared by ``mmnst-path review`` (:mod:`mmnst_path._review_tissue`) and ``mmnst-path
train`` (:mod:`mmnst_path.classify._class_names`): one list, so a name the review reads one way trains the same way.
A leaf module (no imports), so that the classify layer can read it.
"""

from __future__ import annotations

__all__ = ["CLASS_SYNONYMS", "NOT_A_CORRECTION", "TISSUE_CLASSES"]

#: Tissue classes mmnst_path knows (the shipped models' and the usual ones), in the order summary.csv gives their
#: ``class_<name>_area_mm2`` / ``class_<name>_pct`` columns (a lab's own classes follow, by name)
TISSUE_CLASSES = ("tumour", "necrosis", "stroma", "inflammatory", "fat", "mucin", "blood", "background",
                  "melanin", "keratin", "muscle")
#: QuPath's and common class names of an area annotation -> the tissue model's class name
#: (``mmnst-path train tissue`` reads the same, :mod:`mmnst_path.classify._class_names`)
CLASS_SYNONYMS = {"tumor": "tumour", "necrotic": "necrosis", "debris": "necrosis", "immune cells": "inflammatory",
                  "immune": "inflammatory", "inflammation": "inflammatory", "lymphocytes": "inflammatory",
                  "lymphocyte": "inflammatory", "adipose": "fat", "stromal": "stroma", "fibrous": "stroma",
                  "mucus": "mucin", "pigment": "melanin", "haemorrhage": "blood", "hemorrhage": "blood",
                  "not tissue": "background", "glass": "background"}
#: annotation classes that are regions, not corrections (QuPath's "Region*", "Ignore*"); unclassified too
NOT_A_CORRECTION = frozenset({"", "region", "region*", "ignore", "ignore*"})
