"""Toy faces: an open-set synthetic-face detection analog of the CYBORG / SAGE task
(Boyd et al. WACV 2023; Crum, Sweet, Czajka arXiv 2511.12744), drawn procedurally.

Task. Binary: real (0) vs synthetic (1). Faces (head, hair, eyes, nose, lips; random
geometry, skin tone, light, background, sensor noise) are drawn by
``benchmark.data.faces_drawing``. A synthetic face carries the artifact of one of several
emulated *generators*, each a distinct artifact family in a region a person inspects:
an upsampling checkerboard on the cheeks, a dilated pupil, lip colour bleeding, an
upsampling grid on the nose bridge, mismatched irises, a blending seam across the mouth.

Splits. ``train`` and ``val`` use ``train_generators``; ``test_closed`` the same
generators on new faces; ``test_open`` the held-out ``open_generators`` (never in train or
val). Each split is half real, half synthetic, the generators balanced.

Spurious cue. In ``train`` and ``val`` a share ``cue_strength`` of the images carries a cue
whose value is the label: ``tint`` shifts the background towards warm (synthetic) or cool
(real) by ``cue_amplitude``; ``corner`` puts a white (synthetic) or black (real) square of
side ``cue_size`` x image side in a random corner, like the decoy patch. In both test splits
the same share carries it with a random value: the shortcut is broken.

Annotations. ``benchmark.data.annotators`` emulates ``annotators`` people: coarse, blurred
marks over the regions that reveal the class (the artifact's regions for a synthetic face;
both eyes and the mouth for a real face, what a person inspects before calling it real),
with per-annotator style and per-mark jitter. A share ``annotated_fraction`` of ``train``
is annotated; ``val`` and the test splits are fully annotated (evaluation ground truth).
Extras: ``generator`` (index into the manifest's ``generators``; -1 real), ``cue`` (0/1),
``cue_value`` (-1 none, else the coded label), ``cue_mask`` and ``artifact`` (pixel masks),
``annotator`` (-1: unannotated).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.contracts import ContractError, Dataset, DatasetBundle, HParam, Split
from benchmark.data import faces_drawing as fd
from benchmark.data import faces_regions as fr
from benchmark.data.annotators import annotate, sample_styles
from benchmark.data.constructions import patch_masks
from benchmark.data.digits import to_uint8
from benchmark.registry import register_dataset

SPLITS = ("train", "val", "test_closed", "test_open")
NAMES = list(fd.GENERATORS)  # fixed order: extra.generator indexes this list
MAX_SPLIT = 1_000_000  # images per split (at 32 px about 9 GB of arrays; more is a typo)
CHUNK = 256  # images drawn at once (memory at 224 px); part of the construction: the noise is drawn per chunk
TINT = np.array([[-1.0, 0.0, 1.0], [1.0, 0.0, -1.0]], np.float32)  # cool (real), warm (synthetic)

# The calibration (docs/datasets.md): the summary of study `toy_faces_calibration` in params.yaml,
# written by `python -m benchmark summary toy_faces_calibration --json datasets/calibration/toy_faces.json`
# and published in every manifest. A file, not code: rewriting it leaves the dataset's records current.
CALIBRATION_FILE = Path(__file__).resolve().parent / "calibration" / "toy_faces.json"


def calibration() -> dict[str, Any]:
    """The published calibration, or a note that it has not been measured."""
    if not CALIBRATION_FILE.exists():
        return {"note": f"not measured: {CALIBRATION_FILE.name} is missing"}
    return json.loads(CALIBRATION_FILE.read_text())


def generator_list(value: str, field: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - set(NAMES))
    if not names or unknown:
        raise ContractError(f"dataset 'toy_faces': {field} must list generators from {NAMES}, got {value!r}")
    return names


@register_dataset
class ToyFaces(Dataset):
    name = "toy_faces"
    description = "procedural real-vs-synthetic faces: generator artifacts, held-out generators, spurious cue, emulated annotators"
    params = {
        "image_size": HParam(
            32, "side in pixels (32 CPU; 64; 224 for paper-scale ResNet-50/DenseNet-121)", low=16, high=1024
        ),
        "train_size": HParam(2000, "images in train (half real, half synthetic)", low=2, high=MAX_SPLIT),
        "val_size": HParam(500, "images in val", low=2, high=MAX_SPLIT),
        "test_size": HParam(1000, "images in each of test_closed and test_open", low=2, high=MAX_SPLIT),
        "train_generators": HParam(
            "checker_cheeks,pupil_large,lip_bleed", f"comma-separated generators of train/val/test_closed, from {NAMES}"
        ),
        "open_generators": HParam(
            "stripes_cheeks,iris_dark,lip_shift", "comma-separated held-out generators of test_open"
        ),
        "artifact_strength": HParam(
            1.5,
            "scales every artifact's amplitude (1.5: the calibrated default, learnable by ERM on every seed at 32 px)",
            low=0.0,
            high=10.0,
        ),
        "cue": HParam(
            "tint",
            "spurious cue: tint (diffuse background tint), corner (corner square), none",
            choices=("tint", "corner", "none"),
        ),
        "cue_strength": HParam(
            0.6,
            "share of train/val images carrying the label-coded cue (test: same share, random value)",
            low=0.0,
            high=1.0,
        ),
        "cue_amplitude": HParam(0.12, "tint: shift of the background's red and blue channels", low=0.0, high=1.0),
        "cue_size": HParam(0.125, "corner: side of the square as a fraction of the image side", low=0.0, high=0.5),
        "noise": HParam(0.03, "std of Gaussian sensor noise on every pixel (intensities in [0,1])", low=0.0, high=1.0),
        "annotated_fraction": HParam(1.0, "share of train images with a human-like annotation", low=0.0, high=1.0),
        "annotators": HParam(5, "number of emulated annotators (styles)", low=1, high=1000),
        "seed": HParam(0, "construction seed", low=0),
    }

    def resolve(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """Ranges (on the parameters) and the generator lists: known names, train and open disjoint."""
        p = super().resolve(overrides)
        train_gens = generator_list(p["train_generators"], "train_generators")
        open_gens = generator_list(p["open_generators"], "open_generators")
        if set(train_gens) & set(open_gens):
            raise ContractError(
                f"dataset 'toy_faces': held-out generators {sorted(set(train_gens) & set(open_gens))} are also train generators"
            )
        return p

    def build(self, params: Mapping[str, Any]) -> DatasetBundle:
        p = self.resolve(params)
        train_gens = generator_list(p["train_generators"], "train_generators")
        open_gens = generator_list(p["open_generators"], "open_generators")
        styles = sample_styles(np.random.default_rng([p["seed"], len(SPLITS)]), p["annotators"])
        plan = {
            "train": (p["train_size"], train_gens, True, p["annotated_fraction"]),
            "val": (p["val_size"], train_gens, True, 1.0),
            "test_closed": (p["test_size"], train_gens, False, 1.0),
            "test_open": (p["test_size"], open_gens, False, 1.0),
        }
        splits = {}
        for k, name in enumerate(SPLITS):
            size, gens, informative, annotated = plan[name]
            splits[name] = make_split(
                np.random.default_rng([p["seed"], k]), size, gens, informative, annotated, styles, p
            )
        return DatasetBundle(
            splits=splits, classes=["real", "synthetic"], manifest=manifest_notes(train_gens, open_gens, p)
        )


def make_split(
    rng: np.random.Generator,
    n: int,
    gens: list[str],
    informative: bool,
    annotated_fraction: float,
    styles: dict[str, np.ndarray],
    p: Mapping[str, Any],
) -> Split:
    """One split. Draws, in order: labels and generators, cue, annotated subset, annotators,
    geometry, then per chunk of ``CHUNK`` images: sensor noise (the cue goes on top, noise-free)
    and annotation marks."""
    size = p["image_size"]
    y = rng.permutation(np.arange(n) % 2).astype(np.int64)
    rank = np.cumsum(y) - 1
    generator = np.where(y == 1, np.array([NAMES.index(g) for g in gens])[rank % len(gens)], -1).astype(np.int64)
    carries = np.zeros(n, bool)
    carries[rng.choice(n, int(round(p["cue_strength"] * n)), replace=False)] = p["cue"] != "none"
    value = y if informative else rng.integers(0, 2, n)
    corner = rng.integers(0, 4, n)
    annotated = np.zeros(n, bool)
    annotated[rng.choice(n, int(round(annotated_fraction * n)), replace=False)] = True
    annotator = rng.integers(0, p["annotators"], n)
    geometry = fd.sample_geometry(rng, n)
    x = np.empty((n, 3, size, size), np.uint8)
    saliency = np.zeros((n, 1, size, size), np.float32)
    artifact = np.zeros((n, 1, size, size), np.uint8)
    cue_mask = np.zeros((n, 1, size, size), np.uint8)
    px = 2.0 / size
    for start in range(0, n, CHUNK):
        part = slice(start, min(start + CHUNK, n))
        g, gen = fd.take(geometry, part), generator[part]
        clean = fd.render(g, size, np.full_like(gen, -1), NAMES)
        image = fd.render(g, size, gen, NAMES, p["artifact_strength"]) if (gen >= 0).any() else clean
        artifact[part, 0] = (image != clean).any(axis=1)
        image = image + rng.normal(0.0, p["noise"], image.shape).astype(np.float32)
        image, cue_mask[part] = apply_cue(image, g, carries[part], value[part], corner[part], p)
        x[part] = to_uint8(image)
        regions, valid = fr.revealing_regions(g, gen, NAMES, px)
        stray = fr.stack_regions(fr.spurious_regions(g, px))
        saliency[part] = annotate(regions, valid, annotator[part], styles, stray, rng, size)
    saliency[~annotated] = 0.0
    extras = {
        "generator": generator,
        "cue": carries.astype(np.int8),
        "cue_value": np.where(carries, value, -1).astype(np.int8),
        "cue_mask": cue_mask,
        "artifact": artifact,
        "annotator": np.where(annotated, annotator, -1).astype(np.int64),
    }
    return Split(x=x, y=y, saliency=saliency, annotated=annotated, extras=extras)


def apply_cue(
    image: np.ndarray, g: fd.Geometry, carries: np.ndarray, value: np.ndarray, corner: np.ndarray, p: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """The cue on the images that carry it, and its pixel mask (n,1,S,S) uint8."""
    n, size = len(carries), image.shape[-1]
    if p["cue"] == "tint":
        background = (1.0 - fd.foreground(g, size)) * carries[:, None, None]
        image = image + p["cue_amplitude"] * TINT[value][:, :, None, None] * background[:, None]
        return image, (background > 0)[:, None].astype(np.uint8)
    if p["cue"] == "corner":
        side = max(1, int(round(p["cue_size"] * size)))
        mask = patch_masks(n, size, side, corner) & carries[:, None, None, None]
        return np.where(mask, value.astype(np.float32)[:, None, None, None], image), mask.astype(np.uint8)
    return image, np.zeros((n, 1, size, size), np.uint8)


def manifest_notes(train_gens: list[str], open_gens: list[str], p: Mapping[str, Any]) -> dict[str, Any]:
    role = {name: "train" if name in train_gens else "open" if name in open_gens else "unused" for name in NAMES}
    return {
        "generators": [
            {
                "id": i,
                "name": name,
                "family": fd.GENERATORS[name].family,
                "where": fd.GENERATORS[name].where,
                "role": role[name],
            }
            for i, name in enumerate(NAMES)
        ],
        "split_notes": {
            "train": f"train generators; cue ({p['cue']}) on {p['cue_strength']:.0%} codes the label; "
            f"{p['annotated_fraction']:.0%} annotated",
            "val": "as train, fully annotated",
            "test_closed": "train generators on new faces; cue value random (shortcut broken)",
            "test_open": "held-out generators only; cue value random",
        },
        "calibration": calibration(),
    }
