"""The guidance declaration (benchmark/guidance.py): the scale of a method's guidance strength, both forms,
and the contract check that every registered method's declaration is usable by a study's guidance axis."""

from __future__ import annotations

import math
import re

import pytest

from benchmark.contracts import ContractError, Guidance, HParam, Method
from benchmark.registry import METHODS
from benchmark.submission.contract import guidance_failures

GUIDED = {
    "sgt": ("kl_weight",),
    "smoot": ("kl_weight",),
    "cyborg": ("alpha",),
    "gradia": ("lam",),
    "rrr": ("lam",),
    "sage": ("triplet_weight", "js_weight"),
}


def test_weight_form_scales_every_named_weight_and_inverts():
    g = Guidance(("triplet_weight", "js_weight"))
    defaults = {"triplet_weight": 1.0, "js_weight": 2.0, "margin": 1.0}
    assert g.scaled(defaults, 0.3) == {"triplet_weight": 0.3, "js_weight": 0.6}
    assert g.scaled(defaults, 0) == {"triplet_weight": 0.0, "js_weight": 0.0}
    assert g.scale_of({"triplet_weight": 3.0, "js_weight": 6.0}, defaults) == 3.0
    assert g.scale_of({}, defaults) == 1.0
    with pytest.raises(ContractError, match="not one scale"):
        g.scale_of({"triplet_weight": 3.0, "js_weight": 2.0}, defaults)


def test_ce_share_form_scales_the_ratio_of_the_two_weights():
    """CYBORG: a*CE + (1-a)*G; strength r = (1-a)/a; a_s = 1/(1 + s*r0). At a0 = 0.5 (r0 = 1): s = 3 gives
    a = 0.25 (G weighs 3x CE), s = 0.1 gives a = 1/1.1; a = 1 is the off point (scale 0)."""
    g = Guidance(("alpha",), "ce_share")
    defaults = {"alpha": 0.5}
    assert g.scaled(defaults, 3) == {"alpha": 0.25}
    assert math.isclose(g.scaled(defaults, 0.1)["alpha"], 1 / 1.1)
    assert g.scaled(defaults, 0) == {"alpha": 1.0}
    assert g.scaled(defaults, 1) == {"alpha": 0.5}
    assert math.isclose(g.scale_of({"alpha": 0.25}, defaults), 3.0)
    assert g.scale_of({"alpha": 1.0}, defaults) == 0.0
    # a0 = 0.8: r0 = 0.25; s = 2 -> r = 0.5 -> a = 1/1.5
    assert math.isclose(g.scaled({"alpha": 0.8}, 2)["alpha"], 1 / 1.5)
    assert math.isclose(g.scale_of({"alpha": 1 / 1.5}, {"alpha": 0.8}), 2.0)


@pytest.mark.parametrize("bad", [-1, float("inf"), float("nan"), True, "1"])
def test_a_scale_that_is_not_a_finite_non_negative_number_is_refused(bad):
    with pytest.raises(ContractError, match="guidance scale"):
        Guidance(("lam",)).scaled({"lam": 1.0}, bad)


def test_declarations_are_checked_on_construction():
    with pytest.raises(ContractError, match="form"):
        Guidance(("lam",), "linear")
    with pytest.raises(ContractError, match="non-empty"):
        Guidance(())
    with pytest.raises(ContractError, match="one hyperparameter"):
        Guidance(("a", "b"), "ce_share")


def test_every_registered_guided_method_declares_its_weights():
    assert METHODS.get("erm").guidance is None
    for name, params in GUIDED.items():
        declared = METHODS.get(name).guidance
        assert declared is not None and declared.params == params, name
        assert guidance_failures(METHODS.get(name), name) == [], name


def _method(guidance: object, hparams: dict[str, HParam]) -> type:
    return type("M", (Method,), {"name": "m", "guidance": guidance, "hparams": hparams})


@pytest.mark.parametrize(
    ("guidance", "hparams", "message"),
    [
        (Guidance(("lam",)), {"beta": HParam(1.0, "b", low=0)}, "'lam' is not declared"),
        (Guidance(("lam",)), {"lam": HParam(0.0, "w", low=0)}, "must default to a value > 0"),
        (Guidance(("alpha",), "ce_share"), {"alpha": HParam(1.0, "a", low=0, high=1)}, r"in \(0, 1\)"),
        (Guidance(("mode",)), {"mode": HParam("x", "m", choices=("x", "y"))}, "must default to a number"),
        ("lam", {"lam": HParam(1.0, "w", low=0)}, "not a benchmark.contracts.Guidance"),
    ],
)
def test_the_submit_contract_refuses_a_guidance_a_study_cannot_scale(guidance, hparams, message):
    failures = guidance_failures(_method(guidance, hparams), "m")
    assert len(failures) == 1
    assert re.search(message, failures[0].problem) and "guidance" in failures[0].fix
