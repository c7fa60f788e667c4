"""The claims files' schema (benchmark/claims_schema.py): every committed claims/*.yaml validates, and a
typo'd key, a missing one or an out-of-range value is refused in one line naming the file, the key
(a claim by its index and id) and the value."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmark.claims_schema import DEFAULT_ORDER, TESTS, ClaimsFile, Side, check_claims_file, load_claims_file
from benchmark.contracts import ContractError

ROOT = Path(__file__).resolve().parent.parent
CLAIMS = sorted((ROOT / "claims").glob("*.yaml"))
SOURCE = "claims/tiny.yaml"
DOC: dict[str, Any] = {
    "paper": "Tiny",
    "title": "A tiny paper",
    "citation": "Someone. Nowhere 2024",
    "url": "https://example.org/tiny",
    "studies": ["tiny"],
    "claims": [
        {
            "id": "T-1",
            "claim": "RRR keeps ERM's accuracy",
            "study": "tiny",
            "metric": "test/accuracy",
            "test": "equivalence",
            "rope": 0.05,
            "method": ["rrr", {"method": "sgt", "arch": "gap_cnn"}],
            "reference": "erm",
            "dataset": "tiny_digits",
            "arch": "simple_cnn",
        },
        {
            "id": "T-2",
            "claim": "SGT is more faithful",
            "published": 99.3,
            "study": "tiny",
            "metric": ["test/saliency/gradient/masking_gap"],
            "test": "superiority",
            "method": "sgt",
            "reference": "erm",
            "dataset": "tiny_digits",
            "arch": ["simple_cnn", "gap_cnn"],
        },
    ],
    "figures": {"study": "tiny", "curve": "mask_fraction", "methods": "smoot", "dataset": "d", "arch": "a"},
}


def refused(change) -> str:
    doc = copy.deepcopy(DOC)
    change(doc)
    with pytest.raises(ContractError) as caught:
        check_claims_file(doc, SOURCE)
    line = str(caught.value)
    assert "\n" not in line and line.startswith(f"{SOURCE}: "), line
    return line


@pytest.mark.parametrize("path", CLAIMS, ids=[p.stem for p in CLAIMS])
def test_every_committed_claims_file_validates(path):
    model = load_claims_file(path)
    assert isinstance(model, ClaimsFile) and model.claims and model.paper
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert [c.id for c in model.claims] == [str(c["id"]) for c in raw["claims"]]


def test_a_valid_document_keeps_its_values_one_or_many():
    model = check_claims_file(copy.deepcopy(DOC), SOURCE)
    first, second = model.claims
    assert first.method == ["rrr", Side(method="sgt", arch="gap_cnn")] and first.reference == "erm"
    assert first.rope == 0.05 and second.rope is None and second.published == "99.3"
    assert second.arch == ["simple_cnn", "gap_cnn"] and model.order == DEFAULT_ORDER
    assert model.figures.methods == "smoot" and model.figures.title is None


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda d: d["claims"][0].update(ropee=0.1),
            "claims/tiny.yaml: claims[0] (T-1): unknown key 'ropee'; did you mean 'rope'?; known: ['arch', 'claim', ",
        ),
        (
            lambda d: d.update(papers="x"),
            "claims/tiny.yaml: top level: unknown key 'papers'; did you mean 'paper'?; known: ['citation', ",
        ),
        (
            lambda d: d["claims"][0]["method"][1].update(dataset_="x"),
            "claims/tiny.yaml: claims[0] (T-1).method[1]: unknown key 'dataset_'; did you mean 'dataset'?",
        ),
        (lambda d: d["figures"].update(xlabel="x"), "claims/tiny.yaml: figures: unknown key 'xlabel'"),
    ],
    ids=["claim", "top-level", "side", "figure"],
)
def test_a_typo_d_key_is_refused_in_one_line_naming_it(change, message):
    assert message in refused(change)


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda d: d["claims"][0].update(rope=0),
            "claims/tiny.yaml: claims[0] (T-1).rope: must be a finite number > 0, got 0",
        ),
        (lambda d: d["claims"][0].update(rope=-0.1), "claims[0] (T-1).rope: must be a finite number > 0, got -0.1"),
        (
            lambda d: d["claims"][0].update(rope=float("nan")),
            "claims[0] (T-1).rope: must be a finite number > 0, got nan",
        ),
        (
            lambda d: d["claims"][1].update(test="bigger"),
            "claims/tiny.yaml: claims[1] (T-2).test: unknown test 'bigger'; known: ['superiority', 'equivalence', "
            "'difference']",
        ),
        (lambda d: d["claims"][1].update(arch=[]), "claims/tiny.yaml: claims[1] (T-2).arch: an empty list"),
        (lambda d: d["claims"][0].pop("reference"), "claims/tiny.yaml: claims[0] (T-1): missing 'reference'"),
        (lambda d: d["claims"][0].update(claim="  "), "claims[0] (T-1).claim: expected a non-empty text, got '  '"),
        (lambda d: d.update(claims=[]), "claims/tiny.yaml: claims: expected a non-empty list of claims, got []"),
        (lambda d: d.update(order="first"), "claims/tiny.yaml: order: must be an integer, got 'first'"),
        (lambda d: d["claims"][0].update(method={"arch": "x"}), "claims[0] (T-1).method: missing 'method'"),
        (lambda d: d.update(claims=["T-1"]), "claims/tiny.yaml: claims[0]: must be a mapping of claim keys"),
    ],
    ids=[
        "rope-0",
        "rope-negative",
        "rope-nan",
        "test",
        "empty-list",
        "missing",
        "blank",
        "no-claims",
        "order",
        "side-without-method",
        "claim-not-a-mapping",
    ],
)
def test_an_out_of_range_or_missing_value_is_refused_in_one_line(change, message):
    assert message in refused(change)


def test_the_file_is_read_strictly(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text(yaml.safe_dump(DOC, sort_keys=False) + "paper: Again\n")
    with pytest.raises(ContractError, match=r"twice.yaml: duplicate key 'paper' on line \d+ \(first on line 1\)"):
        load_claims_file(path)
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ContractError, match=r"binary.yaml: not UTF-8 text"):
        load_claims_file(tmp_path / "binary.yaml")
    (tmp_path / "list.yaml").write_text("- a\n")
    with pytest.raises(ContractError, match=r"list.yaml: top level: must be a mapping with keys paper, title"):
        load_claims_file(tmp_path / "list.yaml")


def test_the_tests_are_the_statistics_verdicts():
    from benchmark.statistics.verdicts import TESTS as VERDICT_TESTS

    assert TESTS == VERDICT_TESTS
