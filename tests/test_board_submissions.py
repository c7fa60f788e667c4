"""Submissions on the across-cell board (issue 27 item 4, issue 24): a hand-made bundle (records written by hand,
nothing trained) is ranked as a row of kind submission with its place and re-run mark; a stale bundle and one at
another profile are listed apart, never ranked; and ``submit``'s summary, its claim and the page give the same gap
closed and place, each computed by ``board_cmd.board_tables`` (``submit`` through ``submit_cmd.board_claim``)."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest
from leaderboard_fixtures import link, write_statistics
from sweep_helpers import write_params
from test_board import grid_params as board_grid_params

from benchmark.cli import main
from benchmark.cli.submit_cmd import board_claim, board_rederiver
from benchmark.paths import project_root
from benchmark.records.identity import identity
from benchmark.records.record_store import write_record
from benchmark.records.run_states import Fingerprints
from benchmark.records.schema import RunRecord
from benchmark.reports.board.tables_file import BoardTables
from benchmark.reports.leaderboard.markdown import markdown_page
from benchmark.reports.leaderboard.page import gather
from benchmark.reports.leaderboard.submissions import VERIFICATION, bundle_digest, sha256
from benchmark.submission.board import gap_text, place_text
from benchmark.submission.summary import summary_text
from benchmark.sweeps.study import expand
from benchmark.sweeps.submission_study import submission_study

SEEDS = 4
GAP = 0.3  # the reference ERM (no decoy) over ERM with it
CLOSES = {
    "erm": 0.0,
    "rrr": 0.3,
    "gradia": 0.7,
    "smoot": 0.9,
    "cyborg": 0.95,
    "sage": 0.5,
}  # the share of the gap closed
RERUN = "re-run: 2/2 identical"


def grid_params() -> dict:
    """``test_board``'s study ``tiny`` (erm and rrr on the decoy digits, erm on the clean ones: the reference; one
    board cell), with SEEDS seeds."""
    params = board_grid_params()
    params["studies"]["tiny"]["seeds"] = SEEDS
    return params


def write(folder: Path, specs, prints: Fingerprints) -> None:
    """A done record per run spec: test accuracy 0.5 + the method's share of the gap (the reference: 0.5 + GAP),
    a seed's small offset; the fingerprint today's code gives, so each record is current."""
    for spec in specs:
        config = spec.config.to_dict()
        close = 1.0 if "clean" in str(spec.dataset) else CLOSES[config["method"]]
        value = 0.5 + close * GAP + 0.01 * ((spec.seed * 7 + len(config["method"])) % 5 - 2)
        record = RunRecord(
            run_id=spec.run_id,
            identity=identity(spec.config),
            config=config,
            metrics={"test": {"accuracy": value}},
            fingerprint=prints(config["method"], config["dataset"], config["arch"]),
        )
        write_record(record, folder)


def bundle(subs: Path, method: str, specs, prints: Fingerprints, *, profile: str = "quick", digest: str = "") -> Path:
    """``subs/METHOD/``: claim.json (its method file's sha256, unless ``digest``), fingerprints.json, the records
    and a verification.json of the current bundle."""
    folder = subs / method
    write(folder / "records" / "tiny", specs, prints)
    file = f"methods/{method}.py"
    claim = {
        "method": method,
        "url": f"https://paper.example/{method}",
        "profile": profile,
        "method_file": file,
        "method_sha256": digest or sha256(project_root() / file),
    }
    (folder / "claim.json").write_text(json.dumps(claim))
    (folder / "fingerprints.json").write_text("{}\n")
    rerun = {"rerun": {"verdict": RERUN, "bundle_sha256": bundle_digest(folder)}}
    (folder / VERIFICATION).write_text(json.dumps(rerun))
    return folder


@pytest.fixture
def board_inputs(tmp_path, monkeypatch):
    """(params, runs root, submissions root): the study's records, the current bundle gradia, the stale bundle
    smoot (its method file's sha256 is not the claim's) and cyborg at another profile."""
    params = grid_params()
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "params.yaml", params)))
    study, prints = expand("tiny", params=params), Fingerprints()
    runs, subs = tmp_path / "runs", tmp_path / "submissions"
    write(runs / "tiny", study.runs, prints)
    for method, extra in (("gradia", {}), ("smoot", {"digest": "0" * 64}), ("cyborg", {"profile": "paper"})):
        bundle(subs, method, submission_study(study, method).runs, prints, **extra)
    return params, runs, subs


def test_a_current_bundle_is_ranked_on_the_board_and_the_others_are_listed_apart(board_inputs, tmp_path, capsys):
    _, runs, subs = board_inputs
    dest = tmp_path / "dest"
    code = main(["board", "--out", str(runs), "--dest", str(dest), "--reps", "200", "--submissions", str(subs)])
    out = capsys.readouterr().out
    assert code == 0, out
    t = BoardTables.read(dest / "board.tables.json")
    ranked = t.rows[t.rows["method"] != "erm"].set_index("method")
    assert list(ranked.index) == ["gradia", "rrr"], "the submission ranks by its gap closed, beside the methods"
    assert ranked.loc["gradia", "kind"] == "submission" and ranked.loc["rrr", "kind"] == "study"
    assert (ranked.loc["gradia", "place"], ranked.loc["gradia", "of"]) == (1, 2)
    assert ranked.loc["gradia", "gap_closed"] == pytest.approx(0.7, abs=0.05)
    assert ranked.loc["gradia", "rerun"] == RERUN and ranked.loc["rrr", "rerun"] == ""
    apart = t.apart.set_index("method")
    assert set(apart.index) == {"smoot", "cyborg"}, "a stale bundle and one at another profile: never ranked"
    assert apart.loc["smoot", "reason"].startswith("stale: methods/smoot.py changed since the claim")
    assert "profile paper, the board's quick" in apart.loc["cyborg", "reason"]
    assert (apart["kind"] == "submission").all()
    assert "1 submissions" in out
    text = (dest / "board.md").read_text()
    assert f"gradia (submission; {RERUN})" in text


def test_the_summary_the_claim_and_the_page_give_one_gap_closed_and_place(board_inputs, tmp_path):
    params, runs, subs = board_inputs
    dest = tmp_path / "dest"
    main(["board", "--out", str(runs), "--dest", str(dest), "--reps", "200", "--submissions", str(subs)])
    # submit's claim, as `submit` computes it: the board's function over the submission's records (here its
    # bundle's; submit reads them from its work folder) beside the current bundles
    args = argparse.Namespace(method="gradia", submissions=subs, runs=runs, work=tmp_path / "work", reps=200)
    entry = board_claim(args, params, "quick", ("gradia", subs / "gradia" / "records", None))
    claim = {"method": "gradia", "profile": "quick", "citation": "c", "url": "u", "studies": {}, "board": entry}
    claim = json.loads(json.dumps(claim))
    summary = summary_text(claim, [], [])
    stats = tmp_path / "leaderboards"
    page = gather(write_statistics(stats), subs, project_root(), link=link)
    text = markdown_page(page, {}, tmp_path, stats, BoardTables.read(dest / "board.tables.json"), [])
    (row,) = [line for line in text.splitlines() if line.startswith("| [`gradia`]")]
    gap, place = gap_text(claim["board"]), place_text(claim["board"])
    assert (place, claim["board"]["beside"]) == ("1 of 2", [])
    assert re.search(rf"\|\s*{re.escape(gap)}\s*\|", row) and "(1/2)" in row, row
    assert f"- gap closed [97.50% simultaneous CI]: {gap}" in summary and f"- place: {place}" in summary
    assert re.search(r"gap closed \[97\.50% simultaneous CI\]: 0\.\d{3} \[", summary)
    assert "*(submission, profile quick; re-run: 2/2 identical)*" in row
    unranked = text.split("## Submissions not ranked")[1]
    assert "`gradia`" not in unranked and "`smoot`" in unranked


def test_verify_rederives_the_board_entry_beside_the_bundles_the_claim_names(board_inputs, tmp_path):
    """``--verify``'s check 6: the claim's ``board`` re-derived equals it; a submission accepted later moves the
    page's place of N (one more row) but not the claim's meaning: it is re-derived beside the bundles it names."""
    params, runs, subs = board_inputs
    args = argparse.Namespace(method="gradia", submissions=subs, runs=runs, work=tmp_path / "work", reps=200)
    entry = board_claim(args, params, "quick", ("gradia", subs / "gradia" / "records", None))
    claim = json.loads(json.dumps({"method": "gradia", "profile": "quick", "board": entry}))
    rederive = board_rederiver(args, subs / "gradia")
    assert json.loads(json.dumps(rederive(claim))) == claim["board"]
    bundle(subs, "sage", submission_study(expand("tiny", params=params), "sage").runs, Fingerprints())
    now = board_claim(args, params, "quick", ("gradia", subs / "gradia" / "records", None))
    assert (now["place"], now["of"], now["beside"]) == (1, 3, ["sage"]), "the page's board now has 3 rows"
    assert json.loads(json.dumps(rederive(claim))) == claim["board"], "the claim's board: beside no submission"
    claim["board"]["beside"] = ["smoot"]
    assert rederive(claim) == "the submissions it was ranked beside are no longer all current (smoot)"
