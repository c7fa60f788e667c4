"""``data build NAME``: build (or fetch) a dataset into ``data/NAME`` with its manifest; NAME is a
``datasets:`` or ``paper_datasets:`` variant of params.yaml, or a family (``paper_variants.resolve_variant``).
A variant whose source is absent (an ``annotated_folder`` root that is not there) is refused with one line
naming the params.yaml entry to edit (``availability.folder_problem``), before anything is read or written.
A ``data/NAME`` that is already current (``dataset_store.is_current``) is kept, not rebuilt (``--force``
rebuilds): the DVC stage ``paper-data`` always runs, and a current build costs a stat and a hash then.
``data show NAME``: print the manifest of ``data/NAME`` and write a PNG grid of examples per split.

NAME must be a valid name (letters, digits, ``_ . -``, no leading dot) and ``ROOT/NAME`` must
resolve under ROOT; an existing ``ROOT/NAME`` is replaced only when it is one of this
program's builds. Both are checked before anything is computed or written."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..config import load_params
from ..contracts import ContractError
from ..data import dataset_store
from ..data.availability import folder_problem
from ..data.folder_source import folder_root
from ..data.paper_variants import SECTION, paper_variants, resolve_variant
from ..registry import DATASETS

CHANNELS = {1: "grey", 3: "RGB"}


def build(args: argparse.Namespace) -> int:
    folder = dataset_store.dataset_folder(Path(args.root), args.name)
    dataset_store.check_replaceable(folder)
    existing = next(p for p in (folder.parent, *folder.parent.parents) if p.exists())
    if (
        not existing.is_dir()
        or not os.access(existing, os.W_OK | os.X_OK)
        or os.statvfs(existing).f_flag & os.ST_RDONLY
    ):
        raise ContractError(f"data root {args.root}: cannot write under {existing} (not a writable folder)")
    config = load_params()
    family, params = resolve_variant(args.name, config)
    sections = (SECTION, paper_variants(config)), ("datasets", config.get("datasets") or {})
    key = next((f"{section}.{args.name}" for section, names in sections if args.name in names), None)
    resolved = DATASETS.get(family)().resolve(params)
    folder_family = getattr(DATASETS.get(family), "source_checksum", None) is not None  # torchvision ones download
    if folder_family and not folder_root(str(resolved.get("root", ""))).is_dir():
        problem = folder_problem(args.name, family, resolved, key)  # no folder: one line; else validation's list
        if problem is not None:
            raise ContractError(f"data build {args.name}: {problem}")
    if not args.force and dataset_store.is_current(folder, family, resolved):
        print(json.dumps({"dataset": args.name, "family": family, "folder": str(folder), "current": True}))
        print(
            f"{folder} is current (these parameters, this code, an unchanged source); --force rebuilds", file=sys.stderr
        )
        return 0
    try:
        manifest = dataset_store.build_into(family, params, folder)
    except OSError as exc:  # checked above; a file system may still refuse (nothing is left behind)
        raise ContractError(f"data build {args.name}: cannot write {folder} ({exc.strerror or exc})") from None
    sizes = {name: info["size"] for name, info in manifest["splits"].items()}
    arrays = sum(path.stat().st_size for path in folder.glob("*/*.npy"))
    peak = dataset_store.peak_rss_bytes()
    print(json.dumps({"dataset": args.name, "family": family, "folder": str(folder), "sizes": sizes}))
    print(f"built {args.name}: {describe_images(manifest)}, arrays {mb(arrays)}, peak RSS {mb(peak)}", file=sys.stderr)
    return 0


def describe_images(manifest: dict) -> str:
    """``2220 images 224x224 RGB`` (every split's image shape, (C,H,W) in the manifest)."""
    splits = manifest["splits"].values()
    shapes = sorted({tuple(info["shape"]) for info in splits})
    kinds = ", ".join(f"{h}x{w} {CHANNELS.get(c, f'{c}-channel')}" for c, h, w in shapes)
    return f"{sum(info['size'] for info in splits)} images {kinds}"


def mb(count: int) -> str:
    return f"{count / 1e6:.0f} MB"


def show(args: argparse.Namespace) -> int:
    from ..data.show import example_grid

    if args.count < 1:
        raise ContractError(f"data show --count must be >= 1, got {args.count}")
    folder = dataset_store.dataset_folder(Path(args.root), args.name)
    if not (folder / dataset_store.MANIFEST).is_file():
        raise ContractError(f"{folder}: not built; run `python -m benchmark data build {args.name}` first")
    out = Path(args.out or Path("results") / "datasets" / args.name)
    for parent in (out, *out.parents):
        if parent.exists() and not parent.is_dir():
            raise ContractError(f"data show --out {out}: {parent} is a file, not a folder")
    bundle = dataset_store.load(folder)
    print(json.dumps(bundle.manifest, indent=2, sort_keys=True))
    for split in bundle.splits:
        print(f"wrote {example_grid(bundle, split, out / f'{split}.png', args.count)}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data", help="build and inspect datasets")
    sub = parser.add_subparsers(dest="data_command", required=True)
    p = sub.add_parser("build", help="build dataset NAME (a params.yaml variant or a family) into ROOT/NAME")
    p.add_argument("name")
    p.add_argument("--root", default=str(dataset_store.default_data_root()))
    p.add_argument("--force", action="store_true", help="rebuild even when ROOT/NAME is a current build")
    p.set_defaults(func=build)
    p = sub.add_parser("show", help="print the manifest of ROOT/NAME and write PNG grids of examples with saliency")
    p.add_argument("name")
    p.add_argument("--root", default=str(dataset_store.default_data_root()))
    p.add_argument("--out", default=None, help="folder of the PNG grids (default: results/datasets/NAME)")
    p.add_argument("--count", type=int, default=10, help="examples per split (the classes in turn)")
    p.set_defaults(func=show)
