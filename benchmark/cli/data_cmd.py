"""``data build NAME``: build (or fetch) a dataset into ``data/NAME`` with its manifest.
``data show NAME``: print the manifest of ``data/NAME`` and write a PNG grid of examples per split."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..config import dataset_variant
from ..contracts import ContractError
from ..data import store


def build(args: argparse.Namespace) -> int:
    family, params = dataset_variant(args.name)
    bundle = store.build(family, params)
    folder = store.save(bundle, Path(args.root) / args.name)
    sizes = {name: info["size"] for name, info in bundle.manifest["splits"].items()}
    print(json.dumps({"dataset": args.name, "family": family, "folder": str(folder), "sizes": sizes}))
    return 0


def show(args: argparse.Namespace) -> int:
    from ..data.show import example_grid

    folder = Path(args.root) / args.name
    if not (folder / store.MANIFEST).exists():
        raise ContractError(f"{folder}: not built; run `python -m benchmark data build {args.name}` first")
    bundle = store.load(folder)
    print(json.dumps(bundle.manifest, indent=2, sort_keys=True))
    out = Path(args.out or Path("results") / "datasets" / args.name)
    for split in bundle.splits:
        print(f"wrote {example_grid(bundle, split, out / f'{split}.png', args.count)}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data", help="build and inspect datasets")
    sub = parser.add_subparsers(dest="data_command", required=True)
    p = sub.add_parser("build", help="build dataset NAME (a params.yaml variant or a family) into ROOT/NAME")
    p.add_argument("name")
    p.add_argument("--root", default=str(store.default_data_root()))
    p.set_defaults(func=build)
    p = sub.add_parser("show", help="print the manifest of ROOT/NAME and write PNG grids of examples with saliency")
    p.add_argument("name")
    p.add_argument("--root", default=str(store.default_data_root()))
    p.add_argument("--out", default=None, help="folder of the PNG grids (default: results/datasets/NAME)")
    p.add_argument("--count", type=int, default=10, help="examples per split (the classes in turn)")
    p.set_defaults(func=show)
