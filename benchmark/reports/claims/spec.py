"""A paper's claims as data: one YAML file per paper in ``claims/`` (adding a claim touches no code).

Each claim names the study cell (study, method and reference runs, dataset, architecture), the
metric, the test and optionally the ROPE; the verdict comes from ``statistics.verdicts``. File::

    paper: SGT                      # short name shown as the section title
    order: 1                        # the section's place in results/README.md (optional)
    title: ...                      # the paper's title
    citation: ...                   # authors, venue, year
    url: https://...                # the paper (arXiv / DOI)
    studies: [sgt]                  # studies whose leaderboards the section links
    notes: [...]                    # findings stated beside the table (optional)
    claims:
      - id: SGT-1
        claim: SGT keeps the test accuracy of ERM
        published: "MNIST 99.3% both (Table 1)"       # optional
        study: sgt
        metric: test/accuracy       # SPLIT/RECORD_KEY, or consistency/SPLIT/ATTRIBUTION (per-image Spearman)
        test: equivalence           # superiority | equivalence | difference
        rope: 0.01                  # optional: default the metric's declared ROPE
        method: sgt                 # a run label, or {method:, dataset:, arch:}
        reference: erm
        dataset: clean_digits       # default of both sides
        arch: [simple_cnn, gap_cnn] # any of metric/method/reference/dataset/arch may be a list: one cell per
                                    # combination, its id suffixed by the varying values; the claim gets
                                    # one verdict over its cells (statistics.verdicts)
    figures:                        # optional per-epoch curves of the records (e.g. SMOOT's fraction)
      - {study: sgt, curve: mask_fraction, methods: [smoot], dataset: clean_digits, arch: simple_cnn,
         title: ..., ylabel: ...}

A malformed file is one ``ContractError`` naming the file and the field: its shape is checked by the schema
(``benchmark.claims_schema``, also exported as JSON Schema), the rest here.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ... import claims_schema as schema
from ...contracts import ContractError
from ...saliency.metrics import spec

CONSISTENCY = "consistency"
CONSISTENCY_ROPE = 0.05  # the ROPE of a rank correlation (saliency.metrics)


@dataclass(frozen=True)
class Side:
    """The runs of one side of a comparison: a method label in one dataset x architecture cell."""

    method: str
    dataset: str
    arch: str

    def label(self) -> str:
        return f"{self.method} · {self.dataset} · {self.arch}"


@dataclass(frozen=True)
class Claim:
    """One cell of a claim: ``side`` against ``reference`` on ``metric`` with ``test``. ``entry`` is the id of the
    claims-file entry it was expanded from (the claim that gets one verdict); ``id`` is the entry id suffixed by
    the cell's varying values (``cell``), or the entry id itself for a one-cell claim."""

    id: str
    text: str
    published: str
    study: str
    metric: str
    test: str
    rope: float
    direction: str
    side: Side
    reference: Side
    entry: str = ""
    cell: str = ""

    @property
    def consistency(self) -> bool:
        return self.metric.startswith(CONSISTENCY + "/")

    @property
    def paired(self) -> bool:
        """Both sides in one dataset share their seeds' randomness; across datasets they share none (Welch)."""
        return self.side.dataset == self.reference.dataset


@dataclass(frozen=True)
class CurveFigure:
    study: str
    curve: str
    methods: tuple[str, ...]
    dataset: str
    arch: str
    title: str
    ylabel: str


@dataclass
class Paper:
    name: str  # the file stem
    paper: str
    title: str
    citation: str
    url: str
    studies: list[str]
    notes: list[str]
    claims: list[Claim]
    figures: list[CurveFigure] = field(default_factory=list)
    path: str = ""
    order: int = 1000


def _fail(path: Path, where: str, message: str) -> ContractError:
    return ContractError(f"{path}: {where}: {message}")


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [] if value is None else [value]


def metric_direction(path: Path, where: str, metric: str) -> tuple[str, float]:
    """Direction and default ROPE of ``SPLIT/RECORD_KEY`` or ``consistency/SPLIT/ATTRIBUTION``."""
    parts = metric.split("/")
    if parts[0] == CONSISTENCY:
        if len(parts) != 3:
            raise _fail(path, where, f"'{metric}': a consistency metric is consistency/SPLIT/ATTRIBUTION")
        return "higher", CONSISTENCY_ROPE
    if len(parts) < 2:
        raise _fail(path, where, f"'{metric}': expected SPLIT/METRIC, e.g. test/accuracy")
    try:
        s = spec(metric.split("/", 1)[1])
    except KeyError as exc:
        raise _fail(path, where, str(exc.args[0])) from None
    return s.direction, s.rope


def _side(value: str | schema.Side, dataset: str, arch: str) -> Side:
    if isinstance(value, str):
        return Side(value, dataset, arch)
    return Side(value.method, value.dataset or dataset, value.arch or arch)


def _cell(values: Mapping[str, Any], varying: list[str]) -> str:
    return " · ".join(v if isinstance(v, str) else v.method for k, v in values.items() if k in varying)


def _claims(path: Path, i: int, entry: schema.ClaimEntry) -> list[Claim]:
    """The cells of one checked claim entry: one per combination of its listed axes."""
    cid = entry.id
    axes = {k: _listed(getattr(entry, k)) for k in ("metric", "method", "reference", "dataset", "arch")}
    varying = [k for k, v in axes.items() if len(v) > 1]
    out = []
    for combo in itertools.product(*axes.values()):
        values = dict(zip(axes, combo))
        metric, dataset, arch = values["metric"], values["dataset"], values["arch"]
        direction, default_rope = metric_direction(path, f"claims[{i}] ({cid}).metric", metric)
        cell = _cell(values, varying)
        out.append(
            Claim(
                id=f"{cid} · {cell}" if cell else cid,
                text=entry.claim,
                published=entry.published or "",
                study=entry.study,
                metric=metric,
                test=entry.test,
                rope=float(entry.rope if entry.rope is not None else default_rope),
                direction=direction,
                side=_side(values["method"], dataset, arch),
                reference=_side(values["reference"], dataset, arch),
                entry=cid,
                cell=cell,
            )
        )
    return out


def _figure(entry: schema.FigureEntry) -> CurveFigure:
    return CurveFigure(
        entry.study,
        entry.curve,
        tuple(_listed(entry.methods)),
        entry.dataset,
        entry.arch,
        entry.title or entry.curve,
        entry.ylabel or entry.curve,
    )


def load_paper(path: Path) -> Paper:
    """Parse and check one claims file (its schema: ``benchmark.claims_schema``; then the metrics' declared
    directions and unique claim ids), before anything is computed."""
    model = schema.load_claims_file(path)
    claims = [c for i, entry in enumerate(model.claims) for c in _claims(path, i, entry)]
    ids, entries = [c.id for c in claims], [entry.id for entry in model.claims]
    duplicated = sorted({x for x in ids if ids.count(x) > 1} | {x for x in entries if entries.count(x) > 1})
    if duplicated:
        raise _fail(path, "claims", f"duplicate claim id(s) {duplicated}")
    studies = _listed(model.studies) or list(dict.fromkeys(c.study for c in claims))
    return Paper(
        path.stem,
        model.paper,
        model.title,
        model.citation,
        model.url,
        studies,
        _listed(model.notes),
        claims,
        [_figure(f) for f in _listed(model.figures)],
        str(path),
        int(model.order),
    )
