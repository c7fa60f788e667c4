"""``submit METHOD --verify``: every way a submission bundle went stale, one ``mismatch:`` line each (issue 27).

A bundle (``submission.bundle``) claims numbers (``claim.json``) that its records (``records/``) give;
``fingerprints.json`` lists each record's sha256, and ``submission.json`` keeps the sha256 of ``claim.json`` and
of ``fingerprints.json`` as ``submit`` wrote them (``file_sha256``), so an edit of either is told apart from a
change of what they describe. ``verify`` runs every check it can, in this order, and names what differs:

1. the method file: absent, or its sha256 not the one ``claim.json`` holds (both digests' first 12 hex);
2. ``fingerprints.json`` edited (its sha256 not submission.json's): each entry added, removed or changed; else,
   against it, each record edited (its bytes' sha256 not the listed one), deleted or added;
3. each record that today's code would not write (stale, failed, corrupt), but those that an edited method
   file makes stale (one note says so);
4. ``claim.json`` against what its evidence gives today: the method, profile, method sha256, overhead and
   studies from ``submission.json``; per study the run count and the method's per-cell mean, SD and count from
   the bundle's records alone (``bundle.cell_numbers``): one line per key path with both values, beginning
   "claim.json was edited" when its sha256 is not submission.json's;
5. per study, the ranking from the study's records and the bundle's (``rederive``:
   ``submission.protocol.rederiver``): when the bundle's side is intact, a difference means the study's
   records changed underneath (one line naming their folder and the first differing value);
6. when everything above agrees (or only claim.json was edited), the method's row on the across-cell board
   (claim.json's ``board``; ``board``: ``cli.submit_cmd.board_rederiver``, the board's own function beside the
   bundles the claim names): one line per differing value.

A check that cannot run because an earlier one failed (a study's numbers when its records are stale or not the
listed ones) is one ``not checked:`` note instead; nothing raises on an edited bundle.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contracts import ContractError
from ..paths import project_root
from ..records.table import RecordSet, load_records
from .bundle import cell_numbers, overhead, ranking, sha256_file
from .protocol import Rederived

Rederive = Callable[[str, str, Path], Rederived | str]
BoardRederive = Callable[[Mapping[str, Any]], Mapping[str, Any] | str | None]
_ABSENT = object()


@dataclass
class Findings:
    """What ``verify`` found: ``mismatches`` (each one ``mismatch:`` line, exit 1) and ``notes`` (what was or
    could not be checked)."""

    mismatches: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    blocked: dict[str, list[str]] = field(default_factory=dict)  # why a study's numbers are not checked -> studies

    def block(self, study: str, why: str) -> None:
        self.blocked.setdefault(why, []).append(study)


def short(digest: Any) -> str:
    """A digest's first 12 hex digits, as the lines show it."""
    return str(digest)[:12] if digest else "none"


def shown(value: Any) -> str:
    return "absent" if value is _ABSENT else repr(value)


def relative(path: Path) -> str:
    """``path`` relative to the project when inside it."""
    try:
        return str(Path(path).resolve().relative_to(project_root()))
    except ValueError:
        return str(path)


def read_json(path: Path) -> tuple[Any, str]:
    """(the parsed JSON object, "") or (None, why it cannot be read)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "absent"
    except (OSError, ValueError) as exc:
        return None, f"unreadable ({exc})"
    return (data, "") if isinstance(data, dict) else (None, "not a JSON object")


def edited(folder: Path, submission: Mapping[str, Any], name: str) -> str:
    """ "" when ``folder/name`` is as submit wrote it (or submission.json predates ``file_sha256``), else both
    digests."""
    anchors = submission.get("file_sha256")
    listed = anchors.get(name) if isinstance(anchors, dict) else None
    now = sha256_file(folder / name) if listed else listed
    return "" if now == listed else f"sha256 {short(listed)} in submission.json, {short(now)} now"


def differences(where: str, claimed: Any, derived: Any) -> Iterator[tuple[str, Any, Any]]:
    """(key path, claimed, derived) of every leaf where ``claimed`` and ``derived`` differ (floats: 1e-9
    relative)."""
    if isinstance(claimed, dict) and isinstance(derived, dict):
        for key in sorted(set(claimed) | set(derived)):
            yield from differences(f"{where}.{key}", claimed.get(key, _ABSENT), derived.get(key, _ABSENT))
        return
    if isinstance(claimed, float) and isinstance(derived, float):
        if not math.isclose(claimed, derived, rel_tol=1e-9, abs_tol=1e-12):
            yield where, claimed, derived
        return
    if claimed != derived:
        yield (
            where,
            ("{...}" if isinstance(claimed, dict) else claimed),
            ("{...}" if isinstance(derived, dict) else derived),
        )


def claim_lines(prefix: str, where: str, claimed: Any, derived: Any, source: str = "the records give") -> list[str]:
    """One line per key path where claim.json's ``claimed`` differs from ``derived`` (what ``source`` gives)."""
    return [
        f"{prefix}{path}: claimed {shown(a)}, {source} {shown(b)}"
        for path, a, b in differences(where, claimed, derived)
    ]


def method_lines(content: Mapping[str, Any]) -> tuple[list[str], str]:
    """(the method file's mismatch, the file as shown when it changed, else "")."""
    name, claimed = content.get("method_file"), content.get("method_sha256")
    if not isinstance(name, str):
        return ["claim.json: method_file is absent, so the method file cannot be checked"], "the method file"
    path = project_root() / name
    if not path.is_file():
        return [f"{name} is absent (claim.json's method_file)"], name
    now = sha256_file(path)
    if now != claimed:
        return [
            f"{name} changed since the bundle was made: sha256 {short(claimed)} in claim.json, {short(now)} now "
            "(run submit again)"
        ], name
    return [], ""


def record_lines(folder: Path, prints: Mapping[str, Any], prints_edit: str) -> tuple[list[str], set[str]]:
    """(one line per record that is not as ``fingerprints.json`` lists it, the studies whose set of records is not
    the listed one). With ``prints_edit`` the difference is an edit of fingerprints.json, else of the records."""
    files = {f"{p.parent.name}/{p.stem}": p for p in sorted((folder / "records").glob("*/*.json"))}
    lines: list[str] = []
    incomplete: set[str] = set()
    edit = "fingerprints.json was edited: entry"
    for key in sorted(set(files) | set(prints)):
        rel, entry = f"records/{key}.json", prints.get(key)
        if key not in files or entry is None:
            incomplete.add(key.split("/", 1)[0])
        if entry is None:
            lines.append(
                f"{edit} {key} removed ({rel} is in the bundle)"
                if prints_edit
                else f"{rel} was added: fingerprints.json does not list it"
            )
        elif key not in files:
            lines.append(
                f"{edit} {key} added (the bundle has no {rel})"
                if prints_edit
                else f"{rel} was deleted: fingerprints.json lists it"
            )
        else:
            lines += entry_lines(key, files[key], entry if isinstance(entry, dict) else {}, edit if prints_edit else "")
    if prints_edit and not lines:
        lines.append(f"fingerprints.json was edited ({prints_edit}); every entry still matches its record")
    return lines, incomplete


def entry_lines(key: str, path: Path, entry: Mapping[str, Any], edit: str) -> list[str]:
    """The record ``key`` (at ``path``) against its fingerprints.json ``entry``: its bytes' sha256, then its code
    fingerprint; ``edit``: the line's beginning when fingerprints.json was edited ("" when the record was)."""
    rel, listed, now = f"records/{key}.json", entry.get("sha256"), sha256_file(path)
    if listed != now:
        if edit:
            return [f"{edit} {key} changed: sha256 {short(listed)}, the bytes of {rel} give {short(now)}"]
        return [f"{rel} was edited: its sha256 is {short(now)}, fingerprints.json lists {short(listed)}"]
    record, _ = read_json(path)
    own = record.get("fingerprint") if record else None
    theirs, own = (x if isinstance(x, dict) else {} for x in (entry.get("fingerprint"), own))
    parts = sorted(k for k in set(theirs) | set(own) if theirs.get(k) != own.get(k))
    if parts:
        first = f"{edit} {key} changed" if edit else f"fingerprints.json: entry {key}"
        return [f"{first}: fingerprint.{', fingerprint.'.join(parts)} differs from {rel}'s"]
    return []


def stale_part(run_problem: str, method_file: str) -> bool:
    """True when an edited method file explains why a record is stale."""
    return bool(method_file) and (run_problem == "code changed: method" or run_problem.startswith("code gone"))


def study_records(folder: Path, study: str, method_file: str, found: Findings) -> RecordSet | None:
    """The bundle's records of ``study`` when all are current (else None, with a line per record today's code
    would not write, or a note when the edited method file explains it)."""
    records = load_records(folder / "records" / study)
    bad = {rid: run for rid, run in records.status.runs.items() if run.state != "done"}
    explained = [rid for rid, run in bad.items() if run.state == "stale" and stale_part(run.problem, method_file)]
    found.mismatches += [
        f"records/{study}/{rid}.json is {run.state}: {run.problem}" for rid, run in bad.items() if rid not in explained
    ]
    if explained:
        found.block(study, f"their records are stale against today's {method_file}, which changed")
    elif bad:
        found.block(study, "their records are not current (named above)")
    return None if bad else records


def check_study(study: str, entry: Mapping[str, Any], records: RecordSet, claim_edit: str, found: Findings) -> bool:
    """``claim.json``'s run count and per-cell numbers of ``study`` against its records; True when they agree."""
    prefix = "claim.json was edited: " if claim_edit else "claim.json "
    before = len(found.mismatches)
    found.mismatches += claim_lines(
        prefix, f"studies.{study}.runs", entry.get("runs", _ABSENT), len(records.status.runs)
    )
    cells = entry.get("cells")
    cells = cells if isinstance(cells, dict) else {}
    for key in sorted(cells):
        try:
            derived = cell_numbers(records.done(), [key])[key]
        except (ValueError, KeyError) as exc:
            found.mismatches.append(f"{prefix}studies.{study}.cells.{key}: the records give no such scores ({exc})")
            continue
        found.mismatches += claim_lines(prefix, f"studies.{study}.cells.{key}", cells[key], derived)
    return len(found.mismatches) == before


def attempt(call: Callable[[], Any], found: Findings, failed: str, skipped: str) -> tuple[bool, Any]:
    """(True, what ``call`` re-derived), or (False, None) with a note: ``failed: why`` on a ContractError,
    ``skipped: why`` when it returned why it could not."""
    try:
        out = call()
    except ContractError as exc:
        found.notes.append(f"{failed}: {exc}")
        return False, None
    if isinstance(out, str):
        found.notes.append(f"{skipped}: {out}")
        return False, None
    return True, out


def check_ranking(
    study: str,
    entry: Mapping[str, Any],
    content: Mapping[str, Any],
    rederive: Rederive,
    folder: Path,
    why: str,
    found: Findings,
) -> None:
    """The ranking of ``study`` re-derived; ``why``: "claim" when claim.json was edited (one line per value),
    "bundle" when the bundle's records or numbers differ (one line), "" when only the study's records can explain
    a difference (one line naming them)."""
    done, inputs = attempt(
        lambda: rederive(study, str(content.get("profile")), folder / "records" / study),
        found,
        f"not checked: the ranking of study {study}",
        f"study {study}: ranking not re-derived",
    )
    if not done:
        return
    derived = json.loads(json.dumps(ranking(inputs.results, inputs.boards, inputs.versus, str(content.get("method")))))
    where = f"studies.{study}.ranking"
    diffs = list(differences(where, entry.get("ranking", _ABSENT), derived))
    found.notes.append(f"study {study}: ranking re-derived from the study's records and the bundle's")
    if not diffs:
        return
    if why == "claim":
        found.mismatches += claim_lines("claim.json was edited: ", where, entry.get("ranking", _ABSENT), derived)
        return
    path, a, b = diffs[0]
    first = f"{len(diffs)} value(s) differ, first {path}: claimed {shown(a)}, the records give {shown(b)}"
    if why == "bundle":
        found.mismatches.append(f"claim.json {where}: {first}")
    else:
        sources = ", ".join(relative(p) for p in inputs.sources) or "its records"
        found.mismatches.append(f"study {study}: {sources} no longer gives the ranking claim.json states ({first})")


def header_lines(content: Mapping[str, Any], submission: Mapping[str, Any], prefix: str) -> list[str]:
    """claim.json's method, profile, method sha256, overhead and study names against what submission.json
    holds of them."""
    derived = {key: submission[key] for key in ("method", "profile", "method_sha256") if key in submission}
    try:
        if "cost" in submission:
            derived["overhead"] = overhead(submission["cost"])
        if "studies" in submission:
            derived["studies"] = sorted(submission["studies"])
    except (KeyError, TypeError, AttributeError) as exc:
        return [f"submission.json: its cost rows or studies are malformed ({exc!r})"]
    claimed = {key: content.get(key, _ABSENT) for key in derived}
    if isinstance(claimed.get("studies"), dict):
        claimed["studies"] = sorted(claimed["studies"])
    return [
        line
        for key in derived
        for line in claim_lines(prefix, key, claimed[key], derived[key], "submission.json gives")
    ]


def check_board(content: Mapping[str, Any], board: BoardRederive, claim_edit: str, found: Findings) -> None:
    """claim.json's ``board`` against the board re-derived (check 6 of the module docstring)."""
    done, derived = attempt(lambda: board(content), found, "not checked: the board entry", "board: not re-derived")
    if not done:
        return
    found.notes.append("board: the method's row re-derived by the board's function beside the same bundles")
    prefix = "claim.json was edited: " if claim_edit else "claim.json "
    derived = json.loads(json.dumps(derived)) if derived is not None else _ABSENT
    found.mismatches += claim_lines(prefix, "board", content.get("board", _ABSENT), derived, "the board gives")


def verify(
    folder: Path, rederive: Rederive | None = None, board: BoardRederive | None = None
) -> tuple[list[str], list[str]]:
    """(every way the bundle in ``folder`` went stale, one line each; notes) — the checks of the module docstring.
    ``rederive(study, profile, records folder)``: the statistics of the study's records with the bundle's, or a
    note saying why they cannot be had."""
    found = Findings()
    content, why = read_json(folder / "claim.json")
    if content is None:
        return [f"claim.json is {why}"], ["not checked: anything else (claim.json names the method and its studies)"]
    submission, why = read_json(folder / "submission.json")
    if submission is None:
        found.mismatches.append(f"submission.json is {why}")
        submission = {}
    lines, method_file = method_lines(content)
    found.mismatches += lines
    prints, why = read_json(folder / "fingerprints.json")
    incomplete: set[str] = set()
    if prints is None:
        found.mismatches.append(f"fingerprints.json is {why}")
        found.notes.append("not checked: the records against fingerprints.json")
    else:
        lines, incomplete = record_lines(folder, prints, edited(folder, submission, "fingerprints.json"))
        found.mismatches += lines
    claim_edit = edited(folder, submission, "claim.json")
    prefix = "claim.json was edited: " if claim_edit else "claim.json "
    studies = content.get("studies")
    studies = studies if isinstance(studies, dict) else {}
    found.mismatches += header_lines(content, submission, prefix)
    for study in sorted(studies):
        entry = studies[study] if isinstance(studies[study], dict) else {}
        if study in incomplete:
            found.block(study, "their records are not the ones fingerprints.json lists")
            continue
        if not (folder / "records" / study).is_dir():
            found.mismatches.append(f"{prefix}studies.{study}: the bundle has no records/{study}/")
            continue
        records = study_records(folder, study, method_file, found)
        if records is None:
            continue
        agree = check_study(study, entry, records, claim_edit, found)
        if rederive is not None:
            intact = agree and not any(f"records/{study}/" in line for line in found.mismatches)
            cause = "claim" if claim_edit else ("" if intact else "bundle")
            check_ranking(study, entry, content, rederive, folder, cause, found)
    edits_only = bool(claim_edit) and all(line.startswith(prefix) for line in found.mismatches)
    if board is not None and not found.blocked and (not found.mismatches or edits_only):
        check_board(content, board, claim_edit, found)
    if claim_edit and not any(line.startswith(prefix) for line in found.mismatches):
        found.mismatches.append(f"claim.json was edited since submit wrote it ({claim_edit})")
    for reason, names in found.blocked.items():
        found.notes.append(f"not checked: claim.json's numbers of {', '.join(names)}: {reason}")
    return found.mismatches, found.notes
