"""``python -m benchmark COMMAND``: each module in this folder adds one command.

A command module defines ``register(subparsers)``, which adds its parser and sets
``func(args) -> int``. Only the module of the command asked for is imported (the names and
one-line helps of the others are read from their source), so ``--help`` and ``list`` start
without loading what ``run`` or ``stats`` need; command modules import heavy libraries
inside their functions.

One exit path: every anticipated error (a ``ContractError`` naming its culprit, an
``OSError`` on a user's path, a YAML error) prints one line on stderr and exits 2, before
any compute and without partial output; an unexpected error keeps its traceback (a bug
must stay visible).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import pkgutil
import sys
from pathlib import Path
from typing import Any, NoReturn

PROG = "python -m benchmark"


def parse_assignments(items: list[str] | None, flag: str) -> dict[str, Any]:
    """``['lam=2', 'fill=mean']`` -> ``{'lam': 2, 'fill': 'mean'}`` (values parsed as YAML scalars)."""
    import yaml

    from ..contracts import ContractError

    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ContractError(f"{flag} expects key=value, got {item!r}")
        if key.strip() in out:
            raise ContractError(f"{flag} {key.strip()!r} given twice")
        try:
            out[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise ContractError(f"{flag} {item!r}: cannot parse value ({one_line(str(exc))})") from exc
    return out


def one_line(text: str) -> str:
    """``text`` with its lines joined by spaces (a message must stay one line)."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (and a pointer to ``--help``), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {one_line(message)} (see {self.prog} --help)\n")


def _command_of(path: Path) -> tuple[str, str] | None:
    """(command name, help) from the first ``add_parser("NAME", help=...)`` call of a command
    module's ``register``, read with ``ast`` (nothing imported)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "register":
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "add_parser"
                    and call.args
                    and isinstance(call.args[0], ast.Constant)
                    and isinstance(call.args[0].value, str)
                ):
                    help_text = next(
                        (
                            kw.value.value
                            for kw in call.keywords
                            if kw.arg == "help"
                            and isinstance(kw.value, ast.Constant)
                            and isinstance(kw.value.value, str)
                        ),
                        "",
                    )
                    return call.args[0].value, help_text
    return None


def command_modules() -> dict[str, tuple[str, str]]:
    """Command name -> (module name, one-line help) of every command module in this folder."""
    out: dict[str, tuple[str, str]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        found = _command_of(Path(__path__[0]) / f"{info.name}.py")
        name, help_text = found if found else (info.name.removesuffix("_cmd"), "")
        out.setdefault(name, (f"{__name__}.{info.name}", help_text))
    return out


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the command named first in ``argv`` is imported and registered in full
    (``argv=None``: every command, as the tests of the whole interface want)."""
    parser = Parser(prog=PROG, description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    commands = command_modules()
    chosen = argv[0] if argv and argv[0] in commands else None
    for name, (module, help_text) in sorted(commands.items()):
        if argv is None or name == chosen:
            importlib.import_module(module).register(subparsers)
        else:  # listed in --help, never parsed: the command asked for is another one
            subparsers.add_parser(name, help=help_text, add_help=False)
    return parser


def anticipated(exc: BaseException) -> bool:
    """Errors a user's input explains: they print one line, exit 2 (anything else is a bug)."""
    from ..contracts import ContractError

    if isinstance(exc, (ContractError, OSError)):
        return True
    yaml = sys.modules.get("yaml")
    return yaml is not None and isinstance(exc, yaml.YAMLError)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - re-raised unless anticipated
        if not anticipated(exc):
            raise
        message = one_line(str(exc)) or type(exc).__name__
        if isinstance(exc, OSError) and exc.filename is not None and str(exc.filename) not in message:
            message = f"{exc.filename}: {message}"
        print(f"error: {message}", file=sys.stderr)
        return 2
