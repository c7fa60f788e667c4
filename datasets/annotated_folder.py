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
the names declared in ``splits``. Only annotated rows carry a map (``Split.saliency`` holds
the maps of the rows with ``annotated = True``, in row order).

The build streams (``prepare``): after validation (which keeps no pixels), each image and
its map are decoded, resized and written one at a time into arrays preallocated at the target
size (``benchmark.data.array_files``: memory-mapped ``.npy`` files for ``data build``), so the
host holds the final arrays and one source image, never the whole decoded source.

Source checksum: ``source_checksum`` hashes the CSV's bytes and the bytes of every file it
references; ``source_stat`` fingerprints their relative paths, sizes and mtimes. The manifest
records both, and a build is served (``benchmark.data.dataset_store.find``) only while the folder
still has them (stats first, the content checksum when the stats differ), so an edited or deleted
image makes the next run rebuild.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F

from benchmark.contracts import ContractError, Dataset, DatasetBundle, HParam
from benchmark.data.array_files import ArraysInMemory
from benchmark.data.folder_source import folder_checksum, folder_root, folder_stat
from benchmark.data.folder_validation import (
    DECODE_ERRORS,
    MIN_SIDE,
    Checked,
    check_classes,
    check_splits,
    read_image,
    read_map,
    validate,
)
from benchmark.registry import register_dataset

SETTLE_ROWS = 128  # rows written between two flushes of the memory-mapped arrays
RACY_SLACK_NS = 2_000_000_000  # file timestamps may be this coarse (FAT: 2 s); younger files are "racily clean"


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
        "root": HParam(
            "", "folder holding the CSV (required; relative: to the project); the CSV's paths are relative to it"
        ),
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
        return folder_checksum(folder_root(params["root"]), params["csv"])

    @classmethod
    def source_stat(cls, params: Mapping[str, Any], older_than_ns: int | None = None) -> str | None:
        """The stat fingerprint of the CSV and every file it references (``folder_source.folder_stat``)."""
        return folder_stat(folder_root(params["root"]), params["csv"], older_than_ns)

    def build(self, params: Mapping[str, Any]) -> DatasetBundle:
        """The dataset in memory (``prepare``'d, then written into plain arrays)."""
        sink = ArraysInMemory()
        classes, manifest = self.prepare(params)(sink)
        return DatasetBundle(splits=sink.splits(), classes=classes, manifest=manifest)

    def prepare(self, params: Mapping[str, Any]) -> Callable[[ArraysInMemory], tuple[list[str], dict[str, Any]]]:
        """Validate the folder (every problem at once, nothing written: ``folder_validation.validate``)
        and return the writer that puts every split's arrays into a sink one image at a time and
        returns (class names, the manifest's source entries). The source's stats are taken before the
        validation and after the writing: a file changed meanwhile is refused (rerun); the stat
        fingerprint is recorded only for files older than the build's start (a younger one is "racily
        clean": ``folder_source.folder_stat``)."""
        p = self.resolve(params)
        root = folder_root(p["root"])
        started = time.time_ns() - RACY_SLACK_NS
        before = self.source_stat(p)
        classes = self.names(p["classes"]) if p["classes"].strip() else []
        splits = self.names(p["splits"]) if p["splits"].strip() else None
        checked = validate(
            root, p["csv"], classes, same_size=p["image_size"] == 0, splits=splits, allow_zero_maps=p["allow_zero_maps"]
        )
        rgb = p["colour"] == "rgb" or (
            p["colour"] == "auto" and any(shape is not None and shape[-1] == 3 for shape in checked.shapes)
        )
        index = {
            name: [i for i, r in enumerate(checked.rows) if r.split == name]
            for name in sorted({r.split for r in checked.rows})
        }
        changed = f"annotated_folder {root / p['csv']}: a file changed or vanished while it was read; rerun"

        def write(sink: ArraysInMemory) -> tuple[list[str], dict[str, Any]]:
            try:
                for name, rows in index.items():
                    self.write_split(root, checked, rows, rgb, p["image_size"], name, sink)
            except DECODE_ERRORS:
                raise ContractError(changed) from None
            checksum = self.source_checksum(p)
            if checksum is None or before is None or self.source_stat(p) != before:
                raise ContractError(changed)
            return checked.classes, {
                "source": str(root / p["csv"]),
                "source_sha256": {p["csv"]: hashlib.sha256((root / p["csv"]).read_bytes()).hexdigest()},
                "source_checksum": checksum,
                "source_stat": self.source_stat(p, older_than_ns=started),
                "split_notes": {name: "rows of the CSV with this split, in CSV order" for name in index},
            }

        return write

    @staticmethod
    def write_split(
        root: Path, checked: Checked, rows: list[int], rgb: bool, size: int, name: str, sink: ArraysInMemory
    ) -> None:
        """Split ``name`` of the given CSV rows into ``sink``: images (N,C,H,W) uint8, labels, the maps
        (A,1,H,W) float32 of its A annotated rows, the annotated flags and the CSV lines. One image (and
        its map) at a time: decoded, converted to the split's channels, resized (torch bilinear,
        antialiased), rounded and clipped to uint8 (maps clipped to [0, 1]), written into its row."""
        height, width = (size, size) if size else cast(tuple[int, int, int], checked.shapes[rows[0]])[:2]
        annotated = np.array([checked.annotated[i] for i in rows], dtype=bool)
        x = sink.array(name, "x", (len(rows), 3 if rgb else 1, height, width), np.uint8)
        maps = sink.array(name, "saliency", (int(annotated.sum()), 1, height, width), np.float32)
        done = 0
        for position, i in enumerate(rows):
            row = checked.rows[i]
            image = read_image(checked.path(root, row.image)).astype(np.float32).transpose(2, 0, 1)[None]
            if rgb and image.shape[1] == 1:
                image = image.repeat(3, axis=1)
            elif not rgb and image.shape[1] == 3:
                image = image.mean(axis=1, keepdims=True)  # an RGB image in a grey dataset: plain channel mean
            if size:
                image = resize(image, size)
            x[position] = np.round(np.clip(image[0], 0, 255)).astype(np.uint8)
            if checked.annotated[i]:
                heat = read_map(checked.path(root, row.annotation))[None, None]
                maps[done] = np.clip(resize(heat, size), 0.0, 1.0)[0] if size else heat[0]
                done += 1
            if position % SETTLE_ROWS == SETTLE_ROWS - 1:
                sink.settle()  # written rows leave resident memory (memory-mapped files)
        sink.put(name, "y", np.array([checked.classes.index(checked.rows[i].label) for i in rows], dtype=np.int64))
        sink.put(name, "annotated", annotated)
        sink.put(name, "extra.csv_line", np.array([checked.rows[i].line for i in rows], dtype=np.int64))
