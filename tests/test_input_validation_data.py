"""Malformed data inputs (issue 12, the data half): annotated folders, params.yaml, dataset
parameters, ``data build`` / ``data show`` names and folders. Each must exit 2 with one
message naming the culprit, no traceback, nothing on stdout, and leave every file under the
test's folder (data root, annotated folder, the folder outside the data root) unchanged.
Most run in-process through ``benchmark.cli.main``; a few as ``python -m benchmark``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmark.cli import main
from benchmark.data import dataset_store as store

REPO = Path(__file__).resolve().parent.parent
SIZE = 8


# --------------------------------------------------------------------------- helpers
def write_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def tree(root: Path) -> dict[str, tuple]:
    """Every entry under ``root`` (links not followed): kind, size, modification time, link target."""
    listing = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            st = path.lstat()
            kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
            listing[str(path.relative_to(root))] = (
                kind,
                st.st_size if kind == "file" else 0,
                st.st_mtime_ns,
                os.readlink(path) if kind == "link" else None,
            )
    return listing


@dataclass
class Env:
    """The test's world: ``data`` (the data root), ``folder`` (an annotated folder), ``outside`` (a
    folder beside the data root holding a sentinel file), ``params`` (params.yaml)."""

    tmp: Path
    data: Path
    folder: Path
    outside: Path
    params_file: Path

    def params(self, content) -> None:
        """Write params.yaml: a dict (as JSON, valid YAML), text or bytes."""
        if isinstance(content, dict):
            content = json.dumps(content)
        if isinstance(content, str):
            content = content.encode()
        self.params_file.write_bytes(content)

    def variant(self, family: str, **params) -> list[str]:
        """params.yaml with variant ``mine`` of ``family``; the argv that builds it."""
        self.params({"datasets": {"mine": {"family": family, "params": params}}})
        return ["data", "build", "mine"]

    def annotated(self, rows: list[tuple] | None = None, extra_rows: list[tuple] = (), **params) -> list[str]:
        """A clean annotated folder (4 images, 8x8 RGB, non-zero PNG maps) plus ``extra_rows``;
        params.yaml variant ``mine`` on it; the argv that builds it."""
        rng = np.random.default_rng(0)
        base = []
        for i, (label, split) in enumerate([("real", "train"), ("fake", "train"), ("real", "val"), ("fake", "val")]):
            write_png(self.folder / "images" / f"{i}.png", rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8))
            heat = np.zeros((SIZE, SIZE), np.uint8)
            heat[2:5, 2:5] = 255
            write_png(self.folder / "maps" / f"{i}.png", heat)
            base.append((f"images/{i}.png", label, split, f"maps/{i}.png"))
        self.csv([*(base if rows is None else rows), *extra_rows])
        return self.variant("annotated_folder", root=str(self.folder), **{"classes": "fake,real", **params})

    def csv(self, rows: list[tuple], name: str = "labels.csv") -> None:
        lines = ["image,label,split,annotation", *(",".join(r) for r in rows)]
        (self.folder / name).write_text("\n".join(lines) + "\n")

    def image(self, name: str, array: np.ndarray | None = None) -> str:
        write_png(self.folder / "images" / name, np.full((SIZE, SIZE, 3), 90, np.uint8) if array is None else array)
        return f"images/{name}"

    def npy(self, name: str, array: np.ndarray) -> str:
        (self.folder / "maps").mkdir(parents=True, exist_ok=True)
        np.save(self.folder / "maps" / name, array)
        return f"maps/{name}"

    def own_build(self, name: str = "mine") -> Path:
        """A real build of the annotated folder in ``data/NAME`` (made by this program)."""
        argv = self.annotated()
        assert main([*argv[:2], name] if name != "mine" else argv) == 0
        return self.data / name


@pytest.fixture
def env(tmp_path, monkeypatch):
    e = Env(tmp_path, tmp_path / "data", tmp_path / "folder", tmp_path / "outside", tmp_path / "params.yaml")
    e.data.mkdir()
    e.folder.mkdir()
    e.outside.mkdir()
    (e.outside / "sentinel.txt").write_text("not yours")
    e.params({"datasets": {}})
    monkeypatch.setenv("SALBENCH_PARAMS", str(e.params_file))
    monkeypatch.setenv("SALBENCH_DATA", str(e.data))
    monkeypatch.chdir(tmp_path)  # data show's default output folder lands under the test's folder
    return e


# --------------------------------------------------------------------------- the cases
# name -> (setup(env, monkeypatch) -> argv, substrings the one error message must contain)
Case = tuple[Callable[[Env, pytest.MonkeyPatch], list[str]], tuple[str, ...]]


def _escape_variant(e: Env, name: str) -> list[str]:
    e.params({"datasets": {name: {"family": "decoy_digits", "params": {}}}})
    return ["data", "build", name]


def _foreign_folder(e: Env) -> list[str]:
    (e.data / "mine").mkdir()
    (e.data / "mine" / "notes.txt").write_text("my notes")
    return e.annotated()


def _build_plus_extra_file(e: Env) -> list[str]:
    built = e.own_build()
    (built / "train" / "mine.txt").write_text("added by hand")
    return e.annotated()


def _link_to_outside(e: Env) -> list[str]:
    argv = e.annotated()
    (e.data / "mine").symlink_to(e.outside, target_is_directory=True)
    return argv


def _manifest_in_outside(e: Env, monkeypatch) -> list[str]:
    (e.outside / "manifest.json").write_text("{}")
    return ["data", "show", "../outside"]


def _show_bad_manifest(e: Env, text: str) -> list[str]:
    (e.data / "mine").mkdir()
    (e.data / "mine" / "manifest.json").write_text(text)
    return ["data", "show", "mine"]


def _pixel_limit(e: Env, monkeypatch) -> list[str]:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    return e.annotated(
        extra_rows=[(e.image("big.png", np.zeros((40, 40, 3), np.uint8)), "real", "train", "")], image_size=16
    )


def _truncated(e: Env) -> list[str]:
    argv = e.annotated(extra_rows=[(e.image("cut.png"), "real", "train", "")])
    raw = (e.folder / "images" / "cut.png").read_bytes()
    (e.folder / "images" / "cut.png").write_bytes(raw[: len(raw) // 2])
    return argv


def _nul_in_path(e: Env) -> list[str]:
    argv = e.annotated()
    with open(e.folder / "labels.csv", "a") as handle:
        handle.write("images/0\x00.png,real,train,\n")
    return argv


def _csv_link_outside(e: Env) -> list[str]:
    (e.outside / "labels.csv").write_text("image,label,split\n")
    argv = e.annotated(csv="linked.csv")
    (e.folder / "linked.csv").symlink_to(e.outside / "labels.csv")
    return argv


def _image_link_outside(e: Env) -> list[str]:
    write_png(e.outside / "x.png", np.zeros((SIZE, SIZE, 3), np.uint8))
    (e.folder / "images").mkdir(parents=True, exist_ok=True)
    (e.folder / "images" / "link.png").symlink_to(e.outside / "x.png")
    return e.annotated(extra_rows=[("images/link.png", "real", "train", "")])


def _binary_csv(e: Env) -> list[str]:
    argv = e.annotated()
    (e.folder / "labels.csv").write_bytes(b"image,label,split\n\xff\xfe\x00garbage\n")
    return argv


MAP_OK = "maps/0.png"
CASES: dict[str, Case] = {
    # ---- names and folders: the destructive escape and friends
    "variant named ../outside": (lambda e, m: _escape_variant(e, "../outside"), ("'../outside'", "not a valid name")),
    "variant named as an absolute path": (
        lambda e, m: _escape_variant(e, str(e.outside)),
        ("/outside'", "not a valid name"),
    ),
    "hidden variant name": (lambda e, m: ["data", "build", ".mine"], ("'.mine'",)),
    "name with a slash": (lambda e, m: ["data", "build", "a/b"], ("'a/b'",)),
    "show ../outside": (_manifest_in_outside, ("'../outside'",)),
    "params.yaml key ../x, other name built": (
        lambda e, m: (e.params({"datasets": {"../x": {"family": "decoy_digits"}}}), ["data", "build", "decoy_digits"])[
            1
        ],
        ("params.yaml", "'../x'"),
    ),
    "folder not built by this program": (lambda e, m: _foreign_folder(e), ("mine", "holds no manifest.json")),
    "own build with a file added": (lambda e, m: _build_plus_extra_file(e), ("train/mine.txt", "did not write")),
    "data/NAME is a link outside": (lambda e, m: _link_to_outside(e), ("data/mine resolves to", "outside")),
    "data/NAME is a file": (lambda e, m: ((e.data / "mine").write_text("x"), e.annotated())[1], ("mine", "a file")),
    "--root is a file": (
        lambda e, m: ((e.tmp / "f").write_text("x"), ["data", "build", "decoy_digits", "--root", str(e.tmp / "f")])[1],
        ("data root", "not a folder"),
    ),
    # ---- params.yaml
    "binary params.yaml": (
        lambda e, m: (e.params(bytes(range(128, 256)) * 4), ["data", "build", "decoy_digits"])[1],
        ("params.yaml", "not UTF-8"),
    ),
    "NUL byte in params.yaml": (
        lambda e, m: (e.params("datasets:\n  a\x00: {}\n"), ["data", "build", "decoy_digits"])[1],
        ("params.yaml", "NUL"),
    ),
    "duplicate variant key": (
        lambda e, m: (
            e.params("datasets:\n  mine: {family: decoy_digits}\n  mine: {family: toy_faces}\n"),
            ["data", "build", "mine"],
        )[1],
        ("params.yaml", "duplicate key 'mine'", "line 3"),
    ),
    "duplicate top-level key": (
        lambda e, m: (e.params("datasets: {}\ndatasets: {}\n"), ["data", "build", "decoy_digits"])[1],
        ("duplicate key 'datasets'",),
    ),
    "variant written as a string": (
        lambda e, m: (e.params("datasets:\n  mine: decoy_digits\n"), ["data", "build", "mine"])[1],
        ("params.yaml", "datasets.mine", "must be a mapping"),
    ),
    "variant without family": (
        lambda e, m: (e.params({"datasets": {"mine": {"params": {}}}}), ["data", "build", "mine"])[1],
        ("datasets.mine: missing 'family'",),
    ),
    "variant with unknown family": (
        lambda e, m: (e.params({"datasets": {"mine": {"family": "decoy_digit"}}}), ["data", "build", "mine"])[1],
        ("datasets.mine.family", "did you mean 'decoy_digits'"),
    ),
    "variant key misspelt": (
        lambda e, m: (e.params({"datasets": {"mine": {"famliy": "decoy_digits"}}}), ["data", "build", "mine"])[1],
        ("datasets.mine", "'famliy'", "did you mean 'family'"),
    ),
    "variant params a list": (
        lambda e, m: (
            e.params({"datasets": {"mine": {"family": "decoy_digits", "params": [1]}}}),
            ["data", "build", "mine"],
        )[1],
        ("datasets.mine.params",),
    ),
    "datasets a list": (
        lambda e, m: (e.params({"datasets": ["decoy_digits"]}), ["data", "build", "decoy_digits"])[1],
        ("params.yaml: datasets", "must be a mapping"),
    ),
    "invalid YAML": (
        lambda e, m: (e.params("datasets: {mine: [\n"), ["data", "build", "mine"])[1],
        ("params.yaml", "invalid YAML", "line"),
    ),
    "top level a list": (
        lambda e, m: (e.params("- a\n- b\n"), ["data", "build", "decoy_digits"])[1],
        ("top level must be a mapping",),
    ),
    # ---- dataset parameter ranges and cross-checks (refused before any work)
    "decoy noise -5": (lambda e, m: e.variant("decoy_digits", noise=-5), ("'noise'", "-5")),
    "decoy patch larger than the image": (
        lambda e, m: e.variant("decoy_digits", patch_size=500),
        ("patch_size 500", "28x28"),
    ),
    "decoy digit larger than the canvas": (
        lambda e, m: e.variant("decoy_digits", digit_size=40),
        ("digit_size 40", "image_size 28"),
    ),
    "decoy fractions leave no train": (
        lambda e, m: e.variant("decoy_digits", val_fraction=0.5, test_fraction=0.5),
        ("val_fraction + test_fraction",),
    ),
    "decoy image_size 4": (lambda e, m: e.variant("decoy_digits", image_size=4), ("'image_size'",)),
    "toy_faces cue_strength 7.5": (lambda e, m: e.variant("toy_faces", cue_strength=7.5), ("'cue_strength'", "7.5")),
    "toy_faces seed -1": (lambda e, m: e.variant("toy_faces", seed=-1), ("'seed'",)),
    "toy_faces train_size 0": (lambda e, m: e.variant("toy_faces", train_size=0), ("'train_size'",)),
    "toy_faces noise nan": (
        lambda e, m: (
            e.params("datasets:\n  mine: {family: toy_faces, params: {noise: .nan}}\n"),
            ["data", "build", "mine"],
        )[1],
        ("'noise'", "finite"),
    ),
    "toy_faces image_size a string": (lambda e, m: e.variant("toy_faces", image_size="big"), ("'image_size'", "'big'")),
    "mnist patch larger than the image (no download)": (
        lambda e, m: e.variant("mnist", construction="decoy", patch_size=30, download=False, root=str(e.tmp / "none")),
        ("patch_size 30", "28x28"),
    ),
    "color_digits val_fraction 0": (lambda e, m: e.variant("color_digits", val_fraction=0.0), ("'val_fraction'",)),
    # ---- annotated folders: parameters
    "csv outside root": (
        lambda e, m: ((e.tmp / "secret.csv").write_text("image,label,split\n"), e.annotated(csv="../secret.csv"))[1],
        ("'csv'", "../secret.csv"),
    ),
    "csv an absolute system file": (lambda e, m: e.annotated(csv="/etc/passwd"), ("'csv'", "/etc/passwd")),
    "csv a link leading out": (lambda e, m: _csv_link_outside(e), ("'csv'", "linked.csv", "inside root")),
    "classes real,fake,real": (
        lambda e, m: e.annotated(classes="real,fake,real"),
        ("'classes'", "['real']", "more than once"),
    ),
    "one declared class": (lambda e, m: e.annotated(classes="real"), ("'classes'", "at least two")),
    "image_size 4": (lambda e, m: e.annotated(image_size=4), ("image_size", ">= 8", "got 4")),
    "splits without val": (lambda e, m: e.annotated(splits="train,test"), ("'splits'", "['val']")),
    # ---- annotated folders: rows
    "label outside declared classes": (
        lambda e, m: e.annotated(classes="real,fake", extra_rows=[(e.image("c.png"), "cat", "train", "")]),
        ("line 6", "label 'cat'"),
    ),
    "single class, none declared": (
        lambda e, m: e.annotated(
            rows=[(e.image("a.png"), "real", "train", ""), (e.image("b.png"), "real", "val", "")], classes=""
        ),
        ("set the dataset parameter 'classes'", "the CSV's labels are ['real']"),
    ),
    "train with one class": (
        lambda e, m: e.annotated(rows=[(e.image("a.png"), "real", "train", ""), (e.image("b.png"), "fake", "val", "")]),
        ("split 'train' has only the class ['real']",),
    ),
    "split tset": (
        lambda e, m: e.annotated(extra_rows=[(e.image("t.png"), "real", "tset", "")]),
        ("line 6", "'tset'", "did you mean 'test'"),
    ),
    "split outside declared splits": (
        lambda e, m: e.annotated(splits="train,val", extra_rows=[(e.image("t.png"), "real", "test", "")]),
        ("line 6", "'test'", "declared splits"),
    ),
    "same image as ./images/0.png": (
        lambda e, m: e.annotated(extra_rows=[("./images/0.png", "real", "val", "")]),
        ("line 6", "duplicate of line 2"),
    ),
    "all-zero map": (
        lambda e, m: e.annotated(
            extra_rows=[(e.image("z.png"), "real", "train", e.npy("z.npy", np.zeros((SIZE, SIZE), np.float32)))]
        ),
        ("line 6", "maps/z.npy is all zero", "allow_zero_maps"),
    ),
    "complex map": (
        lambda e, m: e.annotated(
            extra_rows=[(e.image("c.png"), "real", "train", e.npy("c.npy", np.full((SIZE, SIZE), 0.5 + 1j)))]
        ),
        ("line 6", "maps/c.npy", "complex"),
    ),
    "infinite map": (
        lambda e, m: e.annotated(
            extra_rows=[(e.image("i.png"), "real", "train", e.npy("i.npy", np.full((SIZE, SIZE), np.inf)))]
        ),
        ("line 6", "maps/i.npy", "infinite"),
    ),
    "string map": (
        lambda e, m: e.annotated(
            extra_rows=[(e.image("s.png"), "real", "train", e.npy("s.npy", np.full((SIZE, SIZE), "a")))]
        ),
        ("line 6", "maps/s.npy", "not a real number type"),
    ),
    "image over Pillow's pixel limit": (_pixel_limit, ("line 6", "images/big.png", "Pillow's limit")),
    "truncated image": (lambda e, m: _truncated(e), ("line 6", "images/cut.png", "unreadable")),
    "NUL byte in a path": (lambda e, m: _nul_in_path(e), ("line 6", "NUL byte")),
    "1x1 image": (
        lambda e, m: e.annotated(extra_rows=[(e.image("dot.png", np.zeros((1, 1, 3), np.uint8)), "real", "train", "")]),
        ("line 6", "images/dot.png is 1x1", "smaller than 8"),
    ),
    "non-square image without resizing": (
        lambda e, m: e.annotated(
            extra_rows=[(e.image("wide.png", np.zeros((SIZE, 2 * SIZE, 3), np.uint8)), "real", "train", "")]
        ),
        ("line 6", "images/wide.png is 16x8", "not square"),
    ),
    "image link leading out": (lambda e, m: _image_link_outside(e), ("line 6", "images/link.png", "escapes the root")),
    "binary CSV": (lambda e, m: _binary_csv(e), ("labels.csv", "not UTF-8")),
    "map path escaping": (
        lambda e, m: e.annotated(extra_rows=[(e.image("e.png"), "real", "train", "../outside/sentinel.txt")]),
        ("line 6", "'../outside/sentinel.txt' escapes the root"),
    ),
    # ---- data show
    "show a manifest that is not JSON": (
        lambda e, m: _show_bad_manifest(e, "{not json"),
        ("manifest.json", "unreadable manifest"),
    ),
    "show a manifest with an escaping split": (
        lambda e, m: _show_bad_manifest(
            e,
            json.dumps(
                {
                    "family": "x",
                    "params": {},
                    "code_sha256": "0",
                    "classes": ["a", "b"],
                    "splits": {"../../outside": {"sha256": {"x": "0" * 64, "y": "0" * 64}}},
                }
            ),
        ),
        ("manifest.json", "invalid split name '../../outside'"),
    ),
    "show --count 0": (lambda e, m: (e.own_build(), ["data", "show", "mine", "--count", "0"])[1], ("--count",)),
    "show --out a file": (
        lambda e, m: (
            e.own_build(),
            (e.tmp / "f.png").write_text("x"),
            ["data", "show", "mine", "--out", str(e.tmp / "f.png")],
        )[2],
        ("--out", "f.png", "is a file"),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_data_input_exits_2_naming_the_culprit(env, monkeypatch, capsys, case):
    setup, expected = CASES[case]
    argv = setup(env, monkeypatch)
    capsys.readouterr()
    before = tree(env.tmp)
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.startswith("error: ") and "Traceback" not in err and err.count("\n") == 1, err
    for part in expected:
        assert part in err, (part, err)
    assert out == "", "nothing printed before the error"
    assert tree(env.tmp) == before, "nothing written, replaced or deleted"
    assert (env.outside / "sentinel.txt").read_text() == "not yours"


def test_at_least_thirty_cases_and_one_name_rule():
    from benchmark import config
    from benchmark.data import names

    assert len(CASES) >= 30
    assert config.NAME_PATTERN.pattern == names.NAME_PATTERN.pattern and config.NAME_RULE == names.NAME_RULE


# --------------------------------------------------------------------------- the real exit path
def cli(env: Env, *args: str) -> subprocess.CompletedProcess:
    variables = {
        **os.environ,
        "SALBENCH_PARAMS": str(env.params_file),
        "SALBENCH_DATA": str(env.data),
        "PYTHONPATH": str(REPO),
    }
    return subprocess.run(
        [sys.executable, "-m", "benchmark", *args],
        capture_output=True,
        text=True,
        cwd=env.tmp,
        env=variables,
        timeout=300,
    )


@pytest.mark.parametrize("case", ["absolute", "dotdot", "binary params", "split tset"])
def test_subprocess_exit_path(env, case):
    if case == "absolute":
        argv = _escape_variant(env, str(env.outside))
    elif case == "dotdot":
        argv = _escape_variant(env, "../outside")
    elif case == "binary params":
        env.params(b"\x89PNG\r\n\x1a\n\x00\x00\xff")
        argv = ["data", "build", "decoy_digits"]
    else:
        argv = env.annotated(extra_rows=[(env.image("t.png"), "real", "tset", "")])
    before = tree(env.tmp)
    result = cli(env, *argv)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""
    assert tree(env.tmp) == before
    assert (env.outside / "sentinel.txt").read_text() == "not yours"


# --------------------------------------------------------------------------- what still works
def test_own_build_is_replaced_and_allow_zero_maps_accepts_zero_maps(env, capsys):
    built = env.own_build()
    first = (built / "manifest.json").read_text()
    assert main(env.annotated()) == 0, "an existing build of this program is replaced"
    assert (built / "manifest.json").read_text() == first
    zero = env.npy("z.npy", np.zeros((SIZE, SIZE), np.float32))
    assert main(env.annotated(extra_rows=[(env.image("z.png"), "real", "train", zero)], allow_zero_maps=True)) == 0
    bundle = store.load(built)
    assert bundle.splits["train"].annotated.tolist() == [True, True, True]
    assert bundle.splits["train"].dense_saliency()[2].max() == 0


def test_changed_source_folder_is_never_served_stale(env, capsys):
    built = env.own_build()
    params = {"root": str(env.folder), "classes": "fake,real"}
    from benchmark.registry import DATASETS

    resolved = DATASETS.get("annotated_folder")().resolve(params)
    assert store.find("annotated_folder", resolved, env.data) == built
    manifest = json.loads((built / "manifest.json").read_text())
    assert manifest["source_checksum"].startswith("sha256:")
    # an image edited in place, same size
    path = env.folder / "images" / "1.png"
    write_png(path, np.full((SIZE, SIZE, 3), 7, np.uint8))
    assert store.find("annotated_folder", resolved, env.data) is None
    assert store.get("annotated_folder", params, env.data).splits["train"].x[1].max() == 7, "rebuilt from the folder"
    # rebuilt: served again; then an image deleted: not served, the build reports the file
    assert main(env.variant("annotated_folder", root=str(env.folder), classes="fake,real")) == 0
    assert store.find("annotated_folder", resolved, env.data) == built
    (env.folder / "images" / "2.png").unlink()
    assert store.find("annotated_folder", resolved, env.data) is None
    with pytest.raises(Exception, match="images/2.png not found"):
        store.get("annotated_folder", params, env.data)


def test_declared_splits_and_test_names_are_accepted(env, capsys):
    rows = [
        (env.image(f"{i}.png"), label, split, "")
        for i, (label, split) in enumerate(
            [
                ("real", "train"),
                ("fake", "train"),
                ("real", "val"),
                ("fake", "val"),
                ("real", "test_open"),
                ("fake", "holdout"),
            ]
        )
    ]
    assert main(env.annotated(rows=rows, splits="train,val,test_open,holdout")) == 0
    assert sorted(store.load(env.data / "mine").splits) == ["holdout", "test_open", "train", "val"]
