"""params.yaml's schema: pydantic's validation errors as one line naming the file, the key's path and the value."""

from collections.abc import Mapping
from typing import Any

from pydantic import (
    TypeAdapter,
    ValidationError,
)

from ..contracts import ContractError
from .fields import TAG, kind_of, shown


# --------------------------------------------------------------------------- errors as one line
def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.startswith(TAG):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _join(*parts: str) -> str:
    out = ""
    for part in parts:
        if part:
            out += part if not out or part.startswith("[") else "." + part
    return out


def _generic(error: Mapping[str, Any]) -> str:
    """pydantic's own errors, where a type of this module does not word its own (a mapping's key, a list)."""
    kind, value = error["type"], error.get("input")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping, got {kind_of(value)}"
    if kind in ("list_type", "too_short"):
        return f"expected a non-empty list, got {shown(value)}"
    if kind == "string_type":
        return f"must be a string, got {kind_of(value)}"
    return f"{error.get('msg', kind)}, got {shown(value)}"


def describe(error: Mapping[str, Any]) -> tuple[str, str]:
    """(the key's path, the message) of one pydantic error."""
    loc = tuple(error.get("loc") or ())
    if loc and loc[-1] == "[key]":  # a mapping's key: the message names it
        path = _path(loc[:-2])
        text = error["msg"] if error["type"] == "salbench" else f"key {shown(loc[-2])}: {_generic(error)}"
        return path, text
    path = _path(loc)
    at = (error.get("ctx") or {}).get("at", "")
    if error["type"] == "salbench":
        return _join(path, at), error["msg"]
    if error["type"] == "missing":
        head, _, last = path.rpartition(".")
        return head, f"missing {shown(last)}"
    return path, _generic(error)


def contract_error(exc: ValidationError, where: str) -> ContractError:
    """One ``ContractError`` line from pydantic's errors: ``WHERE.PATH: MESSAGE`` for the first, and how
    many more there are. ``where`` is a file (``params.yaml``) or a file and a key (``params.yaml: datasets``)."""
    errors = exc.errors(include_url=False)
    path, text = describe(errors[0])
    source, sep, prefix = where.partition(": ")
    full = _join(prefix, path) if sep else path
    line = f"{source}: {full}: {text}" if full else f"{source}: {text}"
    if len(errors) > 1:
        line += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return ContractError(line)


def validated(kind: Any, data: Any, where: str) -> Any:
    """``data`` validated as ``kind`` (a model or a type), or a ``ContractError`` line naming ``where``."""
    adapter = kind if isinstance(kind, TypeAdapter) else _adapter(kind)
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise contract_error(exc, where) from None


_ADAPTERS: dict[Any, TypeAdapter] = {}


def _adapter(kind: Any) -> TypeAdapter:
    key = id(kind)
    if key not in _ADAPTERS:
        _ADAPTERS[key] = TypeAdapter(kind)
    return _ADAPTERS[key]
