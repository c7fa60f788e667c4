"""``STUDY.tables.json`` through its schema (``reports.study.tables_file.StudyTables``): what is written is
what is read, byte for byte, and a malformed file is refused naming the file and the field."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from leaderboard_fixtures import tables, write_board, write_params

from benchmark.cli import main
from benchmark.contracts import ContractError
from benchmark.reports.formatting import clean, rows_json_text
from benchmark.reports.study.tables_file import StudyTables
from benchmark.statistics.descriptions import consistency_tests, family_tests

ROOT = Path(__file__).resolve().parents[1]


def test_a_hand_made_file_reads_into_types_and_writes_back_the_same_json():
    data = tables("alpha")
    typed = StudyTables.from_json(copy.deepcopy(data))
    fam = typed.families["test/accuracy"]
    assert (typed.baseline, typed.alpha, fam.family.direction, fam.family.rope) == ("erm", 0.05, "higher", 0.01)
    assert fam.detail_rows == data["families"]["test/accuracy"]["detail"]
    assert typed.overhead.rows[1].ratio == 2.65 and typed.overhead.rows[1].method == "sgt"
    back = json.loads(typed.to_text())
    for fam_json in back["families"].values():
        assert fam_json.pop("family_flags") == []  # the keys files before the schema did not have
        assert fam_json.pop("tests") == {k: t.to_json() for k, t in family_tests(0.05).items()}
    assert back["consistency"].pop("tests") == {k: t.to_json() for k, t in consistency_tests(0.05).items()}
    assert back == json.loads(json.dumps(clean(data)))  # floats to 6 significant digits, as the writer does


@pytest.mark.parametrize("study", ["decoy", "faces", "sgt"])
def test_the_committed_tables_files_read_and_rewrite_byte_identically(study):
    """Reading a committed file and writing it again gives its bytes (plus the keys family_flags and tests of the
    families and the consistency's tests, absent from files written before the schema had them)."""
    path = ROOT / "results" / "leaderboards" / f"{study}.tables.json"
    if not path.exists():
        pytest.skip("no committed statistics")
    typed = StudyTables.read(path)
    original = json.loads(path.read_text(encoding="utf-8"))
    rewritten = json.loads(typed.to_text())
    if all("tests" not in f for f in original["families"].values()):
        for fam in typed.families.values():
            assert fam.flags == ()
        for fam in rewritten["families"].values():
            fam.pop("family_flags")
            fam.pop("tests")
    if "tests" not in original.get("consistency", {}):
        assert rewritten["consistency"].pop("tests") == {k: t.to_json() for k, t in consistency_tests(0.05).items()}
    assert rows_json_text(rewritten) == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "change, fragment",
    [
        (lambda t: t.pop("baseline"), "hand.json: baseline: malformed (KeyError"),
        (lambda t: t.update(families={}), "hand.json: families: expected a non-empty object"),
        (lambda t: t["families"]["test/accuracy"].pop("rope"), "hand.json: families.test/accuracy: malformed"),
        (lambda t: t["overhead"]["rows"][0].pop("ratio"), "hand.json: overhead: malformed (TypeError"),
    ],
)
def test_a_malformed_file_is_refused_naming_the_field(tmp_path, change, fragment):
    data = tables("alpha")
    change(data)
    path = tmp_path / "hand.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ContractError) as err:
        StudyTables.read(path, "hand.json")
    assert fragment in str(err.value)


def test_the_leaderboard_command_refuses_a_malformed_tables_file_in_one_line(tmp_path, capsys, monkeypatch):
    boards = tmp_path / "leaderboards"
    write_board(boards)
    for study in ("alpha", "beta"):
        data = tables(study)
        if study == "beta":
            del next(iter(data["families"].values()))["detail"]
        (boards / f"{study}.tables.json").write_text(json.dumps(data))
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "params.yaml")))
    code = main(["leaderboard", "--leaderboards", str(boards), "--dest", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert "beta.tables.json: families." in err[0] and "malformed (KeyError: 'detail')" in err[0]
    assert err[0].startswith("error: leaderboard: ") and "run python -m benchmark stats beta" in err[0]
    assert not (tmp_path / "out").exists()
