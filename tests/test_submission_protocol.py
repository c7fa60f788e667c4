"""The leaderboard protocol of ``submit``: where a submission trains, its bundle, and the re-derivation of its claim."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sweep_helpers import tiny_params

from benchmark.config import load_params
from benchmark.contracts import ContractError
from benchmark.submission.bundle import MARK, check_destination, claim, sha256_file, write_bundle
from benchmark.submission.protocol import ProtocolOptions, rederiver, run_protocol, work_folder
from benchmark.submission.summary import summary_text
from benchmark.submission.verify import verify
from benchmark.sweeps.study import expand
from benchmark.sweeps.submission_study import comparison_cells, leaderboard_protocol, leaderboard_studies

METHOD = "gradia"
COST = [{"arch": "simple_cnn", "declared": 3.0, "measured": 3.3, "ratio": 1.1}]


def test_leaderboard_key_is_checked_by_name():
    params = load_params()
    assert leaderboard_studies(params) == ["decoy", "faces"]
    for bad, fragment in [
        (None, "expected a list of study names"),
        ("decoy", "expected a list of study names"),
        (["decoy", "nope"], "'nope' is not a study"),
        (["decoy", "decoy"], "listed twice"),
    ]:
        with pytest.raises(ContractError, match=fragment) as info:
            leaderboard_studies({**params, "leaderboard": bad})
        assert "params.yaml: leaderboard" in str(info.value)


def test_a_submission_trains_where_the_study_compares_methods_at_their_defaults():
    params = load_params()
    decoy, faces = leaderboard_protocol(METHOD, None, params)
    # decoy: both shortcut datasets, not ERM's clean-digits reference; faces: the leaderboard grid's cells (the
    # paper table's GAP CNN among them), not the no-cue reference (ERM only); the ViT and the 7x cell are the
    # optional faces_more's
    assert sorted({(s.dataset, s.arch) for s in decoy[1].runs}) == [
        ("color_digits", "simple_cnn"),
        ("decoy_digits", "simple_cnn"),
    ]
    assert sorted({(s.dataset, s.arch) for s in faces[1].runs}) == [
        ("toy_faces_small", "gap_cnn"),
        ("toy_faces_small", "simple_cnn"),
        ("toy_faces_small_corner", "gap_cnn"),
        ("toy_faces_small_sparse", "gap_cnn"),
    ]
    for (reference, submission), cells in zip((decoy, faces), (2, 4), strict=True):
        assert len(submission.runs) == cells * 5  # the comparison cells x the study's 5 seeds
        cells = comparison_cells(reference)
        for spec in submission.runs:
            template = cells[(spec.dataset, spec.arch)][0].config
            assert spec.method == spec.config.method == METHOD and spec.tuned is None
            for field in (
                "epochs",
                "batch_size",
                "optimizer",
                "schedule",
                "evaluation",
                "dataset_params",
                "arch_params",
            ):
                assert getattr(spec.config, field) == getattr(template, field), field


def test_the_tiny_profile_moves_the_cells_with_its_blocks():
    decoy, faces = leaderboard_protocol(METHOD, "tiny", load_params())
    assert {(s.config.epochs, s.seed) for s in decoy[1].runs} == {(1, 0), (1, 1), (1, 2)}
    assert {s.config.dataset_params["train_size"] for s in faces[1].runs} == {96}


def test_check_destination_refuses_a_folder_it_did_not_write(tmp_path):
    check_destination(tmp_path / "absent")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(ContractError, match="was not written by"):
        check_destination(foreign)
    ours = tmp_path / "ours"
    ours.mkdir()
    (ours / "submission.json").write_text(json.dumps({"created_by": MARK}))
    check_destination(ours)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A two-method study on 12x12 decoy digits (2 seeds, 1 epoch) with gradia submitted: seconds."""
    root = tmp_path_factory.mktemp("submission")
    params = tiny_params(methods=["erm", "rrr"], seeds=2)
    params["leaderboard"] = ["tiny"]
    reference = expand("tiny", params=params)
    pairs = leaderboard_protocol(METHOD, None, params)
    assert pairs[0][0].runs == reference.runs
    options = ProtocolOptions(reps=200, bayes_samples=2000, progress=False)
    bundles, runs, work = root / "submissions", root / "runs", work_folder(root / "work", METHOD)
    outcomes = run_protocol(pairs, runs, work, options)
    content = claim(METHOD, "quick", outcomes, COST)
    text = summary_text(content, COST, ["check 1/4 contract: ok"])
    folder = write_bundle(bundles, METHOD, "quick", outcomes, {"method": METHOD}, text, COST)
    return folder, params, runs, work, options, outcomes


def test_the_bundle_holds_the_submissions_records_only_without_probe_maps(bundle):
    folder, *_, outcomes = bundle
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    ids = sorted(s.run_id for s in outcomes[0].submission.runs)
    assert files == sorted(
        [
            "claim.json",
            "fingerprints.json",
            "submission.json",
            "summary.md",
            *[f"records/tiny/{rid}.json" for rid in ids],
        ]
    )
    prints = json.loads((folder / "fingerprints.json").read_text())
    for rid in ids:
        path = folder / "records" / "tiny" / f"{rid}.json"
        assert prints[f"tiny/{rid}"]["sha256"] == sha256_file(path)
        assert prints[f"tiny/{rid}"]["fingerprint"] == json.loads(path.read_text())["fingerprint"]
    assert json.loads((folder / "submission.json").read_text())["created_by"] == MARK


def test_the_claimed_cell_numbers_are_the_records_mean_sd_and_count(bundle):
    folder, *_ = bundle
    content = json.loads((folder / "claim.json").read_text())
    values = [
        json.loads(p.read_text())["metrics"]["test"]["accuracy"]
        for p in sorted((folder / "records" / "tiny").glob("*.json"))
    ]
    cell = content["studies"]["tiny"]["cells"]["test/accuracy"]
    ((name, numbers),) = cell.items()
    assert (
        name == "decoy_digits[digit_size=8,image_size=12,patch_size=3]/simple_cnn[hidden=16]"
    )  # labels: params.yaml variants
    assert numbers["n"] == 2
    assert math.isclose(numbers["mean"], np.mean(values), rel_tol=1e-9)
    assert math.isclose(numbers["sd"], np.std(values, ddof=1), rel_tol=1e-9)
    ranking = content["studies"]["tiny"]["ranking"]["test/accuracy"]
    assert ranking["of"] == 3 and set(ranking["versus"]) == {"erm", "rrr"}
    assert ranking["versus"]["erm"]["cells"][name]["n"] == 2


def test_verify_rederives_the_claim_and_the_ranking(bundle):
    folder, params, runs, work, options, _ = bundle
    problems, notes = verify(folder, rederiver(METHOD, params, runs, work, options))
    assert problems == []
    assert notes == ["study tiny: ranking re-derived from the study's records and the bundle's"]


def test_verify_names_an_edited_record_and_an_edited_claim(bundle, tmp_path):
    import shutil

    folder, params, runs, work, options, _ = bundle
    copy = tmp_path / METHOD
    shutil.copytree(folder, copy)
    record = sorted((copy / "records" / "tiny").glob("*.json"))[0]
    data = json.loads(record.read_text())
    data["metrics"]["test"]["accuracy"] = 0.999
    record.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    content = json.loads((copy / "claim.json").read_text())
    content["studies"]["tiny"]["ranking"]["test/accuracy"]["place"] = 1 + content["studies"]["tiny"]["ranking"][
        "test/accuracy"
    ].get("place", 0)
    (copy / "claim.json").write_text(json.dumps(content))
    problems, _ = verify(copy, rederiver(METHOD, params, runs, work, options))
    text = "\n".join(problems)
    assert f"records/tiny/{record.stem}.json was edited" in text
    assert "claim.json was edited: studies.tiny.cells.test/accuracy" in text and "the records give" in text
    assert "claim.json was edited: studies.tiny.ranking.test/accuracy.place" in text


def test_verify_without_the_studys_records_checks_the_cells_and_says_why_not_the_ranking(bundle, tmp_path):
    folder, params, _, _, options, _ = bundle
    problems, notes = verify(folder, rederiver(METHOD, params, tmp_path / "no-runs", tmp_path / "no-work", options))
    assert problems == []
    assert notes == [
        "study tiny: ranking not re-derived: 4 of 4 runs of the study at profile quick are not done in "
        f"{tmp_path / 'no-runs' / 'tiny'} (`python -m benchmark sweep tiny --profile quick` trains them)"
    ]


def test_rerunning_the_protocol_reuses_every_run_and_gives_the_same_claim(bundle):
    folder, params, runs, work, options, _ = bundle
    outcomes = run_protocol(leaderboard_protocol(METHOD, None, params), runs, work, options)
    content = claim(METHOD, "quick", outcomes, COST)
    assert json.loads(json.dumps(content, sort_keys=True)) == json.loads((folder / "claim.json").read_text())
