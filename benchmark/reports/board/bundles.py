"""The accepted submissions on the across-cell board (issue 24 item 4, issue 27 item 4): each bundle
``results/submissions/METHOD/`` whose claim is current (the leaderboard's own rules, ``leaderboard.submissions``:
its method file present and unchanged, its profile the board's) adds its records to the board's, as one more row
of kind ``submission`` with its re-run mark (``verification.json``); the others are listed apart with why, never
ranked. Its runs are the bundle's records (``records/STUDY/``), paired by seed with the study's ERM in each cell."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ...records.table import load_records
from ..leaderboard.submissions import read_claim, rerun_mark, staleness

KIND = "submission"


@dataclass
class Bundles:
    """The current bundles' records as board frames (a ``study`` column), each one's re-run mark, and the bundles
    listed apart (method -> why)."""

    runs: list[pd.DataFrame] = field(default_factory=list)
    scores: list[pd.DataFrame] = field(default_factory=list)
    reruns: dict[str, str] = field(default_factory=dict)
    apart: dict[str, str] = field(default_factory=dict)

    def add(
        self, method: str, records: Mapping[str, Path], rerun: str = "", ids: Collection[str] | None = None
    ) -> None:
        """The records of ``method`` (study -> its folder of records; ``ids``: only those runs) as a board row."""
        for study, path in records.items():
            found = load_records(path)
            for frames, frame in ((self.runs, found.runs), (self.scores, found.scores)):
                keep = (frame["method"] == method) & (frame["run_id"].isin(ids) if ids is not None else True)
                frames.append(frame[keep].assign(study=study))
        self.reruns[method] = rerun


def read_bundles(
    folder: Path | None,
    studies: Collection[str],
    profile: str,
    root: Path,
    *,
    skip: Collection[str] = (),
    only: Collection[str] | None = None,
) -> Bundles:
    """The bundles under ``folder`` (None or absent: none) for a board of ``studies`` at ``profile``; ``skip``:
    methods left out (``submit`` ranks its own new records instead), ``only``: when given, the methods read."""
    out = Bundles()
    subs = sorted(p for p in Path(folder).iterdir() if p.is_dir()) if folder and Path(folder).is_dir() else []
    for sub in subs:
        if not (sub / "claim.json").is_file() or sub.name in skip or (only is not None and sub.name not in only):
            continue
        try:
            claim = read_claim(sub)
        except ValueError as exc:
            out.apart[sub.name] = str(exc)
            continue
        method = str(claim.get("method") or sub.name)
        why = staleness(claim, root)
        if not why and claim.get("profile") != profile:
            why = f"profile {claim.get('profile')}, the board's {profile}: not comparable, not ranked"
        if why:
            out.apart[method] = why
            continue
        out.add(method, {s: sub / "records" / s for s in studies if (sub / "records" / s).is_dir()}, rerun_mark(sub))
    return out
