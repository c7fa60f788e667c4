"""Figures as 256-colour palette PNGs: plots and colour-mapped maps keep their look at about a third of the bytes."""

from __future__ import annotations

import io
from pathlib import Path


def palette_png(source: Path | bytes) -> bytes:
    """The PNG at ``source`` (a path or its bytes) as a palette PNG, same size (Pillow's fast-octree quantizer,
    deterministic)."""
    from PIL import Image

    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
        palette = image.convert("RGBA").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()
