"""Your own annotated images: a CSV beside image and heat-map folders (the layout of the CYBORG
data release, Boyd et al. WACV 2023), documented in docs/datasets.md.

    ROOT/labels.csv        image,label,split[,annotation]   (paths relative to ROOT)
    ROOT/images/...        the images (any format Pillow reads)
    ROOT/annotations/...   grey heat maps (0 irrelevant .. 255 decisive) or .npy float maps in [0,1]

Every row is validated before anything is built (``benchmark.data.folder_validation``): a
missing or unreadable file, a heat map whose size differs from its image, a NaN or
out-of-range map, a label outside ``classes``, a duplicate image, a path escaping ROOT, a
second image size (when ``image_size`` is 0) are all reported at once, and ``data build``
exits non-zero without writing anything. The splits are the CSV's ``split`` values
(``train`` and ``val`` are required; any other name, e.g. ``test`` or ``test_open``, is kept).
Rows without an annotation get a zero map and ``annotated = False``.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from benchmark.contracts import ContractError, DatasetBundle, Dataset, HParam, Split
from benchmark.data.folder_validation import Loaded, validate_and_load
from benchmark.registry import register_dataset


def resize(arrays: np.ndarray, size: int, antialias: bool = True) -> np.ndarray:
    """Bilinear resize of (N,C,H,W) float arrays to size x size (torch, antialiased when shrinking)."""
    out = F.interpolate(torch.from_numpy(arrays), size=(size, size), mode="bilinear", align_corners=False, antialias=antialias)
    return out.numpy()


@register_dataset
class AnnotatedFolder(Dataset):
    name = "annotated_folder"
    description = "your own images + labels + optional human heat maps from a CSV (CYBORG release layout)"
    params = {
        "root": HParam("", "folder holding the CSV; the CSV's paths are relative to it (required)"),
        "csv": HParam("labels.csv", "CSV file name inside root"),
        "classes": HParam("", "comma-separated class names in label order ('' : the CSV's labels, sorted)"),
        "image_size": HParam(0, "0: every image must have the same size; N > 0: resize images and maps to N x N (bilinear)"),
        "colour": HParam("auto", "auto (RGB if any image is colour, else grey) | rgb | grey", choices=("auto", "rgb", "grey")),
    }

    def build(self, params: Mapping[str, Any]) -> DatasetBundle:
        p = dict(params)
        if not p["root"]:
            raise ContractError("annotated_folder: set the dataset parameter 'root' to the folder holding the CSV")
        if p["image_size"] < 0:
            raise ContractError(f"annotated_folder: image_size must be >= 0, got {p['image_size']}")
        root = Path(p["root"]).expanduser()
        classes = [c.strip() for c in p["classes"].split(",") if c.strip()]
        loaded = validate_and_load(root, p["csv"], classes, same_size=p["image_size"] == 0)
        rgb = p["colour"] == "rgb" or (p["colour"] == "auto" and any(im.shape[-1] == 3 for im in loaded.images))
        index = {name: [i for i, r in enumerate(loaded.rows) if r.split == name] for name in sorted({r.split for r in loaded.rows})}
        splits = {name: self.make_split(loaded, rows, rgb, p["image_size"]) for name, rows in index.items()}
        csv_bytes = (root / p["csv"]).read_bytes()
        return DatasetBundle(splits=splits, classes=loaded.classes, manifest={
            "source": str(root / p["csv"]), "source_sha256": {p["csv"]: hashlib.sha256(csv_bytes).hexdigest()},
            "split_notes": {name: "rows of the CSV with this split, in CSV order" for name in splits},
        })

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
