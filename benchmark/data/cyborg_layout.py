"""Writing a split in the CYBORG data release's layout (Boyd et al. WACV 2023): what
``annotated_folder`` reads (docs/datasets.md "Your own annotated images").

    ROOT/images/SPLIT/NAME.jpg        the image (JPEG)
    ROOT/annotations/SPLIT/NAME.png   its grey heat map (0 irrelevant .. 255 decisive), annotated rows only
    ROOT/CSV                          image,label,split,annotation (paths relative to ROOT; an empty
                                      annotation cell: an unannotated image)

One image is encoded and written at a time (Pillow), so writing needs no more memory than the split
already holds. Used by ``python -m benchmark rehearsal-folder`` (the CPU rehearsal of the paper path).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

from ..contracts import Split

HEADER = ("image", "label", "split", "annotation")
JPEG_QUALITY = 90


def write_split(
    root: Path, split: Split, split_name: str, classes: list[str], prefix: str, annotations: bool = True
) -> list[tuple[str, str, str, str]]:
    """Write every row of ``split`` under ``root`` (images as JPEG, the annotated rows' maps as PNG when
    ``annotations``); returns its CSV rows (image, label, split, annotation) in row order."""
    image_dir, map_dir = root / "images" / split_name, root / "annotations" / split_name
    image_dir.mkdir(parents=True, exist_ok=True)
    index = split.map_index()
    rows = []
    for i in range(len(split)):
        name = f"{prefix}{i:05d}"
        pixels = split.x[i].transpose(1, 2, 0)
        Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(
            image_dir / f"{name}.jpg", quality=JPEG_QUALITY
        )
        annotation = ""
        if annotations and split.saliency is not None and index[i] >= 0:
            map_dir.mkdir(parents=True, exist_ok=True)
            grey = np.round(np.clip(split.saliency[index[i], 0], 0.0, 1.0) * 255).astype(np.uint8)
            Image.fromarray(grey).save(map_dir / f"{name}.png")
            annotation = f"annotations/{split_name}/{name}.png"
        rows.append((f"images/{split_name}/{name}.jpg", classes[int(split.y[i])], split_name, annotation))
    return rows


def write_csv(path: Path, rows: list[tuple[str, str, str, str]]) -> None:
    """The CSV ``annotated_folder`` reads: a header, then one line per image."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
