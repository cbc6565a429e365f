"""The within-image hematoxylin cue options of ``train_nucleus_model.py`` (session 37 H1 / H11): arguments and card text."""

from __future__ import annotations

import argparse


def add_local_cue_options(ap: argparse.ArgumentParser) -> None:
    """``--local-cues-um``, ``--local-cues-positive-od`` and ``--dab-leak`` (all 0 = off, models <= 1.2.0)."""
    ap.add_argument("--local-cues-um", type=float, default=0.0,
                    help="also the four within-image hematoxylin columns (dark_rel and the ranks of mean, CV and "
                         "outline gradient among the nuclei within this radius, µm; "
                         "NucleusFeatureSettings.local_cues_um; 0 = none, models <= 1.2.0)")
    ap.add_argument("--local-cues-positive-od", type=float, default=0.0,
                    help="positivity-blind local cues: nuclei are compared with the neighbours of mean chromogen "
                         "below this OD only, and a nucleus at or above it takes its nearest such neighbour's columns "
                         "(0 = rank among all nuclei)")
    ap.add_argument("--dab-leak", type=float, default=0.0,
                    help="the re-renderings' hematoxylin gains U(0, this) x their chromogen (DAB read as "
                         "hematoxylin, as deconvolution of real scans does; 0 = none, model 1.2.0)")


def local_cue_recipe(args: argparse.Namespace) -> str:
    """The card's training-recipe text of the options of :func:`add_local_cue_options` ("" when all are off)."""
    text = ""
    if args.local_cues_um > 0:
        text += (f"; plus four within-image hematoxylin columns relative to the nuclei within {args.local_cues_um:g} "
                 "µm (dark_rel: share of the nucleus' pixels above 1.3 x their mean hematoxylin; the nucleus' rank "
                 "among them in mean hematoxylin, hematoxylin CV and outline gradient), not borrowed for EndoNuke's rows")
    if args.local_cues_positive_od > 0:
        text += (f"; the within-image columns positivity-blind: every nucleus compared with its neighbours of mean "
                 f"chromogen below {args.local_cues_positive_od:g} OD only, a nucleus at or above it taking its "
                 "nearest such neighbour's columns")
    if args.dab_leak > 0:
        text += (f"; the re-renderings' hematoxylin gains U(0, {args.dab_leak:g}) x their chromogen (DAB leaking "
                 "into the deconvolved hematoxylin as on real scans)")
    return text
