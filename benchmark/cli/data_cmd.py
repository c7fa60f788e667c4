"""``data build NAME``: build (or fetch) a dataset into ``data/NAME`` with its manifest."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..config import dataset_variant
from ..data import store


def build(args: argparse.Namespace) -> int:
    family, params = dataset_variant(args.name)
    bundle = store.build(family, params)
    folder = store.save(bundle, Path(args.root) / args.name)
    sizes = {name: info["size"] for name, info in bundle.manifest["splits"].items()}
    print(json.dumps({"dataset": args.name, "family": family, "folder": str(folder), "sizes": sizes}))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data", help="build and inspect datasets")
    sub = parser.add_subparsers(dest="data_command", required=True)
    p = sub.add_parser("build", help="build dataset NAME (a params.yaml variant or a family) into ROOT/NAME")
    p.add_argument("name")
    p.add_argument("--root", default=str(store.default_data_root()))
    p.set_defaults(func=build)
