"""Accepted submissions join the profile stage (issue 27 item 2): ``python -m benchmark profile`` without
``--methods`` times every registered method, a submission's file in ``methods/`` included, and names the
accepted submissions it did not time; the leaderboard stage reads the profile file it writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from benchmark.cli.profile_cmd import accepted_submissions, submissions_line

ROOT = Path(__file__).resolve().parent.parent
# a submitted method: ERM's file under another name
METHOD = (ROOT / "methods" / "erm.py").read_text().replace('name = "erm"', 'name = "hint"').replace("ERM(", "Hint(")


def claim(root: Path, method: str, method_file: str) -> None:
    folder = root / "results" / "submissions" / method
    folder.mkdir(parents=True)
    (folder / "claim.json").write_text(json.dumps({"method": method, "method_file": method_file}))


def test_accepted_submissions_are_the_claims_whose_method_file_exists(tmp_path):
    (tmp_path / "methods").mkdir()
    (tmp_path / "methods" / "hint.py").write_text(METHOD)
    claim(tmp_path, "hint", "methods/hint.py")
    claim(tmp_path, "gone", "methods/gone.py")
    (tmp_path / "results" / "submissions" / "broken").mkdir()
    (tmp_path / "results" / "submissions" / "broken" / "claim.json").write_text("{not json")
    assert accepted_submissions(tmp_path) == ["hint"]
    assert accepted_submissions(tmp_path / "nowhere") == []


def test_the_run_names_the_submissions_it_timed_and_those_it_did_not():
    assert submissions_line([], ["erm", "sgt"]) == ""
    assert (
        submissions_line(["hint"], ["erm", "hint", "sgt"]) == "accepted submissions timed with the seed methods: hint"
    )
    assert submissions_line(["hint", "other"], ["erm", "hint"]) == (
        "accepted submissions timed with the seed methods: hint; not timed: other (not among the methods "
        "profiled; the leaderboard shows their bundle's cost, not re-measured)"
    )


def test_a_submission_in_methods_is_among_the_default_profiled_methods(tmp_path):
    """The default method list of ``profile`` (no ``--methods``, as in the stage) in a project holding a
    submitted ``methods/hint.py``: ERM first, the seed methods and the submission."""
    project = tmp_path / "project"
    (project / "methods").mkdir(parents=True)
    (project / "methods" / "hint.py").write_text(METHOD)
    for seed_method in ("erm", "sgt"):
        (project / "methods" / f"{seed_method}.py").symlink_to(ROOT / "methods" / f"{seed_method}.py")
    claim(project, "hint", "methods/hint.py")
    script = (
        "from pathlib import Path\n"
        "from benchmark.cli.profile_cmd import accepted_submissions, checked_methods, submissions_line\n"
        "methods = checked_methods(None)\n"
        "print(methods)\n"
        "print(submissions_line(accepted_submissions(Path('.')), methods))\n"
    )
    env = {**os.environ, "SALBENCH_ROOT": str(project)}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    methods, line = done.stdout.strip().splitlines()[-2:]
    assert methods == "['erm', 'hint', 'sgt']"
    assert line == "accepted submissions timed with the seed methods: hint"


def test_the_stage_times_every_registered_method_and_the_leaderboard_reads_its_file():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert "--methods" not in stages["profile"]["do"]["cmd"]  # every registered method: submissions join
    assert "results/profiles/quick.json" in stages["leaderboard"]["deps"]
