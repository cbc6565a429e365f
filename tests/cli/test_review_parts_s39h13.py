"""Session 39 H13: the review parts of H12's review (/work/notes/s39/h12_review.md, findings 3 and 4).

Result folders made by hand as in ``test_review_fixes_s39h10`` (its helpers). Mutations caught: a replaced tissue
part's reviewer kept in ``reviewer`` (names accumulating over successive reviews), ``merged`` naming the previous
review's combined reviewers or time instead of the kept part's, no per-part reviewer for the nuclei, no way on the
CLI to drop the earlier review's other part (``--replace``), stdout not saying what was replaced.
"""

from __future__ import annotations

from test_review_fixes_s39h10 import NUCLEI, _box, _poly, _result, _write

from mmnst_path.cli import main
from mmnst_path.review import REVIEW_TISSUE_MAP, read_review, write_review


def test_three_successive_reviews_name_the_reviewer_of_each_part(tmp_path, capsys):
    folder = _result(tmp_path / "ihc")
    nuclei = _write(tmp_path / "nuclei.geojson", NUCLEI)
    stroma = _write(tmp_path / "stroma.geojson", [_poly([_box(0, 0, 64, 64)], "Stroma")])
    first = write_review(folder, nuclei, reviewer="Dr A")
    assert first["nuclei_reviewer"] == "Dr A"
    assert main(["review", str(folder), str(stroma), "--reviewer", "Dr N"]) == 0
    capsys.readouterr()
    assert main(["review", str(folder), str(stroma), "--reviewer", "Dr M"]) == 0
    out = capsys.readouterr().out
    assert "kept the earlier review's nuclei (Dr A, " in out  # the kept part's reviewer, not "Dr A, Dr N"
    assert "--replace drops it" in out
    review, reason = read_review(folder)
    assert reason is None
    assert review is not None
    assert review["reviewer"] == "Dr A, Dr M"  # Dr N's tissue part was replaced by Dr M's
    assert review["nuclei_reviewer"] == "Dr A"
    assert review["nuclei_reviewed_at"] == first["reviewed_at"]
    assert review["tissue_classes"]["reviewer"] == "Dr M"
    assert review["merged"] == {"kept": "nuclei", "reviewer": "Dr A", "reviewed_at": first["reviewed_at"],
                                "edits_file": str(nuclei)}
    # the reverse: nuclei by a fourth reviewer keep Dr M's tissue, Dr A is gone
    again = write_review(folder, nuclei, reviewer="Dr B")
    assert again["reviewer"] == "Dr B, Dr M"
    assert again["merged"]["reviewer"] == "Dr M"
    assert again["tissue_classes"]["reviewer"] == "Dr M"


def test_replace_drops_the_earlier_reviews_other_part_and_says_so(tmp_path, capsys):
    folder = _result(tmp_path / "ihc")
    nuclei = _write(tmp_path / "nuclei.geojson", NUCLEI)
    stroma = _write(tmp_path / "stroma.geojson", [_poly([_box(0, 0, 64, 64)], "Stroma")])
    assert main(["review", str(folder), str(stroma), "--reviewer", "Dr N"]) == 0
    assert (folder / REVIEW_TISSUE_MAP).is_file()
    capsys.readouterr()
    assert main(["review", str(folder), str(nuclei), "--reviewer", "Dr A", "--replace"]) == 0
    out = capsys.readouterr().out
    assert "replaced the earlier review whole: its tissue (Dr N, " in out
    review, reason = read_review(folder)
    assert reason is None
    assert review is not None
    assert review["tissue_classes"] is None  # the wrong correction is gone
    assert "merged" not in review
    assert review["reviewer"] == "Dr A"
    assert not (folder / REVIEW_TISSUE_MAP).is_file()


def test_only_classified_annotations_are_counted_as_skipped_regions(tmp_path, capsys):
    # QuPath's unclassified "Image" annotation (the library's cells.geojson holds one) and an Ignore* region are
    # no corrections with or without --tissue-annotations: not counted; the Tumor outline is
    folder = _result(tmp_path / "ihc")
    edits = _write(tmp_path / "n.geojson", [*NUCLEI, _poly([_box(0, 0, 128, 128)], None),
                                             _poly([_box(0, 0, 32, 32)], "Ignore*"),
                                             _poly([_box(0, 0, 64, 64)], "Tumor")])
    assert main(["review", str(folder), str(edits)]) == 0
    assert "1 annotation(s) skipped as regions" in capsys.readouterr().out
    assert read_review(folder)[0]["annotations_ignored"] == 1
    plain = _write(tmp_path / "plain.geojson", [*NUCLEI, _poly([_box(0, 0, 128, 128)], None)])
    assert main(["review", str(folder), str(plain)]) == 0
    assert "skipped as regions" not in capsys.readouterr().out
