"""DAB or AEC from per-body features (issue #14, session 36 H5): a learned choice for ``stains="auto"``.

Rule (fixed by the lead before any gate ran; copied into /work/notes/s36/h5_report.md at 03:16 UTC):
gate seeds 400-411 (12 seeds x every protocol of ``eval_stain_guess.py``).
1. Right names over all protocols >= HEAD + 8 of the gate tiles, and H-AEC right >= HEAD + 8.
2. No protocol's right count below HEAD's; at most one tile that HEAD names right named wrong, and that tile,
   if any, must not be H-DAB named H-AEC at p > 0.9.
3. Real tiles: every real IHC / Ki67 tile in /work/shared/data (BCData, SHIDC, DeepLIIF first 10 each, the ihc
   folder) and the README job name the same stains as HEAD.
4. Held-out renderer (``eval_heldout.py``, default seeds and protocols): stain names right >= HEAD, Ki67 MAE
   <= HEAD + 0.10.
5. Speed: stain guess CPU on a BCData tile <= HEAD + 10 ms.
6. Targeted tests, ruff, mypy.
"""
