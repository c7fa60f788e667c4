"""Hyperparameter declarations, run records and the registry fail clearly on bad input."""
import pytest

from benchmark.contracts import ContractError, Cost, HParam, RunConfig, RunRecord, resolve_hparams
from benchmark.records.store import read_record, run_id, write_record
from benchmark.registry import ARCHS, DATASETS, METHODS, UnknownName


DECLARED = {"lam": HParam(1.0, "weight"), "fill": HParam("random", "fill", choices=("random", "mean")), "k": HParam(3, "count")}


def test_resolve_fills_defaults_and_coerces_int_to_float():
    assert resolve_hparams(DECLARED, {"lam": 2}, "m") == {"lam": 2.0, "fill": "random", "k": 3}


@pytest.mark.parametrize("overrides, fragment", [
    ({"lamb": 1.0}, "unknown hyperparameter(s) ['lamb']; known: ['fill', 'k', 'lam']"),
    ({"lam": "high"}, "'lam' expects float, got 'high'"),
    ({"k": 2.5}, "'k' expects int"),
    ({"fill": "zero"}, "must be one of ['random', 'mean']"),
    ({"lam": float("nan")}, "must be finite"),
])
def test_resolve_rejects_bad_values_naming_them(overrides, fragment):
    with pytest.raises(ContractError, match=None) as info:
        resolve_hparams(DECLARED, overrides, "method 'x'")
    assert fragment in str(info.value) and "method 'x'" in str(info.value)


def test_cost_units_follow_methods_md():
    assert Cost(forward=1, backward=1).in_forward_units() == 3
    assert Cost(forward=3, backward=1, input_backward=1).in_forward_units() == 6
    assert Cost(forward=1, backward=1).seconds(forward_s=2.0, backward_s=3.0) == 5.0


def test_unknown_names_list_the_known_ones():
    for registry, known in ((METHODS, "erm"), (DATASETS, "decoy_digits"), (ARCHS, "resnet18")):
        with pytest.raises(UnknownName) as info:
            registry.get("nope")
        assert "unknown" in str(info.value) and known in str(info.value)


def test_record_roundtrip_and_validation(tmp_path):
    config = RunConfig(method="erm", dataset="decoy_digits", arch="simple_cnn").to_dict()
    record = RunRecord(run_id=run_id(config), config=config, metrics={"test": {"accuracy": 0.5}})
    path = write_record(record, tmp_path)
    assert read_record(path) == record
    path.write_text(path.read_text()[:40])
    with pytest.raises(ContractError, match=str(path)):
        read_record(path)
    foreign = tmp_path / "foreign.json"
    foreign.write_text('{"hello": 1}')
    with pytest.raises(ContractError, match="schema"):
        read_record(foreign)


def test_run_config_rejects_unknown_fields():
    with pytest.raises(ContractError, match="epochz"):
        RunConfig.from_dict({"method": "erm", "dataset": "d", "arch": "a", "epochz": 3})


def test_fingerprint_of_a_subclass_covers_its_base_plugin_file():
    from benchmark.registry import file_digest

    smoot, sgt = METHODS.get("smoot"), METHODS.get("sgt")
    assert issubclass(smoot, sgt)
    assert METHODS.fingerprint("smoot") != file_digest(METHODS.source_file("smoot"))
    assert METHODS.fingerprint("sgt") == file_digest(METHODS.source_file("sgt"))
