"""Is a dataset's source on this machine? One line saying what is missing and how to get it.

Generated families (``decoy_digits``, ``toy_faces``, ...) build offline: never absent. Two kinds of
source may be:

- **torchvision** (``mnist``, ``fashion_mnist``, ``cifar10``): present when a build with these
  parameters and today's code is in the data root (``dataset_store.find``, which runs use first), or when
  torchvision's files are under the download root, extracted or as the archives torchvision would
  download (it extracts them offline). Absent: the line gives the torchvision command that downloads
  them (internet once) and where to place them by hand otherwise.
- **annotated_folder**: present when ``root`` is a folder holding the CSV and every file the CSV
  names. Absent (root unset, missing, empty, no CSV, files missing): the line says where to put the
  data and which params.yaml entry names the folder. The full validation (every image decoded, every
  heat map checked) is the build's, when the first run loads it.

Nothing here downloads, decodes an image or writes: files are only looked up (and the CSV read).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..contracts import ContractError
from ..registry import DATASETS
from . import dataset_store
from .folder_source import folder_root
from .folder_validation import csv_path_of, inside, read_rows
from .real_families import TorchvisionFamily
from .torchvision_source import download_root

FOLDER_LAYOUT = "labels.csv beside images/ and annotations/, docs/datasets.md 'Paper-scale data'"


def source_problem(
    name: str, family: str, params: Mapping[str, Any], key: str | None = None, data_root: Path | None = None
) -> str | None:
    """Why dataset ``name`` (family ``family``, resolved ``params``) cannot be loaded here, in one line
    naming it, what is missing and how to get it; None when it can (or its family builds offline).
    ``key`` is where its parameters are set in params.yaml (e.g. ``paper_datasets.cyborg_faces``)."""
    cls = DATASETS.get(family)
    if issubclass(cls, TorchvisionFamily):
        if dataset_store.find(family, params, data_root) is not None:
            return None
        return torchvision_problem(name, family, cls.source, params)
    if getattr(cls, "source_checksum", None) is not None and "root" in params and "csv" in params:
        return folder_problem(name, family, params, key)
    return None


def torchvision_files(class_name: str, root: Path) -> tuple[list[Path], list[Path]]:
    """(the files torchvision reads, the archives it extracts them from) of ``torchvision.datasets.CLASS``."""
    import torchvision  # here: seconds to import, and only the real-data families need it

    cls = getattr(torchvision.datasets, class_name)
    if hasattr(cls, "mirrors"):  # the MNIST family: ROOT/<Class>/raw/<file>[.gz]
        folder = root / cls.__name__ / "raw"
        return [folder / Path(name).stem for name, _ in cls.resources], [folder / name for name, _ in cls.resources]
    folder = root / cls.base_folder  # CIFAR
    files = [folder / f for f, _ in cls.train_list + cls.test_list] + [folder / cls.meta["filename"]]
    return files, [root / cls.filename]


def torchvision_problem(name: str, family: str, class_name: str, params: Mapping[str, Any]) -> str | None:
    root = download_root(params.get("root", ""))
    files, archives = torchvision_files(class_name, root)
    if all(f.is_file() for f in files) or all(a.is_file() for a in archives):
        return None
    where = archives[0].parent
    command = (
        f"python -c \"import torchvision as tv; [tv.datasets.{class_name}('{root}', train=t, download=True) "
        f'for t in (True, False)]"'
    )
    return (
        f"dataset '{name}' ({family} through torchvision) is absent: torchvision's {class_name} files are not under "
        f"{where} and no build of it is in {dataset_store.default_data_root()}; download them once (internet) with: {command}  "
        f"- or offline, place its {len(archives)} archive(s) {', '.join(a.name for a in archives)} in {where} "
        f"(docs/datasets.md, 'Real data')"
    )


def folder_problem(name: str, family: str, params: Mapping[str, Any], key: str | None) -> str | None:
    setting = f"set {key}.params.root in params.yaml" if key else "set the dataset parameter 'root'"
    head = f"dataset '{name}' ({family}) is absent:"
    fix = f"put your copy there ({FOLDER_LAYOUT}) or {setting} to the folder that holds it"
    raw = str(params.get("root", "")).strip()
    if not raw:
        return f"{head} its root is not set; {setting} to the folder holding {params.get('csv', 'labels.csv')} ({FOLDER_LAYOUT})"
    root = folder_root(raw)
    try:
        if not root.exists():
            return f"{head} its root {root} does not exist; {fix}"
        if not root.is_dir():
            return f"{head} its root {root} is not a folder; {fix}"
        if not any(root.iterdir()):
            return f"{head} its root {root} is empty; {fix}"
    except OSError as exc:
        return f"{head} its root {root} cannot be read ({exc.strerror or exc}); {fix}"
    try:
        csv_path = csv_path_of(root, params["csv"])
        if not csv_path.is_file():
            return f"{head} {root} holds no {params['csv']}; {fix}"
        rows = read_rows(csv_path)
    except ContractError as exc:
        return f"{head} {str(exc).splitlines()[0]}"
    if not rows:
        return f"{head} {csv_path} lists no image; {fix}"
    missing = [
        (row.line, relative)
        for row in rows
        for relative in (row.image, row.annotation)
        if relative and not ((path := inside(root, relative)) is not None and path.is_file())
    ]
    if missing:
        named = sum(1 for row in rows for relative in (row.image, row.annotation) if relative)
        line, first = missing[0]
        return (
            f"{head} {len(missing)} of the {named} files {csv_path.name} names are missing under {root} "
            f"(first: line {line}, {first}); {fix}"
        )
    return None
