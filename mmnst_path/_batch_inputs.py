"""Batch inputs: their result folder names, a first check that each can be read, their identity
(path, size, times, content hash), the hash of the request that decides a result, and whether a
stored result is still up to date (resume). Used by :mod:`mmnst_path.batch`, which re-exports the
public names; the rules are in its module docstring."""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import os
import re
import stat
import unicodedata
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = ["LOCK_NAME", "MAX_NAME_BYTES", "MODEL_KEYS", "RESERVED_NAMES", "check_input", "compare_rows",
           "model_content_key", "output_folders", "request_hash", "source_fingerprint"]

#: Lock file held by a running batch in its output folder.
LOCK_NAME = ".mmnst-path.lock"

#: Names the batch itself writes in the output folder: never used for an input's folder.
RESERVED_NAMES = ("summary.csv", "summary.json", "report.html", LOCK_NAME)

#: Longest result folder name, in UTF-8 bytes (file systems allow 255; room for the suffixes).
MAX_NAME_BYTES = 150

_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|#%]')  # also what breaks a relative URL
_WINDOWS_DEVICES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                              *(f"lpt{i}" for i in range(10))})
# the source fields that identify one file on one machine: when all are unchanged the stored
# content hash is trusted without re-reading the file (any write changes ctime)
_IDENTITY = ("path", "size", "mtime_ns", "ctime_ns", "inode", "device")


def _sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


#: Config keys (section, key) that may name a model file: a request names such a file by its content.
MODEL_KEYS = (("ki67", "cell_model"), ("ki67", "tissue_model"), ("ki67", "hidden_model"),
              ("ki67", "pigment_cell_model"), ("necrosis", "tissue_model"), ("necrosis", "intact_model"),
              ("pigment", "model"), ("pigment", "body_model"), ("pigment", "gate"))


@functools.lru_cache(maxsize=64)
def _model_content(path: str, dev: int, ino: int, size: int, mtime_ns: int, ctime_ns: int) -> str:
    """The content key of one model file: its model id (``sha256:...`` of the canonical header and arrays, the
    same for a format-2 and a format-3 copy) or, for a file that does not load as a model, the SHA-256 of its bytes
    (the run then reports the file's problem)."""
    from .classify.model import load_model

    try:
        return f"model {load_model(path).model_id}"
    except Exception:  # any unreadable model: its bytes decide; the run itself says why
        return f"file sha256:{_sha256_file(path)}"


def model_content_key(spec: Any) -> Any:
    """``spec`` (a config value naming a model) as what decides a result: an existing model file becomes its
    content key (:func:`_model_content`), so a model retrained at the same path changes the request and the same
    model under another path (a copy, ``models convert``) does not; keywords (``default``, ``none``, ``auto``,
    ``off``: the shipped models go with the package version) stay as they are."""
    if not isinstance(spec, str) or not spec.strip():
        return spec
    path = Path(spec.strip()).expanduser()
    try:
        st = os.stat(path)
    except OSError:
        return spec
    if not stat.S_ISREG(st.st_mode):
        return spec
    return _model_content(os.path.realpath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _unused_model_keys(config: Any) -> set[tuple[str, str]]:
    """The model keys of :data:`MODEL_KEYS` a run of named stains never reads (the Ki67 models on H&E, the necrosis
    models on IHC without the tumour region), so a model an input does not use does not decide its result; none
    with ``stains = "auto"`` (the measures are known once the stains are)."""
    from .pipeline import applicable_measures
    from .stain.vectors import StainConditioningWarning

    if str(config.stains).strip().lower() == "auto":
        return set()
    try:
        with warnings.catch_warnings():  # a poorly conditioned preset is said under its row, when it runs: not here too
            warnings.simplefilter("ignore", StainConditioningWarning)
            measures = applicable_measures(config, config.stain_matrix())
    except Exception:  # stains or measures the run itself refuses: every key counts
        return set()
    region = "ki67" in measures and config.ki67.count_in == "tumour"
    unused: set[tuple[str, str]] = set()
    if "ki67" not in measures:
        unused |= {("ki67", "cell_model"), ("ki67", "hidden_model"), ("ki67", "pigment_cell_model")}
    if not region:
        unused.add(("ki67", "tissue_model"))
    if "necrosis" not in measures and not region:
        unused.add(("necrosis", "tissue_model"))
    if "necrosis" not in measures:
        unused.add(("necrosis", "intact_model"))
    return unused


def request_hash(config: Any, *, mpp: float | None, roi_digest: str | None, mpp_override: bool = False) -> str:
    """SHA-256 of everything that decides an input's result besides the file itself; the model files the config
    names count by their content (:func:`model_content_key`), not by their path, and only those the input's run
    reads (:func:`_unused_model_keys`)."""
    from . import __version__
    from .report import SCHEMA_VERSION

    mapping = config.to_mapping()
    unused = _unused_model_keys(config)
    for section, key in MODEL_KEYS:
        if isinstance(mapping.get(section), dict) and key in mapping[section]:
            value = "(not used)" if (section, key) in unused else model_content_key(mapping[section][key])
            mapping[section] = {**mapping[section], key: value}
    doc = {"config": mapping, "mpp": mpp, "roi": roi_digest, "schema": SCHEMA_VERSION,
           "version": __version__}
    if mpp_override:
        doc["mpp_override"] = True
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def source_fingerprint(path: str | os.PathLike[str], *, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Identity and content hash of an input file (symlinks followed).

    ``{"path": resolved path, "size", "mtime_ns", "ctime_ns", "inode", "device", "sha256"}``.
    The SHA-256 of the whole content is taken from ``previous`` (a fingerprint stored earlier)
    when every identity field is unchanged, and computed otherwise.
    """
    st = os.stat(path)
    fp: dict[str, Any] = {"path": os.path.realpath(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                          "ctime_ns": st.st_ctime_ns, "inode": st.st_ino, "device": st.st_dev}
    known = previous.get("sha256") if previous else None
    if previous and isinstance(known, str) and all(previous.get(k) == fp[k] for k in _IDENTITY):
        fp["sha256"] = known
    else:
        fp["sha256"] = _sha256_file(path)
    return fp


def _safe_stem(path: str | os.PathLike[str]) -> str:
    """The file stem as a folder name that stays inside the output folder on any file system."""
    name = _UNSAFE_CHARS.sub("_", Path(path).stem).strip(" .")
    if not name:
        name = "input"
    if name.split(".")[0].lower() in _WINDOWS_DEVICES:
        name = f"_{name}"
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) > MAX_NAME_BYTES:
        name = raw[:MAX_NAME_BYTES].decode("utf-8", "ignore").rstrip(" .") or "input"
    return name


def output_folders(files: Sequence[str | os.PathLike[str]]) -> list[str]:
    """A result folder name per input, distinct (case-insensitively) and safe (module docstring).

    A stem shared by several inputs (``a.tif``, ``a.png``) or equal to a name of the batch's own
    files gets ``-`` and hex digits of the SHA-256 of the input's absolute path, so the names do
    not depend on input order and can never meet another input's plain stem.
    """
    def key(name: str) -> str:  # equal on case-insensitive and normalising (macOS) file systems
        return unicodedata.normalize("NFC", name).casefold()

    stems = [_safe_stem(f) for f in files]
    counts = Counter(key(s) for s in stems)
    taken = {key(n) for n in RESERVED_NAMES}
    names: list[str] = []
    for f, stem in zip(files, stems, strict=True):
        digest = hashlib.sha256(os.path.abspath(os.fspath(f)).encode("utf-8", "surrogateescape")).hexdigest()
        candidates = [stem] if counts[key(stem)] == 1 else []
        candidates += [f"{stem}-{digest[:k]}" for k in (8, 16, 64)]
        candidates += [f"{stem}-{digest[:8]}-{i}" for i in range(2, len(files) + 2)]
        name = next(c for c in candidates if key(c) not in taken)
        taken.add(key(name))
        names.append(name)
    return names


def check_input(path: Path) -> str | None:
    """A clear reason why ``path`` cannot be read at all, or ``None`` (the readers judge the content)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{path}: symbolic link loop (the link resolves back to itself)"
        if os.path.islink(path):
            return f"{path}: broken symbolic link (its target {os.readlink(path)!r} does not exist)"
        return f"{path}: cannot be read ({exc.strerror or exc})"
    if stat.S_ISDIR(st.st_mode):
        return f"{path}: is a folder, not a slide or image file"
    if not stat.S_ISREG(st.st_mode):
        return f"{path}: not a regular file (a device, pipe or socket)"
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except PermissionError:
        return f"{path}: permission denied (the file is not readable by this user)"
    except OSError as exc:
        return f"{path}: cannot be read ({exc.strerror or exc})"
    return None


def _stored(result_json: Path, path: Path, req: str, files: Sequence[Path]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(stored summary row, current fingerprint) when the stored result is up to date, else None."""
    try:
        doc = json.loads(result_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    src = doc.get("source") or {}
    if doc.get("request_hash") != req or doc.get("status") != "ok" or not isinstance(src, dict):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    if (src.get("path") != os.path.realpath(path) or src.get("size") != st.st_size
            or src.get("mtime_ns") != st.st_mtime_ns or not isinstance(src.get("sha256"), str)):
        return None
    if not all(f.is_file() for f in files):
        return None
    fingerprint = source_fingerprint(path, previous=src)
    if fingerprint["sha256"] != src["sha256"]:
        return None
    row = doc.get("summary_row")
    return (dict(row), fingerprint) if isinstance(row, dict) else None


def _match(token: str, files: Sequence[Path], stems: Sequence[str]) -> int:
    hits = [i for i, (f, s) in enumerate(zip(files, stems, strict=True))
            if token in (str(f), f.name, s) or os.path.abspath(token) == os.path.abspath(f)]
    if len(hits) != 1:
        what = "matches no input" if not hits else f"matches {len(hits)} inputs"
        msg = f"--compare {token!r} {what}; give an input path, file name or output folder name ({', '.join(stems)})"
        raise ConfigError(msg)
    return hits[0]


def compare_rows(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Ki67 index of ``b`` minus ``a`` (percentage points) with its 95 % CI and p-value; ``method``
    says "difference B − A", as the report's comparison row does."""
    from .quantify import compare_proportions

    def counts(r: dict[str, Any]) -> tuple[int, int]:
        pos, den = r.get("ki67_positive"), r.get("ki67_denominator")
        return (int(pos), int(den)) if r.get("status") == "ok" and pos is not None and den is not None else (0, 0)

    (pa, na), (pb, nb) = counts(a), counts(b)
    c = compare_proportions(pa, na, pb, nb)
    return {
        "a": a.get("input"), "b": b.get("input"),
        "a_index_pct": 100 * c.p_a, "b_index_pct": 100 * c.p_b,
        "a_positive": pa, "a_denominator": na, "b_positive": pb, "b_denominator": nb,
        "difference_pct": 100 * c.difference, "ci_low_pct": 100 * c.ci_low, "ci_high_pct": 100 * c.ci_high,
        "p_value": c.p_value,
        "method": "difference B − A; Newcombe hybrid score 95% CI; pooled two-proportion z test",
    }  # fmt: skip
