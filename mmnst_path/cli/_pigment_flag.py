"""``quantify --pigment-model default|none|FILE.mmnst``: the melanin pixel model of the pigment stage
(``[pigment] model`` of a ``--config`` file; a lab's file from ``mmnst-path train pigment``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["PIGMENT_MODEL_HELP", "with_pigment_model"]

PIGMENT_MODEL_HELP = ("melanin pixel model of the pigment stage (default: the shipped model of the stains; 'none' = "
                      "the rules; a file from 'mmnst-path train pigment', refused on slides of other stains than it "
                      "was trained on; [pigment] model in --config)")


def with_pigment_model(config: Any, spec: str) -> Any:
    """``config`` with ``[pigment] model`` = ``spec``, checked now: a file that is not a pigment pixel model is a
    :class:`~mmnst_path.errors.ConfigError` naming the flag (the CLI's usage error); a file is kept by its
    absolute path."""
    from ..classify.pigment import resolve_pigment_model
    from ..errors import ConfigError

    text = str(spec).strip()
    if text.lower() in ("default", "none", "dab", "he", "azure"):
        value = text.lower()
    else:
        try:
            resolve_pigment_model(text)
        except (OSError, ValueError) as exc:  # ConfigError / ModelError are ValueErrors
            raise ConfigError(f"--pigment-model {spec}: {' '.join(str(exc).split())}") from exc
        value = str(Path(text).expanduser().resolve())
    return config.replace(pigment={**config.pigment.to_mapping(), "model": value})
