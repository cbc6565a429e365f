"""``he_keratin_tile`` byte for byte as before its body moved to ``mmnst_path._synthetic_keratin`` (session 23, to keep
``mmnst_path.synthetic_tissue`` under the module size guideline): the keratin training and evaluation tiles unchanged."""

from __future__ import annotations

from mmnst_path.synthetic_tissue import he_keratin_tile

#: digests (rgb + masks) and keratin truth computed with the generator at 4d4182a, before the move
PINNED = {(200, 160, 0.5): ("8c3998d788b1a52e", 85.54379861815723), (201, 128, 1.0): ("996412e5587aeb8f", 72.68225584594222),
          (952, 96, 0.5): ("eb505c5824c019b6", 0.06720430107526881)}


def test_keratin_tiles_are_byte_identical_to_before(tile_digest) -> None:
    for (seed, size, mpp), (digest, keratin) in PINNED.items():
        tile = he_keratin_tile(seed, size=size, mpp=mpp)
        assert tile_digest(tile) == digest
        assert tile.truth["keratin_fraction_pct"] == keratin
