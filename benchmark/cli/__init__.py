"""``python -m benchmark COMMAND``: each module in this folder adds one command.

A command module defines ``register(subparsers)``, which adds its parser and sets
``func(args) -> int``. Contract errors print one line naming the culprit and exit 2.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import Any

import yaml

from ..contracts import ContractError


def parse_assignments(items: list[str] | None, flag: str) -> dict[str, Any]:
    """``['lam=2', 'fill=mean']`` -> ``{'lam': 2, 'fill': 'mean'}`` (values parsed as YAML scalars)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ContractError(f"{flag} expects key=value, got {item!r}")
        try:
            out[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise ContractError(f"{flag} {item!r}: cannot parse value ({exc})") from exc
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmark", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ContractError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
