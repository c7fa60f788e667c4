"""The project's ``params.yaml``: dataset variants, profiles and studies (read-only here).

Reading refuses, with one line naming the file and the key: a file that is not UTF-8 text,
invalid YAML (with its line), a key given twice in one mapping (with both lines), a top
level that is not a mapping, and anything the file's schema refuses (``benchmark.params_schema``:
every section and every block, whether or not the command at hand uses it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .contracts import ContractError
from .params_schema import NAME_REGEX, Variants, check_params_file, validated
from .params_schema import NAME_RULE as NAME_RULE
from .paths import project_root
from .registry import DATASETS, did_you_mean

# A dataset variant name names a folder under the data root (benchmark.data.names.NAME_PATTERN: the same rule).
NAME_PATTERN = re.compile(NAME_REGEX)


def params_path() -> Path:
    return Path(os.environ.get("SALBENCH_PARAMS", project_root() / "params.yaml"))


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping (merge keys ``<<`` may be overridden)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    continue  # SafeLoader reports unhashable keys itself
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise DuplicateKey(f"duplicate key {key!r} on line {line} (first on line {seen[key]})")
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


class DuplicateKey(yaml.YAMLError):
    pass


def parse_yaml(path: Path) -> Any:
    """The YAML document in ``path``; every failure is one ``ContractError`` line naming the file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ContractError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError(
            f"{path}: not UTF-8 text (byte {exc.start}: {raw[exc.start : exc.start + 1]!r}); is it a binary file?"
        ) from None
    if "\x00" in text:
        raise ContractError(f"{path}: contains a NUL byte at character {text.index(chr(0))}; is it a binary file?")
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)
    except DuplicateKey as exc:
        raise ContractError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: invalid YAML ({_one_line(exc)})") from None


def _one_line(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}"


def load_params(path: Path | None = None) -> dict[str, Any]:
    """params.yaml (or ``path``) parsed and checked whole against its schema (``params_schema``); {} when absent."""
    path = Path(path or params_path())
    if not path.exists():
        return {}
    if path.is_dir():
        raise ContractError(f"{path}: is a folder, not a params.yaml file")
    data = parse_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ContractError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    check_params_file(data, path.name)
    return data


def check_params(params: Mapping[str, Any]) -> Mapping[str, Any]:
    """``params`` (a params.yaml document not read by ``load_params``, e.g. a test's) checked whole."""
    check_params_file(params, params_path().name)
    return params


def check_variants(variants: Any, where: str) -> dict[str, Any]:
    """The ``datasets:`` mapping (``where``: ``params.yaml: datasets``), every entry checked against the
    schema's ``Variant``; None is empty."""
    if variants is None:
        return {}
    validated(Variants, variants, where)
    return dict(variants)


def check_variant(name: Any, entry: Any, where: str) -> tuple[str, dict[str, Any]]:
    """(family, params) of one ``datasets:`` entry, or one line naming the key."""
    validated(Variants, {name: entry}, where)
    return entry["family"], dict(entry.get("params") or {})


def dataset_variant(name: str, params: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """(family, construction parameters) of a dataset name: a variant under ``datasets:`` in
    params.yaml (``{family: ..., params: {...}}``), else a registered family with defaults."""
    source = load_params() if params is None else params
    where = f"{params_path().name}: datasets"
    variants = check_variants(source.get("datasets"), where)
    if name in variants:
        family, variant_params = variants[name]["family"], dict(variants[name].get("params") or {})
        if family not in DATASETS.names():
            raise ContractError(
                f"{where}.{name}.family: unknown dataset family '{family}'"
                f"{did_you_mean(family, DATASETS.names())}; families: {DATASETS.names()}"
            )
        return family, variant_params
    if name in DATASETS.names():
        return name, {}
    raise ContractError(
        f"unknown dataset '{name}'{did_you_mean(name, [*variants, *DATASETS.names()])}; "
        f"variants in {params_path().name}: {sorted(variants)}; families: {DATASETS.names()}"
    )
