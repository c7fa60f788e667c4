"""Hyperparameter declarations, run records and the registry fail clearly on bad input."""

import pytest

from benchmark.contracts import ContractError, Cost, HParam, RunConfig, paper_link, resolve_hparams
from benchmark.registry import ARCHS, DATASETS, METHODS, UnknownName

DECLARED = {
    "lam": HParam(1.0, "weight"),
    "fill": HParam("random", "fill", choices=("random", "mean")),
    "k": HParam(3, "count"),
}


def test_resolve_fills_defaults_and_coerces_int_to_float():
    assert resolve_hparams(DECLARED, {"lam": 2}, "m") == {"lam": 2.0, "fill": "random", "k": 3}


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ({"lamb": 1.0}, "unknown hyperparameter(s) ['lamb']; known: ['fill', 'k', 'lam']"),
        ({"lam": "high"}, "'lam' expects float, got 'high'"),
        ({"k": 2.5}, "'k' expects int"),
        ({"fill": "zero"}, "must be one of ['random', 'mean']"),
        ({"lam": float("nan")}, "must be finite"),
    ],
)
def test_resolve_rejects_bad_values_naming_them(overrides, fragment):
    with pytest.raises(ContractError, match=None) as info:
        resolve_hparams(DECLARED, overrides, "method 'x'")
    assert fragment in str(info.value) and "method 'x'" in str(info.value)


def test_cost_units_follow_methods_md():
    assert Cost(forward=1, backward=1).in_forward_units() == 3
    assert Cost(forward=3, backward=1, input_backward=1).in_forward_units() == 6
    assert Cost(forward=1, double_backward=1, backward=0).in_forward_units() == 6
    units = {"forward": 2.0, "backward": 3.0, "input_backward": 1.5, "double_backward": 7.0, "grad_cam": 0.25}
    assert Cost(forward=1, backward=1).seconds(units) == 5.0
    assert Cost(forward=3, backward=2, input_backward=1).seconds(units) == 6.0 + 6.0 + 1.5
    assert Cost(forward=1, backward=0, double_backward=1).seconds(units) == 9.0
    assert Cost(forward=1, backward=1, grad_cam=1).seconds({**units, "grad_cam": 0.0}) == 5.0  # exact CAM: free
    assert Cost(forward=1, backward=1, grad_cam=1).describe() == "1F+1B+1CAM"
    with pytest.raises(ContractError, match="double_backward"):
        Cost(forward=1, backward=0, double_backward=1).seconds({"forward": 1.0})


def test_unknown_names_list_the_known_ones():
    for registry, known in ((METHODS, "erm"), (DATASETS, "decoy_digits"), (ARCHS, "resnet18")):
        with pytest.raises(UnknownName) as info:
            registry.get("nope")
        assert "unknown" in str(info.value) and known in str(info.value)


def test_run_config_rejects_unknown_fields():
    with pytest.raises(ContractError, match="epochz"):
        RunConfig.from_dict({"method": "erm", "dataset": "d", "arch": "a", "epochz": 3})
    with pytest.raises(ContractError, match=r"missing field\(s\) \['batch_size', 'epochs', 'optimizer', 'schedule'\]"):
        RunConfig.from_dict({"method": "erm", "dataset": "d", "arch": "a"})
    with pytest.raises(ContractError, match="field 'epochs' must be int, got '3'"):
        RunConfig.from_dict(
            {
                "method": "erm",
                "dataset": "d",
                "arch": "a",
                "epochs": "3",
                "batch_size": 2,
                "optimizer": {},
                "schedule": {},
            }
        )


@pytest.mark.parametrize(
    "text, link",
    [
        ("10.1145/3555590", "https://doi.org/10.1145/3555590"),
        ("doi:10.24963/ijcai.2017/371", "https://doi.org/10.24963/ijcai.2017/371"),
        ("https://doi.org/10.1145/3555590", "https://doi.org/10.1145/3555590"),
        ("https://arxiv.org/abs/2111.14338", "https://arxiv.org/abs/2111.14338"),
        ("arXiv 2111.14338", None),
        ("", None),
        ("ftp://example.org/paper", None),
        ("https://nodot", None),
    ],
)
def test_paper_link_accepts_web_addresses_and_dois_only(text, link):
    assert paper_link(text) == link


def test_every_method_of_the_folder_links_its_paper():
    shipped = [
        METHODS.get(n) for n in METHODS.names() if METHODS.get(n).__module__.startswith("salbench_plugins.methods.")
    ]
    assert len(shipped) >= 7  # not the test-only methods other test modules register
    for cls in shipped:
        name = cls.name
        assert paper_link(cls.url), f"method {name}: url {cls.url!r} is not an http(s) address or a DOI"
