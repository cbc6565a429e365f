"""``mmnst-path review`` and ``mmnst-path report``: a pathologist's corrections reach the batch's summary.

``mmnst-path review OUT/<input> EDITS.geojson [--reviewer NAME] [--image PATH]`` applies edits saved in napari
(Review's *save edits*: QuPath GeoJSON point detections) or drawn in QuPath (polygon annotations classified
``Necrosis``, ``Stroma``, ``Tumor``...: area corrections of the result's tissue class map) to a quantify result
folder: it writes ``review.json`` (the reviewed Ki67 counts, index and CI, computed as napari's Review panel
does; the reviewed class areas and necrosis %) and a copy of the edits beside ``result.json``, which is never
changed (:func:`mmnst_path.review.write_review`).

``mmnst-path report OUT`` rewrites OUT's summary.csv, summary.json and report.html from the stored results
and reviews without analysing anything (:func:`mmnst_path.review.rebuild_report`): reviewed rows carry the
measured and the reviewed index. Exit status: 0 done, 1 a review was refused (one line each, naming the
file; the other inputs are written), 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["register", "run_report", "run_review"]


def register(subparsers: Any) -> None:
    """Add the ``review`` and ``report`` subcommands to ``subparsers``."""
    p = subparsers.add_parser(
        "review",
        help="record a pathologist's corrections (napari's saved edits) beside a quantify result",
        description=(
            "Apply edits saved in napari (Review: save edits, a GeoJSON of point detections) or drawn in QuPath "
            "(nuclei as point / cell detections; polygon annotations classified Necrosis, Stroma, Tumor, Immune "
            "cells, Fat... as area corrections: the tissue blocks of the result's class map whose centre they hold "
            "take that class, glass the run called background stays so; Melanin / No melanin: the blocks of the "
            "result's melanin map (melanin_map.npz) whose centre they hold become all melanin / none; "
            "unclassified, Region* and Ignore* annotations are skipped) to one input's result "
            "folder of mmnst-path quantify (OUT/<input>): writes review.json (the reviewed Ki67 counts, index and "
            "95% CI, computed as napari's Review panel computes them; the reviewed class areas and necrosis %) and "
            "review_edits.geojson beside result.json, "
            "which is never changed. The source image must be the one result.json was measured on (SHA-256 "
            "checked). Then `mmnst-path report OUT` rebuilds the summary and report with the reviewed figures. "
            "Exit status: 0 done, 1 refused (the reason is printed), 2 bad usage."
        ),
    )
    p.add_argument("folder", type=Path, help="the input's result folder (OUT/<input>, holding result.json)")
    p.add_argument("edits", type=Path, help="edits saved by napari's Review or exported from QuPath (GeoJSON)")
    p.add_argument("--reviewer", default=None, metavar="NAME", help="who reviewed (shown in the report)")
    p.add_argument("--image", type=Path, default=None, metavar="PATH",
                   help="the source image, when it is no longer where result.json says")
    p.add_argument("--tissue-annotations", action="store_true",
                   help="read the classified annotations of an edits file that also holds nuclei as tissue "
                        "corrections (by default they are regions round the nuclei, such as QuPath's Tumor "
                        "outline, and are skipped)")
    p.add_argument("--replace", action="store_true",
                   help="replace the folder's earlier review whole (by default a review of nuclei only or of tissue "
                        "only keeps the other part of the earlier review; stdout says which part was kept, by whom)")
    p.set_defaults(func=run_review)
    r = subparsers.add_parser(
        "report",
        help="rebuild summary.csv / summary.json / report.html of a quantify folder with its reviews",
        description=(
            "Rewrite OUT's summary.csv, summary.json and report.html from the stored results (each input's "
            "result.json) and the reviews written by `mmnst-path review` or napari, without analysing anything. "
            "Reviewed rows carry the measured ki67_index_pct and ki67_index_reviewed_pct, reviewed (yes / no), "
            "reviewer. A review whose source image differs from the result's is refused (one line naming the "
            "file) and the others are written. Exit status: 0 done, 1 a review was refused, 2 bad usage."
        ),
    )
    r.add_argument("out", type=Path, help="the --out folder of mmnst-path quantify")
    r.set_defaults(func=run_report)


def _pct(value: Any) -> str:
    return "–" if value is None or value != value else f"{value:.2f} %"


def _tissue_words(tissue: dict[str, Any], measured: dict[str, Any]) -> str:
    """The tissue part of the review's stdout line: necrosis, else the classes whose share changed."""
    pct = tissue["pct_of_tissue"]
    changed = f"{tissue['changed_blocks']} blocks changed by {tissue.get('annotations', 0)} annotation(s)"
    if tissue.get("background_blocks_kept"):
        changed += f"; {tissue['background_blocks_kept']} background block(s) inside kept as background"
    if tissue.get("annotations_clipped"):  # an outline run off the image: only its part inside corrects the map
        from .._review_clip import clipped_words

        changed += f"; {clipped_words(tissue['annotations_clipped'])}"
    if "necrosis" in pct and measured.get("necrosis_fraction_pct") is not None:
        return (f"necrosis measured {_pct(measured.get('necrosis_fraction_pct'))}, reviewed "
                f"{_pct(pct.get('necrosis'))} of tissue ({changed})")
    shown = ", ".join(f"{name} {_pct(v)}" for name, v in pct.items() if v is not None and v == v and v > 0)
    return f"tissue classes reviewed: {shown or '–'} of tissue ({changed})"


def run_review(args: argparse.Namespace) -> int:
    """Write the review; one line with the measured and reviewed index; return the exit code."""
    import json

    from ..errors import MmnstPathError
    from ..review import write_review

    try:
        review = write_review(args.folder, args.edits, reviewer=args.reviewer, image=args.image,
                              tissue_annotations=args.tissue_annotations, replace=args.replace)
    except (MmnstPathError, OSError, ValueError) as exc:
        print(f"mmnst-path: error: review: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    try:
        measured = json.loads((Path(args.folder) / "result.json").read_text(encoding="utf-8"))["metrics"]
    except (OSError, ValueError, KeyError):
        measured = {}
    m, tissue, parts = review["ki67_metrics"], review.get("tissue_classes"), []
    if m is not None:
        parts.append(f"Ki67 index measured {_pct(measured.get('ki67_index_pct'))} ({measured.get('ki67_positive')} / "
                     f"{measured.get('ki67_denominator')}), reviewed {_pct(m['index_pct'])} ({m['positive']} / "
                     f"{m['denominator']})")
    if tissue:
        parts.append(_tissue_words(tissue, measured))
    if review.get("melanin"):
        mel = review["melanin"]
        parts.append(f"melanin measured {_pct(mel['measured_fraction_pct'])}, reviewed {_pct(mel['melanin_fraction_pct'])} "
                     f"of tissue ({mel['blocks_added']} block(s) made melanin, {mel['blocks_removed']} made none, "
                     f"{mel['changed_blocks']} of them changed from the run's; whole {mel['block_um']:g} µm blocks)")
    tumour = review.get("melanin_tumour")
    if tumour:  # melanin or tumour corrected on a result that measured melanin of tumour
        parts.append(f"melanin of tumour measured {_pct(tumour['measured_pct'])}, reviewed "
                     f"{_pct(tumour['melanin_tumour_fraction_pct'])} (from the {tumour['from']}; whole blocks)")
    if review.get("annotations_ignored"):
        parts.append(f"{review['annotations_ignored']} annotation(s) skipped as regions (the file holds nuclei; "
                     "--tissue-annotations reads them as tissue corrections)")
    merged = review.get("merged")
    if merged:
        parts.append(f"kept the earlier review's {merged['kept']} ({merged.get('reviewer') or 'reviewer not named'}, "
                     f"{str(merged.get('reviewed_at') or '')[:10]}; --replace drops it)")
    if review.get("dropped"):
        parts.append(str(review["dropped"]))
    print(f"{args.folder}: {'; '.join(parts)}; wrote review.json. Rebuild the report: "
          f"mmnst-path report {Path(args.folder).parent}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    """Rebuild the summary files; one line per refused review, one line of what was written."""
    from .._batch_stains import adopt_result_folders
    from ..errors import MmnstPathError
    from ..review import rebuild_report

    try:
        added = adopt_result_folders(args.out)  # result folders of runs with other inputs: listed too
        outcome = rebuild_report(args.out)
    except MmnstPathError as exc:
        print(f"mmnst-path: error: report: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2 if not Path(args.out).is_dir() else 1
    for reason in outcome.errors:
        print(f"mmnst-path: error: {reason}", file=sys.stderr)
    print(f"{args.out}: rebuilt summary.csv, summary.json and report.html: {len(outcome.rows)} input(s), "
          f"{outcome.n_reviewed} reviewed" + (f", {len(outcome.errors)} review(s) refused" if outcome.errors else "")
          + (f" ({added} result folder(s) the summary did not list added)" if added else ""))
    return 1 if outcome.errors else 0
