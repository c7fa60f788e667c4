"""Procedural face-like images and the artifacts of emulated face generators (vectorized numpy).

A face is a shaded head ellipse (skin tone, Lambertian light on an ellipsoid), hair, two
eyes (sclera, iris, pupil), a nose and lips on a background with a colour gradient. Every
parameter is drawn per image (``sample_geometry``); ``render`` draws a batch at once on a
pixel grid in normalized coordinates u, v in [-1, 1] (no per-pixel Python loop), with
shapes anti-aliased over one pixel.

A *generator* leaves one artifact family in a region a person would inspect; ``render``
applies generator ``g`` to the images whose id is ``g`` (-1 = real, no artifact). Each
generator declares the regions (ellipses) that contain its artifact (``artifact_regions``):
every pixel the artifact changes lies inside them, which ``tests/test_toy_faces.py`` checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Geometry = dict[str, np.ndarray]
Region = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # centre u, centre v, radius u, radius v (n,)

SKIN_TONES = np.array(
    [
        [0.96, 0.80, 0.69],
        [0.90, 0.72, 0.58],
        [0.80, 0.60, 0.45],
        [0.66, 0.46, 0.32],
        [0.50, 0.34, 0.23],
        [0.36, 0.24, 0.16],
    ],
    dtype=np.float32,
)
HAIR_COLOURS = np.array(
    [
        [0.08, 0.06, 0.05],
        [0.30, 0.18, 0.10],
        [0.55, 0.38, 0.20],
        [0.85, 0.70, 0.45],
        [0.55, 0.20, 0.08],
        [0.60, 0.60, 0.60],
    ],
    dtype=np.float32,
)
IRIS_COLOURS = np.array(
    [[0.35, 0.20, 0.10], [0.20, 0.40, 0.70], [0.30, 0.50, 0.25], [0.45, 0.35, 0.20]], dtype=np.float32
)
SCLERA = np.array([0.95, 0.95, 0.92], dtype=np.float32)


def sample_geometry(rng: np.random.Generator, n: int) -> Geometry:
    """Per-image face parameters (arrays of length n), drawn in a fixed order."""
    u = lambda lo, hi: rng.uniform(lo, hi, n).astype(np.float32)  # noqa: E731
    g: Geometry = {}
    g["cx"], g["cy"] = u(-0.03, 0.03), u(0.0, 0.05)
    g["ax"] = u(0.60, 0.65)
    g["ay"] = np.minimum(g["ax"] * u(1.15, 1.30), 0.86)
    g["skin"] = SKIN_TONES[rng.integers(0, len(SKIN_TONES), n)] * u(0.92, 1.05)[:, None]
    g["hair"] = HAIR_COLOURS[rng.integers(0, len(HAIR_COLOURS), n)]
    g["hairline"] = u(0.35, 0.65)  # share of the head height above which hair covers it
    g["bg"] = (u(0.30, 0.80)[:, None] + rng.uniform(-0.12, 0.12, (n, 3))).astype(np.float32)
    g["bg_gradient"] = u(-0.10, 0.10)
    g["light"] = np.stack([u(-0.6, 0.6), u(-0.6, 0.2), np.ones(n, np.float32)], 1)
    g["light"] /= np.linalg.norm(g["light"], axis=1, keepdims=True)
    g["eye_dy"], g["eye_dx"] = u(0.15, 0.21), u(0.38, 0.42)  # eye centres: cy - eye_dy*ay, cx -+ eye_dx*ax
    g["eye_rx"] = g["ax"] * u(0.22, 0.27)
    g["eye_ry"] = g["eye_rx"] * u(0.55, 0.75)
    g["iris"] = IRIS_COLOURS[rng.integers(0, len(IRIS_COLOURS), n)]
    g["iris_r"] = g["eye_ry"] * u(0.80, 0.95)
    g["pupil"] = u(0.30, 0.55)  # pupil radius / iris radius, the same in both eyes
    g["gaze"] = u(-0.25, 0.25)  # iris offset / eye radius, both eyes
    g["nose_dy"], g["nose_r"] = u(0.08, 0.16), g["ax"] * u(0.07, 0.10)
    g["mouth_dy"] = u(0.44, 0.50)
    g["mouth_rx"] = g["ax"] * u(0.28, 0.42)
    g["mouth_ry"] = g["mouth_rx"] * u(0.22, 0.38)
    g["lips"] = (np.array([0.62, 0.22, 0.24], np.float32) * u(0.8, 1.1)[:, None]).astype(np.float32)
    # artifact parameters, drawn for every image so a split's draws do not depend on its generators
    g["side"] = rng.integers(0, 2, n).astype(np.float32)  # which eye an eye artifact alters (0 left, 1 right)
    g["amp"] = u(0.7, 1.0)  # relative amplitude of the artifact
    g["phase"] = rng.integers(0, 6, n).astype(np.float32)  # texture phase in pixels
    return g


def take(geom: Geometry, index: np.ndarray | slice) -> Geometry:
    return {key: value[index] for key, value in geom.items()}


def col(a: np.ndarray) -> np.ndarray:
    """(n,) -> (n,1,1) for broadcasting against the pixel grid."""
    return a[:, None, None]


def grid(size: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Pixel-centre coordinates u (columns), v (rows) in [-1, 1] as (1,S,S) arrays, and the pixel pitch."""
    c = (np.arange(size, dtype=np.float32) + 0.5) / size * 2 - 1
    return c[None, None, :].repeat(size, 1), c[None, :, None].repeat(size, 2), 2.0 / size


def ellipse(u: np.ndarray, v: np.ndarray, region: Region, px: float) -> np.ndarray:
    """Anti-aliased coverage (n,S,S) of axis-aligned ellipses: a linear ramp over one pixel of the
    first-order signed distance (f - 1) / |grad f|, f = sqrt((du/rx)^2 + (dv/ry)^2)."""
    cx, cy, rx, ry = (col(np.asarray(a, np.float32)) for a in region)
    qx, qy = (u - cx) / rx, (v - cy) / ry
    f = np.sqrt(qx**2 + qy**2)
    grad = np.sqrt((qx / rx) ** 2 + (qy / ry) ** 2) / np.maximum(f, 1e-6)
    return np.clip(0.5 - (f - 1.0) / np.maximum(grad, 1e-6) / px, 0.0, 1.0)


def support(region: Region, px: float) -> Region:
    """An ellipse outside which ``ellipse`` is exactly 0: |grad f| <= 1 / min radius, so coverage > 0
    needs f < 1 + px / (2 min radius): the radii scaled by that factor."""
    cx, cy, rx, ry = region
    k = 1.0 + px / (2.0 * np.minimum(rx, ry))
    return cx, cy, rx * k, ry * k


def blend(image: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Paint ``colour`` (n,3) or (n,3,S,S) over ``image`` (n,3,S,S) with coverage ``alpha`` (n,S,S)."""
    colour = colour[:, :, None, None] if colour.ndim == 2 else colour
    a = alpha[:, None]
    return image * (1 - a) + colour * a


# ------------------------------------------------------------------ face regions (ellipses)
def head(g: Geometry) -> Region:
    return g["cx"], g["cy"], g["ax"], g["ay"]


def eye(g: Geometry, side: int | np.ndarray) -> Region:
    """Left eye (side 0, smaller u) or right eye (side 1)."""
    sign = np.where(np.asarray(side) == 1, 1.0, -1.0).astype(np.float32)
    return g["cx"] + sign * g["eye_dx"] * g["ax"], g["cy"] - g["eye_dy"] * g["ay"], g["eye_rx"], g["eye_ry"]


def mouth(g: Geometry) -> Region:
    return g["cx"], g["cy"] + g["mouth_dy"] * g["ay"], g["mouth_rx"], g["mouth_ry"]


def nose(g: Geometry) -> Region:
    return g["cx"], g["cy"] + g["nose_dy"] * g["ay"], g["nose_r"], g["nose_r"] * 1.6


def cheek(g: Geometry, side: int) -> Region:
    sign = 1.0 if side == 1 else -1.0
    return g["cx"] + sign * 0.42 * g["ax"], g["cy"] + 0.22 * g["ay"], 0.20 * g["ax"], 0.17 * g["ay"]


def midface(g: Geometry) -> Region:
    """The bridge of the nose between the eyes and down to the nose tip."""
    return g["cx"], g["cy"] - 0.02 * g["ay"], 0.16 * g["ax"], 0.26 * g["ay"]


def scaled(region: Region, sx: float | np.ndarray, sy: float | np.ndarray, dv: float | np.ndarray = 0.0) -> Region:
    cx, cy, rx, ry = region
    return cx, cy + dv, rx * sx, ry * sy


# ------------------------------------------------------------------ generators
@dataclass(frozen=True)
class Generator:
    """An emulated face generator: its artifact family, where it shows, and how it is drawn.

    ``alter_eye`` gives (pupil ratio, iris colour) of the eye on side ``g['side']`` (eye
    artifacts); ``alter_image`` alters the drawn image (textures, bleeding, seams);
    ``regions`` returns the ellipses that contain every pixel either one changes.
    """

    name: str
    family: str
    where: str
    regions: Callable[[Geometry, float], list[Region]]
    alter_eye: Callable[[Geometry, float], tuple[np.ndarray, np.ndarray]] | None = None
    alter_image: Callable[[np.ndarray, Geometry, float, tuple], np.ndarray] | None = None


def _both_eyes(g: Geometry, px: float) -> list[Region]:
    return [support(eye(g, 0), px), support(eye(g, 1), px)]


def _cheeks(g: Geometry) -> list[Region]:
    return [cheek(g, 0), cheek(g, 1)]


def _dilated_pupil(g: Geometry, strength: float) -> tuple[np.ndarray, np.ndarray]:
    """One pupil dilated: its ratio to the iris grows by up to 0.6 (the other eye keeps the face's)."""
    return np.clip(g["pupil"] + 0.6 * strength * g["amp"], 0.08, 0.98).astype(np.float32), g["iris"]


def _recoloured_iris(target: np.ndarray | None):
    """One iris recoloured towards ``target`` (None: the complementary colour of the face's iris)."""

    def alter(g: Geometry, strength: float) -> tuple[np.ndarray, np.ndarray]:
        mix = np.clip(strength * g["amp"], 0.0, 1.0)[:, None]
        goal = 1.0 - g["iris"] if target is None else target
        return g["pupil"], (mix * goal + (1 - mix) * g["iris"]).astype(np.float32)

    return alter


def _texture(kind: str, size: int, phase: np.ndarray) -> np.ndarray:
    """Periodic upsampling textures (n,S,S): 'checker' (period 2 px), 'stripes' (diagonal, period
    3 px) or 'grid' (lines every 3 px); the pixel unit grows with the image (1 px per 64)."""
    scale = max(1, size // 64)
    i = np.arange(size)[None, :, None] + col(phase.astype(np.int64))
    j = np.arange(size)[None, None, :] + col(phase.astype(np.int64))
    if kind == "checker":
        on = ((i // scale) + (j // scale)) % 2 == 0
        return np.where(on, 1.0, -1.0).astype(np.float32)
    on = ((i + j) // scale) % 3 == 0 if kind == "stripes" else ((i // scale) % 3 == 0) | ((j // scale) % 3 == 0)
    return np.where(on, 1.0, -0.5).astype(np.float32)


def _add_texture(kind: str, regions: Callable[[Geometry], list[Region]], amplitude: float = 0.15):
    """Add a texture of ``amplitude`` (times amp and strength) inside ``regions`` and the head."""

    def apply(image: np.ndarray, g: Geometry, strength: float, canvas: tuple) -> np.ndarray:
        u, v, px = canvas
        alpha = np.maximum.reduce([ellipse(u, v, r, px) for r in regions(g)]) * ellipse(u, v, head(g), px)
        tex = _texture(kind, u.shape[-1], g["phase"]) * alpha * col(g["amp"]) * amplitude * strength
        return image + tex[:, None]

    return apply


BLEED = 0.12  # reach of lip-colour bleeding / misregistration, normalized units (times amp; strength above 1 adds opacity only)


def _grown(region: Region, by: np.ndarray, dv: np.ndarray | float = 0.0) -> Region:
    cx, cy, rx, ry = region
    return cx, cy + dv, rx + by, ry + by


def _lip_bleed(image: np.ndarray, g: Geometry, strength: float, canvas: tuple) -> np.ndarray:
    """Lip colour bleeding onto the skin: a ring around the lips fading over ``BLEED`` * amp."""
    u, v, px = canvas
    reach = BLEED * g["amp"] * min(strength, 1.0)
    lips = ellipse(u, v, mouth(g), px)
    ring = 0.5 * (ellipse(u, v, _grown(mouth(g), reach / 2), px) + ellipse(u, v, _grown(mouth(g), reach), px)) - lips
    return blend(image, np.clip(ring, 0.0, 1.0) * min(0.85 * strength, 1.0), g["lips"])


def _lip_shift(image: np.ndarray, g: Geometry, strength: float, canvas: tuple) -> np.ndarray:
    """Colour misregistration: the lips' colour layer shifted down, a red band under the lips."""
    u, v, px = canvas
    shifted = _grown(mouth(g), 0.0, BLEED * g["amp"] * min(strength, 1.0))
    band = np.clip(ellipse(u, v, shifted, px) - ellipse(u, v, mouth(g), px), 0.0, 1.0)
    return blend(image, band * min(0.85 * strength, 1.0), g["lips"])


SEAM_HALF_WIDTH, SEAM_DEPTH = 1.4, 1.6


def _mouth_seam(image: np.ndarray, g: Geometry, strength: float, canvas: tuple) -> np.ndarray:
    """A blending seam: the lower half of a box around the mouth shifted sideways and brightened."""
    u, v, px = canvas
    cx, cy, rx, ry = (col(a) for a in mouth(g))
    box = (np.abs(u - cx) <= SEAM_HALF_WIDTH * rx) & (v >= cy) & (v <= cy + SEAM_DEPTH * ry)
    shift = max(1, int(round(strength * 2 * max(1, u.shape[-1] // 32))))
    moved = np.roll(image, shift, axis=-1) * (1.0 + 0.2 * strength)
    return np.where(box[:, None], moved, image)


def _seam_region(g: Geometry, px: float) -> list[Region]:
    cx, cy, rx, ry = mouth(g)
    half_w, half_h = SEAM_HALF_WIDTH * rx, SEAM_DEPTH * ry / 2
    root2 = np.float32(np.sqrt(2.0))  # the ellipse through the box's corners
    return [(cx, cy + half_h, half_w * root2 + px, half_h * root2 + px)]


DARK_IRIS = np.array([0.10, 0.07, 0.05], np.float32)
GENERATORS: dict[str, Generator] = {
    g.name: g
    for g in (
        # the default training generators: one per region a person inspects
        Generator(
            "checker_cheeks",
            "upsampling checkerboard (period 2 px)",
            "skin of the cheeks",
            regions=lambda g, px: [support(r, px) for r in _cheeks(g)],
            alter_image=_add_texture("checker", _cheeks),
        ),
        Generator(
            "pupil_large", "asymmetric pupils (one dilated)", "eyes", regions=_both_eyes, alter_eye=_dilated_pupil
        ),
        Generator(
            "lip_bleed",
            "colour bleeding (lip colour onto the skin)",
            "mouth",
            regions=lambda g, px: [support(_grown(mouth(g), BLEED * g["amp"]), px)],
            alter_image=_lip_bleed,
        ),
        # near held-out generators: a sibling artifact in the same region
        Generator(
            "stripes_cheeks",
            "upsampling stripes (diagonal, period 3 px)",
            "skin of the cheeks",
            regions=lambda g, px: [support(r, px) for r in _cheeks(g)],
            alter_image=_add_texture("stripes", _cheeks),
        ),
        Generator(
            "iris_dark",
            "asymmetric irises (one flattened to a dark disc)",
            "eyes",
            regions=_both_eyes,
            alter_eye=_recoloured_iris(DARK_IRIS),
        ),
        Generator(
            "lip_shift",
            "colour misregistration (lip colour shifted down)",
            "mouth",
            regions=lambda g, px: [support(_grown(mouth(g), 0.0, BLEED * g["amp"]), px), support(mouth(g), px)],
            alter_image=_lip_shift,
        ),
        # far held-out generators: another artifact family or another region
        Generator(
            "grid_nose",
            "upsampling grid (period 3 px)",
            "nose bridge",
            regions=lambda g, px: [support(midface(g), px)],
            alter_image=_add_texture("grid", lambda g: [midface(g)]),
        ),
        Generator(
            "iris_mismatch",
            "mismatched irises (one of the complementary colour)",
            "eyes",
            regions=_both_eyes,
            alter_eye=_recoloured_iris(None),
        ),
        Generator(
            "mouth_seam",
            "blending seam (lower half shifted and brightened)",
            "mouth",
            regions=_seam_region,
            alter_image=_mouth_seam,
        ),
    )
}


# ------------------------------------------------------------------ drawing
def draw_eye(
    image: np.ndarray, g: Geometry, region: Region, pupil: np.ndarray, iris_colour: np.ndarray, canvas: tuple
) -> np.ndarray:
    """Sclera, iris (colour (n,3)) and pupil (radius / iris radius (n,)) of one eye, clipped to the sclera."""
    u, v, px = canvas
    white = ellipse(u, v, region, px)
    centre = (region[0] + g["gaze"] * g["eye_rx"], region[1])
    iris = ellipse(u, v, (*centre, g["iris_r"], g["iris_r"]), px) * white
    dark = ellipse(u, v, (*centre, g["iris_r"] * pupil, g["iris_r"] * pupil), px) * white
    image = blend(image, white, np.broadcast_to(SCLERA, iris_colour.shape))
    image = blend(image, iris, iris_colour)
    return blend(image, dark, np.zeros_like(iris_colour))


def draw_face(
    g: Geometry, canvas: tuple, pupil_alt: np.ndarray, iris_alt: np.ndarray, altered: np.ndarray
) -> np.ndarray:
    """Background, hair, shaded head, nose, eyes and lips (n,3,S,S); the eye on side g['side']
    of the ``altered`` images gets ``pupil_alt`` / ``iris_alt``."""
    u, v, px = canvas
    image = np.clip(g["bg"][:, :, None, None] + (col(g["bg_gradient"]) * v)[:, None], 0, 1).astype(np.float32)
    face = ellipse(u, v, head(g), px)
    hair = hair_coverage(g, canvas)
    image = blend(image, hair, g["hair"])
    du, dv = (u - col(g["cx"])) / col(g["ax"]), (v - col(g["cy"])) / col(g["ay"])
    nz = np.sqrt(np.clip(1 - du**2 - dv**2, 0, 1))
    light = g["light"]
    lam = np.clip(du * col(light[:, 0]) + dv * col(light[:, 1]) + nz * col(light[:, 2]), 0, 1)
    skin = g["skin"][:, :, None, None] * (0.55 + 0.45 * lam)[:, None]
    image = blend(image, face * (1 - hair * (v < col(g["cy"]))), skin)
    image = blend(image, ellipse(u, v, nose(g), px) * 0.5, g["skin"] * 0.7)
    for side in (0, 1):
        mine = altered & (g["side"] == side)
        pupil = np.where(mine, pupil_alt, g["pupil"])
        iris = np.where(mine[:, None], iris_alt, g["iris"])
        image = draw_eye(image, g, eye(g, side), pupil, iris, canvas)
    image = blend(image, ellipse(u, v, mouth(g), px), g["lips"])
    return blend(image, ellipse(u, v, scaled(mouth(g), 0.9, 0.18), px), g["lips"] * 0.35)


def render(g: Geometry, size: int, generator: np.ndarray, names: list[str], strength: float = 1.0) -> np.ndarray:
    """Draw faces (n,3,S,S) float32; image i carries the artifact of ``names[generator[i]]`` (-1: none)."""
    canvas = grid(size)
    pupil_alt, iris_alt = g["pupil"].copy(), g["iris"].copy()
    altered = np.zeros(len(generator), dtype=bool)
    for k, name in enumerate(names):
        chosen = generator == k
        if GENERATORS[name].alter_eye is not None and chosen.any():
            pupil_alt[chosen], iris_alt[chosen] = GENERATORS[name].alter_eye(take(g, chosen), strength)
            altered |= chosen
    image = draw_face(g, canvas, pupil_alt, iris_alt, altered)
    for k, name in enumerate(names):
        chosen = generator == k
        if GENERATORS[name].alter_image is not None and chosen.any():
            image[chosen] = GENERATORS[name].alter_image(image[chosen], take(g, chosen), strength, canvas)
    return image


def foreground(g: Geometry, size: int) -> np.ndarray:
    """Coverage (n,S,S) of the head and hair: the complement is the background."""
    canvas = grid(size)
    return np.maximum(ellipse(*canvas[:2], head(g), canvas[2]), hair_coverage(g, canvas))


def hair_coverage(g: Geometry, canvas: tuple) -> np.ndarray:
    """Hair: a slightly larger head ellipse above the hairline."""
    u, v, px = canvas
    return ellipse(u, v, scaled(head(g), 1.08, 1.06, -0.04), px) * (
        v < col(g["cy"] - g["ay"] * (1 - 2 * g["hairline"]))
    )
