"""Registries of methods, datasets and architectures, filled by class decorators.

Method files in ``methods/`` and dataset files in ``datasets/`` are plug-ins imported as
``salbench_plugins.methods.NAME`` / ``salbench_plugins.datasets.NAME`` from their folders
(never installed as top-level packages: a package called ``datasets`` would shadow
Hugging Face's). The folders are real packages of that namespace, so a plug-in reuses
another with a plain import (``from .sgt import SGT``) whatever the load order. Installed third-party plug-ins arrive through the entry-point groups
``saliency_benchmark.methods`` / ``.datasets`` / ``.archs``: the entry point's module is
imported and its decorators register the classes.
"""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Callable, Generic, TypeVar

from .code_closure import PLUGIN_NAMESPACE, closure_digest
from .paths import project_root
from .contracts import ContractError

T = TypeVar("T")
ENTRY_POINT_PREFIX = "saliency_benchmark."


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
        """Import the built-in package's modules, the plug-in folder and the entry-point group once."""
        if self._loaded:
            return
        self._loaded = True
        if self.builtin:
            package = importlib.import_module(self.builtin)
            for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
                if not info.name.startswith("_"):
                    importlib.import_module(f"{self.builtin}.{info.name}")
        if self.folder:
            load_folder(project_root() / self.folder, namespace=f"{PLUGIN_NAMESPACE}.{self.folder}")
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
        """sha256 of the code of ``name``: its module and every project module that module imports
        (``benchmark.code_closure``); SMOOT's covers sgt.py, CYBORG's covers benchmark/maps.py."""
        return closure_digest([self.get(name).__module__])


def _source_of(cls: type) -> Path:
    module = sys.modules.get(cls.__module__)
    return Path(getattr(module, "__file__", "") or "").resolve()


def _namespace_package(name: str, folder: Path | None) -> None:
    """Make ``name`` an importable package whose modules are the files of ``folder``."""
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_loader(name, loader=None, is_package=True)
        assert spec is not None
        module = importlib.util.module_from_spec(spec)
        module.__path__ = []
        sys.modules[name] = module
    if folder is not None and str(folder) not in module.__path__:
        module.__path__.append(str(folder))


def load_folder(folder: Path, namespace: str) -> None:
    """Import every ``*.py`` in ``folder`` (not starting with ``_``) as ``namespace.STEM``."""
    if not folder.is_dir():
        return
    _namespace_package(namespace.split(".")[0], None)
    _namespace_package(namespace, folder.resolve())
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        try:
            importlib.import_module(f"{namespace}.{path.stem}")
        except Exception as exc:
            raise ContractError(f"cannot import plug-in {path}: {type(exc).__name__}: {exc}") from exc


METHODS: Registry = Registry("method", folder="methods")
DATASETS: Registry = Registry("dataset", folder="datasets")
ARCHS: Registry = Registry("arch", builtin="benchmark.models")

register_method: Callable[[type], type] = METHODS.register
register_dataset: Callable[[type], type] = DATASETS.register
register_arch: Callable[[type], type] = ARCHS.register
