"""The sentinel re-run of a submission bundle (``submit METHOD --verify --rerun K``; issue 24 item 4).

``verify`` re-derives a bundle's claim from its records, but a record can be edited and its sha256 in
``fingerprints.json`` recomputed. So, as MLPerf's review asks that a submission's code reproduce its
results (MLCommons' general submission rules, "Source code requirements for replication"), the
maintainers' side retrains ``K`` of the bundle's ``N`` runs from their recorded configs and compares:

- **the draw**: the runs sorted by ``STUDY/RUN_ID``; ``numpy.random.default_rng(seed).choice(N, K,
  replace=False)`` with ``seed`` the first 8 bytes of ``sha256("BUNDLE_DIGEST:SALT")``: ``BUNDLE_DIGEST``
  (``reports.leaderboard.submissions.bundle_digest``) pins ``claim.json`` and ``fingerprints.json`` (so every record's bytes), ``SALT`` is
  drawn fresh by the maintainer (``secrets``) unless given. The same bundle and salt always draw the same
  runs (``verification.json`` keeps both, so anyone replays the draw); a submitter, who cannot know the
  salt, cannot tell which runs will be retrained (a draw from the bundle alone could be computed in
  advance, and the bundle re-made until an edited run is never drawn). An edited run among ``N`` is drawn
  with probability ``K/N`` (``scipy.stats.hypergeom``, printed);
- **the re-run**: each chosen run through the sweep worker (``sweeps.worker.run_task``: the run's own
  thread count and device kind from its record) into a temporary folder, never into the bundle or
  ``results/``;
- **the comparison** (``differences``): on CPU the weights digest (``extra.weights_sha256``) and every
  number of ``metrics``, exactly; on GPU (a run is bitwise reproducible only on the same card and software)
  every metric within ``GPU_TOLERANCE`` (the weights digest is not required). Each mismatch is one line
  naming the run, the field and both values.

``verification.json`` in the bundle keeps the outcome; the leaderboard reads it
(``reports.leaderboard.submissions.rerun_mark``, with ``bundle_digest``) and never trains. The statement every output prints is ``statistics.descriptions.SENTINEL_RERUN``.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write_text
from ..reports.leaderboard.submissions import VERIFICATION, bundle_digest
from ..statistics import descriptions


@dataclass(frozen=True)
class Tolerance:
    """``math.isclose(recorded, rerun, rel_tol=rel, abs_tol=absolute)``."""

    absolute: float
    rel: float = 0.0

    def holds(self, a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=self.rel, abs_tol=self.absolute)

    def __str__(self) -> str:
        parts = [f"±{self.absolute:g}" if self.absolute else "", f"±{self.rel:.0%} relative" if self.rel else ""]
        return " or ".join(p for p in parts if p)


# On GPU, per metric name (the last part of "saliency/ATTRIBUTION/NAME"): a stated bound, not calibrated (the
# CPU path, exact, is the tested one). Scores in [0, 1] within 0.01 (classification: about one test image in
# a hundred changing its prediction) or 0.02 (saliency scores, on a 32-image probe set); unbounded ones
# relative.
GPU_TOLERANCE: dict[str, Tolerance] = {
    "accuracy": Tolerance(0.01),
    "auc": Tolerance(0.01),
    "loss": Tolerance(0.0, rel=0.05),
    "ig_delta": Tolerance(0.0, rel=0.10),
    "ig_delta_relative": Tolerance(0.0, rel=0.10),
}
GPU_DEFAULT = Tolerance(0.02)  # every other metric (saliency scores in [0, 1])


def gpu_tolerance(metric: str) -> Tolerance:
    return GPU_TOLERANCE.get(metric.rsplit("/", 1)[-1], GPU_DEFAULT)


def bundle_runs(folder: Path) -> list[str]:
    """``STUDY/RUN_ID`` of every record file of the bundle, sorted."""
    return sorted(f"{p.parent.name}/{p.stem}" for p in (Path(folder) / "records").glob("*/*.json"))


def count_problem(k: int, n: int) -> str:
    """Why ``--rerun k`` cannot be drawn from ``n`` runs ("" when it can)."""
    if k < 1 or k > n:
        return f"--rerun {k}: K must be between 1 and the bundle's {n} runs"
    return ""


def draw_seed(digest: str, salt: str) -> int:
    """The seed of the draw: the first 8 bytes of sha256("DIGEST:SALT"), big-endian."""
    return int.from_bytes(hashlib.sha256(f"{digest}:{salt}".encode()).digest()[:8], "big")


def draw(runs: list[str], k: int, seed: int) -> list[str]:
    """``k`` of ``runs`` without replacement (``numpy.random.default_rng(seed).choice``), in ``runs`` order."""
    picked = np.random.default_rng(seed).choice(len(runs), size=k, replace=False)
    return [runs[i] for i in sorted(int(i) for i in picked)]


def choose(folder: Path, k: int, salt: str) -> list[str]:
    """The runs ``--rerun k --rerun-salt salt`` retrains from the bundle in ``folder``."""
    return draw(bundle_runs(folder), k, draw_seed(bundle_digest(folder), salt))


def chance_of_drawing(n: int, k: int, edited: int = 1) -> float:
    """P(at least one of ``edited`` runs among ``n`` is among the ``k`` drawn): hypergeometric."""
    from scipy.stats import hypergeom

    return float(hypergeom(n, edited, k).sf(0))


_ABSENT = object()


def _shown(value: Any) -> str:
    return "absent" if value is _ABSENT else repr(value)


def differences(key: str, recorded: Any, rerun: Any, on_gpu: bool = False) -> list[str]:
    """One line per field where the re-run ``rerun`` (a ``RunRecord``) differs from the bundle's ``recorded``:
    ``extra.weights_sha256`` (CPU only) and every ``metrics.SPLIT.METRIC`` (CPU: exactly; GPU:
    ``gpu_tolerance``)."""
    lines = []
    if not on_gpu and recorded.extra.get("weights_sha256") != rerun.extra.get("weights_sha256"):
        a, b = recorded.extra.get("weights_sha256"), rerun.extra.get("weights_sha256")
        lines.append(f"{key}: extra.weights_sha256: recorded {a}, re-run {b}")
    for split in sorted(set(recorded.metrics) | set(rerun.metrics)):
        mine, fresh = recorded.metrics.get(split) or {}, rerun.metrics.get(split) or {}
        for name in sorted(set(mine) | set(fresh)):
            a, b = mine.get(name, _ABSENT), fresh.get(name, _ABSENT)
            numbers = isinstance(a, (int, float)) and isinstance(b, (int, float))
            same = gpu_tolerance(name).holds(float(a), float(b)) if on_gpu and numbers else a == b
            if not same:
                bound = f" (tolerance {gpu_tolerance(name)})" if on_gpu else ""
                lines.append(f"{key}: metrics.{split}.{name}: recorded {_shown(a)}, re-run {_shown(b)}{bound}")
    return lines


@dataclass
class Rerun:
    """The outcome of a sentinel re-run (``verification.json``'s ``rerun``)."""

    k: int
    of: int
    salt: str
    seed: int
    bundle_sha256: str
    chosen: list[str]
    identical: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)

    def verdict(self) -> str:
        return f"re-run: {len(self.identical)}/{self.k} identical"

    def to_json(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "of": self.of,
            "salt": self.salt,
            "seed": self.seed,
            "bundle_sha256": self.bundle_sha256,
            "chosen": self.chosen,
            "identical": self.identical,
            "mismatches": self.mismatches,
            "notes": self.notes,
            "environment": self.environment,
            "verdict": self.verdict(),
            "method": descriptions.SENTINEL_RERUN.text(),
        }


def _device(record: Any) -> str:
    """'cuda' for a record that ran on a GPU, else 'cpu'."""
    return "cuda" if str(record.environment.get("device", "cpu")).startswith("cuda") else "cpu"


def _env_note(key: str, recorded: Mapping[str, Any], fresh: Mapping[str, Any]) -> str:
    names = ("python", "torch", "numpy", "device_name", "threads")
    changed = [f"{n} {recorded.get(n)!r} -> {fresh.get(n)!r}" for n in names if recorded.get(n) != fresh.get(n)]
    return f"{key}: recorded and re-run environments differ: {', '.join(changed)}" if changed else ""


def _read(folder: Path, key: str) -> tuple[Any | None, str]:
    """(the bundle's record ``STUDY/RUN_ID``, "") or (None, why it cannot be read)."""
    from ..records.record_store import read_record

    try:
        return read_record(Path(folder) / "records" / f"{key}.json"), ""
    except Exception as exc:  # noqa: BLE001 - any unreadable record is named
        return None, f"{key}: the record cannot be read, so not re-run ({exc})"


def plan(folder: Path, k: int, salt: str | None) -> tuple[Rerun | None, list[str]]:
    """(the draw, refusals): refused, before any compute, when ``k`` is out of range or a chosen run ran on a
    GPU and this machine has none. ``salt`` None: a fresh one."""
    runs = bundle_runs(folder)
    problem = count_problem(k, len(runs))
    if problem:
        return None, [problem]
    salt = secrets.token_hex(8) if salt is None else salt
    digest = bundle_digest(folder)
    seed = draw_seed(digest, salt)
    chosen = draw(runs, k, seed)
    refusals = []
    for key in chosen:
        record, _ = _read(folder, key)
        if record is not None and _device(record) == "cuda":
            import torch

            if not torch.cuda.is_available():
                refusals.append(f"--rerun: {key} ran on {record.environment.get('device')}; this machine has no GPU")
    return Rerun(k, len(runs), salt, seed, digest, chosen), refusals


def retrain(record: Any, workdir: Path) -> tuple[Any | None, str]:
    """(the re-run's record, "") or (None, why it failed): the recorded config through the sweep worker into
    ``workdir``, on the record's device kind and thread count."""
    from ..records.identity import run_id
    from ..records.record_store import read_record
    from ..runs.run import resolve_config
    from ..sweeps.worker import RunTask, run_task

    threads = record.environment.get("threads")
    task = RunTask(
        run_id=record.run_id,
        label=record.run_id,
        config=record.config,
        out_dir=Path(workdir).resolve(),
        device=_device(record),
        checkpoint=False,
        threads=int(threads) if isinstance(threads, int) and threads > 0 else None,
    )
    done = run_task(task)
    if done.status != "ok":
        return None, f"the re-run failed ({done.message})"
    rid = run_id(resolve_config(record.run_config()))
    fresh = read_record(Path(workdir) / f"{rid}.json")
    return fresh, "" if rid == record.run_id else f"run_id: recorded {record.run_id}, re-run {rid}"


def sentinel(folder: Path, draft: Rerun, progress: Callable[[str], None] | None = None) -> Rerun:
    """Retrain ``draft.chosen`` (from ``plan``) and compare each with its record; fills ``draft``."""
    with tempfile.TemporaryDirectory(prefix="salbench-rerun-") as tmp:
        for key in draft.chosen:
            record, problem = _read(folder, key)
            if record is None:
                draft.mismatches.append(problem)
                continue
            if progress:
                config = record.config
                progress(f"re-running {key} ({config['dataset']} / {config['arch']}, seed {config['seed']})")
            fresh, problem = retrain(record, Path(tmp) / key.replace("/", "-"))
            lines = [f"{key}: {problem}"] if problem else []
            if fresh is not None:
                lines += differences(key, record, fresh, on_gpu=_device(record) == "cuda")
                draft.environment = {k: v for k, v in fresh.environment.items() if k != "threads"}
                note = _env_note(key, record.environment, fresh.environment) if lines else ""
                draft.notes += [note] if note else []
            draft.mismatches += lines
            if not lines:
                draft.identical.append(key)
    return draft


def write_verification(folder: Path, result: Rerun) -> Path:
    """``folder/verification.json``: ``{"rerun": ...}`` (replaced by the next ``--rerun``)."""
    path = Path(folder) / VERIFICATION
    text = json.dumps({"rerun": result.to_json()}, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False)
    atomic_write_text(path, text + "\n")
    return path
