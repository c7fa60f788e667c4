"""Reading a user's annotated image folder (the layout of the CYBORG data release): validate every
row first, report every problem at once, load only a clean folder.

Layout: ``ROOT/<csv>`` with columns ``image,label,split`` and optional ``annotation``
(paths relative to ROOT; an empty annotation cell = not annotated), beside the image and
heat-map folders. Heat maps: grey images (8-bit scaled by 1/255, 16-bit by 1/65535, float
'F' mode as is) or ``.npy`` float arrays (H,W) or (1,H,W); values must be finite and in [0,1].
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from ..contracts import ContractError

REQUIRED = ("image", "label", "split")
GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "F")
INT_SCALE = {"1": 1.0, "L": 255.0, "P": 255.0, "I;16": 65535.0, "I;16B": 65535.0, "I": 65535.0}


@dataclass
class Row:
    line: int  # line in the CSV (the header is line 1)
    image: str
    label: str
    split: str
    annotation: str


@dataclass
class Loaded:
    """A clean folder: per row, the image (H,W,C) uint8 and the map (H,W) float32 or None."""

    rows: list[Row]
    images: list[np.ndarray] = field(default_factory=list)
    maps: list[np.ndarray | None] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)


def read_rows(csv_path: Path) -> list[Row]:
    try:
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise ContractError(f"{csv_path}: CSV not found (set the dataset parameter 'root' to the folder holding it)") from None
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ContractError(f"{csv_path}: unreadable CSV ({exc})") from None
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ContractError(f"{csv_path}: missing column(s) {missing}; found {list(frame.columns)}; "
                            f"expected image,label,split[,annotation]")
    if "annotation" not in frame.columns:
        frame["annotation"] = ""
    return [Row(i + 2, *(str(r[c]).strip() for c in (*REQUIRED, "annotation"))) for i, r in frame.iterrows()]


def inside(root: Path, relative: str) -> Path | None:
    """The file ``root/relative`` when it stays inside ``root`` (no absolute path, no '..' or link escaping)."""
    if not relative or Path(relative).is_absolute():
        return None
    path = (root / relative).resolve()
    return path if path.is_relative_to(root.resolve()) else None


def read_image(path: Path) -> np.ndarray:
    """(H,W,C) uint8: C = 1 for grey modes, else 3 (RGB; palette and alpha images converted)."""
    with Image.open(path) as im:
        im.load()
        arr = np.asarray(im.convert("L" if im.mode in GREY_MODES else "RGB"))
    return arr[..., None] if arr.ndim == 2 else arr


def read_map(path: Path) -> np.ndarray:
    """(H,W) float32 heat map, not yet range-checked."""
    if path.suffix.lower() == ".npy":
        arr = np.load(io.BytesIO(path.read_bytes()), allow_pickle=False)
        if arr.ndim == 3 and arr.shape[0] == 1:
            arr = arr[0]
        if arr.ndim != 2:
            raise ValueError(f"heat map must be (H,W) or (1,H,W), got shape {arr.shape}")
        return arr.astype(np.float32)
    with Image.open(path) as im:
        im.load()
        if im.mode == "F":
            return np.asarray(im, dtype=np.float32)
        if im.mode in INT_SCALE:
            return np.asarray(im, dtype=np.float32) / INT_SCALE[im.mode]
        return np.asarray(im.convert("L"), dtype=np.float32) / 255.0


def validate_and_load(root: Path, csv_name: str, classes: list[str], same_size: bool) -> Loaded:
    """Check every row (files inside ``root``, readable, map size = image size, map finite in [0,1],
    known label, no duplicate image, one image size when ``same_size``) and load the folder;
    raise one ``ContractError`` listing every problem."""
    root = Path(root)
    csv_path = root / csv_name
    if not root.is_dir():
        raise ContractError(f"annotated_folder: root {root} is not a folder (set the dataset parameter 'root')")
    rows = read_rows(csv_path)
    problems: list[str] = []
    if not rows:
        problems.append("the CSV has no rows")
    known = classes or sorted({r.label for r in rows if r.label}, key=_natural)
    first_of: dict[str, int] = {}
    loaded = Loaded(rows=rows, classes=known)
    sizes: dict[tuple[int, int], int] = {}
    for row in rows:
        errs: list[str] = []
        if row.image in first_of:
            errs.append(f"duplicate of line {first_of[row.image]} (image {row.image!r})")
        first_of.setdefault(row.image, row.line)
        if not row.label:
            errs.append("empty label")
        elif row.label not in known:
            errs.append(f"label {row.label!r} not in the class list {known}")
        if not row.split or not row.split.replace("_", "").isalnum():
            errs.append(f"split {row.split!r} must be a non-empty name of letters, digits and '_'")
        image = _load(root, row.image, "image", read_image, errs)
        heat = _load(root, row.annotation, "annotation", read_map, errs) if row.annotation else None
        if image is not None and heat is not None:
            if heat.shape != image.shape[:2]:
                errs.append(f"annotation {row.annotation} is {heat.shape[1]}x{heat.shape[0]} but image {row.image} is "
                            f"{image.shape[1]}x{image.shape[0]} (width x height)")
            elif not np.isfinite(heat).all():
                errs.append(f"annotation {row.annotation} has NaN or infinite values")
            elif heat.min() < 0.0 or heat.max() > 1.0:
                errs.append(f"annotation {row.annotation} has values in [{heat.min():g}, {heat.max():g}], outside [0, 1]")
        if image is not None:
            sizes.setdefault(image.shape[:2], row.line)
        problems += [f"line {row.line}: {e}" for e in errs]
        loaded.images.append(image)
        loaded.maps.append(heat)
    if same_size and len(sizes) > 1:
        (common, _), *_ = sorted(((s, sum(1 for i in loaded.images if i is not None and i.shape[:2] == s)) for s in sizes),
                                 key=lambda t: -t[1])
        for row, image in zip(rows, loaded.images):
            if image is not None and image.shape[:2] != common:
                problems.append(f"line {row.line}: image {row.image} is {image.shape[1]}x{image.shape[0]}, most images are "
                                f"{common[1]}x{common[0]} (set the dataset parameter image_size to resize all)")
    present = {r.split for r in rows}
    problems += [f"no row has split '{s}' (train and val are required)" for s in ("train", "val") if rows and s not in present]
    if problems:
        head = f"annotated_folder {csv_path}: {len(problems)} problem(s); nothing was written"
        raise ContractError("\n  ".join([head, *problems]))
    return loaded


def _load(root: Path, relative: str, what: str, reader, errs: list[str]):
    path = inside(root, relative)
    if path is None:
        errs.append(f"{what} path {relative!r} escapes the root {root}" if relative else f"empty {what} path")
        return None
    if not path.is_file():
        errs.append(f"{what} {relative} not found")
        return None
    try:
        return reader(path)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        errs.append(f"{what} {relative} unreadable ({type(exc).__name__}: {exc})")
        return None


def _natural(label: str) -> tuple:
    return (0, int(label), "") if label.lstrip("-").isdigit() else (1, 0, label)
