"""params.yaml's schema: the whole file (``ParamsFile``), its cross-references, the leaderboard's studies and the
JSON Schema export."""

from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar

from pydantic import (
    Field,
    ValidationError,
    WrapValidator,
)

from ..contracts import ContractError
from ..registry import did_you_mean
from .errors import validated
from .fields import LEADERBOARD, NAME_REGEX, NAME_RULE, SOURCE, Block, fail, mapping, shown, text_rule
from .profiles import Profile
from .searches import Search
from .studies import Study


# --------------------------------------------------------------------------- the file
def _variant_name(value: Any, handler: Callable[[Any], Any]) -> Any:
    try:
        return handler(value)
    except ValidationError:
        raise fail(
            f"variant name {shown(value)} is not a valid name ({NAME_RULE}); it names the folder under the data root"
        ) from None


VariantName = Annotated[str, Field(pattern=f"^{NAME_REGEX}$"), WrapValidator(_variant_name)]


class Variant(Block):
    """A dataset variant: a registered family and its construction parameters."""

    shape: ClassVar[str] = "a mapping {family: FAMILY, params: {...}}"
    family: Annotated[str, WrapValidator(text_rule("a dataset family name, e.g. family: annotated_folder"))] = Field()
    params: Annotated[dict[str, Any] | None, mapping("of dataset parameters")] = None


Variants = Annotated[dict[VariantName, Variant], mapping("NAME -> {family: ..., params: {...}}")]


def _leaderboard(value: Any, handler: Callable[[Any], Any]) -> Any:
    if value is not None and (not isinstance(value, list) or not value or not all(isinstance(n, str) for n in value)):
        raise fail(f"expected a list of study names, got {shown(value)}")
    return handler(value)


class BoardCell(Block):
    """A ranked cell of the across-cell leaderboard: a (dataset, arch) of a ``leaderboard:`` study where every
    leaderboard method trains, the metric it is scored on and the no-shortcut dataset ERM is trained on there."""

    shape: ClassVar[str] = "a mapping {study, dataset, arch, metric, reference, shortcut}"
    study: Annotated[str, WrapValidator(text_rule("a study of leaderboard:, e.g. study: decoy"))] = Field()
    dataset: Annotated[str, WrapValidator(text_rule("a dataset variant the study trains on"))] = Field()
    arch: Annotated[str, WrapValidator(text_rule("an architecture the study trains on this dataset"))] = Field()
    metric: Annotated[str, WrapValidator(text_rule("SPLIT/METRIC, e.g. test/accuracy"))] = Field()
    reference: Annotated[
        str, WrapValidator(text_rule("the dataset without the shortcut, e.g. clean_digits (ERM trains on it)"))
    ] = Field()
    shortcut: Annotated[str, WrapValidator(text_rule("what the cell varies, in words, e.g. decoy patch"))] = Field()


class LeaderboardGrid(Block):
    """The across-cell leaderboard (``python -m benchmark board``): its baseline and its ranked cells."""

    shape: ClassVar[str] = "a mapping {baseline, cells}"
    baseline: Annotated[str, WrapValidator(text_rule("the method every score is relative to, e.g. erm"))] = "erm"
    cells: list[BoardCell] = Field()


def _section(what: str) -> WrapValidator:
    return mapping(f"of names to {what} (name: {{...}})")


class ParamsFile(Block):
    """params.yaml: dataset variants, profiles, studies and searches (``dvc repro`` reads it)."""

    shape: ClassVar[str] = "a mapping of sections"
    datasets: Annotated[Variants | None, Field(description="variants `dvc repro` builds")] = None
    paper_datasets: Annotated[Variants | None, Field(description="variants a study may name, not built by default")] = (
        None
    )
    profiles: Annotated[dict[str, Profile] | None, _section("profiles")] = None
    leaderboard: Annotated[
        list[str] | None,
        WrapValidator(_leaderboard),
        Field(description="the studies `python -m benchmark leaderboard` and `submit` rank methods on"),
    ] = None
    leaderboard_grid: Annotated[
        LeaderboardGrid | None,
        Field(
            description="the cells `python -m benchmark board` ranks methods over, each with its no-shortcut reference"
        ),
    ] = None
    studies: Annotated[dict[str, Study] | None, _section("studies")] = None
    optional_studies: Annotated[dict[str, Study] | None, _section("studies")] = None
    searches: Annotated[dict[str, Search] | None, _section("searches")] = None


# --------------------------------------------------------------------------- the whole file
def check_params_file(data: Mapping[str, Any], source: str = SOURCE) -> ParamsFile:
    """A params.yaml document checked whole: every section, every block (``ParamsFile``), then the names
    one section gives another (``check_references``). Raises one ``ContractError`` line."""
    model = validated(ParamsFile, data, source)
    check_references(data, source)
    return model


def extended_study(data: Mapping[str, Any], source: str, section: str, name: str, study: Mapping[str, Any]) -> None:
    """An ``extends`` names a study under ``studies:`` and is given only under ``optional_studies:``."""
    base = study.get("extends")
    if base is None:
        return
    if section != "optional_studies":
        raise ContractError(
            f"{source}: {section}.{name}.extends: only a study under optional_studies may extend another"
        )
    studies = sorted(map(str, data.get("studies") or {}))
    if base not in studies:
        raise ContractError(
            f"{source}: {section}.{name}.extends: unknown study {shown(base)}{did_you_mean(str(base), studies)}; "
            f"studies in {source}: {studies}"
        )


def check_references(data: Mapping[str, Any], source: str = SOURCE) -> None:
    """The names one section takes from another: a study's ``profile`` and ``at_profile`` profiles (and its
    ``reuse_from`` studies) and a
    search's ``profile`` are under ``profiles:``; ``leaderboard:`` lists studies; each ``leaderboard_grid`` cell
    names a study of ``leaderboard:`` and a reference dataset of ``datasets:`` (what the study trains is checked by
    ``board``, at its profile)."""
    profiles = sorted(map(str, data.get("profiles") or {}))

    def profile_of(where: str, name: Any) -> None:
        if name not in profiles:
            raise ContractError(
                f"{source}: {where}: unknown profile {shown(name)}{did_you_mean(str(name), profiles)}; "
                f"profiles in {source}: {profiles}"
            )

    every_study = sorted({*map(str, data.get("studies") or {}), *map(str, data.get("optional_studies") or {})})
    for section in ("studies", "optional_studies"):
        for name, study in (data.get(section) or {}).items():
            extended_study(data, source, section, name, study)
            for i, other in enumerate(study.get("reuse_from") or []):
                if other not in every_study or other == name:
                    raise ContractError(
                        f"{source}: {section}.{name}.reuse_from[{i}]: {shown(other)} is not another study"
                        f"{did_you_mean(str(other), every_study)}; studies in {source}: {every_study}"
                    )
            if study.get("profile") is not None:
                profile_of(f"{section}.{name}.profile", study["profile"])
            for profile in study.get("at_profile") or {}:
                profile_of(f"{section}.{name}.at_profile", profile)
    for name, search in (data.get("searches") or {}).items():
        if search.get("profile") is not None:
            profile_of(f"searches.{name}.profile", search["profile"])
    if data.get(LEADERBOARD) is not None:
        leaderboard_studies(data, source)
    grid_cells(data, source)


def grid_cells(data: Mapping[str, Any], source: str = SOURCE) -> None:
    """Each ``leaderboard_grid.cells[i]``: its study in ``leaderboard:``, its dataset and reference variants of
    ``datasets:`` (or ``paper_datasets:``), no (dataset, arch) twice."""
    grid = data.get("leaderboard_grid")
    if not isinstance(grid, Mapping):
        return
    ranked = data.get(LEADERBOARD) or []
    variants = sorted({*map(str, data.get("datasets") or {}), *map(str, data.get("paper_datasets") or {})})
    seen: set[tuple[str, str]] = set()
    for i, cell in enumerate(grid.get("cells") or []):
        where = f"{source}: leaderboard_grid.cells[{i}]"
        if cell.get("study") not in ranked:
            raise ContractError(f"{where}.study: {shown(cell.get('study'))} is not a study of leaderboard: {ranked}")
        for key in ("dataset", "reference"):
            if variants and cell.get(key) not in variants:
                raise ContractError(
                    f"{where}.{key}: unknown dataset variant {shown(cell.get(key))}"
                    f"{did_you_mean(str(cell.get(key)), variants)}"
                )
        pair = (str(cell.get("dataset")), str(cell.get("arch")))
        if pair in seen:
            raise ContractError(f"{where}: dataset {pair[0]} on arch {pair[1]} is already a cell of the grid")
        seen.add(pair)


def leaderboard_studies(params: Mapping[str, Any], source: str = SOURCE) -> list[str]:
    """The study names of ``leaderboard:``: a non-empty list of distinct names of ``studies:``."""
    names, studies = params.get(LEADERBOARD), params.get("studies") or {}
    where = f"{source}: {LEADERBOARD}"
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ContractError(f"{where}: expected a list of study names, got {names!r}")
    unknown = [n for n in names if n not in studies]
    if unknown:
        raise ContractError(f"{where}: {unknown[0]!r} is not a study (known: {sorted(studies)}); got {names!r}")
    if len(set(names)) != len(names):
        raise ContractError(f"{where}: a study is listed twice: {names!r}")
    return list(names)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of params.yaml (``python -m benchmark schema``; docs/params.schema.json)."""
    schema = _tidy(ParamsFile.model_json_schema())
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": "generated by `python -m benchmark schema` from benchmark/params_schema/; do not edit",
        **schema,
    }


def _tidy(node: Any) -> Any:
    """The generated schema without what only pydantic needs: a property's ``default: null`` (the key is
    optional: left out, it is not set) and its title (its name, capitalized); docstrings' ``code`` as `code`;
    a mapping whose keys have a pattern refuses the other keys."""
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    if not isinstance(node, dict):
        return node.replace("``", "`") if isinstance(node, str) else node
    out = {key: _tidy(value) for key, value in node.items()}
    if "patternProperties" in out:
        out.setdefault("additionalProperties", False)  # a key the pattern refuses (a variant name) is refused
    for prop in (out.get("properties") or {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)
            if "default" in prop and prop["default"] is None:
                del prop["default"]
    return out
