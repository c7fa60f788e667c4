"""``schema``: the JSON Schema of params.yaml, generated from its models (``benchmark.params_schema``).

Printed on stdout, or written to ``--out FILE``. ``docs/params.schema.json`` is the committed copy
(tests/test_params_schema.py checks it equals this output: regenerate it with
``python -m benchmark schema --out docs/params.schema.json`` after changing the models). Editors
validate and complete params.yaml with it through the comment on its first line,
``# yaml-language-server: $schema=docs/params.schema.json`` (the YAML language server: VS Code's
YAML extension, and other LSP editors). The commands check params.yaml with the same models.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def schema_text() -> str:
    """The JSON Schema as the committed file holds it: two-space indents, a final newline."""
    from ..params_schema import json_schema

    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def run(args: argparse.Namespace) -> int:
    text = schema_text()
    if args.out is None:
        sys.stdout.write(text)
        return 0
    from ..atomic import atomic_write_text

    atomic_write_text(Path(args.out), text)
    print(f"wrote {args.out}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "schema", help="print the JSON Schema of params.yaml (for editors), or write it to a file"
    )
    p.add_argument(
        "--out", metavar="FILE", help="write it to FILE (docs/params.schema.json is the committed copy) instead"
    )
    p.set_defaults(func=run)
