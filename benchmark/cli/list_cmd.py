"""``list methods|datasets|archs``: what is registered, with every parameter's default, allowed
values and help text; ``list datasets`` also lists the variants of params.yaml.

A plug-in that fails to import is left out with one warning line naming its file and error.
"""

from __future__ import annotations

import argparse
import sys

from ..contracts import paper_link

KINDS = ("methods", "datasets", "archs")


def describe(cls: type) -> str:
    """A class's ``description``, else the first line of its or its module's docstring."""
    doc = getattr(cls, "description", "") or cls.__doc__ or sys.modules[cls.__module__].__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def allowed(hp) -> str:
    """The values an ``HParam`` accepts beyond its type: choices or an inclusive range."""
    if hp.choices is not None:
        return " | ".join(map(str, hp.choices))
    if hp.low is not None or hp.high is not None:
        low = "-inf" if hp.low is None else f"{hp.low:g}"
        high = "inf" if hp.high is None else f"{hp.high:g}"
        return f"[{low}, {high}]"
    return type(hp.default).__name__


def declared(kind: str, cls: type) -> dict:
    return cls.hparams if kind == "methods" else cls.params


def _row(kind: str, cls: type) -> list[str]:
    params = ", ".join(f"{k}={v.default!r}" for k, v in declared(kind, cls).items()) or "-"
    if kind == "methods":
        link = paper_link(cls.url)
        about = (
            f"{cls.citation}"
            + (f" <{link}>" if link else "")
            + (" [needs annotations]" if cls.needs_annotations else "")
        )
        cost = f"{cls.cost.in_forward_units():g}F"
        return [cls.name, about, cost, params]
    return [cls.name, describe(cls), params]


def parameter_rows(kind: str, cls: type) -> list[list[str]]:
    return [[name, repr(hp.default), allowed(hp), hp.help] for name, hp in declared(kind, cls).items()]


def variant_rows() -> list[list[str]]:
    """The dataset variants of params.yaml: name, family, parameters."""
    from ..config import load_params, params_path

    variants = load_params().get("datasets") or {}
    if not isinstance(variants, dict):
        problem = f"{params_path()}: 'datasets' must be a mapping of variants, got {type(variants).__name__}"
        print(f"warning: {problem}", file=sys.stderr)
        return []
    rows = []
    for name, entry in variants.items():
        entry = entry if isinstance(entry, dict) else {}
        params = entry.get("params") if isinstance(entry.get("params"), dict) else {}
        rows.append([name, entry.get("family", name), ", ".join(f"{k}={v!r}" for k, v in params.items()) or "-"])
    return rows


def run(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from ..registry import ARCHS, DATASETS, METHODS

    registry = {"methods": METHODS, "datasets": DATASETS, "archs": ARCHS}[args.kind]
    classes = [registry.get(name) for name in registry.names()]
    variants = variant_rows() if args.kind == "datasets" else []
    headers = (
        ["name", "about", "cost/step", "hyperparameters"] if args.kind == "methods" else ["name", "about", "parameters"]
    )
    widths = [None, 50, None, 70] if args.kind == "methods" else [None, 50, 70]
    parts = [
        tabulate([_row(args.kind, cls) for cls in classes], headers=headers, tablefmt="github", maxcolwidths=widths)
    ]
    if variants:
        parts.append(
            "variants in params.yaml (`--dataset NAME`):\n"
            + tabulate(variants, headers=["variant", "family", "parameters"], tablefmt="github")
        )
    word = "hyperparameters" if args.kind == "methods" else "parameters"
    for cls in classes:
        rows = parameter_rows(args.kind, cls)
        if rows:
            parts.append(
                f"{cls.name} {word}:\n"
                + tabulate(
                    rows,
                    headers=["name", "default", "allowed", "help"],
                    tablefmt="github",
                    maxcolwidths=[None, None, 24, 90],
                    disable_numparse=True,
                )
            )
    print("\n\n".join(parts))
    for source, error in sorted(registry.load_errors().items()):
        print(f"warning: plug-in {source} not loaded ({error}); its {args.kind} are not listed", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("list", help="list registered methods, datasets or architectures")
    parser.add_argument("kind", choices=KINDS)
    parser.set_defaults(func=run)
