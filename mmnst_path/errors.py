"""Exception tree of mmnst_path.

Every error raised on purpose by the library derives from :class:`MmnstPathError`, and also from
the builtin exception a caller would naturally catch (``FileNotFoundError``, ``ValueError``...),
so ``except ValueError`` keeps working for people who do not know this package.

Messages name the file or parameter, what was expected and what was received.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "CorruptFileError",
    "MissingMetadataError",
    "MmnstPathError",
    "NoTissueError",
    "OutputError",
    "OutputLockedError",
    "RegionError",
    "SlideNotFoundError",
    "StainError",
    "UnsupportedFormatError",
]


class MmnstPathError(Exception):
    """Root of every error raised on purpose by mmnst_path."""


class SlideNotFoundError(MmnstPathError, FileNotFoundError):
    """The path does not exist or is not a readable file."""


class UnsupportedFormatError(MmnstPathError, ValueError):
    """No backend can open this file (unknown or unsupported format)."""


class CorruptFileError(MmnstPathError, OSError):
    """The file looks like a supported format but is truncated or damaged."""


class MissingMetadataError(MmnstPathError, ValueError):
    """A needed piece of metadata (for example microns per pixel) is missing."""


class RegionError(MmnstPathError, ValueError):
    """A requested region or pyramid level is invalid for this slide."""


class StainError(MmnstPathError, ValueError):
    """Invalid stain vectors or stain matrix."""


class ConfigError(MmnstPathError, ValueError):
    """An analysis parameter has an invalid value."""


class NoTissueError(MmnstPathError, ValueError):
    """No tissue was found where some was required."""


class OutputError(MmnstPathError, OSError):
    """A result file or folder could not be written (the message names the path and the cause)."""


class OutputLockedError(MmnstPathError, OSError):
    """The output folder is in use by another run (the message names the folder and that run)."""
