"""Human maps moved only where annotated and read, and images resident or streamed with the same batches
(issue 25 items 1-2): ``DeviceSplit`` holds the annotated rows' maps plus a zero map and a per-row index;
``runs.run.map_readers`` copies maps only for the splits a consumer reads; ``runs.placement`` streams a
split's images from a host memory map (background gather, one batch ahead) and gives the training loop,
the evaluation and the saliency evaluation exactly the batches of the resident path, so a run's record is
bitwise the same forced resident or forced streamed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark.contracts import ContractError, DatasetBundle, RunConfig, Split
from benchmark.runs import placement
from benchmark.runs.device_data import DeviceSplit

CPU = torch.device("cpu")
N, SIDE = 23, 6
ANNOTATED = np.arange(N) % 4 == 1  # 6 of 23 rows: batches with none, one or two annotated rows


def partly_annotated() -> Split:
    """A split whose annotated rows carry distinct maps (row i: a ramp scaled by i), with a wrong-reason mask."""
    rng = np.random.default_rng(0)
    dense = np.zeros((N, 1, SIDE, SIDE), np.float32)
    ramp = np.linspace(0.0, 1.0, SIDE * SIDE, dtype=np.float32).reshape(1, SIDE, SIDE)
    for i in np.flatnonzero(ANNOTATED):
        dense[i] = ramp * (i + 1) / N
    return Split(
        x=rng.integers(0, 256, (N, 3, SIDE, SIDE), dtype=np.uint8),
        y=np.arange(N) % 3,
        saliency=dense,
        annotated=ANNOTATED.copy(),
        extras={"decoy": (rng.random((N, 1, SIDE, SIDE)) < 0.2).astype(np.uint8)},
    )


def memory_mapped(split: Split, folder: Path) -> Split:
    """``split`` with its images read from a file through a read-only memory map (as the data store loads them)."""
    path = folder / "x.npy"
    np.save(path, split.x)
    return dataclasses.replace(split, x=np.load(path, mmap_mode="r"))


def fields(batch) -> dict[str, object]:
    return {
        name: getattr(batch, name) for name in ("x", "y", "saliency", "annotated", "annotated_index", "wrong_reason")
    }


def assert_same(a, b) -> None:
    assert a.n_annotated == b.n_annotated
    for (name, left), right in zip(fields(a).items(), fields(b).values()):
        assert (left is None) == (right is None), name
        if left is not None:
            assert left.dtype == right.dtype and torch.equal(left, right), name


def test_the_device_holds_the_annotated_maps_once_and_a_batch_gathers_them():
    """A+1 float16 maps (a zero map first) and an index, not N maps; every batch's saliency equals the dense
    expansion's rows in float16 (what the dense device copy gave): fails on the code before (N dense maps)."""
    split = partly_annotated()
    on_device = DeviceSplit.from_split(split, CPU)
    assert on_device.saliency.shape == (int(ANNOTATED.sum()) + 1, 1, SIDE, SIDE)
    assert on_device.saliency.dtype == torch.float16 and not on_device.saliency[0].any()
    assert on_device.map_index.tolist() == (split.map_index() + 1).tolist()
    order = torch.randperm(N, generator=torch.Generator().manual_seed(4))
    dense = torch.from_numpy(split.dense_saliency()).to(torch.float16).float()
    seen = []
    for batch in on_device.batches(5, order, drop_last=True):
        rows = order[len(seen) * 5 : len(seen) * 5 + 5]
        assert torch.equal(batch.saliency, dense[rows]) and torch.equal(
            batch.annotated, torch.from_numpy(ANNOTATED)[rows]
        )
        seen.append(batch.n_annotated)
    assert len(seen) == 4 and 0 in seen and sum(seen) > 0
    bare = DeviceSplit.from_split(split, CPU, maps=False)
    assert bare.saliency is None and bare.map_index is None and bare.annotated is None
    assert next(bare.batches(5)).saliency is None and next(bare.batches(5)).n_annotated == 0


@pytest.mark.parametrize("drop_last", [True, False])
def test_streamed_batches_equal_the_resident_ones(tmp_path, drop_last):
    """Images left in a memory map and gathered batch by batch: the same rows, order and values in every
    field, with maps and the wrong-reason mask; ``images`` and ``batch`` (the saliency probe) too."""
    split = memory_mapped(partly_annotated(), tmp_path)
    resident = DeviceSplit.from_split(split, CPU, wrong_reason="decoy")
    streamed = DeviceSplit.from_split(split, CPU, wrong_reason="decoy", stream=True)
    assert isinstance(streamed.x, np.memmap) and not resident.streamed and streamed.streamed
    order = torch.randperm(N, generator=torch.Generator().manual_seed(5))
    pairs = list(zip(resident.batches(4, order, drop_last), streamed.batches(4, order, drop_last), strict=True))
    assert len(pairs) == (5 if drop_last else 6)
    for a, b in pairs:
        assert_same(a, b)
    probe = np.array([7, 0, 22, 5])
    assert torch.equal(resident.images(probe), streamed.images(probe))
    assert_same(resident.batch(torch.from_numpy(probe)), streamed.batch(torch.from_numpy(probe)))


def test_a_streamed_epoch_stopped_early_leaves_no_prefetch_running(tmp_path):
    """A consumer that stops after one batch (the submission checks stop a loop early) ends the prefetch."""
    split = DeviceSplit.from_split(memory_mapped(partly_annotated(), tmp_path), CPU, stream=True)
    batches = split.batches(4)
    next(batches)
    batches.close()
    import threading

    assert not [t for t in threading.enumerate() if t.name.startswith("batch-prefetch")]


def test_the_placement_rule(monkeypatch, tmp_path):
    """Forced settings apply to every split; ``auto`` keeps train resident first, then val, and streams what
    does not fit in half the free memory; on the CPU an array already in RAM always stays; a bad value is
    refused naming the key."""
    mapped = memory_mapped(partly_annotated(), tmp_path).x  # 2484 bytes
    images = {"test": mapped, "train": mapped, "val": mapped}
    assert placement.choose(images, 0, CPU, "stream") == {"test": True, "train": True, "val": True}
    assert placement.choose(images, 0, CPU, "resident") == {"test": False, "train": False, "val": False}
    monkeypatch.setattr(placement, "free_memory", lambda device: 2 * (2 * mapped.nbytes + 100))
    assert placement.choose(images, 0, CPU) == {"test": True, "train": False, "val": False}
    assert placement.choose(images, 200, CPU) == {"test": True, "train": False, "val": True}
    in_ram = {name: np.array(x) for name, x in images.items()}
    monkeypatch.setattr(placement, "free_memory", lambda device: 0)
    assert placement.choose(in_ram, 0, CPU) == {"test": False, "train": False, "val": False}
    with pytest.raises(
        ContractError, match=r"^profile data_placement: must be one of \['auto', 'resident', 'stream'\], got 'gpu'$"
    ):
        placement.choose(images, 0, CPU, "gpu")


FACES = dict(dataset="toy_faces", arch="gap_cnn", dataset_params={"train_size": 64, "val_size": 32, "test_size": 32})
TRAIN = dict(epochs=1, batch_size=16, optimizer={"name": "adam", "lr": 0.001}, schedule={"name": "constant"})


@pytest.fixture(scope="module")
def mapped_faces(tmp_path_factory) -> DatasetBundle:
    """The toy faces with every split's images in a memory map (as the data store loads a built dataset)."""
    from benchmark.data import dataset_store

    bundle = dataset_store.get("toy_faces", FACES["dataset_params"])
    folder = tmp_path_factory.mktemp("faces")
    splits = {}
    for name, split in bundle.splits.items():
        (folder / name).mkdir()
        splits[name] = memory_mapped(split, folder / name)
    return dataclasses.replace(bundle, splits=splits)


@pytest.mark.parametrize(
    "method,evaluation,readers",
    [("erm", {"enabled": False}, set()), ("erm", {}, {"test_closed"}), ("cyborg", {}, {"train", "test_closed"})],
)
def test_maps_reach_the_device_only_for_a_split_whose_maps_are_read(
    mapped_faces, monkeypatch, method, evaluation, readers
):
    """ERM without the saliency evaluation moves no map; with it, only the evaluated split's; CYBORG also the
    train split's (the code before copied every split's maps): fails on the code before."""
    from benchmark.runs import run

    monkeypatch.setattr(run.dataset_store, "get", lambda family, params, root=None: mapped_faces)
    config = RunConfig(method=method, **FACES, **TRAIN, evaluation={**evaluation, "splits": ["test_closed"]})
    ready = run.prepare(config, CPU)
    assert {name for name, split in ready.splits.items() if split.saliency is not None} == readers
    assert (ready.train_split.saliency is not None) is (method == "cyborg")


@pytest.mark.parametrize("method", ["erm", "cyborg"])
def test_a_run_forced_resident_or_streamed_computes_the_same_record(mapped_faces, monkeypatch, method):
    """A real run (1 epoch, the classification and saliency evaluations) from memory-mapped images: the same
    weights digest, metrics, curves and saliency arrays whether its images are resident or streamed."""
    from benchmark.runs import run

    monkeypatch.setattr(run.dataset_store, "get", lambda family, params, root=None: mapped_faces)
    evaluation = {"probe_size": 8, "sanity": False, "attributions": ["cam", "gradient"], "splits": ["test_closed"]}
    config = RunConfig(method=method, **FACES, **TRAIN, evaluation=evaluation)
    outputs = {how: run.execute(config, "cpu", progress=False, data_placement=how) for how in ("resident", "stream")}
    resident, streamed = outputs["resident"], outputs["stream"]
    assert streamed.splits["train"].streamed and not resident.splits["train"].streamed
    assert resident.weights_sha256 == streamed.weights_sha256
    assert resident.metrics == streamed.metrics and resident.curves == streamed.curves
    assert resident.saliency.metrics == streamed.saliency.metrics
    arrays = resident.saliency.arrays
    assert sorted(arrays) == sorted(streamed.saliency.arrays) and "test_closed/human" in arrays
    assert all(np.array_equal(arrays[key], streamed.saliency.arrays[key]) for key in arrays)
    with pytest.raises(ContractError, match=r"^profile data_placement: must be one of"):
        run.execute(config, "cpu", progress=False, data_placement="gpu")


def test_the_profile_key_reaches_the_run_and_not_its_identity(tmp_path, monkeypatch):
    """``data_placement`` of a profile rides on the task to ``record_run`` (as ``device`` and ``threads`` do);
    the run id is the same whatever its value, and the schema knows the run layer's values."""
    from sweep_helpers import tiny_params

    from benchmark.params_schema.profiles import Profile
    from benchmark.sweeps import worker
    from benchmark.sweeps.study import expand

    ids, seen = {}, []
    for how in ("auto", "stream"):
        params = tiny_params(seeds=1)
        params["profiles"]["quick"]["data_placement"] = how
        study = expand("tiny", params=params)
        assert study.profile.data_placement == how
        task = worker.make_task(study.runs[0], study.profile, tmp_path)
        ids[how] = task.run_id
        monkeypatch.setattr(worker, "record_run", lambda *args, **kwargs: seen.append(kwargs["data_placement"]))
        worker.run_task(task)
    assert seen == ["auto", "stream"] and ids["auto"] == ids["stream"]
    schema = Profile.model_json_schema()["properties"]["data_placement"]
    assert tuple(next(v["enum"] for v in schema["anyOf"] if "enum" in v)) == placement.PLACEMENTS
