"""The code a computation depends on: the import closure of its modules inside this project.

A run's numbers can change only through the code its modules execute. Starting from root
modules (a method, a dataset family, an architecture, the training core), this follows their
``import`` statements (read from the source with ``ast``, so nothing is executed; imports
inside functions count, imports under ``if TYPE_CHECKING:`` do not) to every module of the
project: the ``benchmark`` package, the plug-in folders ``methods/`` and ``datasets/``
(imported as ``salbench_plugins.methods.*`` / ``.datasets.*``), and a root's own top-level
package for plug-ins installed through entry points. Third-party packages are outside the
closure: their versions are in the record's environment. The parent packages'
``__init__.py`` files of an imported module are part of it, since importing runs them.

``closure_digest`` hashes the closure's files (path and bytes), so editing any file a run
imports makes its records stale, and editing one it does not import leaves them current.
"""

from __future__ import annotations

import ast
import hashlib
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from .paths import project_root

PACKAGE_DIR = Path(__file__).resolve().parent
PLUGIN_NAMESPACE = "salbench_plugins"
PLUGIN_FOLDERS = ("methods", "datasets")


def prefixes() -> dict[str, Path]:
    """Module-name prefix -> folder whose files it names (``benchmark`` and the plug-in folders)."""
    root = project_root()
    out = {"benchmark": PACKAGE_DIR}
    out.update({f"{PLUGIN_NAMESPACE}.{folder}": root / folder for folder in PLUGIN_FOLDERS})
    return out


def _file_of(name: str, known: dict[str, Path]) -> Path | None:
    """The source file of module ``name`` when it belongs to a known prefix, else None."""
    for prefix, place in known.items():
        if name != prefix and not name.startswith(prefix + "."):
            continue
        if place.is_file():  # a single-file module
            return place if name == prefix else None
        parts = name[len(prefix) :].lstrip(".").split(".") if name != prefix else []
        base = place.joinpath(*parts)
        for candidate in ([base.with_suffix(".py")] if parts else []) + [base / "__init__.py"]:
            if candidate.is_file():
                return candidate
        return None
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        children = list(ast.iter_child_nodes(node))
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            children = list(node.orelse)
        stack.extend(children)


@cache
def _imported_names(path: Path, stamp: tuple[int, int], package: str) -> tuple[str, ...]:
    """Absolute names of every module ``path`` may import (``from X import y`` gives X and X.y)."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    names: list[str] = []
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)] if node.level > 1 else anchor
            base = ".".join([*anchor, base] if base else anchor)
        names.append(base)
        names.extend(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return tuple(names)


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _external(module: str) -> dict[str, Path]:
    """A root outside the known prefixes (an entry-point plug-in, a test module): its own package or file."""
    loaded = sys.modules.get(module)
    if not getattr(loaded, "__file__", None):
        return {}
    top = sys.modules.get(module.split(".")[0])
    if getattr(top, "__path__", None) and getattr(top, "__file__", None):
        return {top.__name__: Path(top.__file__).resolve().parent}
    return {module: Path(loaded.__file__).resolve()}


def module_closure(modules: Iterable[str]) -> list[Path]:
    """Sorted source files of ``modules`` and of every project module they import, transitively."""
    known = prefixes()
    todo = list(modules)
    for module in todo:
        if _file_of(module, known) is None:
            known.update(_external(module))
    seen: set[str] = set()
    files: dict[Path, None] = {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _file_of(name, known)
        if path is None:
            continue
        files[path] = None
        todo.extend(_parents(name))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        stat = path.stat()
        todo.extend(_imported_names(path, (stat.st_mtime_ns, stat.st_size), package))
    return sorted(files)


def _label(path: Path) -> str:
    """A machine-independent name for a file: relative to the project root or the package's parent."""
    for base in (project_root(), PACKAGE_DIR.parent):
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return path.name


def closure_digest(modules: Iterable[str]) -> str:
    """sha256 over the (name, bytes) of every file in ``module_closure(modules)``."""
    digest = hashlib.sha256()
    for path in module_closure(modules):
        digest.update(_label(path).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
