"""Shared fixtures: the real data in ../shared/data (read in place, never copied)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (PROJECT_ROOT / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of the real, read-only test data. Missing data is an error, not a skip."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real test data not found at {SHARED_DATA}: clone the project next to shared/")
    return SHARED_DATA


def _load_project_module(relpath: str) -> ModuleType:
    """A script or benchmark of the project (not a package module) by its path under the project root,
    imported with its own folder on ``sys.path`` (so its sibling helpers import), under a private name."""
    path = PROJECT_ROOT / relpath
    if not path.is_file():
        pytest.fail(f"project file not found: {path}")
    name = "_project_" + relpath.replace("/", "_").removesuffix(".py")
    if name in sys.modules:
        return sys.modules[name]
    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod  # (dataclasses of the module look themselves up there)
        try:
            spec.loader.exec_module(mod)
        except BaseException:
            del sys.modules[name]
            raise
        return mod
    finally:
        sys.path.pop(0)


@pytest.fixture(scope="session")
def project_module() -> Callable[[str], ModuleType]:
    """Loader of the project's scripts and benchmarks by path, e.g. ``project_module("scripts/_training_data.py")``."""
    return _load_project_module
