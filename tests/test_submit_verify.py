"""``submit METHOD --verify`` names every way a bundle goes stale (issue 27 item 1; ``benchmark.submission.verify``).

One real bundle, made once for the module as CONTRIBUTING.md makes it: the guide's ``methods/hint.py`` in a copy
of the project (tests/test_contributing.py's helpers), ``submit hint --profile tiny``, with ``leaderboard:`` cut
to the ``faces`` study so that it takes seconds (its 6 reference runs and the 3 of hint train in the submission's
work folder). Each test copies the bundle, makes it stale in one way and runs ``--verify`` on the copy: exit 1,
the exact ``mismatch:`` line(s) on stderr, no traceback.

The commands run in one helper process of the copy (``Commands``: ``benchmark.cli.main``, what ``python -m
benchmark`` calls, with the copy's ``benchmark`` package as that does), which pays the imports once instead of
about 5 s per command; the real exit path of ``--verify`` runs in tests/test_contributing.py (the guide's
``--rerun`` check). The bundle's cost check measures fewer rounds (``CHEAP_COST``): nothing here reads its numbers.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_contributing import copy_project, environment, guide_blocks

STUDY = "faces"
CELL = "toy_faces[test_size=96,train_size=96,val_size=64]/gap_cnn"


# The helper process: each stdin line a JSON argv, answered by one line [exit code, stdout, stderr]. A traceback
# goes to the command's stderr, as in `python -m benchmark`.
HELPER = """
import contextlib, functools, io, json, sys, traceback
from benchmark.cli import main
from benchmark.submission import checks
from benchmark.submission.cost import CostSettings
cheap = CostSettings(batch_size=16, rounds=3, max_rounds=3, max_half_width=float("inf"), min_run_time=0.01, unit_rounds=1)
checks.run_checks = functools.partial(checks.run_checks, cost_settings=cheap)
for line in sys.stdin:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(json.loads(line))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception:
            traceback.print_exc()
            code = 1
    print(json.dumps([code, out.getvalue(), err.getvalue()]), flush=True)
"""


class Commands:
    """``python -m benchmark ARGS`` in ``project``, answered by one long-lived helper process (``HELPER``)."""

    def __init__(self, project: Path, env: dict):
        command = [sys.executable, "-c", HELPER]
        self.process = subprocess.Popen(
            command, cwd=project, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def __call__(self, *args: str) -> subprocess.CompletedProcess:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(args) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, f"the helper process ended (exit {self.process.wait()})"
        code, out, err = json.loads(answer)
        return subprocess.CompletedProcess(["python", "-m", "benchmark", *args], code, out, err)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


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
def made(tmp_path_factory) -> Iterator[Made]:
    tmp = tmp_path_factory.mktemp("verify")
    project = copy_project(tmp / "project")
    (block,) = [b for b in guide_blocks() if b.attrs.get("file") == "methods/hint.py"]
    (project / "methods" / "hint.py").write_text(block.text)
    params = project / "params.yaml"
    text = params.read_text()
    assert "\nleaderboard: [decoy, faces]\n" in text
    text = text.replace("\nleaderboard: [decoy, faces]\n", f"\nleaderboard: [{STUDY}]\n")
    # the across-cell grid keeps the cells of that study only (a cell of another study is refused)
    grid = [line for line in text.splitlines() if line.startswith("    - {study: ")]
    assert grid and any(f"{{study: {STUDY}," in line for line in grid)
    drop = {line for line in grid if f"{{study: {STUDY}," not in line}
    params.write_text("\n".join(line for line in text.splitlines() if line not in drop) + "\n")
    run = Commands(project, environment(project, tmp))
    try:
        done = run("submit", "hint", "--profile", "tiny", "--jobs", "auto", "--quiet")
        assert done.returncode == 0, done.stdout + done.stderr
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
    work = made.project / "results" / "submission-work" / "hint" / "runs" / STUDY
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
