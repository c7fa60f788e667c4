"""Registries of methods, datasets and architectures, filled by class decorators.

Method files in ``methods/`` and dataset files in ``datasets/`` are plug-ins loaded by
path (never installed as top-level packages: a package called ``datasets`` would shadow
Hugging Face's). Installed third-party plug-ins arrive through the entry-point groups
``saliency_benchmark.methods`` / ``.datasets`` / ``.archs``: the entry point's module is
imported and its decorators register the classes.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Callable, Generic, TypeVar

from .contracts import ContractError

T = TypeVar("T")
ENTRY_POINT_PREFIX = "saliency_benchmark."


def project_root() -> Path:
    """The folder holding ``methods/`` and ``datasets/``: $SALBENCH_ROOT, else this checkout, else cwd."""
    env = os.environ.get("SALBENCH_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parent.parent
    if (here / "methods").is_dir():
        return here
    return Path.cwd().resolve()


class UnknownName(ContractError):
    """A name that is not registered; the message lists the known ones."""


class Registry(Generic[T]):
    """Name -> class, with the source file of each class (for code fingerprints)."""

    def __init__(self, kind: str, folder: str | None = None, builtin: str | None = None) -> None:
        self.kind = kind
        self.folder = folder
        self.builtin = builtin
        self._items: dict[str, type] = {}
        self._loaded = False

    def register(self, cls: type) -> type:
        """Class decorator: register ``cls`` under ``cls.name``."""
        name = getattr(cls, "name", "")
        if not name:
            raise ContractError(f"{self.kind} class {cls.__qualname__} has no 'name'")
        known = self._items.get(name)
        if known is not None and _source_of(known) != _source_of(cls):
            raise ContractError(
                f"{self.kind} '{name}' registered twice: {_source_of(known)} and {_source_of(cls)}"
            )
        self._items[name] = cls
        return cls

    def load(self) -> None:
        """Import the plug-in folder and the entry-point group once."""
        if self._loaded:
            return
        self._loaded = True
        if self.builtin:
            importlib.import_module(self.builtin)
        if self.folder:
            load_folder(project_root() / self.folder, namespace=f"salbench_plugins.{self.folder}")
        for ep in entry_points(group=ENTRY_POINT_PREFIX + self.kind + "s"):
            ep.load()

    def get(self, name: str) -> type:
        self.load()
        try:
            return self._items[name]
        except KeyError:
            raise UnknownName(f"unknown {self.kind} '{name}'; known: {', '.join(self.names())}") from None

    def names(self) -> list[str]:
        self.load()
        return sorted(self._items)

    def source_file(self, name: str) -> Path:
        return _source_of(self.get(name))

    def fingerprint(self, name: str) -> str:
        """sha256 of the file that defines ``name`` and of the plug-in files its base classes come from
        (SMOOT subclasses SGT: editing sgt.py must make SMOOT's records stale too)."""
        files = [self.source_file(name)]
        for base in self.get(name).__mro__[1:]:
            path = _source_of(base)
            if base.__module__.startswith("salbench_plugins.") and path not in files:
                files.append(path)
        if len(files) == 1:
            return file_digest(files[0])
        digest = hashlib.sha256()
        for path in files:
            digest.update(file_digest(path).encode())
        return digest.hexdigest()


def _source_of(cls: type) -> Path:
    module = sys.modules.get(cls.__module__)
    return Path(getattr(module, "__file__", "") or "").resolve()


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_folder(folder: Path, namespace: str) -> None:
    """Import every ``*.py`` in ``folder`` (not starting with ``_``) under ``namespace``."""
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module_name = f"{namespace}.{path.stem}"
        if module_name in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[module_name]
            raise ContractError(f"cannot import plug-in {path}: {type(exc).__name__}: {exc}") from exc


METHODS: Registry = Registry("method", folder="methods")
DATASETS: Registry = Registry("dataset", folder="datasets")
ARCHS: Registry = Registry("arch", builtin="benchmark.models")

register_method: Callable[[type], type] = METHODS.register
register_dataset: Callable[[type], type] = DATASETS.register
register_arch: Callable[[type], type] = ARCHS.register
