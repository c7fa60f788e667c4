"""A study's guidance and annotation axes (issue 26; benchmark/sweeps/study.py): which runs they expand to."""

from __future__ import annotations

import math

import pytest
from sweep_helpers import tiny_params

from benchmark.contracts import ContractError
from benchmark.records.identity import run_id
from benchmark.sweeps.study import expand


def _runs(study):
    return sorted((s.config.method, tuple(sorted(s.config.method_params.items()))) for s in study.runs)


def _method_values(study, method, key):
    return sorted(s.config.method_params[key] for s in study.runs if s.config.method == method)


def test_guidance_scales_each_guided_method_and_keeps_erm_once():
    study = expand("tiny", params=tiny_params(["erm", "rrr", "cyborg", "sage"], seeds=1, guidance=[0.1, 1, 3]))
    methods = [s.config.method for s in study.runs]
    assert methods.count("erm") == 1 and methods.count("rrr") == 3 and methods.count("cyborg") == 3
    assert _method_values(study, "rrr", "lam") == [100.0, 1000.0, 3000.0]  # RRR's default lam is 1000
    alphas = _method_values(study, "cyborg", "alpha")  # a = 1 / (1 + s * (1 - 0.5) / 0.5)
    assert all(math.isclose(a, b) for a, b in zip(alphas, [0.25, 0.5, 1 / 1.1]))
    sage = sorted(
        (s.config.method_params["triplet_weight"], s.config.method_params["js_weight"])
        for s in study.runs
        if s.config.method == "sage"
    )
    assert sage == [(0.1, 0.1), (1.0, 1.0), (3.0, 3.0)]  # both SAGE weights scaled together


def test_scale_one_is_the_unscaled_run_and_an_item_value_is_the_scale_one_point():
    plain = expand("tiny", params=tiny_params(["rrr"], seeds=1))
    scaled = expand("tiny", params=tiny_params(["rrr"], seeds=1, guidance=[1]))
    assert [s.run_id for s in scaled.runs] == [s.run_id for s in plain.runs]
    item = {"name": "rrr", "params": {"lam": 10.0}}
    study = expand("tiny", params=tiny_params([item], seeds=1, guidance=[0.5, 2]))
    assert _method_values(study, "rrr", "lam") == [5.0, 20.0]


def test_a_grid_guidance_axis_overrides_the_study_and_a_negative_scale_is_refused_in_one_line():
    params = tiny_params(["erm"], seeds=1, guidance=[1, 2], grids=[{"methods": ["gradia"], "guidance": [0.5]}])
    assert _method_values(expand("tiny", params=params), "gradia", "lam") == [0.5]
    with pytest.raises(ContractError, match=r"studies\.tiny\.guidance\[0\]: .*greater than or equal to 0, got -1"):
        expand("tiny", params=tiny_params(["rrr"], seeds=1, guidance=[-1]))


def test_annotation_views_multiply_only_the_methods_that_read_maps():
    views = [{}, {"budget": 0.5}]
    study = expand("tiny", params=tiny_params(["erm", "sgt", "rrr"], seeds=2, annotations=views))
    per_method = {}
    for s in study.runs:
        per_method.setdefault(s.config.method, set()).add((s.config.seed, repr(sorted(s.config.annotations.items()))))
    assert len(per_method["erm"]) == 2 and len(per_method["sgt"]) == 2  # one per seed: they read no map
    assert len(per_method["rrr"]) == 4  # two views x two seeds
    own = [s for s in study.runs if s.config.method == "rrr" and s.seed == 0 and "budget=0.5" not in s.dataset]
    plain = expand("tiny", params=tiny_params(["rrr"], seeds=1))
    assert [s.run_id for s in own] == [s.run_id for s in plain.runs]  # {} is the dataset's own maps: same id
    halved = [s for s in study.runs if s.config.method == "rrr" and s.seed == 0 and "budget=0.5" in s.dataset]
    assert len(halved) == 1 and halved[0].run_id != own[0].run_id == run_id(own[0].config)
