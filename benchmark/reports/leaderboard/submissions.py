"""The accepted submissions' rows of the leaderboard page, from ``results/submissions/METHOD/claim.json``.

A claim (``python -m benchmark submit``; ``submission.bundle``) is read tolerantly: its headline
family's entry under ``ranking`` (or ``families``), its mean (or the mean of its per-cell means over
the cells every method of the study has), its comparison with the baseline (per-cell verdicts, or one
test). Its overhead comes from the profile stage's file (``results/profiles/PROFILE.json``, the claim's
profile), which times every registered method, accepted submissions included, in one run on one machine;
only a method that file lacks shows the claim's own cost, marked "not re-measured". A claim whose method file is absent or has changed since (sha256)
is *stale*: shown greyed, never ranked; a claim at another profile than a study's statistics is
listed apart; an unreadable claim is named. The bundle's ``verification.json`` (``submit --verify --rerun K``)
gives the row its re-run mark (``rerun_mark``: read from the file, nothing is trained; the file is written by
``submission.rerun``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...records.profiles import Overhead, load_overheads
from ..formatting import num, pval
from .rows import (
    DOWN,
    SAME,
    UP,
    Link,
    Marker,
    OverheadCell,
    Row,
    Score,
    StudyInfo,
    cell_marker,
    count,
    link_of,
    number,
    verdict_word,
)

VERIFICATION = "verification.json"  # a bundle's sentinel re-run (``submission.rerun``), beside claim.json
DIGESTED = ("claim.json", "fingerprints.json")  # what ``bundle_digest`` pins (the records through their sha256)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bundle_digest(folder: Path) -> str:
    """sha256 over ``claim.json`` and ``fingerprints.json`` (each name, a NUL, its bytes): the bundle's
    identity (``fingerprints.json`` holds every record's sha256)."""
    digest = hashlib.sha256()
    for name in DIGESTED:
        digest.update(name.encode() + b"\0" + (Path(folder) / name).read_bytes())
    return digest.hexdigest()


def rerun_mark(folder: Path) -> str:
    """The leaderboard's mark of the bundle in ``folder`` from its ``verification.json``: "re-run: J/K
    identical", "re-run: outdated ..." when the bundle changed since, or "" without a re-run."""
    path = Path(folder) / VERIFICATION
    if not path.is_file():
        return ""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))["rerun"]
        verdict, digest = str(entry["verdict"]), str(entry["bundle_sha256"])
        current = bundle_digest(folder)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"re-run: unreadable {VERIFICATION} ({type(exc).__name__})"
    return verdict if digest == current else "re-run: outdated (the bundle changed since; re-run again)"


def staleness(claim: Mapping[str, Any], root: Path) -> str:
    """Why a claim no longer describes the method file ("" when current)."""
    file, digest = claim.get("method_file"), claim.get("method_sha256")
    if not isinstance(file, str) or not file or not isinstance(digest, str) or not digest:
        return "stale: the claim names no method file and hash"
    path = Path(root) / file
    if not path.is_file():
        return f"stale: {file} is absent"
    actual = sha256(path)
    if actual != digest.lower():
        return f"stale: {file} changed since the claim (sha256 {actual[:12]}…, claimed {digest[:12]}…); resubmit"
    return ""


def claim_marker(versus: Any, alpha: float) -> Marker:
    """A submission's marker from its claim's comparison with the baseline, under the claim's own test: per cell
    verdicts (``cells: {CELL: {gain, p_adjusted, verdict}}``, the per-cell rule) or one test (``p_holm``,
    ``significant``, ``better``)."""
    if not isinstance(versus, Mapping):
        return Marker("", "the claim reports no comparison with the baseline")
    test = str(versus.get("test") or "test not named")
    cells = versus.get("cells")
    if isinstance(cells, Mapping):
        rows = [c for c in cells.values() if isinstance(c, Mapping)]
        lines = [
            f"{cell}: Δ = {num(number(c.get('gain')))}, p_adjusted = {pval(number(c.get('p_adjusted')))}: "
            f"{verdict_word(c)}."
            for cell, c in sorted(cells.items())
            if isinstance(c, Mapping)
        ]
        return Marker(cell_marker(rows), "\n".join([f"From the claim: {test}, α = {alpha:g}.", *lines]))
    symbol = ""
    if versus.get("significant") is True:
        symbol = UP if versus.get("better") is True else DOWN
    elif versus.get("equivalent") is True:
        symbol = SAME
    return Marker(
        symbol,
        f"From the claim: {test}, α = {alpha:g}: p_Holm = {pval(number(versus.get('p_holm')))}"
        + (": better" if symbol == UP else ": worse" if symbol == DOWN else ": not separated")
        + ".",
    )


def claim_mean(study: Mapping[str, Any], fam: Mapping[str, Any], info: StudyInfo) -> float | None:
    """The claim's ``mean``, else the mean of its per-cell means (``cells: {FAMILY: {"DATASET/ARCH": {mean}}}``)
    over the cells every method of the study has, as for the study's methods."""
    if number(fam.get("mean")) is not None:
        return number(fam.get("mean"))
    cells = (study.get("cells") or {}).get(info.family) or {}
    means = [number((cells.get(f"{d}/{a}") or {}).get("mean")) for d, a in info.cells]
    means = [m for m in means if m is not None]
    return sum(means) / len(means) if means else None


def claim_scores(claim: Mapping[str, Any], infos: list[StudyInfo]) -> dict[str, Score]:
    """Study -> the headline numbers of a claim: its ``ranking`` (or ``families``) entry of the headline family."""
    out = {}
    for info in infos:
        study = (claim.get("studies") or {}).get(info.name)
        if not isinstance(study, Mapping):
            continue
        fam = next(
            (
                f
                for f in ((study.get(k) or {}).get(info.family) for k in ("ranking", "families"))
                if isinstance(f, Mapping)
            ),
            None,
        )
        if fam is None:
            continue
        out[info.name] = Score(
            mean=claim_mean(study, fam, info),
            mean_rank=number(fam.get("mean_rank")),
            place=count(fam.get("place")),
            of=count(fam.get("of")),
            delta=number(fam.get("gain")),
            low=number(fam.get("gain_low")),
            high=number(fam.get("gain_high")),
            marker=claim_marker((fam.get("versus") or {}).get(info.baseline), info.alpha),
        )
    return out


def claim_costs(
    claim: Mapping[str, Any], archs: list[str], profiled: Mapping[tuple[str, str], Overhead] | None = None
) -> dict[str, OverheadCell]:
    """A submission's overhead cell per architecture: from the profile stage's file when it timed the method
    (``profiled``: (method, arch) -> its ratio to ERM, measured in the same run as every study method), else
    the claim's own measurement, marked "cost from the bundle (not re-measured)"."""
    method = str(claim.get("method") or "")
    out = {}
    for arch in archs:
        o = (profiled or {}).get((method, arch))
        if o is not None:
            out[arch] = OverheadCell(
                o.text(),
                o.ratio,
                f"re-measured by the profile stage on {arch}, in the same run as every method of the page: median "
                f"training-step time over ERM's, bootstrap 95% CI; the declared cost predicts {o.theoretical:.2f}×; "
                f"results/profiles/{o.source}",
            )
            continue
        entry = (claim.get("overhead") or {}).get(arch)
        out[arch] = (
            bundle_cost(entry, arch)
            if isinstance(entry, Mapping)
            else OverheadCell(
                "not profiled", None, f"the claim has no overhead on {arch} and the profile stage has not timed it"
            )
        )
    return out


def bundle_cost(entry: Mapping[str, Any], arch: str) -> OverheadCell:
    """The overhead cell of a claim's own cost on ``arch`` (``submission.cost``: measured [low, high] or unreliable)."""
    measured, declared = number(entry.get("measured")), number(entry.get("declared"))
    low, high = number(entry.get("measured_low")), number(entry.get("measured_high"))
    note = f"cost from the bundle (not re-measured): measured by submit on {arch}"
    if declared is not None:
        note += f"; declared {declared:.2f}×"
    if measured is None:
        why = str(entry.get("unreliable") or "no number")
        return OverheadCell("unreliable (not re-measured)", None, f"{note}; unreliable: {why}")
    ci = f" [{low:.2f}, {high:.2f}]" if low is not None and high is not None else ""
    return OverheadCell(f"{measured:.2f}×{ci} (not re-measured)", measured, note)


def read_claim(folder: Path) -> dict[str, Any]:
    """``folder/claim.json`` as a dict; ValueError saying why not."""
    try:
        claim = json.loads((folder / "claim.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{folder.name}/claim.json: unreadable ({type(exc).__name__}: {exc})") from exc
    if not isinstance(claim, dict):
        raise ValueError(f"{folder.name}/claim.json: not a JSON object")
    return claim


def submission_row(
    claim: Mapping[str, Any],
    folder: Path,
    infos: list[StudyInfo],
    archs: list[str],
    root: Path,
    link: Link,
    profiles: Path | None = None,
) -> Row:
    method = str(claim.get("method") or folder.name)
    profile = str(claim.get("profile") or "unknown")
    url = claim.get("url")
    row = Row(
        method,
        (link_of(url) if isinstance(url, str) else None) or link(method),
        claim_scores(claim, infos),
        claim_costs(claim, archs, load_overheads(profiles, profile).found if profiles is not None else None),
        kind="submission",
        profile=profile,
        rerun=rerun_mark(folder),
    )
    other = [i.name for i in infos if i.profile != profile]
    row.note = staleness(claim, root) or (
        f"profile {profile}, statistics of {', '.join(other)} at profile "
        f"{', '.join(sorted({i.profile for i in infos if i.name in other}))}: not comparable, not ranked"
        if other
        else ""
    )
    return row


def submissions(
    folder: Path, infos: list[StudyInfo], archs: list[str], root: Path, link: Link, profiles: Path | None = None
) -> tuple[list[Row], list[Row], list[Row], list[str]]:
    """(current rows, stale rows, rows at another profile, problems) of ``folder/METHOD/claim.json``; the
    overheads come from ``profiles`` (default: the ``profiles`` folder beside ``folder``, i.e.
    ``results/profiles``) where the profile stage timed the method (``claim_costs``)."""
    profiles = Path(folder).parent / "profiles" if profiles is None else profiles
    current, stale, apart, problems = [], [], [], []
    folders = sorted(p for p in Path(folder).iterdir() if p.is_dir()) if Path(folder).is_dir() else []
    for sub in folders:
        if not (sub / "claim.json").exists():
            continue
        try:
            claim = read_claim(sub)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        row = submission_row(claim, sub, infos, archs, root, link, profiles)
        (stale if row.note.startswith("stale") else apart if row.note else current).append(row)
    return current, stale, apart, problems
