"""A new review merged with the folder's earlier one (:func:`mmnst_path.review.write_review`): the parts the new
review does not hold (nuclei, tissue-class corrections, melanin corrections) are kept from the earlier review,
each with its own reviewer and time, unless the new review replaces it whole or the earlier one was refused or made
on an earlier result."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["PARTS", "merge_earlier", "part_by"]

#: the parts of a review, in the order they are said
PARTS = ("nuclei", "tissue", "melanin")
_KI67_PART = ("edits_file", "edits_sha256", "n_cells", "ki67_counts", "ki67_metrics", "nuclei_reviewer",
              "nuclei_reviewed_at")
_KEY = {"tissue": "tissue_classes", "melanin": "melanin"}


def _has(review: Mapping[str, Any], part: str) -> bool:
    return review.get("ki67_metrics") is not None if part == "nuclei" else bool(review.get(_KEY[part]))


def part_by(old: Mapping[str, Any], part: str) -> tuple[Any, Any]:
    """(reviewer, time) of one part of an earlier review: its own record, else (reviews before parts recorded
    theirs) the part ``merged`` says was kept, else the review's."""
    rec = old.get(_KEY[part]) or {} if part != "nuclei" else {
        "reviewer": old.get("nuclei_reviewer"), "reviewed_at": old.get("nuclei_reviewed_at")}
    if rec.get("reviewed_at"):
        return rec.get("reviewer"), rec.get("reviewed_at")
    merged = old.get("merged") or {}
    if merged.get("kept") == part:
        return merged.get("reviewer"), merged.get("reviewed_at")
    return old.get("reviewer"), old.get("reviewed_at")


def merge_earlier(folder: Path, review: dict[str, Any], *, read_review: Callable[[Path], tuple[Any, Any]],
                  name: str, replace: bool = False) -> set[str]:
    """Keep in ``review`` (in place) the parts of the folder's earlier review (file ``name``, read and checked by
    ``read_review``) that ``review`` does not hold. Only an accepted review of the same result.json is merged, and
    none with ``replace``; what is not kept is said in ``review["dropped"]``, what is kept in ``review["merged"]``
    (``{"kept", "reviewer", "reviewed_at", "edits_file"}``; ``kept`` joins the parts with " and " when several).
    ``review["reviewer"]`` becomes the reviewers of the parts it holds. Returns the parts kept."""
    review["dropped"] = ""
    if not (folder / name).is_file():
        return set()
    old, refused = read_review(folder)
    lost = [p for p in PARTS if old is not None and _has(old, p) and not _has(review, p)]
    if refused:
        review["dropped"] = f"the earlier review is replaced ({refused})"
        return set()
    if old is None or not lost:
        return set()
    by = {p: part_by(old, p) for p in lost}
    words = ", ".join(f"{p} ({by[p][0] or 'reviewer not named'}, {str(by[p][1] or '')[:10]})" for p in lost)
    if replace:
        review["dropped"] = f"replaced the earlier review whole: its {words} not kept (replace asked)"
        return set()
    if old.get("note"):
        review["dropped"] = f"the earlier review's {' and '.join(lost)} part was made on an earlier result; not kept"
        return set()
    merged = []
    for part in lost:
        who, when = by[part]
        if part == "nuclei":  # this review corrects areas only: the earlier nuclei (and their edits file) stay
            for key in ("tissue_classes", "melanin"):
                if review.get(key):
                    review[key] = {**review[key], "edits_file": review["edits_file"],
                                   "edits_sha256": review["edits_sha256"]}
            review.update({k: old.get(k) for k in _KI67_PART})
            review.update(nuclei_reviewer=who, nuclei_reviewed_at=when)
            merged.append({"kept": "nuclei", "reviewer": who, "reviewed_at": when, "edits_file": old.get("edits_file")})
        else:  # the earlier tissue / melanin corrections stay
            kept = dict(old[_KEY[part]])
            kept.setdefault("edits_file", old.get("edits_file"))
            kept.setdefault("edits_sha256", old.get("edits_sha256"))
            kept.update(reviewer=who, reviewed_at=when)
            sha = "tissue_map_sha256" if part == "tissue" else "melanin_map_sha256"
            review.update({_KEY[part]: kept, sha: old.get(sha)})
            merged.append({"kept": part, "reviewer": who, "reviewed_at": when, "edits_file": kept.get("edits_file")})
    review["merged"] = merged[0] if len(merged) == 1 else {
        "kept": " and ".join(m["kept"] for m in merged),
        "reviewer": ", ".join(dict.fromkeys(str(m["reviewer"]) for m in merged if m["reviewer"])) or None,
        "reviewed_at": max(str(m["reviewed_at"] or "") for m in merged) or None, "parts": merged}
    names = [review.get("nuclei_reviewer"), (review.get("tissue_classes") or {}).get("reviewer"),
             (review.get("melanin") or {}).get("reviewer")]
    review["reviewer"] = ", ".join(dict.fromkeys(n for n in names if n)) or None
    return set(lost)
