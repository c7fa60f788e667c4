"""Every metric a run record holds, with its direction (higher or lower is better) and unit.

Record layout: ``record.metrics[split][key]`` with classification keys (``accuracy``,
``loss``, ``auc``) and saliency keys ``saliency/<row>/<metric>``, where ``<row>`` is an
attribution method (``cam``, ``gradcam``, ``gradient``, ``input_x_gradient``,
``integrated_gradients``) or a reference row (``uniform``: a constant map; ``human_prior``:
the mean training annotation used as every image's map; ``random``: a random pixel ranking).
``spec(key)`` answers for any of these keys, so the statistics layer never hard-codes a
direction. ``rope`` is the metric's region of practical equivalence (the smallest effect of
interest, Benavoli et al. JMLR 2017; Kruschke 2018): the statistics layer's power analysis,
equivalence tests (TOST) and Bayesian signed-rank test use it. Values: 1 point for accuracy
and AUC (differences the papers' tables do not resolve), 0.02 for pixel/mass fractions and
probabilities of the saliency metrics, 0.05 for rank correlations and IG diagnostics.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

PREFIX = "saliency"


@dataclass(frozen=True)
class MetricSpec:
    name: str
    family: str  # classification | alignment | faithfulness | sanity | diagnostic
    direction: str  # "higher" or "lower" is better
    unit: str
    description: str
    rope: float  # region of practical equivalence: the smallest difference of interest, in ``unit``

    def better(self, a: float, b: float) -> bool:
        """Is ``a`` strictly better than ``b``?"""
        return a > b if self.direction == "higher" else a < b


SPECS = (
    MetricSpec("accuracy", "classification", "higher", "fraction of images", "top-1 accuracy", 0.01),
    MetricSpec("loss", "classification", "lower", "nats", "mean cross-entropy", 0.02),
    MetricSpec("auc", "classification", "higher", "probability", "ROC AUC of class 1 (binary tasks)", 0.01),
    MetricSpec(
        "auroc",
        "alignment",
        "higher",
        "probability",
        "pixel ROC AUC of the map against the annotation (0.5 = chance)",
        0.01,
    ),
    MetricSpec(
        "topk_precision",
        "alignment",
        "higher",
        "fraction of pixels",
        "share of the k most salient pixels inside the annotation, k = annotated area",
        0.02,
    ),
    MetricSpec(
        "pointing_game",
        "alignment",
        "higher",
        "fraction of images",
        "the most salient pixel lies inside the annotation (empty annotations excluded)",
        0.02,
    ),
    MetricSpec(
        "energy_pointing",
        "alignment",
        "higher",
        "fraction of saliency mass",
        "share of the positive saliency inside the annotation (Score-CAM)",
        0.02,
    ),
    MetricSpec(
        "wrong_reason_share",
        "alignment",
        "lower",
        "fraction of saliency mass",
        "share of the positive saliency on the decoy / distractor mask",
        0.02,
    ),
    MetricSpec(
        "masking_gap",
        "faithfulness",
        "higher",
        "accuracy",
        "mean accuracy gap between masking random and the most salient pixels, d = 0..90% (SGT)",
        0.02,
    ),
    MetricSpec(
        "deletion_auc",
        "faithfulness",
        "lower",
        "probability",
        "area under the class probability as the most salient pixels are deleted (RISE)",
        0.02,
    ),
    MetricSpec(
        "insertion_auc",
        "faithfulness",
        "higher",
        "probability",
        "area under the class probability as the most salient pixels are inserted into a blur (RISE)",
        0.02,
    ),
    MetricSpec(
        "mprt_spearman",
        "sanity",
        "lower",
        "Spearman rho",
        "similarity of the maps of the trained and the fully randomized network (Adebayo et al.)",
        0.05,
    ),
    MetricSpec(
        "ig_delta",
        "diagnostic",
        "lower",
        "logit",
        "mean |sum IG - (F(x) - F(baseline))|: integrated gradients' convergence delta",
        0.05,
    ),
    MetricSpec("ig_delta_relative", "diagnostic", "lower", "fraction", "mean |delta| / |F(x) - F(baseline)|", 0.05),
)
METRICS: dict[str, MetricSpec] = {s.name: s for s in SPECS}


def key(row: str, metric: str) -> str:
    if metric not in METRICS:
        raise KeyError(f"unknown saliency metric '{metric}'; known: {sorted(METRICS)}")
    return f"{PREFIX}/{row}/{metric}"


def parse(metric_key: str) -> tuple[str | None, str]:
    """``'saliency/gradient/auroc'`` -> ``('gradient', 'auroc')``; ``'accuracy'`` -> ``(None, 'accuracy')``."""
    parts = metric_key.split("/")
    if len(parts) == 3 and parts[0] == PREFIX:
        return parts[1], parts[2]
    return None, metric_key


def spec(metric_key: str) -> MetricSpec:
    """The spec of any record metric key; KeyError names the unknown metric."""
    _, name = parse(metric_key)
    if name not in METRICS:
        raise KeyError(f"metric '{metric_key}' has no declared direction; known metrics: {sorted(METRICS)}")
    return METRICS[name]


def describe(names: list[str] | None = None) -> dict[str, dict[str, str]]:
    """{metric: {direction, unit, family, description}}: copied into each record for self-description (the ROPE is a choice of the statistics, not of the run)."""
    chosen = SPECS if names is None else [METRICS[n] for n in names]
    return {s.name: {k: v for k, v in asdict(s).items() if k not in ("name", "rope")} for s in chosen}
