"""Saving, finding and loading built datasets: ``.npy`` arrays (no pickle) plus a manifest.

Layout of one built dataset folder (``data/NAME/``)::

    manifest.json            family, parameters, code digest, split sizes, class balance,
                             annotation coverage, sha256 of every array file
    SPLIT/x.npy, SPLIT/y.npy, SPLIT/saliency.npy, SPLIT/annotated.npy, SPLIT/extra.KEY.npy

``np.save`` is byte-deterministic, so the same parameters give the same bytes. Writes go
to a temporary folder renamed into place: a failed build leaves nothing behind. ``build_into``
writes a build straight into that folder (``array_files.ArrayFiles``: each array a memory-mapped
``.npy`` file filled in place; a family with ``build_arrays`` fills them one image at a time) and
hashes the files in chunks; ``load`` memory-maps the large arrays (``array_files.load_array``).

Nothing is deleted that this program did not write: ``save`` replaces an existing folder
only when it is one of its builds, i.e. it holds a valid manifest (``check_manifest``) and
nothing but the files that manifest lists (``check_replaceable``); the manifest is the
marker. A folder is always ``ROOT/NAME`` with NAME an identifier (``names.check_name``),
resolved and checked to lie under ROOT (``dataset_folder``).

A family whose data comes from files the user can change (``annotated_folder``) defines
``source_checksum(params) -> str | None`` (a hash of every source file's bytes) and
``source_stat(params) -> str | None`` (a hash of their relative paths, sizes and mtimes); its builds
record both in the manifest and ``find`` serves a build only while the source still has them. The
per-run check is cheap, as git's index is: matching stats serve the build without reading a source
file; differing stats (a touched, copied or edited file) fall back to the content checksum, which
serves the build when the bytes are unchanged. The array files themselves are checked on every load
against the manifest's sha256 (``load(verify=True)``: read in chunks, constant memory).
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np

from ..atomic import atomic_folder
from ..contracts import ContractError, DatasetBundle, Split
from ..paths import project_root
from ..registry import DATASETS
from .array_files import ArrayFiles, array_sha256, file_sha256, load_array
from .names import check_name, under

MANIFEST = "manifest.json"
ARRAY_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
SHA256 = re.compile(r"[0-9a-f]{64}")
REQUIRED_ARRAYS = ("x", "y")


def default_data_root() -> Path:
    return Path(os.environ.get("SALBENCH_DATA", project_root() / "data"))


def dataset_folder(root: Path, name: str) -> Path:
    """``root/name`` for a valid dataset name, checked to resolve under ``root`` (a ``ContractError`` otherwise)."""
    check_name(name, "dataset name")
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise ContractError(f"data root {root} is not a folder")
    folder = root / name
    under(root, folder, "dataset folder")
    return folder


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def describe(bundle: DatasetBundle, folder: Path | None = None) -> dict[str, Any]:
    """Split sizes, class balance, annotation coverage and sha256 of every array file (the files'
    under ``folder`` when the splits are saved there, else of the arrays as ``np.save`` writes them)."""

    def sha256(name: str, key: str, array: np.ndarray) -> str:
        return file_sha256(folder / name / f"{key}.npy") if folder is not None else array_sha256(array)

    splits: dict[str, Any] = {}
    for name, split in bundle.splits.items():
        counts = np.bincount(split.y, minlength=bundle.num_classes)
        splits[name] = {
            "size": len(split),
            "class_counts": counts.tolist(),
            "annotated_fraction": float(split.annotated.mean()) if split.saliency is not None else 0.0,
            "shape": list(split.x.shape[1:]),
            "sha256": {key: sha256(name, key, arr) for key, arr in split.arrays().items()},
        }
    return splits


def make_manifest(
    family: str, params: Mapping[str, Any], bundle: DatasetBundle, folder: Path | None = None
) -> dict[str, Any]:
    manifest = {
        "family": family,
        "params": dict(params),
        "code_sha256": DATASETS.fingerprint(family),
        "classes": bundle.classes,
        "splits": describe(bundle, folder),
    }
    manifest.update({k: v for k, v in bundle.manifest.items() if k not in manifest})
    return manifest


def build(family: str, overrides: Mapping[str, Any] | None = None) -> DatasetBundle:
    """Build dataset ``family`` in memory with its parameters resolved; attach the manifest."""
    dataset = DATASETS.get(family)()
    params = dataset.resolve(overrides or {})
    bundle = dataset.build(params)
    check_required(family, bundle)
    bundle.manifest = make_manifest(family, params, bundle)
    return bundle


def check_required(family: str, bundle: DatasetBundle) -> None:
    for required in ("train", "val"):
        if required not in bundle.splits:
            raise ContractError(f"dataset '{family}' built no '{required}' split")


def build_into(family: str, overrides: Mapping[str, Any] | None, folder: Path) -> dict[str, Any]:
    """Build dataset ``family`` straight into ``folder`` (atomically, replacing only one of this
    program's builds: ``check_replaceable``) and return its manifest. A family with ``prepare(params)``
    (validate the source, nothing written; return ``write(sink) -> (classes, manifest entries)``) writes
    each array in place, one image at a time; another builds in memory and its arrays are written out.
    The digests are the files', read in chunks."""
    dataset = DATASETS.get(family)()
    params = dataset.resolve(overrides or {})
    check_replaceable(folder)
    prepare = getattr(dataset, "prepare", None)
    write = prepare(params) if prepare is not None else None  # the source is validated: nothing written yet
    built = dataset.build(params) if write is None else None
    with atomic_folder(folder) as tmp:
        sink = ArrayFiles(tmp)
        if write is not None:
            classes, extra = write(sink)
        else:
            built = cast(DatasetBundle, built)
            classes, extra = built.classes, built.manifest
            for name, split in built.splits.items():
                for key, array in split.arrays().items():
                    sink.put(name, key, array)
            del built
        bundle = DatasetBundle(splits=sink.splits(), classes=classes, manifest=extra)
        check_required(family, bundle)
        bundle.manifest = make_manifest(family, params, bundle, tmp)
        (tmp / MANIFEST).write_text(json.dumps(bundle.manifest, indent=2, sort_keys=True) + "\n")
    return bundle.manifest


def peak_rss_bytes() -> int:
    """This process's peak resident memory (``resource.getrusage``: ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def source_checksum(family: str, params: Mapping[str, Any]) -> str | None:
    """The family's checksum of its user-editable source (``None``: the family has none, or it cannot
    be computed now, e.g. a file was deleted)."""
    hook = getattr(DATASETS.get(family), "source_checksum", None)
    return hook(params) if hook is not None else None


def check_manifest(manifest: Any, where: Path) -> dict[str, Any]:
    """``manifest`` when it has the structure this program writes; else a ``ContractError`` naming ``where``."""
    if not isinstance(manifest, dict):
        raise ContractError(f"{where}: not a dataset manifest (expected a JSON object)")
    for key, kind in (("family", str), ("params", dict), ("code_sha256", str), ("classes", list), ("splits", dict)):
        if not isinstance(manifest.get(key), kind):
            raise ContractError(
                f"{where}: not a dataset manifest written by this program ('{key}' missing or not a {kind.__name__})"
            )
    if not manifest["splits"] or not all(isinstance(c, str) for c in manifest["classes"]):
        raise ContractError(f"{where}: no splits, or a class name that is not a string")
    for name, info in manifest["splits"].items():
        if not isinstance(name, str) or not ARRAY_KEY.fullmatch(name):
            raise ContractError(f"{where}: invalid split name {name!r}")
        digests = info.get("sha256") if isinstance(info, dict) else None
        if not isinstance(digests, dict) or any(k not in digests for k in REQUIRED_ARRAYS):
            raise ContractError(f"{where}: split '{name}' lacks the sha256 of its arrays {list(REQUIRED_ARRAYS)}")
        for key, digest in digests.items():
            if (
                not isinstance(key, str)
                or not ARRAY_KEY.fullmatch(key)
                or not isinstance(digest, str)
                or not SHA256.fullmatch(digest)
            ):
                raise ContractError(f"{where}: split '{name}': invalid array entry {key!r}: {digest!r}")
    return manifest


def manifest_files(manifest: Mapping[str, Any]) -> set[str]:
    """The relative paths of everything a build folder holds: the manifest, split folders and arrays."""
    files = {MANIFEST}
    for name, info in manifest["splits"].items():
        files.add(name)
        files.update(f"{name}/{key}.npy" for key in info["sha256"])
    return files


def check_replaceable(folder: Path) -> None:
    """Refuse (``ContractError`` naming ``folder``) unless ``folder`` is absent or one of this program's
    builds: a real folder (not a link) with a valid manifest and nothing the manifest does not list."""
    folder = Path(folder)
    if not folder.exists() and not folder.is_symlink():
        return
    advice = "move it away or choose another dataset name; nothing was written"
    if folder.is_symlink() or not folder.is_dir():
        raise ContractError(
            f"{folder} exists and is not a dataset folder built by this program "
            f"({'a symbolic link' if folder.is_symlink() else 'a file'}); {advice}"
        )
    path = folder / MANIFEST
    if not path.is_file():
        raise ContractError(
            f"{folder} exists and holds no {MANIFEST}: not a dataset folder built by this program; {advice}"
        )
    try:
        manifest = check_manifest(json.loads(path.read_text()), path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ContractError) as exc:
        raise ContractError(
            f"{folder} exists and its {MANIFEST} is not one this program writes ({_first_line(exc)}); {advice}"
        ) from None
    listed = manifest_files(manifest)
    for entry in sorted(folder.rglob("*")):
        relative = entry.relative_to(folder).as_posix()
        if relative not in listed or (entry.is_dir() and entry.is_symlink()):
            raise ContractError(f"{folder} holds {relative}, which this program did not write; {advice}")


def save(bundle: DatasetBundle, folder: Path) -> Path:
    """Write ``bundle`` to ``folder`` atomically (``benchmark.atomic.atomic_folder``); an existing
    ``folder`` is replaced only when it is one of this program's builds (``check_replaceable``)."""
    check_replaceable(folder)
    with atomic_folder(folder) as tmp:
        sink = ArrayFiles(tmp)
        for name, split in bundle.splits.items():
            (tmp / name).mkdir()
            for key, arr in split.arrays().items():
                sink.put(name, key, arr)
        sink.splits()  # flushed
        (tmp / MANIFEST).write_text(json.dumps(bundle.manifest, indent=2, sort_keys=True) + "\n")
    return Path(folder)


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def read_manifest(folder: Path) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(f"{path}: unreadable manifest ({_first_line(exc)})") from None
    return check_manifest(manifest, path)


def load(folder: Path, verify: bool = True) -> DatasetBundle:
    """Load a built dataset folder; with ``verify``, every file's sha256 must match the manifest (read in
    chunks). Arrays of at least ``array_files.MMAP_BYTES`` are memory-mapped read-only, not read."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    splits = {}
    for name, info in manifest["splits"].items():
        arrays = {}
        for key, digest in info["sha256"].items():
            path = folder / name / f"{key}.npy"
            under(folder, path, "array file")
            if not path.is_file():
                raise ContractError(f"{path}: missing array file; rebuild with `python -m benchmark data build`")
            if verify and file_sha256(path) != digest:
                raise ContractError(f"{path}: checksum differs from {folder / MANIFEST}; rebuild the dataset")
            try:
                arrays[key] = load_array(path)
            except (ValueError, OSError, EOFError) as exc:
                raise ContractError(f"{path}: not a .npy array ({_first_line(exc)}); rebuild the dataset") from None
        splits[name] = Split.from_arrays(arrays)
        y = splits[name].y
        if len(y) and (y.min() < 0 or y.max() >= len(manifest["classes"])):
            raise ContractError(
                f"{folder / name / 'y.npy'}: labels outside [0, {len(manifest['classes'])}) "
                f"(the classes of {folder / MANIFEST})"
            )
    return DatasetBundle(splits=splits, classes=manifest["classes"], manifest=manifest)


def find(family: str, params: Mapping[str, Any], root: Path | None = None) -> Path | None:
    """A built folder under ``root`` whose manifest has this family, these parameters (resolved: a
    variant's own parameters find the build too), current code and, for a family with a user-editable
    source, that source unchanged (``source_current``)."""
    root = Path(root or default_data_root())
    if not root.is_dir():
        return None
    try:  # a manifest records the resolved parameters (defaults filled in); resolving twice is a no-op
        params = DATASETS.get(family)().resolve(params)
    except ContractError:
        return None  # parameters no build can have
    code = DATASETS.fingerprint(family)
    wanted = json.loads(json.dumps(dict(params)))
    current: dict[str, str | None] = {}
    has_source = getattr(DATASETS.get(family), "source_checksum", None) is not None
    for manifest_path in sorted(root.glob(f"*/{MANIFEST}")):
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if not isinstance(manifest, dict) or not manifest_path.parent.resolve().is_relative_to(root.resolve()):
            continue
        if same_build(manifest, family, wanted, code):
            if has_source and not source_current(family, params, manifest, current):
                continue  # the source changed (or cannot be read): never serve a stale build
            return manifest_path.parent
    return None


def same_build(manifest: Mapping[str, Any], family: str, wanted: Any, code: str) -> bool:
    """The manifest's family, parameters (as JSON) and code digest are these."""
    return manifest.get("family") == family and manifest.get("params") == wanted and manifest.get("code_sha256") == code


def is_current(folder: Path, family: str, params: Mapping[str, Any]) -> bool:
    """``folder`` holds the build of (family, params) with today's code, from an unchanged source
    (``source_current``), every array file matching the manifest's sha256: rebuilding would write the
    same bytes (builds are deterministic), so ``data build`` need not."""
    try:
        manifest = read_manifest(folder)
    except ContractError:
        return False
    if not same_build(manifest, family, json.loads(json.dumps(dict(params))), DATASETS.fingerprint(family)):
        return False
    if getattr(DATASETS.get(family), "source_checksum", None) is not None and not source_current(
        family, params, manifest, {}
    ):
        return False
    try:
        return all(
            file_sha256(Path(folder) / name / f"{key}.npy") == digest
            for name, info in manifest["splits"].items()
            for key, digest in info["sha256"].items()
        )
    except OSError:
        return False


def source_current(
    family: str, params: Mapping[str, Any], manifest: Mapping[str, Any], cache: dict[str, str | None]
) -> bool:
    """Does the user-editable source still match the build's manifest? The stat fingerprint first
    (``source_stat``: relative paths, sizes, mtimes; no file is read), then, when the stats differ or
    none was recorded, the content checksum (``source_checksum``: every file hashed), like git's index:
    a touched but identical file is still served, an edited one is not. ``cache`` keeps this call's
    fingerprints for the next manifest."""
    hook = getattr(DATASETS.get(family), "source_stat", None)
    if hook is not None and manifest.get("source_stat") is not None:
        if "stat" not in cache:
            cache["stat"] = hook(params)
        if cache["stat"] is not None and manifest["source_stat"] == cache["stat"]:
            return True
    if "checksum" not in cache:
        cache["checksum"] = source_checksum(family, params)
    return cache["checksum"] is not None and manifest.get("source_checksum") == cache["checksum"]


def get(family: str, overrides: Mapping[str, Any] | None = None, root: Path | None = None) -> DatasetBundle:
    """The dataset from the store if built with these parameters and current code, else built in memory."""
    params = DATASETS.get(family)().resolve(overrides or {})
    folder = find(family, params, root)
    if folder is not None:
        return load(folder)
    return build(family, params)
