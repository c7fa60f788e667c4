"""A generated annotated folder in the CYBORG layout (``labels.csv`` beside ``images/`` JPEGs and
``annotations/`` grey PNG maps) for the streaming-build tests and the memory measurement of
``data build`` (``python tests/face_folder.py ROOT --images 2000 --side 224``)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

SPLITS = ("train", "val", "test")


def generate_folder(
    root: Path, images: int, side: int = 224, annotated_every: int = 1, seed: int = 0, grey_every: int = 0
) -> Path:
    """``images`` smooth random JPEGs of side x side (split 70/15/15 in CSV order, labels alternating
    real/synthetic), a PNG heat map (a bright rectangle) on every ``annotated_every``-th row, a grey
    image on every ``grey_every``-th row (0: none); returns the CSV's path."""
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "annotations").mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    lines = ["image,label,split,annotation"]
    coarse = max(2, side // 16)
    for i in range(images):
        low = rng.integers(0, 256, (coarse, coarse, 3), dtype=np.uint8)
        image = Image.fromarray(low).resize((side, side), Image.BILINEAR)
        if grey_every and i % grey_every == 0:
            image = image.convert("L")
        image.save(root / "images" / f"{i:05d}.jpg", quality=90)
        split = SPLITS[0 if i < 0.7 * images else 1 if i < 0.85 * images else 2]
        annotation = ""
        if i % annotated_every == 0:
            heat = np.zeros((side, side), np.uint8)
            top, left = rng.integers(0, side // 2, 2)
            heat[top : top + side // 3, left : left + side // 3] = rng.integers(64, 256)
            Image.fromarray(heat).save(root / "annotations" / f"{i:05d}.png")
            annotation = f"annotations/{i:05d}.png"
        lines.append(f"images/{i:05d}.jpg,{'real' if i % 2 else 'synthetic'},{split},{annotation}")
    csv = root / "labels.csv"
    csv.write_text("\n".join(lines) + "\n")
    return csv


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--side", type=int, default=224)
    parser.add_argument("--annotated-every", type=int, default=1)
    args = parser.parse_args()
    print(generate_folder(args.root, args.images, args.side, args.annotated_every))
