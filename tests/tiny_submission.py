"""hint's ``submit --profile tiny`` on the ``faces`` study alone, and the helper process that runs its commands.

``faces_project`` makes it as CONTRIBUTING.md does (tests/test_contributing.py's helpers): the guide's
``methods/hint.py`` in a copy of the project, ``leaderboard:`` cut to ``faces`` (its 6 reference runs and the 3
of hint train in the submission's work folder, seconds). conftest.py's ``faces_submission`` makes it once per
session: tests/test_submit_verify.py makes its bundles stale, and the guide's copy in tests/test_contributing.py
starts with these 9 faces records in its work folder (``submit`` reuses a done, current record).

``Commands`` answers ``python -m benchmark ARGS`` in a project from one long-lived process of it
(``benchmark.cli.main``, what ``python -m benchmark`` calls, with the project's own ``benchmark`` package as that
does): the imports are paid once instead of about 5 s per command. Its cost check measures 3 rounds
(``CHEAP_COST``, as tests/test_submission_checks.py; the measurement's own tests are tests/test_submission_cost.py):
no test reads these bundles' cost numbers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from test_contributing import copy_project, environment, guide_blocks

STUDY = "faces"

# Each stdin line a JSON argv, answered by one line [exit code, stdout, stderr]; a traceback goes to the command's
# stderr and exits 1, as in `python -m benchmark`.
HELPER = """
import contextlib, functools, io, json, sys, traceback
from benchmark.cli import main
from benchmark.submission import checks
from benchmark.submission.cost import CostSettings
CHEAP_COST = CostSettings(
    batch_size=16, rounds=3, max_rounds=3, max_half_width=float("inf"), min_run_time=0.01, warmup=1, unit_rounds=1
)
checks.run_checks = functools.partial(checks.run_checks, cost_settings=CHEAP_COST)
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
    """``python -m benchmark ARGS`` in ``project`` (cwd and ``SALBENCH_ROOT``), answered by one helper process."""

    def __init__(self, project: Path, tmp: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-c", HELPER],
            cwd=project,
            env=environment(project, tmp),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
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
        """End the helper process (its input closed ends its loop; killed if it has not exited a minute later)."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def faces_project(tmp: Path) -> Path:
    """A project copy under ``tmp`` with ``methods/hint.py`` and its bundle of the ``faces`` study (module docstring)."""
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
    run = Commands(project, tmp)
    try:
        done = run("submit", "hint", "--profile", "tiny", "--jobs", "auto", "--quiet")
    finally:
        run.close()
    assert done.returncode == 0, done.stdout + done.stderr
    return project
