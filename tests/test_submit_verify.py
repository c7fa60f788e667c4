"""``submit METHOD --verify`` names every way a bundle goes stale (issue 27 item 1; ``benchmark.submission.verify``).

One real bundle, made once per session as CONTRIBUTING.md makes it, on the ``faces`` study alone (conftest.py's
``faces_submission``: tests/tiny_submission.py), copied for this module. Each test copies the bundle, makes it
stale in one way and runs ``--verify`` on the copy: exit 1, the exact ``mismatch:`` line(s) on stderr, no
traceback. The commands run in one helper process of the copy (``tiny_submission.Commands``, as ``python -m
benchmark``); the real exit path of ``--verify`` runs in tests/test_contributing.py (the guide's ``--rerun`` check).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_contributing import WORK_RUNS
from tiny_submission import STUDY, Commands

CELL = "toy_faces[test_size=96,train_size=96,val_size=64]/gap_cnn"


@dataclass(frozen=True)
class Made:
    """The project copy with ``methods/hint.py``, its commands and the bundle ``submit`` wrote there."""

    project: Path
    run: Commands
    bundle: Path

    def verify(self, bundle: Path, *extra: str) -> subprocess.CompletedProcess:
        """``submit hint --verify`` on ``bundle`` (a copy under another submissions root)."""
        return self.run("submit", "hint", "--verify", "--submissions", str(bundle.parent), "--quiet", *extra)

    def copy(self, tmp: Path) -> Path:
        return shutil.copytree(self.bundle, tmp / "submissions" / "hint")


@pytest.fixture(scope="module")
def made(faces_submission, tmp_path_factory) -> Iterator[Made]:
    tmp = tmp_path_factory.mktemp("verify")
    project = shutil.copytree(faces_submission, tmp / "project", symlinks=True)
    run = Commands(project, tmp)
    try:
        yield Made(project, run, project / "results" / "submissions" / "hint")
    finally:
        run.close()


def mismatches(done: subprocess.CompletedProcess) -> list[str]:
    """The ``mismatch:`` lines, after checking exit 1, no traceback and the closing count."""
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("mismatch: ")]
    assert f"hint: {len(lines)} mismatch(es)" in done.stdout, done.stdout + done.stderr
    return lines


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def records(bundle: Path) -> list[Path]:
    return sorted((bundle / "records" / STUDY).glob("*.json"))


def rewrite(path: Path, change) -> None:
    """Parse the JSON file at ``path``, ``change`` it in place, write it back as the bundle writes JSON."""
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def test_an_edited_record_is_named_with_both_digests(made, tmp_path):
    bundle = made.copy(tmp_path)
    record = records(bundle)[0]
    listed = sha(record)
    rewrite(record, lambda data: data["metrics"]["train"].update(loss=0.125))  # a number the claim does not read
    assert mismatches(made.verify(bundle)) == [
        f"mismatch: records/{STUDY}/{record.stem}.json was edited: its sha256 is {sha(record)[:12]}, "
        f"fingerprints.json lists {listed[:12]}"
    ]


def test_a_deleted_record_is_named_and_the_studys_numbers_are_not_rederived(made, tmp_path):
    bundle = made.copy(tmp_path)
    record = records(bundle)[1]
    record.unlink()
    done = made.verify(bundle)
    assert mismatches(done) == [f"mismatch: records/{STUDY}/{record.stem}.json was deleted: fingerprints.json lists it"]
    assert (
        f"not checked: claim.json's numbers of {STUDY}: their records are not the ones fingerprints.json lists"
        in done.stdout.splitlines()
    )


def test_an_edited_fingerprint_file_names_each_entry_added_removed_or_changed(made, tmp_path):
    bundle = made.copy(tmp_path)
    first, second, _ = records(bundle)
    keys = [f"{STUDY}/{p.stem}" for p in (first, second)]

    def edit(prints: dict) -> None:
        prints[f"{STUDY}/0000000000000000"] = dict(prints[keys[0]])
        del prints[keys[0]]
        prints[keys[1]]["sha256"] = "0" * 64

    rewrite(bundle / "fingerprints.json", edit)
    edited = "mismatch: fingerprints.json was edited: entry"
    assert mismatches(made.verify(bundle)) == [
        f"{edited} {STUDY}/0000000000000000 added (the bundle has no records/{STUDY}/0000000000000000.json)",
        f"{edited} {keys[0]} removed (records/{keys[0]}.json is in the bundle)",
        f"{edited} {keys[1]} changed: sha256 000000000000, the bytes of records/{keys[1]}.json give {sha(second)[:12]}",
    ]


def test_an_edited_claim_names_the_key_path_and_both_values(made, tmp_path):
    bundle = made.copy(tmp_path)
    claimed = json.loads((bundle / "claim.json").read_text())["studies"][STUDY]["cells"]["test_closed/accuracy"]
    rewrite(
        bundle / "claim.json", lambda c: c["studies"][STUDY]["cells"]["test_closed/accuracy"][CELL].update(mean=0.9)
    )
    assert mismatches(made.verify(bundle)) == [
        f"mismatch: claim.json was edited: studies.{STUDY}.cells.test_closed/accuracy.{CELL}.mean: claimed 0.9, "
        f"the records give {claimed[CELL]['mean']!r}"
    ]


def test_study_records_changed_underneath_name_their_folder(made, tmp_path):
    bundle = made.copy(tmp_path)
    runs = tmp_path / "runs" / STUDY
    runs.mkdir(parents=True)
    work = made.project / WORK_RUNS / STUDY
    mine = {p.name for p in records(bundle)}
    study = [shutil.copy(p, runs / p.name) for p in sorted(work.glob("*.json")) if p.name not in mine]
    assert len(study) == 6  # erm and cyborg, 3 seeds
    erm = next(Path(p) for p in study if json.loads(Path(p).read_text())["config"]["method"] == "erm")
    rewrite(erm, lambda data: data["metrics"]["test_closed"].update(accuracy=0.75))
    (line,) = mismatches(made.verify(bundle, "--runs", str(tmp_path / "runs")))
    pattern = (
        rf"mismatch: study {STUDY}: {re.escape(str(runs))} no longer gives the ranking claim\.json states "
        rf"\(\d+ value\(s\) differ, first studies\.{STUDY}\.ranking\.test_closed/accuracy\.\S+: claimed \S+, "
        r"the records give \S+\)"
    )
    assert re.fullmatch(pattern, line), line


def test_an_edited_method_file_is_named_and_the_rest_still_checked(made, tmp_path):
    bundle = made.copy(tmp_path)
    method = made.project / "methods" / "hint.py"
    original = method.read_text()
    claimed = sha(method)
    record = records(bundle)[0]
    listed = sha(record)
    rewrite(record, lambda data: data["metrics"]["train"].update(loss=0.125))  # a second staleness, reported too
    try:
        method.write_text(original + "# a comment\n")  # what the issue did: a traceback, naming nothing
        done = made.verify(bundle)
        now = sha(method)
    finally:
        method.write_text(original)
    assert mismatches(done) == [
        f"mismatch: methods/hint.py changed since the bundle was made: sha256 {claimed[:12]} in claim.json, "
        f"{now[:12]} now (run submit again)",
        f"mismatch: records/{STUDY}/{record.stem}.json was edited: its sha256 is {sha(record)[:12]}, "
        f"fingerprints.json lists {listed[:12]}",
    ]
    note = f"not checked: claim.json's numbers of {STUDY}: their records are stale against today's methods/hint.py"
    assert f"{note}, which changed" in done.stdout.splitlines(), done.stdout


def test_an_edited_board_entry_is_named_against_the_board(made, tmp_path):
    """claim.json's ``board`` (issue 27 item 4) is re-derived by the board's own function: at ``tiny`` the grid is
    not trained, so the entry is its reason, and an edit of it is named with both values."""
    bundle = made.copy(tmp_path)
    board = json.loads((bundle / "claim.json").read_text())["board"]
    assert board["reason"].startswith("no board at profile tiny") and "place" not in board
    rewrite(bundle / "claim.json", lambda c: c["board"].update(reason="ranked first"))
    assert mismatches(made.verify(bundle)) == [
        f"mismatch: claim.json was edited: board.reason: claimed 'ranked first', the board gives {board['reason']!r}"
    ]
