"""Reading a user's annotated image folder (the layout of the CYBORG data release): validate every
row first, report every problem at once, load only a clean folder.

Layout: ``ROOT/<csv>`` with columns ``image,label,split`` and optional ``annotation``
(paths relative to ROOT; an empty annotation cell = not annotated), beside the image and
heat-map folders. Heat maps: grey images (8-bit scaled by 1/255, 16-bit by 1/65535, float
'F' mode as is) or ``.npy`` real-valued arrays (H,W) or (1,H,W); values must be finite and
in [0,1], and not all zero unless ``allow_zero_maps``.

The rules (docs/datasets.md, "Your own annotated data"):

- paths (the CSV itself, every image and map) resolve inside ROOT; no NUL byte;
- the same file twice (compared by resolved path: ``./a.png`` = ``a.png``) is a duplicate;
- ``classes`` is declared (no duplicates, at least two) and every label is among them (inferred
  classes would make a typo in a label a class of its own); ``train`` holds at least two classes;
- split names are ``train``, ``val``, ``test`` or ``test_<name>`` (``SPLIT_PATTERN``), or
  the declared ``splits``; ``train`` and ``val`` are required;
- every image decodes, has at most ``PIL.Image.MAX_IMAGE_PIXELS`` pixels and at least
  ``MIN_SIDE`` pixels on each side; without resizing, every image is square and of one size.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..contracts import ContractError
from ..registry import did_you_mean

REQUIRED = ("image", "label", "split")
COLUMNS = (*REQUIRED, "annotation")
GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "F")
INT_SCALE = {"1": 1.0, "L": 255.0, "P": 255.0, "I;16": 65535.0, "I;16B": 65535.0, "I": 65535.0}
MIN_SIDE = 8  # smallest image side every architecture accepts (simple_cnn, densenet121 need 8)
SPLIT_PATTERN = re.compile(r"train|val|test|test_[A-Za-z0-9_]+")
SPLIT_NAME = re.compile(r"[A-Za-z0-9_]+")
SPLIT_RULE = "train, val, test or test_<name>"
# Everything a decoder may raise on a bad file (Pillow raises SyntaxError for broken PNG chunks).
DECODE_ERRORS = (
    OSError,
    UnidentifiedImageError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    zlib.error,
    Image.DecompressionBombError,
    IndexError,
    TypeError,
    KeyError,
)


class Refused(ValueError):
    """A file that decodes but breaks a rule (its message completes "image X ..." / "annotation X ...")."""


@dataclass
class Row:
    line: int  # line in the CSV (the header is line 1)
    image: str
    label: str
    split: str
    annotation: str
    extra_cells: int = 0  # cells beyond the header's columns


@dataclass
class Checked:
    """A clean folder, without its pixels (the build decodes one image at a time): per row, the
    image's (H,W,C) as decoded (None for a refused row while checking) and whether it has a map."""

    rows: list[Row]
    shapes: list[tuple[int, int, int] | None] = field(default_factory=list)
    annotated: list[bool] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)

    def path(self, root: Path, relative: str) -> Path:
        """The checked file ``root/relative`` (inside root: validated)."""
        return cast(Path, inside(root, relative))


# --------------------------------------------------------------------------- the CSV
def csv_path_of(root: Path, csv_name: str) -> Path:
    """``root/csv_name``, resolved and inside ``root``, else a ``ContractError`` naming the parameter."""
    if not isinstance(csv_name, str) or not csv_name.strip():
        raise ContractError("annotated_folder: the dataset parameter 'csv' is empty")
    if "\x00" in csv_name:
        raise ContractError(f"annotated_folder: the dataset parameter 'csv' {csv_name!r} contains a NUL byte")
    path = inside(root, csv_name)
    if path is None:
        raise ContractError(
            f"annotated_folder: the dataset parameter 'csv' {csv_name!r} must be a file inside root {root} "
            f"(a relative path, no '..', no link leading out)"
        )
    return path


def read_rows(csv_path: Path) -> list[Row]:
    """The CSV's rows with their line numbers (blank lines skipped; the header is line 1)."""
    try:
        raw = csv_path.read_bytes()
    except FileNotFoundError:
        raise ContractError(
            f"{csv_path}: CSV not found (set the dataset parameter 'root' to the folder holding it)"
        ) from None
    except OSError as exc:
        raise ContractError(f"{csv_path}: unreadable CSV ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ContractError(
            f"{csv_path}: line {line}: not UTF-8 text (byte {raw[exc.start : exc.start + 1]!r}); is it a binary file?"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ContractError(f"{csv_path}: empty CSV; expected the header image,label,split[,annotation]")
        header = [h.strip() for h in header]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ContractError(
                f"{csv_path}: missing column(s) {missing}; found {header}; expected image,label,split[,annotation]"
            )
        repeated = sorted({h for h in header if h in COLUMNS and header.count(h) > 1})
        if repeated:
            raise ContractError(f"{csv_path}: column(s) {repeated} appear twice in the header")
        index = {c: header.index(c) for c in COLUMNS if c in header}
        rows, previous = [], reader.line_num
        for cells in reader:
            line, previous = previous + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            values = [cells[index[c]].strip() if c in index and index[c] < len(cells) else "" for c in COLUMNS]
            rows.append(Row(line, *values, extra_cells=max(0, len(cells) - len(header))))
    except csv.Error as exc:
        raise ContractError(f"{csv_path}: line {reader.line_num}: malformed CSV ({exc})") from None
    return rows


def inside(root: Path, relative: str) -> Path | None:
    """The file ``root/relative`` resolved, when it stays inside ``root`` (no absolute path, no '..'
    or link escaping, no NUL byte); else None."""
    if not relative or "\x00" in relative or Path(relative).is_absolute():
        return None
    try:
        path = (Path(root) / relative).resolve()
        base = Path(root).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    return path if path.is_relative_to(base) and path != base else None


# --------------------------------------------------------------------------- files
def open_image(path: Path) -> Image.Image:
    """Open ``path`` with Pillow, refusing more pixels than ``PIL.Image.MAX_IMAGE_PIXELS``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        im = Image.open(path)
    limit = Image.MAX_IMAGE_PIXELS
    if limit and im.size[0] * im.size[1] > limit:
        width, height = im.size
        im.close()
        raise Refused(
            f"is {width}x{height} = {width * height} pixels, over Pillow's limit of {limit} "
            f"(PIL.Image.MAX_IMAGE_PIXELS)"
        )
    return im


def read_image(path: Path) -> np.ndarray:
    """(H,W,C) uint8: C = 1 for grey modes, else 3 (RGB; palette and alpha images converted)."""
    with open_image(path) as im:
        im.load()
        arr = np.asarray(im.convert("L" if im.mode in GREY_MODES else "RGB"))
    return arr[..., None] if arr.ndim == 2 else arr


def read_map(path: Path) -> np.ndarray:
    """(H,W) float32 heat map, refused when complex, non-numeric or non-finite; not yet range-checked."""
    if path.suffix.lower() == ".npy":
        arr = np.load(io.BytesIO(path.read_bytes()), allow_pickle=False)
        if arr.dtype.kind == "c":
            raise Refused(f"is complex-valued ({arr.dtype}); a heat map holds real numbers in [0, 1]")
        if arr.dtype.kind not in "fiub":
            raise Refused(f"has dtype {arr.dtype}, not a real number type")
        if arr.ndim == 3 and arr.shape[0] == 1:
            arr = arr[0]
        if arr.ndim != 2:
            raise Refused(f"must be (H,W) or (1,H,W), got shape {arr.shape}")
        return arr.astype(np.float32)
    with open_image(path) as im:
        im.load()
        if im.mode == "F":
            return np.asarray(im, dtype=np.float32)
        if im.mode in INT_SCALE:
            return np.asarray(im, dtype=np.float32) / INT_SCALE[im.mode]
        return np.asarray(im.convert("L"), dtype=np.float32) / 255.0


# --------------------------------------------------------------------------- validation
def check_classes(classes: list[str]) -> None:
    """Declared classes: no empty name, no duplicate, at least two."""
    if any(not c for c in classes):
        raise ContractError(
            f"annotated_folder: the dataset parameter 'classes' has an empty name: {','.join(classes)!r}"
        )
    repeated = sorted({c for c in classes if classes.count(c) > 1})
    if repeated:
        raise ContractError(
            f"annotated_folder: the dataset parameter 'classes' lists {repeated} more than once: {','.join(classes)!r}"
        )
    if len(classes) < 2:
        raise ContractError(
            f"annotated_folder: the dataset parameter 'classes' must name at least two classes, "
            f"got {','.join(classes)!r}"
        )


def check_splits(splits: list[str]) -> None:
    """Declared split names: identifiers, no duplicate, ``train`` and ``val`` among them."""
    bad = [s for s in splits if not SPLIT_NAME.fullmatch(s)]
    if bad:
        raise ContractError(
            f"annotated_folder: the dataset parameter 'splits' has the invalid name {bad[0]!r} "
            f"(letters, digits and '_')"
        )
    repeated = sorted({s for s in splits if splits.count(s) > 1})
    if repeated:
        raise ContractError(f"annotated_folder: the dataset parameter 'splits' lists {repeated} more than once")
    lacking = [s for s in ("train", "val") if s not in splits]
    if lacking:
        raise ContractError(
            f"annotated_folder: the dataset parameter 'splits' must include {lacking} "
            f"(train and val are required), got {','.join(splits)!r}"
        )


def split_problem(split: str, declared: list[str] | None) -> str | None:
    if not split:
        return "empty split"
    if declared is not None:
        if split not in declared:
            return f"split {split!r} is not among the declared splits {declared}{did_you_mean(split, declared)}"
        return None
    if not SPLIT_PATTERN.fullmatch(split):
        return (
            f"split {split!r} is not a known split name ({SPLIT_RULE}){did_you_mean(split, ['train', 'val', 'test'])} "
            f"(other names: declare them with the dataset parameter 'splits')"
        )
    return None


def validate(
    root: Path,
    csv_name: str,
    classes: list[str],
    same_size: bool,
    splits: list[str] | None = None,
    allow_zero_maps: bool = False,
) -> Checked:
    """Check every row (see the module docstring), decoding each image and map once and keeping only
    its size (memory: one image at a time); raise one ``ContractError`` listing every problem, each
    with its CSV line."""
    root = Path(root)
    if not root.is_dir():
        raise ContractError(f"annotated_folder: root {root} is not a folder (set the dataset parameter 'root')")
    if classes:
        check_classes(classes)
    if splits is not None:
        check_splits(splits)
    csv_path = csv_path_of(root, csv_name)
    if not csv_path.is_file():
        raise ContractError(
            f"{root / csv_name}: CSV not found (set the dataset parameter 'root' to the folder holding "
            f"it, 'csv' to its name)"
        )
    rows = read_rows(csv_path)
    if not classes:  # inferred classes would turn a typo in one label ('fake' for 'synthetic') into a class
        found = sorted({r.label for r in rows if r.label}, key=_natural)
        raise ContractError(
            f"annotated_folder {csv_path}: set the dataset parameter 'classes' to the class names in label order "
            f"(the CSV's labels are {found}: e.g. classes: {','.join(found)!r}); a label outside them is then an error"
        )
    problems: list[str] = []
    if not rows:
        problems.append("the CSV has no rows")
    first_of: dict[Path, int] = {}
    checked = Checked(rows=rows, classes=classes)
    sizes: dict[tuple[int, int], int] = {}
    for row in rows:
        errs: list[str] = []
        if row.extra_cells:
            errs.append(f"{row.extra_cells} cell(s) more than the header's columns (a comma inside a path? quote it)")
        if not row.label:
            errs.append("empty label")
        elif row.label not in classes:
            errs.append(f"label {row.label!r} not in the class list {classes}{did_you_mean(row.label, classes)}")
        problem = split_problem(row.split, splits)
        if problem:
            errs.append(problem)
        resolved = inside(root, row.image)
        if resolved is not None:
            if resolved in first_of:
                errs.append(f"duplicate of line {first_of[resolved]} (image {row.image!r} is the same file)")
            first_of.setdefault(resolved, row.line)
        image = _load(root, row.image, "image", read_image, errs)
        if image is not None:
            height, width = image.shape[:2]
            if min(height, width) < MIN_SIDE:
                errs.append(
                    f"image {row.image} is {width}x{height}, smaller than {MIN_SIDE} pixels on a side "
                    f"(the smallest input every architecture accepts)"
                )
                image = None
            elif same_size and height != width:
                errs.append(
                    f"image {row.image} is {width}x{height}, not square (set the dataset parameter image_size "
                    f"to resize every image to N x N)"
                )
                image = None  # reported; not counted among the image sizes
        heat = _load(root, row.annotation, "annotation", read_map, errs) if row.annotation else None
        if heat is not None:
            if image is not None and heat.shape != image.shape[:2]:
                errs.append(
                    f"annotation {row.annotation} is {heat.shape[1]}x{heat.shape[0]} but image {row.image} is "
                    f"{image.shape[1]}x{image.shape[0]} (width x height)"
                )
            elif not np.isfinite(heat).all():
                errs.append(f"annotation {row.annotation} has NaN or infinite values")
            elif heat.min() < 0.0 or heat.max() > 1.0:
                errs.append(
                    f"annotation {row.annotation} has values in [{heat.min():g}, {heat.max():g}], outside [0, 1]"
                )
            elif not allow_zero_maps and heat.max() == 0.0:
                errs.append(
                    f"annotation {row.annotation} is all zero (leave the cell empty for an unannotated image, "
                    f"or set the dataset parameter allow_zero_maps: true)"
                )
        if image is not None:
            sizes.setdefault(image.shape[:2], row.line)
        problems += [f"line {row.line}: {e}" for e in errs]
        checked.shapes.append(None if image is None else cast(tuple[int, int, int], image.shape))
        checked.annotated.append(heat is not None)
        del image, heat  # only the sizes are kept: the build decodes each file again, one at a time
    if same_size and len(sizes) > 1:
        (common, _), *_ = sorted(
            ((s, sum(1 for shape in checked.shapes if shape is not None and shape[:2] == s)) for s in sizes),
            key=lambda t: -t[1],
        )
        for row, shape in zip(rows, checked.shapes):
            if shape is not None and shape[:2] != common:
                problems.append(
                    f"line {row.line}: image {row.image} is {shape[1]}x{shape[0]}, most images are "
                    f"{common[1]}x{common[0]} (set the dataset parameter image_size to resize all)"
                )
    present = {r.split for r in rows}
    problems += [
        f"no row has split '{s}' (train and val are required)" for s in ("train", "val") if rows and s not in present
    ]
    labels = {r.label for r in rows if r.label}
    train_labels = {r.label for r in rows if r.split == "train" and r.label in classes}
    if len(labels) >= 2 and "train" in present and len(train_labels) < 2:
        problems.append(f"split 'train' has only the class {sorted(train_labels)} (it needs at least two classes)")
    if len(problems) == 1:  # one line
        raise ContractError(f"annotated_folder {csv_path}: {problems[0]} (1 problem(s); nothing was written)")
    if problems:  # a head line, then one line per problem
        head = f"annotated_folder {csv_path}: {len(problems)} problem(s); nothing was written"
        raise ContractError("\n  ".join([head, *problems]))
    return checked


def _load(root: Path, relative: str, what: str, reader: Callable[[Path], np.ndarray], errs: list[str]):
    if not relative:
        errs.append(f"empty {what} path")
        return None
    if "\x00" in relative:
        errs.append(f"{what} path {relative!r} contains a NUL byte")
        return None
    path = inside(root, relative)
    if path is None:
        errs.append(f"{what} path {relative!r} escapes the root {root}")
        return None
    if not path.exists():
        errs.append(f"{what} {relative} not found")
        return None
    if not path.is_file():
        errs.append(f"{what} {relative} is not a file")
        return None
    try:
        return reader(path)
    except Refused as exc:
        errs.append(f"{what} {relative} {exc}")
        return None
    except DECODE_ERRORS as exc:
        errs.append(
            f"{what} {relative} unreadable ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        )
        return None


def _natural(label: str) -> tuple:
    return (0, int(label), "") if label.lstrip("-").isdigit() else (1, 0, label)
