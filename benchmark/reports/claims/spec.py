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
        arch: [simple_cnn, gap_cnn] # any of metric/method/reference/dataset/arch may be a list:
                                    # one claim row per combination, its id suffixed by the varying values
    figures:                        # optional per-epoch curves of the records (e.g. SMOOT's fraction)
      - {study: sgt, curve: mask_fraction, methods: [smoot], dataset: clean_digits, arch: simple_cnn,
         title: ..., ylabel: ...}

A malformed file is one ``ContractError`` naming the file and the field.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ...contracts import ContractError
from ...saliency.metrics import spec
from ...statistics.verdicts import TESTS

PAPER_KEYS = {"paper", "title", "citation", "url", "studies", "notes", "claims", "figures", "order"}
CLAIM_KEYS = {"id", "claim", "published", "study", "metric", "test", "rope", "method", "reference", "dataset", "arch"}
SIDE_KEYS = {"method", "dataset", "arch"}
FIGURE_KEYS = {"study", "curve", "methods", "dataset", "arch", "title", "ylabel"}
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
    """One claim row: ``side`` against ``reference`` on ``metric`` with ``test``."""

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

    @property
    def consistency(self) -> bool:
        return self.metric.startswith(CONSISTENCY + "/")


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


def _text(path: Path, where: str, value: Any, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool) or str(value).strip() == "":
        raise _fail(path, where, f"expected a non-empty text, got {value!r}")
    return str(value)


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


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


def _side(path: Path, where: str, value: Any, dataset: str, arch: str) -> Side:
    if isinstance(value, str):
        return Side(value, dataset, arch)
    if not isinstance(value, Mapping) or not set(value) <= SIDE_KEYS or "method" not in value:
        raise _fail(
            path,
            where,
            f"expected a run label or a mapping with keys {sorted(SIDE_KEYS)} (method required), got {value!r}",
        )
    return Side(
        _text(path, where + ".method", value["method"]),
        _text(path, where + ".dataset", value.get("dataset", dataset)),
        _text(path, where + ".arch", value.get("arch", arch)),
    )


def _suffix(values: Mapping[str, Any], varying: list[str]) -> str:
    shown = [
        v if isinstance(v, str) else v.get("method", "?") if isinstance(v, Mapping) else str(v)
        for k, v in values.items()
        if k in varying
    ]
    return (" · " + " · ".join(shown)) if shown else ""


def _claims(path: Path, i: int, entry: Any) -> list[Claim]:
    where = f"claims[{i}]"
    if not isinstance(entry, Mapping):
        raise _fail(path, where, f"expected a mapping, got {entry!r}")
    unknown = set(entry) - CLAIM_KEYS
    if unknown:
        raise _fail(path, where, f"unknown key(s) {sorted(unknown)}; known: {sorted(CLAIM_KEYS)}")
    for key in ("id", "claim", "study", "metric", "test", "method", "reference", "dataset", "arch"):
        if key not in entry:
            raise _fail(path, where, f"missing '{key}'")
    cid = _text(path, where + ".id", entry["id"])
    test = entry["test"]
    if test not in TESTS:
        raise _fail(path, f"{where} ({cid}).test", f"unknown test {test!r}; known: {list(TESTS)}")
    rope = entry.get("rope")
    if rope is not None and (isinstance(rope, bool) or not isinstance(rope, (int, float)) or rope <= 0):
        raise _fail(path, f"{where} ({cid}).rope", f"expected a number > 0, got {rope!r}")
    axes = {k: _listed(entry[k]) for k in ("metric", "method", "reference", "dataset", "arch")}
    for key, values in axes.items():
        if not values:
            raise _fail(path, f"{where} ({cid}).{key}", "an empty list")
    varying = [k for k, v in axes.items() if len(v) > 1]
    out = []
    for combo in itertools.product(*axes.values()):
        values = dict(zip(axes, combo))
        metric = _text(path, f"{where} ({cid}).metric", values["metric"])
        direction, default_rope = metric_direction(path, f"{where} ({cid}).metric", metric)
        dataset = _text(path, f"{where} ({cid}).dataset", values["dataset"])
        arch = _text(path, f"{where} ({cid}).arch", values["arch"])
        out.append(
            Claim(
                id=cid + _suffix(values, varying),
                text=_text(path, f"{where}.claim", entry["claim"]),
                published=_text(path, f"{where}.published", entry.get("published"), required=False),
                study=_text(path, f"{where}.study", entry["study"]),
                metric=metric,
                test=test,
                rope=float(rope if rope is not None else default_rope),
                direction=direction,
                side=_side(path, f"{where} ({cid}).method", values["method"], dataset, arch),
                reference=_side(path, f"{where} ({cid}).reference", values["reference"], dataset, arch),
            )
        )
    return out


def _figure(path: Path, i: int, entry: Any) -> CurveFigure:
    where = f"figures[{i}]"
    if not isinstance(entry, Mapping) or set(entry) - FIGURE_KEYS or not {"study", "curve", "methods"} <= set(entry):
        raise _fail(
            path,
            where,
            f"expected a mapping with keys {sorted(FIGURE_KEYS)} (study, curve, methods required), got {entry!r}",
        )
    methods = tuple(_text(path, f"{where}.methods", m) for m in _listed(entry["methods"]))
    return CurveFigure(
        _text(path, where + ".study", entry["study"]),
        _text(path, where + ".curve", entry["curve"]),
        methods,
        _text(path, where + ".dataset", entry.get("dataset")),
        _text(path, where + ".arch", entry.get("arch")),
        _text(path, where + ".title", entry.get("title", entry["curve"])),
        _text(path, where + ".ylabel", entry.get("ylabel", entry["curve"])),
    )


def load_paper(path: Path) -> Paper:
    """Parse and check one claims file (every field, before anything is computed)."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ContractError(f"{path}: cannot read the claims file ({exc})") from None
    if not isinstance(data, Mapping):
        raise ContractError(f"{path}: expected a mapping with keys {sorted(PAPER_KEYS)}")
    unknown = set(data) - PAPER_KEYS
    if unknown:
        raise _fail(path, "top level", f"unknown key(s) {sorted(unknown)}; known: {sorted(PAPER_KEYS)}")
    if not isinstance(data.get("claims"), list) or not data["claims"]:
        raise _fail(path, "claims", "expected a non-empty list of claims")
    claims = [c for i, entry in enumerate(data["claims"]) for c in _claims(path, i, entry)]
    ids = [c.id for c in claims]
    duplicated = sorted({x for x in ids if ids.count(x) > 1})
    if duplicated:
        raise _fail(path, "claims", f"duplicate claim id(s) {duplicated}")
    studies = [_text(path, "studies", s) for s in _listed(data.get("studies") or [])] or list(
        dict.fromkeys(c.study for c in claims)
    )
    notes = [_text(path, "notes", n) for n in _listed(data.get("notes") or [])]
    figures = [_figure(path, i, f) for i, f in enumerate(_listed(data.get("figures") or []))]
    order = data.get("order", 1000)
    if isinstance(order, bool) or not isinstance(order, int):
        raise _fail(path, "order", f"expected an integer, got {order!r}")
    return Paper(
        path.stem,
        _text(path, "paper", data.get("paper")),
        _text(path, "title", data.get("title")),
        _text(path, "citation", data.get("citation")),
        _text(path, "url", data.get("url")),
        studies,
        notes,
        claims,
        figures,
        str(path),
        order,
    )
