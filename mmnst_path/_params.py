"""Shared helpers for the frozen parameter dataclasses (``from_mapping`` / ``to_mapping``)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from .errors import ConfigError

__all__ = ["check_finite", "check_known_keys", "plain_mapping"]


def check_known_keys(cls: type, mapping: Mapping[str, Any]) -> None:
    """Raise ConfigError naming the keys of ``mapping`` that are not fields of dataclass ``cls``."""
    known = {f.name for f in fields(cls)}
    unknown = set(mapping) - known
    if unknown:
        msg = f"unknown {cls.__name__} keys {sorted(unknown)}; expected some of {sorted(known)}"
        raise ConfigError(msg)


def plain_mapping(obj: Any) -> dict[str, Any]:
    """Field name -> value of a dataclass instance (shallow)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def check_finite(obj: Any, names: Iterable[str], *, positive: bool) -> None:
    """Raise ConfigError naming the first field of ``names`` on dataclass instance ``obj`` that is
    not a finite number > 0 (``positive``) or >= 0."""
    for name in names:
        value = getattr(obj, name)
        if not (math.isfinite(value) and (value > 0 if positive else value >= 0)):
            what = "a positive finite number" if positive else "a finite number >= 0"
            msg = f"{type(obj).__name__}.{name} must be {what}, got {value!r}"
            raise ConfigError(msg)
