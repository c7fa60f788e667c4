"""Real-data families on small fake data in torchvision's on-disk formats (no network):
MNIST / Fashion-MNIST idx files, CIFAR-10 pickled batches with their md5 patched in."""

from __future__ import annotations

import hashlib
import pickle
import urllib.error
import urllib.request

import numpy as np
import pytest
import torchvision

from benchmark.cli import main
from benchmark.contracts import ContractError
from benchmark.data import dataset_store as store
from benchmark.data.constructions import cdep_colours, decoy_shade


def write_idx(path, array: np.ndarray) -> None:
    """The idx format: zero bytes, type 0x08 (ubyte), number of dims, big-endian int32 sizes, data."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def fake_mnist(root, folder="MNIST", n_train=60, n_test=20):
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(1)
    data = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = np.zeros((n, 28, 28), np.uint8)
        images[:, 8:20, 10:18] = rng.integers(100, 256, (n, 12, 8))  # an object in the middle, clear corners
        labels = np.arange(n) % 10
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
        data[prefix] = (images, labels)
    return data


@pytest.fixture
def mnist_root(tmp_path):
    return tmp_path / "downloads", fake_mnist(tmp_path / "downloads")


def test_plain_mnist_official_test_and_stratified_val(mnist_root):
    root, data = mnist_root
    bundle = store.build("mnist", {"root": str(root), "val_fraction": 0.5})
    assert set(bundle.splits) == {"train", "val", "test"} and bundle.classes[0] == "0 - zero"
    assert (np.bincount(bundle.splits["val"].y) == 3).all() and (np.bincount(bundle.splits["train"].y) == 3).all()
    test = bundle.splits["test"]
    assert np.array_equal(test.x[:, 0], data["t10k"][0]) and np.array_equal(test.y, data["t10k"][1])
    assert np.array_equal(test.saliency[:, 0], (data["t10k"][0] / 255 > 0.25).astype(np.float32))
    names = set(bundle.manifest["source_sha256"])
    assert "MNIST/raw/train-images-idx3-ubyte" in names
    train_images = {im.tobytes() for im in bundle.splits["train"].x}
    assert not train_images & {im.tobytes() for im in bundle.splits["val"].x}


def test_decoy_and_colour_constructions_on_mnist(mnist_root):
    root, _ = mnist_root
    decoy = store.build("mnist", {"root": str(root), "construction": "decoy"})
    assert set(decoy.splits) == {"train", "val", "test_iid", "test"}
    for name in ("train", "test"):
        split = decoy.splits[name]
        mask = split.extras["decoy"].astype(bool)[:, 0]
        assert (mask.sum((1, 2)) == 16).all(), "RRR: a 4x4 patch"
        shades = split.x[:, 0][mask].reshape(len(split), 16)
        codes = split.y if name == "train" else split.extras["decoy_code"]
        assert (shades == np.round(decoy_shade(codes) * 255).astype(np.uint8)[:, None]).all()
    colour = store.build("mnist", {"root": str(root), "construction": "color"})
    test = colour.splits["test"]
    assert test.x.shape[1] == 3 and np.array_equal(test.extras["colour"], 9 - test.y)
    assert not test.x[:, :, :8].any(), "black background stays black"
    assert np.allclose(
        test.x[:, :, 14, 14] / np.maximum(test.x[:, :, 14, 14].max(1, keepdims=True), 1),
        cdep_colours()[9 - test.y] / cdep_colours()[9 - test.y].max(1, keepdims=True),
        atol=0.02,
    )


def test_fashion_mnist_reads_its_own_folder(tmp_path):
    fake_mnist(tmp_path, folder="FashionMNIST")
    bundle = store.build("fashion_mnist", {"root": str(tmp_path), "train_size": 20})
    assert bundle.classes[0] == "T-shirt/top" and len(bundle.splits["train"]) == 20


def test_cifar10_batches(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    sums = {}
    for name, n in [(f"data_batch_{i}", 10) for i in range(1, 6)] + [("test_batch", 10)]:
        entry = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "labels": list(np.arange(n) % 10)}
        (folder / name).write_bytes(pickle.dumps(entry))
        sums[name] = hashlib.md5((folder / name).read_bytes()).hexdigest()
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [f"c{i}" for i in range(10)]}))
    cls = torchvision.datasets.CIFAR10
    monkeypatch.setattr(cls, "train_list", [[f"data_batch_{i}", sums[f"data_batch_{i}"]] for i in range(1, 6)])
    monkeypatch.setattr(cls, "test_list", [["test_batch", sums["test_batch"]]])
    monkeypatch.setattr(
        cls, "meta", {**cls.meta, "md5": hashlib.md5((folder / "batches.meta").read_bytes()).hexdigest()}
    )
    bundle = store.build("cifar10", {"root": str(tmp_path)})
    test = bundle.splits["test"]
    first = pickle.loads((folder / "test_batch").read_bytes())["data"][0].reshape(3, 32, 32)
    assert np.array_equal(test.x[0], first) and test.saliency is None and bundle.classes[3] == "c3"
    assert len(bundle.splits["train"]) + len(bundle.splits["val"]) == 50


def offline(*args, **kwargs):
    raise urllib.error.URLError("no network in tests")


@pytest.mark.parametrize("download", [True, False])
def test_offline_fails_at_once_naming_files_and_writes_nothing(tmp_path, monkeypatch, capsys, download):
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    params = tmp_path / "params.yaml"
    root = tmp_path / "downloads"
    params.write_text(
        f"datasets:\n  mnist_real:\n    family: mnist\n    params: {{root: '{root}', download: {str(download).lower()}}}\n"
    )
    monkeypatch.setenv("SALBENCH_PARAMS", str(params))
    assert main(["data", "build", "mnist_real", "--root", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    for name in (
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ):
        assert f"{root}/MNIST/raw/{name}" in err
    assert "f68b3c2dcbeaaa9fbdd348bbdeb94873" in err
    assert not root.exists() and not (tmp_path / "data").exists()


def test_unknown_construction():
    with pytest.raises(ContractError, match="construction"):
        store.build("mnist", {"construction": "rainbow"})
