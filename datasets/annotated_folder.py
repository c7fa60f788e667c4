"""Your own annotated images: a CSV beside image and heat-map folders (the layout of the CYBORG
data release, Boyd et al. WACV 2023), documented in docs/datasets.md.

    ROOT/labels.csv        image,label,split[,annotation]   (paths relative to ROOT)
    ROOT/images/...        the images (any format Pillow reads)
    ROOT/annotations/...   grey heat maps (0 irrelevant .. 255 decisive) or .npy float maps in [0,1]

Every row is validated before anything is built (``benchmark.data.folder_validation``): a
missing, unreadable, too large (Pillow's pixel limit) or too small (< 8 px a side) image, a
heat map whose size differs from its image, a complex, NaN, out-of-range or all-zero map, a
label outside ``classes``, a duplicate image (same resolved file), a path escaping ROOT, an
unknown split name, a second image size (when ``image_size`` is 0) are all reported at
once, and ``data build`` exits with status 2 without writing anything. The splits are the
CSV's ``split`` values: ``train`` and ``val`` (required), ``test`` and ``test_<name>``, or
the names declared in ``splits``. Rows without an annotation get a zero map and
``annotated = False``.

Source checksum: ``source_checksum`` hashes the CSV's bytes and the bytes of every file it
references; the manifest records it, and a build is served (``benchmark.data.dataset_store.find``)
only while the folder still has it, so an edited or deleted image makes the next run rebuild.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from benchmark.contracts import ContractError, Dataset, DatasetBundle, HParam, Split
from benchmark.data.folder_validation import (
    MIN_SIDE,
    Loaded,
    check_classes,
    check_splits,
    folder_checksum,
    validate_and_load,
)
from benchmark.registry import register_dataset


def resize(arrays: np.ndarray, size: int, antialias: bool = True) -> np.ndarray:
    """Bilinear resize of (N,C,H,W) float arrays to size x size (torch, antialiased when shrinking)."""
    out = F.interpolate(
        torch.from_numpy(arrays), size=(size, size), mode="bilinear", align_corners=False, antialias=antialias
    )
    return out.numpy()


@register_dataset
class AnnotatedFolder(Dataset):
    name = "annotated_folder"
    description = "your own images + labels + optional human heat maps from a CSV (CYBORG release layout)"
    params = {
        "root": HParam("", "folder holding the CSV; the CSV's paths are relative to it (required)"),
        "csv": HParam("labels.csv", "CSV file name inside root"),
        "classes": HParam(
            "", "comma-separated class names in label order (required: a label outside them is an error)"
        ),
        "splits": HParam(
            "",
            "comma-separated allowed split names ('' : train, val, test and test_<name>); must include train and val",
        ),
        "image_size": HParam(
            0,
            f"0: every image must be square and of one size; N >= {MIN_SIDE}: resize images and maps to N x N (bilinear)",
            low=0,
            high=2048,
        ),
        "colour": HParam(
            "auto", "auto (RGB if any image is colour, else grey) | rgb | grey", choices=("auto", "rgb", "grey")
        ),
        "allow_zero_maps": HParam(
            False, "accept all-zero heat maps (default: an error; leave the cell empty for an unannotated image)"
        ),
    }

    def resolve(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults and overrides, checked without touching the folder: root set, csv a relative path
        without '..', classes and splits well formed, image_size 0 or >= MIN_SIDE."""
        p = super().resolve(overrides)
        if not p["root"].strip():
            raise ContractError("annotated_folder: set the dataset parameter 'root' to the folder holding the CSV")
        for key in ("root", "csv", "classes", "splits"):
            if "\x00" in p[key]:
                raise ContractError(f"annotated_folder: the dataset parameter '{key}' {p[key]!r} contains a NUL byte")
        csv_name = Path(p["csv"])
        if not p["csv"].strip() or csv_name.is_absolute() or ".." in csv_name.parts:
            raise ContractError(
                f"annotated_folder: the dataset parameter 'csv' {p['csv']!r} must be a file name inside "
                f"root (a relative path without '..')"
            )
        if p["classes"].strip():
            check_classes(self.names(p["classes"]))
        if p["splits"].strip():
            check_splits(self.names(p["splits"]))
        if 0 < p["image_size"] < MIN_SIDE:
            raise ContractError(
                f"annotated_folder: image_size must be 0 (no resizing) or >= {MIN_SIDE}, got {p['image_size']}"
            )
        return p

    @staticmethod
    def names(value: str) -> list[str]:
        """A comma-separated list (surrounding spaces and one trailing comma ignored)."""
        parts = [c.strip() for c in value.split(",")]
        return parts[:-1] if len(parts) > 1 and parts[-1] == "" else parts

    @classmethod
    def source_checksum(cls, params: Mapping[str, Any]) -> str | None:
        """sha256 of the CSV's bytes and of every file it references (None: unreadable now)."""
        return folder_checksum(Path(params["root"]).expanduser(), params["csv"])

    def build(self, params: Mapping[str, Any]) -> DatasetBundle:
        p = self.resolve(params)
        root = Path(p["root"]).expanduser()
        classes = self.names(p["classes"]) if p["classes"].strip() else []
        splits = self.names(p["splits"]) if p["splits"].strip() else None
        loaded = validate_and_load(
            root, p["csv"], classes, same_size=p["image_size"] == 0, splits=splits, allow_zero_maps=p["allow_zero_maps"]
        )
        rgb = p["colour"] == "rgb" or (p["colour"] == "auto" and any(im.shape[-1] == 3 for im in loaded.images))
        index = {
            name: [i for i, r in enumerate(loaded.rows) if r.split == name]
            for name in sorted({r.split for r in loaded.rows})
        }
        splits = {name: self.make_split(loaded, rows, rgb, p["image_size"]) for name, rows in index.items()}
        csv_bytes = (root / p["csv"]).read_bytes()
        checksum = self.source_checksum(p)
        if checksum is None:
            raise ContractError(
                f"annotated_folder {root / p['csv']}: a file changed or vanished while it was read; rerun"
            )
        return DatasetBundle(
            splits=splits,
            classes=loaded.classes,
            manifest={
                "source": str(root / p["csv"]),
                "source_sha256": {p["csv"]: hashlib.sha256(csv_bytes).hexdigest()},
                "source_checksum": checksum,
                "split_notes": {name: "rows of the CSV with this split, in CSV order" for name in splits},
            },
        )

    @staticmethod
    def make_split(loaded: Loaded, rows: list[int], rgb: bool, size: int) -> Split:
        """Images (N,C,H,W) uint8, labels, maps (N,1,H,W) and the annotated flags of the given CSV rows."""
        images, maps = [], []
        for i in rows:
            image = loaded.images[i].astype(np.float32).transpose(2, 0, 1)[None]
            if rgb and image.shape[1] == 1:
                image = image.repeat(3, axis=1)
            elif not rgb and image.shape[1] == 3:
                image = image.mean(axis=1, keepdims=True)  # an RGB image in a grey dataset: plain channel mean
            heat = loaded.maps[i]
            heat = np.zeros((1, 1, *image.shape[2:]), np.float32) if heat is None else heat[None, None]
            if size:
                image, heat = resize(image, size), np.clip(resize(heat, size), 0.0, 1.0)
            images.append(image)
            maps.append(heat)
        x = np.round(np.clip(np.concatenate(images), 0, 255)).astype(np.uint8)
        y = np.array([loaded.classes.index(loaded.rows[i].label) for i in rows], dtype=np.int64)
        annotated = np.array([loaded.maps[i] is not None for i in rows], dtype=bool)
        extras = {"csv_line": np.array([loaded.rows[i].line for i in rows], dtype=np.int64)}
        return Split(x=x, y=y, saliency=np.concatenate(maps).astype(np.float32), annotated=annotated, extras=extras)
