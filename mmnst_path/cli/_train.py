"""``mmnst-path train``: train a classifier from annotations; ``mmnst-path models``: show model cards.

``mmnst-path train cells --images A.svs B.svs --annotations A.geojson B.csv --out my_cells.mmnst``
trains a nucleus (cell) model from classified points or cells (QuPath GeoJSON export, or CSV with
``x, y, class``; napari's ``axis-0, axis-1, class`` too), one annotation file per image, in order.
Use the result with ``mmnst-path quantify ... --cell-model my_cells.mmnst`` or ``[ki67] cell_model``
in a ``--config`` file.

``mmnst-path train tissue --images A.svs --annotations A.geojson --out my_tissue.mmnst`` trains a
tissue (pixel) model from classified polygons (QuPath annotations: Necrosis, Tumor, Stroma...);
use it with ``--tissue-model``.

``mmnst-path train pigment --images A.tif --annotations A.geojson --out my_pigment.mmnst`` trains a melanin
pixel model from polygons classed Melanin / Pigment (any other class: not melanin); use it with
``--pigment-model`` (or ``[pigment] model`` in a ``--config`` file).

``mmnst-path models show [default|FILE] [--kind nucleus|tissue] [--json]`` prints a model's card
(classes, features, training data and licences, validation figures, id); ``models list`` the
shipped defaults, the stain-guess models of ``stains = "auto"`` (``stains_*.json``) included.

Exit status: 0 success, 1 training or reading failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``train`` and ``models`` subcommands."""
    p = subparsers.add_parser("train", help="train a cell (nucleus), tissue or pigment classifier from annotations",
                              description="Train a classifier from a pathologist's annotations.")
    sub = p.add_subparsers(dest="train_command", metavar="KIND")
    cells = sub.add_parser(
        "cells", help="nucleus model from classified points / cells (QuPath GeoJSON or CSV)",
        description=("Nuclei the library detects under each annotated point take its class (Tumor, Stroma, "
                     "Immune cells, Lymphocyte, Macrophage, Other...; QuPath's 'Tumor: Positive' counts as "
                     "tumour); a random forest is trained on their features and written as a portable "
                     ".mmnst model with its card. At least two classes are needed."))
    _add_training_arguments(cells, annotations="FILE", what="GeoJSON / CSV", stains="auto",
                            stains_help="default auto: guessed from the images as quantify --stains auto does; "
                                        "or H-DAB, H-AEC, H-FastRed, H&E...")
    cells.add_argument("--tumour-min-probability", type=float, metavar="P",
                       help="call a nucleus tumour unless P(tumour) < P (default: the most probable class)")
    cells.set_defaults(func=_run_cells)
    tissue = sub.add_parser(
        "tissue", help="tissue (pixel) model from classified polygons (QuPath GeoJSON annotations)",
        description=("Polygons classed Necrosis, Tumor, Stroma, Immune cells, Fat, Background... are rasterised; "
                     "the tissue features of the blocks they cover train a random forest, written as a portable "
                     ".mmnst model with its card. Use it with 'quantify --tissue-model'."))
    _add_training_arguments(tissue, annotations="FILE.geojson", what="GeoJSON", stains="auto",
                            stains_help="default auto: guessed from the images as quantify --stains auto does; "
                                        "or H&E, H-DAB...")
    tissue.set_defaults(func=_run_tissue)
    pigment = sub.add_parser(
        "pigment", help="melanin (pigment) pixel model from classified polygons (QuPath GeoJSON annotations)",
        description=("Polygons classed Melanin or Pigment are melanin; every other class (Tumor, Stroma, Other...) is "
                     "tissue that is not melanin; Region* / Ignore* / unclassified are not used; holes are honoured. "
                     "The pixels the pigment stage shows its model for these stains train a random forest on the "
                     "features of the shipped pigment model of the stains, written as a portable .mmnst model with "
                     "its card. Use it with 'quantify --pigment-model'."))
    _add_training_arguments(pigment, annotations="FILE.geojson", what="GeoJSON", stains="auto",
                            stains_help="default auto: guessed from the images as quantify --stains auto does; "
                                        "or H-DAB, H-AEC, H-FastRed, H&E, AzureB-DAB...; a run of other stains "
                                        "refuses the model")
    pigment.add_argument("--unlabelled", choices=("ignore", "negative"), default="ignore",
                         help="unpainted pixels near the polygons: not used (default), or not melanin (when every "
                              "pigment cluster of the annotated areas is outlined)")
    pigment.set_defaults(func=_run_pigment)

    m = subparsers.add_parser("models", help="list the shipped classifier models; show a model's card (default, name or file)",
                              description="Model cards: classes, features, training data, licences, validation.")
    msub = m.add_subparsers(dest="models_command", metavar="ACTION")
    show = msub.add_parser("show", help="print a model's card")
    show.add_argument("model", nargs="?", default="default", metavar="default|NAME|FILE.mmnst|FILE.json",
                      help="'default' (of --kind), a shipped model's name as 'models list' prints it (the "
                           "stain-guess models stains_he, stains_chromogen, stains_dab_aec too), or a file")
    show.add_argument("--kind", choices=("nucleus", "tissue"), default="nucleus",
                      help="which default to show (default nucleus)")
    show.add_argument("--json", action="store_true", help="print the whole header as JSON")
    show.set_defaults(func=_run_show)
    lst = msub.add_parser("list", help="list the shipped models and what each is used for")
    lst.set_defaults(func=_run_list)
    conv = msub.add_parser("convert", help="write a model file in another format version (to share it with an "
                                           "older mmnst_path, which reads only the expanded form)")
    conv.add_argument("model", metavar="NAME|FILE.mmnst", help="a shipped model's name or a model file")
    conv.add_argument("--out", required=True, metavar="OUT.mmnst",
                      help="the file to write (an existing file is refused without --overwrite)")
    conv.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    conv.add_argument("--model-format", type=int, choices=(2, 3), default=2, metavar="2|3",
                      help="2: expanded (read by every mmnst_path); 3: compact (half the bytes, since 2026-12-07; "
                           "default 2)")
    conv.set_defaults(func=_run_convert)


def _add_training_arguments(p: Any, *, annotations: str, what: str, stains: str, stains_help: str) -> None:
    """The arguments every ``train`` kind takes."""
    p.add_argument("--images", nargs="+", required=True, metavar="IMAGE", help="slides or tiles")
    p.add_argument("--annotations", nargs="+", required=True, metavar=annotations,
                   help=f"one {what} per image, in the same order (level-0 pixel coordinates)")
    p.add_argument("--out", required=True, metavar="MODEL.mmnst",
                   help="model file to write (its folder is made; an existing file is refused without --overwrite)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --out model file (results made with it keep naming its id)")
    p.add_argument("--mpp", type=_mpp_list, metavar="X[,X...]",
                   help="µm per pixel of images whose file does not give it: one value, or one per image in the "
                        "order of --images (e.g. 1.0,0.5 for tiles of two scanners)")
    p.add_argument("--stains", default=stains, metavar="PRESET",
                   help=f"stains of the images ({stains_help}); images that look of other stains than named are "
                        "said, images of different stains under auto refused")
    p.add_argument("--name", default="", metavar="TEXT",
                   help="the model's name on its card, in every result made with it (default: the --out file's stem)")
    p.add_argument("--version", default="", metavar="TEXT",
                   help="the model's version on its card (default: 1, or the replaced file's version + 1 when "
                        "--overwrite replaces a model of the same name)")
    p.add_argument("--intended-use", default="", metavar="TEXT", help="the card's intended use (what the model is for)")
    p.add_argument("--model-format", type=int, choices=(2, 3), default=3, metavar="2|3",
                   help="3 (default): compact, half the bytes; 2: the expanded form an mmnst_path from before "
                        "2026-12-07 reads (the same model id and predictions either way)")
    p.add_argument("--limitations", default="", metavar="TEXT",
                   help="the card's limitations (stains, tissues, scanners it was not trained on)")


def _mpp_list(text: str) -> list[float]:
    """``--mpp 0.5`` or ``--mpp 1.0,0.5``: the µm/px values, in image order."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or numbers separated by commas, got {text!r}") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected a number or numbers separated by commas, got {text!r}")
    return values


def _usage_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the shared train arguments (None when they are fine)."""
    if len(args.images) != len(args.annotations):
        return (f"--images and --annotations must pair up one to one, got {len(args.images)} images and "
                f"{len(args.annotations)} annotation files")
    for flag, paths in (("--images", args.images), ("--annotations", args.annotations)):
        missing = [p for p in paths if not Path(p).is_file()]
        if missing:
            return f"{flag}: no such file {missing[0]!r}"
    if args.mpp is not None:
        bad = [v for v in args.mpp if not 0.01 <= v <= 100]
        if bad:
            return f"--mpp must be 0.01-100 µm/px, got {bad[0]:g}"
        if len(args.mpp) not in (1, len(args.images)):
            return (f"--mpp: give one µm/px for all images or one per image, got {len(args.mpp)} values for "
                    f"{len(args.images)} images")
    folder = Path(args.out).parent
    if folder.exists() and not folder.is_dir():
        return f"--out {args.out}: {str(folder)!r} is a file, not a folder"
    return _exists_problem(args.out, args.overwrite)


def _exists_problem(out: str, overwrite: bool) -> str | None:
    """Why ``--out`` may not be written: an existing file without ``--overwrite`` (named with its model id when it
    is a model, since results made with it name that id); None otherwise."""
    path = Path(out)
    if overwrite or not (path.exists() or path.is_symlink()):
        return None
    if path.is_dir():
        return f"--out {out}: is a folder; give a model file name (MODEL.mmnst)"
    from ..classify import load_model

    try:
        what = f"the model {load_model(path).model_id}"
    except Exception:  # any unreadable file: still not replaced silently
        what = "a file that is not a readable model"
    return (f"--out {out}: already exists ({what}); pass --overwrite to replace it, or write to another file "
            "(a model's results name its id: keep the old file while they are in use)")


def _train(args: argparse.Namespace, what: str, fn: Any, **kw: Any) -> Any:
    """Run a training function; print a one-line error and return None when it fails."""
    from ..errors import MmnstPathError

    name = args.name.strip() or Path(args.out).stem
    try:
        model = fn(args.images, args.annotations, mpp=args.mpp, stains=args.stains,
                   progress=lambda line: print(line, file=sys.stderr), intended_use=args.intended_use,
                   limitations=args.limitations, name=name, version=args.version.strip() or _next_version(args.out, name),
                   **kw)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)  # as quantify --out makes its folder
        model.save(Path(args.out), compact=args.model_format == 3)
    except (MmnstPathError, OSError, ValueError) as exc:
        print(f"mmnst-path train {what}: {' '.join(str(exc).split())}", file=sys.stderr)
        return None
    return model


def _next_version(out: str, name: str) -> str:
    """The version of a model written to ``out``: the replaced file's version + 1 when it is a model of the same
    name with a whole-number version (a retrained model), else "1"."""
    from ..classify import load_model

    try:
        old = load_model(out)
    except Exception:  # no file, or not a readable model: a first version
        return "1"
    version = str(old.card.get("version", ""))
    return str(int(version) + 1) if old.name == name and version.isdigit() else "1"


def _report(model: Any, out: str, what: str) -> None:
    from ..classify.train import training_caution

    counts = ", ".join(f"{k} {v}" for k, v in model.card["training_counts"].items())
    val = model.card.get("validation", {})
    held = val.get("held_out") or {}
    text = ""
    if held.get("accuracy") is not None:
        recall = ", ".join(f"{k} {_figure(c.get('recall'))}" for k, c in (held.get("per_class") or {}).items())
        split = f"; {val['split']}" if val.get("split") else ""
        text = f"; held-out accuracy {held['accuracy']:.2f} (recall {recall}{split})"
    elif val.get("not_held_out"):
        text = f"; no held-out figure ({val['not_held_out']})"
    elif (val.get("training_image_blocks") or {}).get("accuracy") is not None:
        text = f"; training-image blocks accuracy {val['training_image_blocks']['accuracy']:.2f}"
    print(f"wrote {out} ({model.model_id}): {counts}{text}")
    if model.card.get("name"):  # what every result made with it names (--name, --version)
        print(f"model: {model.card['name']} version {model.card.get('version', '?')}")
    new = model.card.get("new_classes") or []
    if new:
        print(f"new classes (not classes mmnst_path knows; kept as yours): {', '.join(new)}")
    if what == "cells" and "tumour" not in model.card["training_counts"]:
        print("no 'tumour' class: the Ki67 index counts the nuclei a cell model calls tumour, so quantify refuses this "
              "model for Ki67 (name the tumour cells Tumor / Tumour in the annotations)")
    caution = training_caution(model.card)
    if caution:
        print(f"mmnst-path train {what}: {caution}", file=sys.stderr)


def _run_tissue(args: argparse.Namespace) -> int:
    from ..pipeline import train_tissue

    problem = _usage_problem(args)
    if problem:
        print(f"mmnst-path train tissue: {problem}", file=sys.stderr)
        return 2
    model = _train(args, "tissue", train_tissue)
    if model is None:
        return 1
    _report(model, args.out, "tissue")
    return 0


def _run_pigment(args: argparse.Namespace) -> int:
    from ..pipeline import train_pigment

    problem = _usage_problem(args)
    if problem:
        print(f"mmnst-path train pigment: {problem}", file=sys.stderr)
        return 2
    model = _train(args, "pigment", train_pigment, unlabelled=args.unlabelled)
    if model is None:
        return 1
    _report(model, args.out, "pigment")
    print(f"use it with: mmnst-path quantify ... --pigment-model {args.out} (slides of {model.settings.get('stains')})")
    return 0


def _run_cells(args: argparse.Namespace) -> int:
    from ..pipeline import train_cells

    problem = _usage_problem(args)
    if problem is None and args.tumour_min_probability is not None and not 0 <= args.tumour_min_probability <= 1:
        problem = f"--tumour-min-probability must be in [0, 1], got {args.tumour_min_probability}"
    if problem:
        print(f"mmnst-path train cells: {problem}", file=sys.stderr)
        return 2
    model = _train(args, "cells", train_cells, tumour_min_probability=args.tumour_min_probability)
    if model is None:
        return 1
    _report(model, args.out, "cells")
    return 0


def _load(spec: str, kind: str) -> Any:
    from ..classify import default_model_path, load_model, shipped_model_path

    if spec.strip().lower() == "default":
        return load_model(default_model_path(kind))
    path = Path(spec)
    shipped = None if path.is_file() else shipped_model_path(spec)
    return load_model(shipped if shipped is not None else path)


def _run_convert(args: argparse.Namespace) -> int:
    """``models convert``: the same model (id, predictions) written in format version 2 (expanded) or 3 (compact)."""
    from ..errors import MmnstPathError

    problem = _exists_problem(args.out, args.overwrite)
    if problem:
        print(f"mmnst-path models convert: {problem}", file=sys.stderr)
        return 2
    try:
        model = _load(args.model, "nucleus")
        out = model.save(Path(args.out), compact=args.model_format == 3)
    except (MmnstPathError, OSError, ValueError) as exc:
        print(f"mmnst-path models convert: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    print(f"wrote {out} (format {args.model_format}, {out.stat().st_size} bytes; model id {model.model_id})")
    return 0


def _run_show(args: argparse.Namespace) -> int:
    from ..errors import MmnstPathError
    from ._stain_models import load_stain_model, show_stain_model

    try:
        stain = load_stain_model(args.model)
    except (MmnstPathError, OSError, ValueError) as exc:
        print(f"mmnst-path models show: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    if stain is not None:
        show_stain_model(*stain, as_json=args.json)
        return 0
    try:
        model = _load(args.model, args.kind)
    except (MmnstPathError, OSError, ValueError) as exc:
        print(f"mmnst-path models show: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({**model.header(), "model_id": model.model_id}, indent=1, ensure_ascii=False))
        return 0
    card = model.card
    kind = "pigment pixel" if model.settings.get("target") == "pigment" else model.kind  # (file kind "tissue")
    print(f"{model.name}  version {card.get('version', '?')}  id {model.model_id}  ({kind} model)")
    print(f"classes: {', '.join(model.class_names)}")
    print(f"features ({len(model.features)}): {', '.join(model.feature_names)}")
    print(f"settings: {json.dumps(model.settings, ensure_ascii=False)}")
    for key in ("licence", "intended_use", "decision", "limitations", "training_recipe", "pixel_size_um",
                "mmnst_path_version", "date", "new_classes", "stains", "feature_recipe", "polygons_per_class"):
        if key in card:
            print(f"{key}: {card[key]}")
    if card.get("class_names"):
        print(f"class names read: {', '.join(f'{raw!r} -> {cls}' for raw, cls in card['class_names'].items())}")
    data = card.get("training_data", []) or []
    if isinstance(data, dict):  # a card written as one mapping: print each entry (the attribution must show)
        data = [{key: value} for key, value in data.items()]
    for item in data:
        print(f"training data: {json.dumps(item, ensure_ascii=False)}")
    if card.get("training_counts"):
        print(f"training counts: {_pairs(card['training_counts'])}")
    val = card.get("validation", {})
    for name, rep in (val.get("per_split") or {}).items():
        print(f"validation {name}: {_split_summary(rep)}")
    for name, rep in (val.get("ki67_research_sets") or {}).items():
        print(f"validation Ki67 {name}: {_pairs(rep)}")
    if "held_out" in val:
        split = f" ({val['split']})" if val.get("split") else ""
        print(f"validation held out{split}: {_split_summary(val['held_out'])}")
    if val.get("not_held_out"):
        print(f"validation: no held-out figure ({val['not_held_out']})")
    if "training_image_blocks" in val:  # a random split of the training images' rows: optimistic, named so
        print(f"validation training-image blocks (not held out): {_split_summary(val['training_image_blocks'])}")
    for where, caution in _cautions(val):
        print(f"caution ({where}): {caution}")
    from ..classify.train import training_caution

    trained = training_caution(card)  # what 'train' said when the model was written (few examples, poor held-out)
    if trained:
        text = trained.replace("caution: ", "caution (training figures): ", 1)
        if _is_shipped(args.model):  # a shipped model: its figures, not advice to annotate more for it
            text = text.split(": annotate more", 1)[0]
        print(text)
    return 0


def _is_shipped(spec: str) -> bool:
    """Whether ``models show SPEC`` reads a model shipped with the package ('default', a shipped name, or a
    path into the package's models folder)."""
    from ..classify import models_dir, shipped_model_path

    if spec.strip().lower() == "default":
        return True
    path = Path(spec).expanduser()
    if path.is_file():
        return path.resolve().parent == models_dir().resolve()
    return shipped_model_path(spec) is not None


def _split_summary(rep: Any) -> str:
    """'accuracy A; per class: name recall R precision P (n N), ...' of one validation split."""
    if not isinstance(rep, dict):
        return str(rep)
    text = f"accuracy {_figure(rep.get('accuracy'))}"
    per_class = rep.get("per_class") or {}
    parts = [f"{name} recall {_figure(c.get('recall'))} precision {_figure(c.get('precision'))} "
             f"(n {_figure(c.get('support'))})" for name, c in per_class.items() if isinstance(c, dict)]
    return text + ("; per class: " + ", ".join(parts) if parts else "")


def _figure(value: Any) -> str:
    """A card's figure as read: "–" for a missing or undefined one (a recall over no nucleus of the class is NaN)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return str(value)


def _pairs(mapping: Any) -> str:
    """"name value, name value" of a card's mapping (training counts, Ki67 figures), not Python's dict repr."""
    if not isinstance(mapping, dict):
        return str(mapping)
    return ", ".join(f"{key} {_figure(value)}" for key, value in mapping.items())


def _cautions(val: Any, where: str = "validation") -> list[tuple[str, str]]:
    """Every ``caution`` entry anywhere in a card's validation section, with the path to it."""
    found: list[tuple[str, str]] = []
    if isinstance(val, dict):
        for key, value in val.items():
            if key == "caution":
                found.append((where, str(value)))
            else:
                found.extend(_cautions(value, f"{where}.{key}"))
    return found


def _run_list(args: argparse.Namespace) -> int:
    from ..classify import SHIPPED_MODELS, load_model, models_dir
    from ..errors import MmnstPathError

    status = 0
    for name, use in SHIPPED_MODELS.items():
        path = models_dir() / name
        try:
            model = load_model(path)
        except (MmnstPathError, OSError, ValueError) as exc:  # a missing or damaged file is said, not raised
            print(f"{path.stem:24s} {' '.join(str(exc).split())}")
            status = 1
            continue
        print(f"{path.stem:24s} {model.model_id}  {model.name} {model.card.get('version', '')}")
        print(f"{'':24s} used for: {use}; classes {', '.join(model.class_names)}")
    from ._stain_models import stain_model_lines

    lines, stain_ok = stain_model_lines()
    print("\n".join(lines))
    status = status if stain_ok else 1
    print(f"files in {models_dir()}; 'mmnst-path models show NAME' prints a card")
    return status
