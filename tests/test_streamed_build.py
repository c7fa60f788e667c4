"""The streamed build of an annotated folder (issue 25 item 1): image by image into memory-mapped
``.npy`` files, byte for byte what the former in-memory build wrote; validation keeps no pixels;
the manifest's digests are the files'; large arrays load memory-mapped; the stat fingerprint."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from face_folder import generate_folder
from PIL import Image

from benchmark.contracts import Split
from benchmark.data import array_files
from benchmark.data import dataset_store as store
from benchmark.data.folder_validation import read_image, read_map, read_rows, validate
from benchmark.registry import DATASETS
from datasets.annotated_folder import resize


def legacy_arrays(root, classes, size, rgb):
    """The former build's maths (before issue 25), kept as the reference: every image decoded at its
    source size, float32, channel-converted, resized (torch bilinear, antialias), round/clip to uint8;
    a dense float32 map per row (zeros when unannotated), resized and clipped; then the Split."""
    rows = read_rows(root / "labels.csv")
    out = {}
    for split in sorted({r.split for r in rows}):
        images, maps, chosen = [], [], [r for r in rows if r.split == split]
        for row in chosen:
            image = read_image(root / row.image).astype(np.float32).transpose(2, 0, 1)[None]
            if rgb and image.shape[1] == 1:
                image = image.repeat(3, axis=1)
            elif not rgb and image.shape[1] == 3:
                image = image.mean(axis=1, keepdims=True)
            heat = read_map(root / row.annotation)[None, None] if row.annotation else None
            heat = np.zeros((1, 1, *image.shape[2:]), np.float32) if heat is None else heat
            if size:
                image, heat = resize(image, size), np.clip(resize(heat, size), 0.0, 1.0)
            images.append(image)
            maps.append(heat)
        out[split] = Split(
            x=np.round(np.clip(np.concatenate(images), 0, 255)).astype(np.uint8),
            y=np.array([classes.index(r.label) for r in chosen], dtype=np.int64),
            saliency=np.concatenate(maps).astype(np.float32),
            annotated=np.array([bool(r.annotation) for r in chosen]),
            extras={"csv_line": np.array([r.line for r in chosen], dtype=np.int64)},
        )
    return out


def npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def mixed_folder(root):
    """Colour and grey JPEGs of 20 px, every third row unannotated, one map stored as .npy."""
    generate_folder(root, images=14, side=20, annotated_every=1, grey_every=4)
    lines = (root / "labels.csv").read_text().splitlines()
    rows = [lines[0]] + [line.rsplit(",", 1)[0] + "," if i % 3 == 2 else line for i, line in enumerate(lines[1:])]
    np.save(root / "annotations" / "00001.npy", np.linspace(0, 1, 400, dtype=np.float32).reshape(1, 20, 20))
    rows[2] = rows[2].replace("annotations/00001.png", "annotations/00001.npy")
    (root / "labels.csv").write_text("\n".join(rows) + "\n")


@pytest.mark.parametrize(
    "size,colour,rgb", [(16, "rgb", True), (24, "grey", False), (0, "auto", True)], ids=["shrink", "grey", "as is"]
)
def test_the_streamed_build_writes_the_former_in_memory_build_byte_for_byte(tmp_path, size, colour, rgb):
    mixed_folder(tmp_path / "faces")
    params = {"root": str(tmp_path / "faces"), "classes": "real,synthetic", "image_size": size, "colour": colour}
    manifest = store.build_into("annotated_folder", params, tmp_path / "data" / "faces")
    reference = legacy_arrays(tmp_path / "faces", ["real", "synthetic"], size, rgb)
    assert sorted(manifest["splits"]) == sorted(reference) == ["test", "train", "val"]
    for name, split in reference.items():
        arrays = split.arrays()
        assert sorted(manifest["splits"][name]["sha256"]) == sorted(arrays)
        for key, array in arrays.items():
            written = (tmp_path / "data" / "faces" / name / f"{key}.npy").read_bytes()
            assert written == npy(array), f"{name}/{key}"
            assert manifest["splits"][name]["sha256"][key] == array_files.file_sha256(
                tmp_path / "data" / "faces" / name / f"{key}.npy"
            )
    train = store.load(tmp_path / "data" / "faces").splits["train"]
    assert train.saliency.shape[0] == int(train.annotated.sum()) < len(train)  # maps of annotated rows only
    in_memory = store.build("annotated_folder", params)  # a run's fallback: the same arrays
    assert all(
        np.array_equal(a, b) for a, b in zip(in_memory.splits["train"].arrays().values(), train.arrays().values())
    )


def test_validation_keeps_sizes_not_pixels(tmp_path):
    generate_folder(tmp_path, images=6, side=20, annotated_every=2)
    checked = validate(tmp_path, "labels.csv", ["real", "synthetic"], same_size=True)
    assert checked.shapes == [(20, 20, 3)] * 6 and checked.annotated == [True, False] * 3
    assert not any(isinstance(v, np.ndarray) for v in vars(checked).values())


def test_large_arrays_load_memory_mapped_and_verified(tmp_path, monkeypatch):
    generate_folder(tmp_path / "faces", images=8, side=20)
    params = {"root": str(tmp_path / "faces"), "classes": "real,synthetic", "image_size": 16}
    store.build_into("annotated_folder", params, tmp_path / "data" / "faces")
    monkeypatch.setattr(array_files, "MMAP_BYTES", 1024)
    train = store.load(tmp_path / "data" / "faces").splits["train"]
    assert isinstance(train.x, np.memmap) and not train.x.flags.writeable  # 5x3x16x16 bytes >= 1 KiB
    assert not isinstance(train.y, np.memmap)  # 40 bytes: read
    path = tmp_path / "data" / "faces" / "train" / "x.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(Exception, match="checksum differs"):
        store.load(tmp_path / "data" / "faces")


def built_faces(tmp_path):
    """A built folder whose source files are an hour old (not racily clean: the stats are recorded)."""
    generate_folder(tmp_path / "faces", images=8, side=20)
    old = os.stat(tmp_path / "faces" / "labels.csv").st_mtime_ns - 3600 * 10**9
    for path in (tmp_path / "faces").rglob("*.*"):
        os.utime(path, ns=(old, old))
    params = DATASETS.get("annotated_folder")().resolve(
        {"root": str(tmp_path / "faces"), "classes": "real,synthetic", "image_size": 16}
    )
    manifest = store.build_into("annotated_folder", params, tmp_path / "data" / "faces")
    return params, manifest


def test_matching_stats_serve_the_build_without_reading_the_source(tmp_path, monkeypatch):
    params, manifest = built_faces(tmp_path)
    assert manifest["source_stat"].startswith("stat:") and manifest["source_checksum"].startswith("sha256:")
    cls = DATASETS.get("annotated_folder")
    monkeypatch.setattr(cls, "source_checksum", classmethod(lambda c, p: pytest.fail("re-hashed the source")))
    assert store.find("annotated_folder", params, tmp_path / "data") == tmp_path / "data" / "faces"


def test_a_touched_identical_file_is_served_an_edited_one_is_stale(tmp_path):
    params, _ = built_faces(tmp_path)
    image = tmp_path / "faces" / "images" / "00003.jpg"
    os.utime(image)  # touched: stats differ, content equal
    assert store.find("annotated_folder", params, tmp_path / "data") == tmp_path / "data" / "faces"
    Image.new("RGB", (20, 20), (9, 9, 9)).save(image)  # edited: content (and mtime) changed
    assert store.find("annotated_folder", params, tmp_path / "data") is None


def test_a_racily_clean_source_records_no_stats(tmp_path):
    generate_folder(tmp_path / "faces", images=8, side=20)  # written just now
    params = {"root": str(tmp_path / "faces"), "classes": "real,synthetic", "image_size": 16}
    manifest = store.build_into("annotated_folder", params, tmp_path / "data" / "faces")
    assert manifest["source_stat"] is None and manifest["source_checksum"].startswith("sha256:")
