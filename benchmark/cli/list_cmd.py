"""``list methods|datasets|archs``: what is registered, with parameters and their defaults."""
from __future__ import annotations

import argparse

from tabulate import tabulate

from ..registry import ARCHS, DATASETS, METHODS


def describe(cls: type) -> str:
    """A class's ``description``, else the first line of its or its module's docstring."""
    import sys

    doc = getattr(cls, "description", "") or cls.__doc__ or sys.modules[cls.__module__].__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _row(kind: str, cls: type) -> list[str]:
    declared = cls.hparams if kind == "methods" else cls.params
    params = ", ".join(f"{k}={v.default!r}" for k, v in declared.items()) or "-"
    if kind == "methods":
        about = f"{cls.citation}" + (" [needs annotations]" if cls.needs_annotations else "")
        cost = f"{cls.cost.in_forward_units():g}F"
        return [cls.name, about, cost, params]
    return [cls.name, describe(cls), params]


def run(args: argparse.Namespace) -> int:
    registry = {"methods": METHODS, "datasets": DATASETS, "archs": ARCHS}[args.kind]
    headers = ["name", "about", "cost/step", "hyperparameters"] if args.kind == "methods" else ["name", "about", "parameters"]
    rows = [_row(args.kind, registry.get(name)) for name in registry.names()]
    print(tabulate(rows, headers=headers, tablefmt="github", maxcolwidths=[None, 50, None, 70]))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("list", help="list registered methods, datasets or architectures")
    parser.add_argument("kind", choices=["methods", "datasets", "archs"])
    parser.set_defaults(func=run)
