"""The submission bundle ``results/submissions/METHOD/``, committed with the pull request, and its check.

Written in one atomic rename once every check and the protocol passed (RobustBench's model: a
claim, re-checked from its evidence before it is accepted):

- ``submission.json``: the method (name, citation, paper link, where it loads from), the sha256 of
  its file and its code fingerprint, the profile, the command, the check lines and cost rows, and
  (``file_sha256``) the sha256 of ``claim.json`` and ``fingerprints.json`` as written, so that
  ``verify`` tells an edit of either apart from a change of what they describe;
- ``records/STUDY/RUN_ID.json``: the submission's run records, byte for byte (their probe-map
  artifacts are left out, so a bundle stays small);
- ``fingerprints.json``: per record, the sha256 of its bytes and its code fingerprint;
- ``claim.json``: what the submission reports: its row on the across-cell board (``board``: gap closed,
  mean rank, place of N, as the page shows it; ``submission.board``), and per study and metric family
  the per-cell mean, SD and seed count of the method (re-derivable from the records alone), its per-study
  place, mean rank and gain over ERM, and its paired comparison with every method (re-derivable with the
  study's records);
- ``summary.md``: the printed summary.

``submission.verify`` re-derives the claim from the bundle and names every way it went stale.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..atomic import atomic_folder
from ..contracts import ContractError, paper_link
from ..paths import project_root
from ..registry import METHODS
from ..reports.formatting import json_number
from ..statistics import FamilyResult
from ..statistics.descriptive import describe_cells
from ..statistics.orient import family
from .protocol import StudyOutcome, submission_rows

MARK = "python -m benchmark submit"  # submission.json's "created_by": what this program may overwrite


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def method_file(name: str) -> tuple[Path, str]:
    """The file that defines method ``name`` and how it is shown: relative to the project when inside it."""
    import sys

    path = Path(sys.modules[METHODS.get(name).__module__].__file__ or "").resolve()
    try:
        return path, str(path.relative_to(project_root()))
    except ValueError:
        return path, str(path)


def check_destination(folder: Path) -> None:
    """Refuse to replace a folder this program did not write (no submission.json naming ``submit``)."""
    if not folder.exists():
        return
    marker = folder / "submission.json"
    try:
        ours = json.loads(marker.read_text()).get("created_by") == MARK
    except (OSError, ValueError, AttributeError):
        ours = False
    if not folder.is_dir() or not ours:
        raise ContractError(f"submit: {folder} exists and was not written by `{MARK}`; move it away first")


def _num(x: Any) -> Any:
    """A claim's JSON leaf: floats to 10 significant digits (stable across reruns), NaN -> None."""
    return json_number(x, digits=10)


def cell_numbers(scores: pd.DataFrame, keys: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """family -> "DATASET/ARCH" -> {mean, sd, n}: the method's own numbers, from its records alone."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for key in keys:
        cells = describe_cells(scores, family(key))
        out[key] = {
            f"{r.dataset}/{r.arch}": {"mean": _num(r.mean), "sd": _num(r.sd), "n": int(r.n)} for r in cells.itertuples()
        }
    return out


def ranking(
    results: list[FamilyResult], boards: Mapping[str, pd.DataFrame], versus_results: list[FamilyResult], method: str
) -> dict[str, dict[str, Any]]:
    """family -> the method's place, mean rank, gain over ERM (``results``/``boards``: the study's statistics
    with ERM as the baseline) and its comparison with every other method (``versus_results``: the same
    families with the submission as the baseline)."""
    out: dict[str, dict[str, Any]] = {}
    versus = {r.family.key: r for r in versus_results}
    for r in results:
        key = r.family.key
        board = boards[key]
        row = board[board["method"] == method]
        ranked = board[board["mean_rank"].notna()] if "mean_rank" in board else board
        entry: dict[str, Any] = {"direction": r.family.direction, "rope": _num(r.family.rope), "of": int(len(ranked))}
        if not row.empty:
            first = row.iloc[0]
            entry.update(
                {
                    "place": _num(first.get("place")),
                    "mean_rank": _num(first.get("mean_rank")),
                    "gain": _num(first.get("delta")),
                    "gain_low": _num(first.get("delta_low")),
                    "gain_high": _num(first.get("delta_high")),
                }
            )
        entry["versus"] = comparisons(versus[key].paired, versus[key].tests["per_cell"].text()) if key in versus else {}
        out[key] = entry
    return out


def comparisons(paired: pd.DataFrame, test: str) -> dict[str, dict[str, Any]]:
    """other method -> per cell: the submission's oriented gain over it, CI, BH-adjusted p and the verdict
    (``paired`` has every other method against the submission, so its gains are negated here); ``test``: the
    description of the per-cell test (``FamilyResult.tests``) the claim states."""
    out: dict[str, dict[str, Any]] = {}
    flip = {"win": "loss", "loss": "win"}
    for other, rows in paired.groupby("method", sort=True) if not paired.empty else []:
        cells = {}
        for r in rows.itertuples():
            cells[f"{r.dataset}/{r.arch}"] = {
                "gain": _num(-r.gain),
                "gain_low": _num(-r.gain_high),
                "gain_high": _num(-r.gain_low),
                "n": int(r.n),
                "p_adjusted": _num(r.p_bh),
                "verdict": flip.get(r.verdict, r.verdict),
            }
        verdicts = [c["verdict"] for c in cells.values()]
        out[other] = {
            "test": test,
            "cells": cells,
            "wins": verdicts.count("win"),
            "ties": verdicts.count("tie") + verdicts.count("identical runs"),
            "losses": verdicts.count("loss"),
        }
    return out


def claim(
    method: str,
    profile: str,
    outcomes: list[StudyOutcome],
    cost_rows: list[Mapping[str, Any]],
    board: Mapping[str, Any] | None = None,
) -> dict:
    """The claim file's content (see the module docstring); ``board``: the method's row on the across-cell
    board (``submission.board.board_entry``)."""
    cls = METHODS.get(method)
    path, shown = method_file(method)
    studies = {}
    for outcome in outcomes:
        mine = submission_rows(outcome)
        studies[outcome.reference.name] = {
            "runs": len(outcome.submission.runs),
            "cells": cell_numbers(mine, outcome.written.keys),
            "ranking": ranking(outcome.written.results, outcome.written.boards, outcome.versus, method),
        }
    return {
        "method": method,
        "citation": cls.citation,
        "url": paper_link(cls.url) or cls.url,
        "profile": profile,
        "method_file": shown,
        "method_sha256": sha256_file(path),
        "studies": studies,
        "overhead": overhead(cost_rows),
        **({"board": dict(board)} if board is not None else {}),
    }


def overhead(cost_rows: list[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The claim's ``overhead``: arch -> the cost row's numbers (submission.json keeps the rows themselves)."""
    return {str(row["arch"]): {k: _num(v) for k, v in row.items() if k != "arch"} for row in cost_rows}


def record_files(outcome: StudyOutcome) -> list[Path]:
    """The submission's record files in the work folder, in run order."""
    status = outcome.records.status.runs
    return [status[spec.run_id].path for spec in outcome.submission.runs]


def json_text(data: Any) -> str:
    """A bundle's JSON file as written (sorted keys, one-space indent, no NaN)."""
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def write_bundle(
    root: Path,
    method: str,
    profile: str,
    outcomes: list[StudyOutcome],
    submission: dict,
    summary_text: str,
    cost_rows: list[Mapping[str, Any]],
    board: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``root/METHOD/`` in one rename (see the module docstring); returns the folder."""
    final = root / method
    check_destination(final)
    content = claim(method, profile, outcomes, cost_rows, board)
    with atomic_folder(final) as folder:
        prints = {}
        for outcome in outcomes:
            target = folder / "records" / outcome.reference.name
            target.mkdir(parents=True, exist_ok=True)
            for path in record_files(outcome):
                shutil.copyfile(path, target / path.name)
                record = outcome.records.status.runs[path.stem].record
                prints[f"{outcome.reference.name}/{path.stem}"] = {
                    "sha256": sha256_file(path),
                    "fingerprint": dict(record.fingerprint),
                }
        texts = {"claim.json": json_text(content), "fingerprints.json": json_text(prints)}
        anchors = {name: hashlib.sha256(text.encode()).hexdigest() for name, text in texts.items()}
        texts["submission.json"] = json_text(
            {"created_by": MARK, **submission, "method_sha256": content["method_sha256"], "file_sha256": anchors}
        )
        for name, text in texts.items():
            (folder / name).write_text(text, encoding="utf-8")
        (folder / "summary.md").write_text(summary_text)
    return final
