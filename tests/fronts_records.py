"""Hand-made records of a tiny guidance study for the ``fronts`` tests: a params document whose study ``tiny``
trains erm, rrr and gradia at guidance scales 0.5 and 2 over 3 seeds, and one valid, current record per run
with the test accuracy and the CAM's energy pointing set by ``VALUES`` (no training)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sweep_helpers import tiny_params

from benchmark.records.identity import identity
from benchmark.records.record_store import write_record
from benchmark.records.run_states import Fingerprints
from benchmark.records.schema import RunRecord
from benchmark.sweeps.study import expand

SCALES = [0.5, 2.0]
SEEDS = 3
X, Y = "test/accuracy", "test/saliency/cam/energy_pointing"
# (method, scale) -> (accuracy, energy pointing) at seed 0; seed s adds OFFSETS[method][s] to both
VALUES = {
    ("erm", 0.0): (0.90, 0.20),
    ("rrr", 0.5): (0.86, 0.35),
    ("rrr", 2.0): (0.80, 0.50),
    ("gradia", 0.5): (0.88, 0.30),
    ("gradia", 2.0): (0.84, 0.38),
}
OFFSETS = {"erm": (0.0, 0.01, 0.02), "rrr": (0.0, 0.02, 0.01), "gradia": (0.01, 0.0, 0.03)}


def fronts_params(**study: Any) -> dict[str, Any]:
    return tiny_params(["erm", "rrr", "gradia"], seeds=SEEDS, guidance=SCALES, **study)


def value(method: str, scale: float, seed: int) -> tuple[float, float]:
    x, y = VALUES[method, scale]
    return round(x + OFFSETS[method][seed], 6), round(y + OFFSETS[method][seed], 6)


def write_records(params: dict[str, Any], folder: Path, skip: int = 0, rows: tuple[str, ...] = ("cam",)) -> int:
    """One record per run of study ``tiny`` (leaving out the first ``skip``), its energy pointing under each
    attribution row of ``rows``; the number written."""
    folder.mkdir(parents=True, exist_ok=True)
    fingerprints = Fingerprints()
    study = expand("tiny", params=params)
    scale_of = {("erm", 0.0): 0.0}
    for spec in study.runs[skip:]:
        config = spec.config
        method = config.method
        scale = 0.0
        if method != "erm":
            default = {"rrr": 1000.0, "gradia": 1.0}[method]
            scale = round(config.method_params["lam"] / default, 6)
        scale_of[method, scale] = scale
        x, y = value(method, scale, config.seed)
        record = RunRecord(
            run_id=spec.run_id,
            identity=identity(config),
            config=config.to_dict(),
            metrics={"test": {"accuracy": x, "loss": 0.5, **{f"saliency/{r}/energy_pointing": y for r in rows}}},
            fingerprint=fingerprints(method, config.dataset, config.arch),
        )
        write_record(record, folder)
    return len(study.runs) - skip
