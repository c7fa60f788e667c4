"""A run with saliency evaluation: artifacts beside the record, determinism, the fixed probe, show."""

import dataclasses
import hashlib
import json

import numpy as np
import pytest
from quick import QUICK_TRAINING

from benchmark.cli import show_cmd
from benchmark.contracts import ContractError, RunConfig
from benchmark.records.artifacts import folder_for, load_array, write_artifacts
from benchmark.records.identity import run_id
from benchmark.records.record_store import read_record
from benchmark.records.recorder import record_run
from benchmark.runs.run import resolve_config
from benchmark.saliency import metrics as registry
from benchmark.saliency.evaluate import Trained, evaluate_saliency
from benchmark.saliency.probe import balanced_order
from benchmark.saliency.settings import resolve_evaluation

SMALL = {"probe_size": 12, "ig_steps": 4, "mask_levels": 4, "sanity_images": 4}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    config = RunConfig(
        method="erm",
        dataset="decoy_digits",
        arch="simple_cnn",
        seed=0,
        **{**QUICK_TRAINING, "epochs": 1},
        evaluation=SMALL,
    )
    first = record_run(config, folder, device="cpu", progress=False)
    other_seed = record_run(dataclasses.replace(config, seed=1), folder, device="cpu", progress=False)
    return first, other_seed


def test_record_points_to_every_artifact_and_each_matches_its_digest(runs):
    result = runs[0]
    record = read_record(result.path)
    info = record.extra["saliency"]
    assert info["splits"] == ["test"] and set(info["skipped"]) == {"cam"}  # simple_cnn has no exact CAM
    folder = folder_for(result.path)
    assert folder.is_dir() and not list(folder.parent.glob(".*.tmp")), "no temporary folder left behind"
    for relative in record.artifacts.values():
        data = (result.path.parent / relative).read_bytes()
        assert hashlib.sha256(data).hexdigest() == info["sha256"][relative]
    maps = load_array(result.path, record.artifacts["saliency/test/gradient"])
    assert maps.dtype == np.float16 and maps.shape == (12, 28, 28) and maps.max() == 1.0
    assert load_array(result.path, record.artifacts["saliency/test/gradcam"]).shape == (12, 12, 12)
    table = json.loads((result.path.parent / record.artifacts["saliency/test/masking"]).read_text())
    # masked fractions 0.9 (j/3)^1.5, j = 0..3 (mask_levels 4, the default mask_power); deletion and insertion end at 1
    assert [row["masked_fraction"] for row in table] == pytest.approx([0.0, 0.9 / 3**1.5, 0.9 * (2 / 3) ** 1.5, 0.9])
    assert "random" in table[0]
    deletion = json.loads((result.path.parent / record.artifacts["saliency/test/deletion"]).read_text())
    assert [row["fraction"] for row in deletion][-1] == 1.0 and len(deletion) == 5
    assert info["sanity"]["blocks"] == ["fc2", "fc1", "conv2", "conv1"]  # seed 0 is the sanity seed
    assert "sanity" not in read_record(runs[1].path).extra["saliency"]


def test_every_recorded_metric_declares_direction_and_unit(runs):
    metrics = runs[0].record.metrics
    keys = {k for split in metrics.values() for k in split}
    assert {
        "saliency/gradient/auroc",
        "saliency/uniform/auroc",
        "saliency/human_prior/auroc",
        "saliency/integrated_gradients/ig_delta",
        "saliency/random/deletion_auc",
        "saliency/gradcam/wrong_reason_share",
        "saliency/gradcam/mprt_spearman",
    } <= keys
    for key in keys:
        assert registry.spec(key).direction in ("higher", "lower") and registry.spec(key).unit
    assert metrics["test"]["saliency/uniform/auroc"] == 0.5


def test_recorded_alignment_recomputes_from_the_saved_arrays(runs):
    import torch

    from benchmark.saliency.alignment import wrong_reason_share
    from benchmark.saliency.attributions import at_size

    result = runs[0]
    record = read_record(result.path)
    arrays = {k.split("/")[-1]: load_array(result.path, v) for k, v in record.artifacts.items() if v.endswith(".npy")}
    cam = at_size(torch.from_numpy(arrays["gradcam"]), (28, 28)).numpy()
    share = wrong_reason_share(cam, arrays["wrong_reason"].astype(bool))
    assert record.metrics["test"]["saliency/gradcam/wrong_reason_share"] == pytest.approx(
        float(np.nanmean(share)), abs=1e-12
    )


def test_evaluation_is_deterministic(runs, tmp_path):
    result = runs[0]
    output = result.output
    again = evaluate_saliency(Trained(output.network, output.splits, output.bundle, output.config.to_dict()))
    saliency = {k: v for k, v in result.record.metrics["test"].items() if k.startswith("saliency/")}
    assert again.metrics["test"] == saliency
    _, digests = write_artifacts(tmp_path / result.path.name, again.arrays, again.tables)
    assert digests == result.record.extra["saliency"]["sha256"]


def test_probe_is_the_same_for_every_run_and_seed(runs):
    first, other = (read_record(r.path) for r in runs)
    for name in ("index", "images", "labels"):
        a = load_array(runs[0].path, first.artifacts[f"saliency/test/{name}"])
        b = load_array(runs[1].path, other.artifacts[f"saliency/test/{name}"])
        assert np.array_equal(a, b)
    assert first.extra["weights_sha256"] != other.extra["weights_sha256"]


def test_balanced_order_is_a_class_balanced_permutation_independent_of_global_seeds():
    labels = np.repeat(np.arange(5), [30, 10, 20, 25, 15])
    np.random.seed(1)
    a = balanced_order(labels, "decoy_digits", "test")
    np.random.seed(2)
    assert np.array_equal(a, balanced_order(labels, "decoy_digits", "test"))
    assert sorted(a.tolist()) == list(range(len(labels)))
    counts = np.bincount(labels[a[:20]], minlength=5)
    assert counts.max() - counts.min() == 0
    assert not np.array_equal(a, balanced_order(labels, "decoy_digits", "test_iid"))


def test_settings_resolve_like_hyperparameters():
    defaults = resolve_evaluation({})
    assert defaults["enabled"] and defaults["attributions"][0] == "cam" and defaults["probe_size"] == 64
    assert resolve_evaluation({"enabled": False}) == {"enabled": False}
    assert resolve_evaluation({"attributions": "gradient,cam"})["attributions"] == ["cam", "gradient"]
    with pytest.raises(ContractError, match=r"unknown name\(s\) \['smoothgrad'\]"):
        resolve_evaluation({"attributions": ["smoothgrad"]})
    with pytest.raises(ContractError, match="'ig_steps' expects int"):
        resolve_evaluation({"ig_steps": "many"})
    old = RunConfig.from_dict(
        {
            k: v
            for k, v in RunConfig(method="erm", dataset="decoy_digits", arch="simple_cnn", **QUICK_TRAINING)
            .to_dict()
            .items()
            if k != "evaluation"
        }
    )
    assert old.evaluation == {}
    resolved = resolve_config(old)
    assert resolved.evaluation == defaults
    off = resolve_config(dataclasses.replace(old, evaluation={"enabled": False, "ig_steps": 99}))
    assert run_id(off) != run_id(resolved)
    assert off.evaluation == {"enabled": False}


def test_show_prints_tables_and_writes_a_png(runs, tmp_path, capsys):
    from benchmark.cli import main

    png = tmp_path / "fig.png"
    assert main(["show", runs[0].record.run_id, "--runs", str(runs[0].path.parent), "--png", str(png)]) == 0
    out = capsys.readouterr().out
    assert "wrong_reason_share ↓" in out and "gradcam" in out and "flagged" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    with pytest.raises(ContractError, match="no record 'nope'"):
        show_cmd.find_record("nope", [tmp_path])


def test_an_unknown_evaluation_split_fails_before_training(tmp_path):
    config = RunConfig(
        method="erm", dataset="decoy_digits", arch="simple_cnn", **QUICK_TRAINING, evaluation={"splits": ["nope"]}
    )
    with pytest.raises(ContractError, match=r"split 'nope' not in the dataset's splits \[.*'test_iid'.*\]"):
        record_run(config, tmp_path, device="cpu", progress=False)
    assert not any(tmp_path.iterdir())


def test_a_run_whose_attributions_need_no_gradient_is_evaluated(tmp_path):
    """Issue 25 item 7: CAM and IG only (no gradient map; sanity on) trains, evaluates and records the maps."""
    config = RunConfig(
        method="erm",
        dataset="decoy_digits",
        dataset_params={"image_size": 12, "digit_size": 8, "patch_size": 3},
        arch="gap_cnn",
        arch_params={"width": 4},
        seed=0,
        **{**QUICK_TRAINING, "epochs": 1},
        evaluation={**SMALL, "attributions": ["cam", "integrated_gradients"]},
    )
    record = read_record(record_run(config, tmp_path, device="cpu", progress=False).path)
    assert {"saliency/test/cam", "saliency/test/integrated_gradients"} <= set(record.artifacts)
    assert not [k for k in record.artifacts if k.endswith(("/gradient", "/gradcam"))]
