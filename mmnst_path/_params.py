"""Shared helpers for the frozen parameter dataclasses (``from_mapping`` / ``to_mapping``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from .errors import ConfigError

__all__ = ["check_known_keys", "plain_mapping"]


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
