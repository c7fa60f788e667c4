"""Registries of methods, datasets and architectures, filled by class decorators.

Method files in ``methods/`` and dataset files in ``datasets/`` are plug-ins imported as
``salbench_plugins.methods.NAME`` / ``salbench_plugins.datasets.NAME`` from their folders
(never installed as top-level packages: a package called ``datasets`` would shadow
Hugging Face's). The folders are real packages of that namespace, so a plug-in reuses
another with a plain import (``from .sgt import SGT``) whatever the load order. Installed third-party plug-ins arrive through the entry-point groups
``saliency_benchmark.methods`` / ``.datasets`` / ``.archs``: the entry point's module is
imported and its decorators register the classes.

A plug-in that cannot be imported (syntax error, failing import, an exception or
``SystemExit`` at import) does not stop the others: ``load`` records the error per file or
entry point (``load_errors``), the classes it registered before failing are dropped, and
only asking for it (``get`` of its file stem, entry-point name or a class it had
registered) fails, naming the file and the error. ``KeyboardInterrupt`` is not caught.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import pkgutil
import sys
from collections.abc import Callable, Iterable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Generic, TypeVar, cast

from .code_closure import PLUGIN_NAMESPACE, closure_digest
from .contracts import ContractError, Dataset, Method, Network
from .paths import project_root

T = TypeVar("T")
C = TypeVar("C", bound=type)  # the class a registration decorator returns unchanged
ENTRY_POINT_PREFIX = "saliency_benchmark."


class UnknownName(ContractError):
    """A name that is not registered; the message suggests the closest known one and lists them."""


class PluginLoadError(ContractError):
    """A name whose plug-in failed to import; the message names the file and the error."""


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'sgt'?"`` for the closest of ``known`` (difflib), else ``""``: the one
    suggestion helper of every "unknown name" message."""
    close = difflib.get_close_matches(str(name), sorted(map(str, known)), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def unknown_name(kind: str, name: str, known: list[str] | tuple[str, ...] | set[str], where: str = "") -> str:
    """``unknown method 'sgtt'; did you mean 'sgt'? known: erm, sgt, ...`` (``where`` prefixes it)."""
    hint = did_you_mean(name, known)
    return f"{where}unknown {kind} '{name}'{hint}; known: {', '.join(sorted(map(str, known))) or '(none)'}"


def _describe_error(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"SystemExit({exc.code!r}) raised at import"
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Registry(Generic[T]):
    """Name -> class, with the source file of each class (for code fingerprints)."""

    def __init__(self, kind: str, folder: str | None = None, builtin: str | None = None) -> None:
        self.kind = kind
        self.folder = folder
        self.builtin = builtin
        self._items: dict[str, type[T]] = {}
        self._loaded = False
        self._errors: dict[str, str] = {}  # plug-in (file path or entry point) -> why it failed to load
        self._failed_names: dict[str, str] = {}  # name (file stem, entry point, class it registered) -> plug-in

    def register(self, cls: C) -> C:
        """Class decorator: register ``cls`` under ``cls.name``."""
        name = getattr(cls, "name", "")
        if not name:
            raise ContractError(f"{self.kind} class {cls.__qualname__} has no 'name'")
        known = self._items.get(name)
        if known is not None and _source_of(known) != _source_of(cls):
            raise ContractError(f"{self.kind} '{name}' registered twice: {_source_of(known)} and {_source_of(cls)}")
        self._items[name] = cast("type[T]", cls)
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
            folder = project_root() / self.folder
            for path, module in plugin_modules(folder, namespace=f"{PLUGIN_NAMESPACE}.{self.folder}"):
                self._guarded(str(path), path.stem, lambda: importlib.import_module(module))  # noqa: B023 (called at once)
        for ep in entry_points(group=ENTRY_POINT_PREFIX + self.kind + "s"):
            self._guarded(f"entry point '{ep.name}' ({ep.value})", ep.name, ep.load)

    def _guarded(self, source: str, stem: str, load: Callable[[], object]) -> None:
        """Run ``load``; on failure record why and forget the classes it registered meanwhile."""
        before = set(self._items)
        try:
            load()
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - a plug-in's failure is reported, not raised
            self._errors[source] = _describe_error(exc)
            for name in sorted(set(self._items) - before):
                del self._items[name]
                self._failed_names.setdefault(name, source)
            self._failed_names.setdefault(stem, source)

    def load_errors(self) -> dict[str, str]:
        """Plug-in (file path or entry point) -> the error that kept it from loading."""
        self.load()
        return dict(self._errors)

    def get(self, name: str) -> type[T]:
        self.load()
        try:
            return self._items[name]
        except KeyError:
            pass
        source = self._failed_names.get(name)
        if source is not None:
            raise PluginLoadError(f"{self.kind} '{name}': plug-in {source} failed to load: {self._errors[source]}")
        message = unknown_name(self.kind, name, self.names())
        if self._errors:
            message += "; not loaded: " + "; ".join(f"{src} ({err})" for src, err in sorted(self._errors.items()))
        raise UnknownName(message)

    def names(self) -> list[str]:
        self.load()
        return sorted(self._items)

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


def plugin_modules(folder: Path, namespace: str) -> list[tuple[Path, str]]:
    """(file, module name) of every ``*.py`` in ``folder`` (not starting with ``_``), importable as
    ``namespace.STEM`` once this returns."""
    if not folder.is_dir():
        return []
    _namespace_package(namespace.split(".")[0], None)
    _namespace_package(namespace, folder.resolve())
    return [(path, f"{namespace}.{path.stem}") for path in sorted(folder.glob("*.py")) if not path.name.startswith("_")]


METHODS: Registry[Method] = Registry("method", folder="methods")
DATASETS: Registry[Dataset] = Registry("dataset", folder="datasets")
ARCHS: Registry[Network] = Registry("arch", builtin="benchmark.models")

register_method = METHODS.register
register_dataset = DATASETS.register
register_arch = ARCHS.register
