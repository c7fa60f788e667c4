"""PNG grids of a built dataset's examples, with their saliency overlaid (matplotlib)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..contracts import DatasetBundle, Split

OVERLAY_ALPHA = 0.6  # opacity of the heat map where saliency = 1


def pick_examples(split: Split, count: int) -> np.ndarray:
    """Up to ``count`` indices, the classes taken in turn (first images of each class): deterministic."""
    per_class = [np.flatnonzero(split.y == c) for c in np.unique(split.y)]
    chosen = [idx[i] for i in range(count) for idx in per_class if i < len(idx)]
    return np.array(chosen[:count], dtype=np.int64)


def caption(split: Split, i: int, bundle: DatasetBundle) -> str:
    """Class name plus the example's scalar extras (generator ids named through the manifest)."""
    lines = [bundle.classes[int(split.y[i])]]
    names = {g["id"]: g["name"] for g in bundle.manifest.get("generators", [])}
    for key, values in sorted(split.extras.items()):
        if values.ndim != 1:
            continue
        value = int(values[i]) if np.issubdtype(values.dtype, np.integer) else values[i]
        if key == "generator" and names:
            value = names.get(value, "real") if value >= 0 else "-"
        lines.append(f"{key}={value}")
    return "\n".join(lines)


def example_grid(bundle: DatasetBundle, split_name: str, path: Path, count: int = 8) -> Path:
    """Write ``path``: for ``count`` examples of ``split_name``, the image (top row) and the image
    with its saliency as a jet heat map whose opacity grows with the saliency (bottom row)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    split = bundle.splits[split_name]
    index = pick_examples(split, count)
    fig, axes = plt.subplots(2, len(index), figsize=(1.6 * len(index), 4.2), squeeze=False)
    for col, i in enumerate(index):
        image = split.x[i].transpose(1, 2, 0)
        kwargs = {"cmap": "gray", "vmin": 0, "vmax": 255} if image.shape[-1] == 1 else {}
        image = image[..., 0] if image.shape[-1] == 1 else image
        for row in (0, 1):
            axes[row, col].imshow(image, interpolation="nearest", **kwargs)
            axes[row, col].set_axis_off()
        axes[0, col].set_title(caption(split, i, bundle), fontsize=6)
        if split.saliency is not None and split.annotated[i]:
            heat = split.saliency[split.map_index()[i], 0]
            axes[1, col].imshow(heat, cmap="jet", vmin=0, vmax=1, alpha=OVERLAY_ALPHA * heat, interpolation="bilinear")
        else:
            axes[1, col].set_title("no annotation", fontsize=6)
    fig.suptitle(f"{bundle.manifest.get('family', '')} / {split_name}: image, saliency overlay", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
