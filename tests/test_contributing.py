"""Every fenced code block of CONTRIBUTING.md, and the one of the README's "Adding a method", runs as printed.

The convention (also written, for maintainers, in an HTML comment at the top of CONTRIBUTING.md) is
the info string of each block:

- ```` ```python file=PATH ````: written to PATH in a temporary copy of the project (later blocks see it);
- ```` ```python ````: run as a script in the copy, its ``benchmark`` package importable;
- ```` ```bash ````: each command line runs with ``bash -euo pipefail -c LINE`` in the copy (cwd = the copy,
  ``python`` = this interpreter: its folder first on PATH, SALBENCH_ROOT = the copy, pytest without xdist's
  workers: ``PYTEST_ADDOPTS=-p no:xdist``); a line ending in a
  backslash continues on the next; blank and ``#`` lines are skipped; nothing (cd, export) carries over;
- ```` ```bash slow ````: the same, only under ``pytest -m slow``;
- ```` ```toml ````: shown, never run; it must parse (tomllib).

Any other info string fails. Blocks run in document order. The copy holds the tracked files
(``git ls-files``: not data/ nor results/runs/, which git ignores), committed in a fresh git
repository as a contributor's checkout is; nothing is written into this checkout. A failing block
is reported with its file, line and output. Beyond "it ran", the tests read what a reader sees:
the method listed with its link, its own tests passing, the record, the profile line, the bundle
of ``submit --profile tiny`` and ``submit --verify``.

Before the ``submit --profile tiny`` block, the copy's submission work folder receives the 9 records of the
``faces`` study that conftest.py's ``faces_submission`` trained once for the session (its 6 reference runs and
the 3 of hint, which tests/test_submit_verify.py reads too), as a contributor's second try would find them:
``submit`` reuses them and trains the 12 runs of the ``decoy`` study.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_submit_rerun import cheat

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "CONTRIBUTING.md"
README = ROOT / "README.md"
README_SECTION = "## Adding a method"
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
LINE_TIMEOUT = 900  # seconds for one command line (the slow protocol lines get SLOW_TIMEOUT)
SLOW_TIMEOUT = 4 * 3600
KNOWN = {("python",), ("bash",), ("toml",)}
WORK_RUNS = Path("results", "submission-work", "hint", "runs")  # hint's submission's runs, per study, in a copy


@dataclass(frozen=True)
class Block:
    """One fenced block: its file, the line of its opening fence, language, attributes and text."""

    source: str
    line: int
    lang: str
    attrs: dict = field(default_factory=dict)
    flags: frozenset = frozenset()
    text: str = ""

    @property
    def slow(self) -> bool:
        return "slow" in self.flags

    def where(self, offset: int = 0) -> str:
        return f"{self.source}:{self.line + offset}"


def parse_info(info: str) -> tuple[str, dict, frozenset]:
    """``python file=methods/hint.py`` -> ("python", {"file": "methods/hint.py"}, {}); ``bash slow`` -> flags {slow}."""
    words = info.split()
    lang = words[0] if words else ""
    attrs = dict(w.split("=", 1) for w in words[1:] if "=" in w)
    flags = frozenset(w for w in words[1:] if "=" not in w)
    return lang, attrs, flags


def fenced_blocks(text: str, source: str, first_line: int = 1) -> list[Block]:
    """The fenced blocks of Markdown ``text`` (CommonMark fences: a closing fence of the same character,
    at least as long, with no info string), in order."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, info = match.group(1), match.group(2).strip()
        body, j = [], i + 1
        while j < len(lines):
            close = FENCE.match(lines[j])
            if (
                close
                and close.group(1)[0] == fence[0]
                and len(close.group(1)) >= len(fence)
                and not close.group(2).strip()
            ):
                break
            body.append(lines[j])
            j += 1
        else:
            raise AssertionError(f"{source}:{first_line + i}: a fenced block is never closed")
        lang, attrs, flags = parse_info(info)
        blocks.append(Block(source, first_line + i, lang, attrs, flags, "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def section(text: str, heading: str) -> tuple[str, int]:
    """The text of the Markdown section under ``heading`` (to the next heading of its level) and its first line."""
    lines = text.splitlines()
    level = heading.split()[0]
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    assert start is not None, f"README.md has no section {heading!r}"
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith("#") and lines[i].split()[0] == level),
        len(lines),
    )
    return "\n".join(lines[start:end]), start + 1


def copy_project(dest: Path) -> Path:
    """The tracked files of this checkout under ``dest``, committed in a fresh git repository."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        src = ROOT / name
        if src.is_file():  # a tracked file deleted in the working tree is not copied
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    git = [
        "git",
        "-c",
        "user.name=contributor",
        "-c",
        "user.email=contributor@example.org",
        "-c",
        "commit.gpgsign=false",
        "-c",
        "init.defaultBranch=main",
    ]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "the project as cloned"]):
        subprocess.run(git + args, cwd=dest, capture_output=True, check=True)
    return dest


def environment(copy: Path, tmp: Path) -> dict[str, str]:
    """This interpreter as ``python`` (its folder first on PATH), SALBENCH_ROOT = the copy, git identity."""
    folder = Path(sys.executable).parent
    paths = [str(folder)]
    if not (folder / "python").exists():
        shim = tmp / "bin"
        shim.mkdir(exist_ok=True)
        (shim / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        (shim / "python").chmod(0o755)
        paths.insert(0, str(shim))
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    env.update(
        # the guide's `python -m pytest` line in one process: addopts' two xdist workers (a torch start-up each,
        # ~5 s of CPU) are not what it shows; conftest.py accepts their options without xdist
        PYTEST_ADDOPTS="-p no:xdist",
        PATH=os.pathsep.join(paths + [os.environ.get("PATH", "")]),
        SALBENCH_ROOT=str(copy),
        DVC_NO_ANALYTICS="1",
        GIT_AUTHOR_NAME="contributor",
        GIT_AUTHOR_EMAIL="contributor@example.org",
        GIT_COMMITTER_NAME="contributor",
        GIT_COMMITTER_EMAIL="contributor@example.org",
    )
    return env


def command_lines(block: Block) -> list[tuple[int, str]]:
    """(offset of its first line in the block, command) for each command of a bash block."""
    out, pending, start = [], "", 0
    for offset, line in enumerate(block.text.splitlines(), start=1):
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if not pending:
            start = offset
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        out.append((start, pending + line))
        pending = ""
    assert not pending, f"{block.where()}: the block ends with a continued line"
    return out


@dataclass
class Step:
    """One thing done for a block: a command line run, a file written, a script run, a TOML parsed."""

    block: Block
    offset: int
    command: str
    returncode: int
    output: str
    seconds: float

    def report(self) -> str:
        tail = self.output[-6000:]
        return (
            f"{self.block.where(self.offset)}: `{self.command}` exited {self.returncode} after "
            f"{self.seconds:.1f} s; output:\n{tail}"
        )


@dataclass
class GuideRun:
    """What running a document's blocks did, in order; ``failure`` is the step that failed (nothing after it ran)."""

    copy: Path
    steps: list[Step] = field(default_factory=list)
    failure: Step | None = None

    def find(self, prefix: str) -> Step:
        """The step whose command starts with ``prefix`` (the guide must still show that command)."""
        found = [s for s in self.steps if s.command.startswith(prefix)]
        if not found:
            if self.failure is not None:
                pytest.fail(f"`{prefix}...` was not reached; an earlier block failed:\n{self.failure.report()}")
            pytest.fail(f"no block runs `{prefix}...` any more: update the guide or this test")
        return found[-1]

    def check(self) -> None:
        if self.failure is not None:
            pytest.fail(self.failure.report(), pytrace=False)


def run_blocks(
    blocks: list[Block], copy: Path, env: dict[str, str], slow: bool, before: Callable[[Block], None] | None = None
) -> GuideRun:
    """Run ``blocks`` in order in ``copy`` (see the module docstring), ``before(block)`` first if given; stop at
    the first failure."""
    result = GuideRun(copy)
    for block in blocks:
        if block.slow and not slow:
            continue
        if before is not None:
            before(block)
        for step in run_block(block, copy, env):
            result.steps.append(step)
            if step.returncode != 0:
                result.failure = step
                return result
    return result


def run_block(block: Block, copy: Path, env: dict[str, str]):
    kind = (block.lang, *sorted(block.flags - {"slow"}))
    if (
        kind not in KNOWN
        or (block.slow and block.lang != "bash")
        or (block.attrs and block.lang != "python")
        or set(block.attrs) - {"file"}
    ):
        yield Step(
            block,
            0,
            f"```{block.lang} {' '.join(sorted(block.flags))} {block.attrs}",
            1,
            "unknown kind of block: use python file=PATH, python, bash, bash slow or toml (tests/test_contributing.py)",
            0.0,
        )
        return
    began = time.perf_counter()
    if block.lang == "toml":
        try:
            tomllib.loads(block.text)
            yield Step(block, 0, "parse TOML", 0, "", time.perf_counter() - began)
        except tomllib.TOMLDecodeError as exc:
            yield Step(block, 0, "parse TOML", 1, str(exc), time.perf_counter() - began)
        return
    if block.lang == "python" and "file" in block.attrs:
        target = (copy / block.attrs["file"]).resolve()
        if copy.resolve() not in target.parents:
            yield Step(block, 0, f"write {block.attrs['file']}", 1, "file= must be a path inside the project", 0.0)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.text)
        yield Step(block, 0, f"write {block.attrs['file']}", 0, "", time.perf_counter() - began)
        return
    if block.lang == "python":
        done = subprocess.run(
            [sys.executable, "-c", block.text],
            cwd=copy,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=LINE_TIMEOUT,
        )
        yield Step(
            block, 0, "python (the block as a script)", done.returncode, done.stdout, time.perf_counter() - began
        )
        return
    for offset, line in command_lines(block):
        began = time.perf_counter()
        try:
            done = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", line],
                cwd=copy,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=SLOW_TIMEOUT if block.slow else LINE_TIMEOUT,
            )
            code, output = done.returncode, done.stdout
        except subprocess.TimeoutExpired as exc:
            code, output = 124, f"timed out: {exc}"
        yield Step(block, offset, " ".join(line.split()), code, output, time.perf_counter() - began)
        if code != 0:
            return


def guide_blocks() -> list[Block]:
    return fenced_blocks(GUIDE.read_text(), GUIDE.name)


def readme_blocks() -> list[Block]:
    text, first = section(README.read_text(), README_SECTION)
    return fenced_blocks(text, README.name, first)


@pytest.fixture(scope="module")
def guide(tmp_path_factory, request) -> GuideRun:
    """CONTRIBUTING.md's blocks but the slow ones, run once for the tests below; the faces study's records are
    there before ``submit --profile tiny`` (module docstring)."""
    tmp = tmp_path_factory.mktemp("contributing")
    copy = copy_project(tmp / "project")

    def before(block: Block) -> None:
        if "python -m benchmark submit hint --profile tiny" in block.text:  # asked for here: made meanwhile
            faces = request.getfixturevalue("faces_submission") / WORK_RUNS / "faces"
            shutil.copytree(faces, copy / WORK_RUNS / "faces")

    return run_blocks(guide_blocks(), copy, environment(copy, tmp), slow=False, before=before)


# ----------------------------------------------------------------------------- the documents themselves
def test_every_block_is_of_a_known_kind_and_the_guide_has_each_part():
    blocks = guide_blocks()
    for block in blocks + readme_blocks():
        assert (block.lang, *sorted(block.flags - {"slow"})) in KNOWN, f"{block.where()}: unknown block kind"
    files = [b.attrs.get("file") for b in blocks]
    assert "methods/hint.py" in files and "tests/test_hint.py" in files
    assert any(b.slow for b in blocks), "the full protocol is shown as a slow block"
    assert any(b.lang == "toml" for b in blocks), "the entry-point snippet"
    assert GUIDE.read_text().startswith("<!--"), "the convention comment for maintainers opens the guide"


def test_the_fence_parser_on_a_tricky_document():
    text = "x\n````bash slow\n```\ninner\n```\n````\n~~~python file=a/b.py\nprint(1)\n~~~\n"
    blocks = fenced_blocks(text, "doc.md")
    assert [(b.line, b.lang, b.flags, b.attrs) for b in blocks] == [
        (2, "bash", frozenset({"slow"}), {}),
        (7, "python", frozenset(), {"file": "a/b.py"}),
    ]
    assert blocks[0].text == "```\ninner\n```\n"
    lines = command_lines(Block("doc.md", 1, "bash", text="# a comment\n\npython -m x \\\n    --y 1\necho ok\n"))
    assert lines == [(3, "python -m x      --y 1"), (5, "echo ok")]


# ----------------------------------------------------------------------------- CONTRIBUTING.md, run
def test_every_block_of_the_guide_runs(guide):
    guide.check()


def test_the_method_is_listed_with_its_paper_link(guide):
    out = guide.find("python -m benchmark list methods").output
    assert re.search(r"^\| hint\s", out, re.MULTILINE), out
    assert "https://arxiv.org/abs/1902.03751" in out and "hint hyperparameters:" in out


def test_the_interactive_try_and_the_contributors_tests_pass(guide):
    out = guide.find("python (the block as a script)").output
    assert re.search(r"^loss \d+\.\d{4} \{'ce': ", out, re.MULTILINE), out
    out = guide.find("python -m pytest -q tests/test_hint.py").output
    assert re.search(r"\b3 passed\b", out) and "failed" not in out, out


def test_the_run_writes_a_record_with_the_methods_curves(guide):
    printed = json.loads(guide.find("python -m benchmark run --method hint").output)
    record = json.loads((guide.copy / printed["record"]).read_text())
    assert record["config"]["method"] == "hint" and record["config"]["method_params"]["lam"] == 0.5
    assert {"ce", "hint", "hint_lam"} <= set(record["curves"])
    assert "record: results/runs/try-hint/" in guide.find("python -m benchmark show").output


def test_the_profile_compares_declared_and_measured_cost(guide):
    out = guide.find("python -m benchmark profile --methods hint").output
    assert re.search(r"^gap_cnn: 2 methods, ERM step [\d.]+ ms; highest measured/theoretical", out, re.MULTILINE), out
    assert "| hint " in (guide.copy / "results" / "profiles" / "hint.md").read_text()


def test_submit_at_the_tiny_profile_writes_the_bundle_and_verify_passes(guide):
    out = guide.find("python -m benchmark submit hint --profile tiny").output
    assert re.search(r"check 1/4 contract: ok .*check 4/4 honesty: ok", out, re.DOTALL), out
    bundle = guide.copy / "results" / "submissions" / "hint"
    for name in ("submission.json", "claim.json", "fingerprints.json", "summary.md"):
        assert (bundle / name).is_file(), f"no {name} in the bundle; submit printed:\n{out}"
    records = sorted((bundle / "records").rglob("*.json"))
    assert {p.parent.name for p in records} == {"decoy", "faces"}, records
    assert not list((bundle / "records").rglob("*.saliency")), "probe maps are left out of the bundle"
    submission = json.loads((bundle / "submission.json").read_text())
    assert submission["profile"] == "tiny"
    assert "verified" in guide.find("python -m benchmark submit hint --verify").output


def test_the_sentinel_rerun_of_2_runs_is_identical_and_names_an_edited_record(guide, tmp_path):
    out = guide.find("python -m benchmark submit hint --profile tiny --jobs auto --quiet --rerun 2").output
    assert re.search(r"^bundle .*/hint: verified; re-run: 2/2 identical$", out, re.MULTILINE), out
    bundle = shutil.copytree(guide.copy / "results" / "submissions" / "hint", tmp_path / "bundles" / "hint")
    assert json.loads((bundle / "verification.json").read_text())["rerun"]["verdict"] == "re-run: 2/2 identical"
    key, original, salt = cheat(bundle, "train", "loss", 0.125)  # a number the claim does not read
    args = ["--verify", "--rerun", "2", "--rerun-salt", salt, "--submissions", str(tmp_path / "bundles"), "--quiet"]
    command = [sys.executable, "-m", "benchmark", "submit", "hint", *args]
    env = environment(guide.copy, tmp_path)
    done = subprocess.run(command, cwd=guide.copy, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    mismatches = [line for line in done.stderr.splitlines() if line.startswith("mismatch: ")]
    assert mismatches == [f"mismatch: re-run {key}: metrics.train.loss: recorded 0.125, re-run {original!r}"]
    assert "re-run: 1/2 identical" in done.stdout


def test_the_pull_request_commits_what_the_guide_says(guide):
    guide.find("git commit")
    listed = subprocess.run(["git", "ls-files"], cwd=guide.copy, capture_output=True, text=True, check=True).stdout
    assert "methods/hint.py" in listed and "tests/test_hint.py" in listed
    assert "results/submissions/hint/claim.json" in listed
    assert "results/runs/" not in listed and "results/submission-work/" not in listed, "git-ignored"


@pytest.mark.slow
def test_the_full_guide_with_the_real_submission_runs(tmp_path):
    """Every block, the slow ones too: the quick-profile protocol (hours on 2 CPU cores without the
    studies' records of `make reproduce`)."""
    copy = copy_project(tmp_path / "project")
    run = run_blocks(guide_blocks(), copy, environment(copy, tmp_path), slow=True)
    run.check()
    submission = json.loads((copy / "results" / "submissions" / "hint" / "submission.json").read_text())
    assert submission["profile"] == "quick"
    assert "verified" in run.find("python -m benchmark submit hint --verify").output
    board = (copy / "results" / "leaderboard.md").read_text()  # regenerated by `leaderboard`
    rows = [line for line in board.splitlines() if line.startswith("|") and "`hint`" in line]
    assert rows and not any("not ranked" in row for row in rows), f"hint's rows on the leaderboard: {rows}"


# ----------------------------------------------------------------------------- README: Adding a method
def test_the_readme_method_pastes_and_passes_the_contract(tmp_path):
    blocks = readme_blocks()
    assert [b for b in blocks if b.attrs.get("file", "").startswith("methods/")], (
        "the README's 'Adding a method' shows a method file (```python file=methods/NAME.py)"
    )
    copy = copy_project(tmp_path / "project")
    run = run_blocks(blocks, copy, environment(copy, tmp_path), slow=False)
    run.check()
    out = run.find("python -m benchmark list methods").output
    assert re.search(r"^\| label_smoothing\s", out, re.MULTILINE), out
    # submit's first check, the contract (url, ranges, help texts, cost), on the pasted file
    check = (
        "from benchmark.submission.contract import contract_failures\n"
        "print([f.line() for f in contract_failures('label_smoothing')[2]])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=copy, env=environment(copy, tmp_path), capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr
