"""params.yaml's schema: ``studies:`` (grids of methods, architectures, datasets and seeds; ``at_profile`` blocks)."""

from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar

from pydantic import (
    Discriminator,
    Field,
    Tag,
    ValidationError,
    WithJsonSchema,
    WrapValidator,
)

from .fields import MAX_SEEDS, SEED_MAX, TAG, Block, Name, Text, fail, listed, mapping, shown
from .run_settings import RunSettings, union_of


# --------------------------------------------------------------------------- studies
class Item(Block):
    """A method, architecture or dataset with parameters; ``grid`` lists values swept as a cartesian product."""

    shape: ClassVar[str] = "a mapping {name: NAME, params: {...}, grid: {KEY: [VALUES]}}"
    name: Name = Field()
    params: Annotated[dict[str, Any] | None, mapping("of parameters")] = None
    grid: Annotated[dict[str, Annotated[list[Any], listed("of values")]] | None, mapping("KEY -> [VALUES]")] = None


class Tuned(Block):
    """A method trained with the draw a search selected on validation (results/search/SEARCH.json)."""

    shape: ClassVar[str] = "a mapping {name: METHOD, tuned: SEARCH}"
    name: Name = Field()
    tuned: Name = Field()


def _item_tag(tuned: bool) -> Callable[[Any], str | None]:
    def tag(value: Any) -> str | None:
        if isinstance(value, str):
            return TAG + "name"
        if isinstance(value, Mapping):
            return TAG + ("tuned" if tuned and "tuned" in value else "item")
        return None

    return tag


def _item_union(tuned: bool) -> Any:
    members = [Annotated[Name, Tag(TAG + "name")], Annotated[Item, Tag(TAG + "item")]]
    if tuned:
        members.append(Annotated[Tuned, Tag(TAG + "tuned")])
    shape = "a name or a mapping {name, params, grid}" + (" or {name, tuned}" if tuned else "")
    return Annotated[
        union_of(*members),
        Discriminator(_item_tag(tuned), custom_error_type="salbench", custom_error_message=f"must be {shape}"),
    ]


ItemRef = _item_union(tuned=False)
MethodRef = _item_union(tuned=True)
Items = Annotated[list[ItemRef], listed()]  # type: ignore[valid-type]
MethodItems = Annotated[list[MethodRef], listed()]  # type: ignore[valid-type]


def _seeds(value: Any, handler: Callable[[Any], Any]) -> Any:
    rule = "must be a count (N -> 0..N-1) or a list of non-negative integers"
    if isinstance(value, int) and not isinstance(value, bool) and value > MAX_SEEDS:
        raise fail(f"count {value} exceeds {MAX_SEEDS} runs per grid cell (a typo?)")
    if isinstance(value, list) and len(value) > MAX_SEEDS:
        raise fail(f"lists {len(value)} seeds, more than {MAX_SEEDS} (a typo?)")
    if isinstance(value, list):
        for i, seed in enumerate(value):
            if isinstance(seed, int) and not isinstance(seed, bool) and seed > SEED_MAX:
                raise fail(f"seed {seed} is beyond torch.manual_seed's range (at most 2**64 - 1)", at=f"[{i}]")
    try:
        return handler(value)
    except ValidationError:
        raise fail(f"{rule}, got {shown(value)}") from None


Seeds = Annotated[
    Annotated[int, Field(ge=1, le=MAX_SEEDS)]
    | Annotated[list[Annotated[int, Field(ge=0, le=SEED_MAX)]], Field(min_length=1, max_length=MAX_SEEDS)],
    WrapValidator(_seeds),
    Field(description="a count N (seeds 0..N-1) or a list of seeds"),
]


GuidanceScales = Annotated[
    list[Annotated[float, Field(ge=0, allow_inf_nan=False)]],
    listed("of guidance scales"),
    Field(
        description="scales of each guided method's default guidance strength (its declared `guidance` "
        "hyperparameters, benchmark/guidance.py), one run per scale; a method without guidance (ERM) runs once"
    ),
]
AnnotationSettings = Annotated[
    list[Annotated[dict[str, Any], mapping("of annotation settings (budget, degradation, level)")]],
    listed("of annotation settings"),
    Field(
        description="views of the train split's human maps (benchmark/data/annotation_views.py), one run per "
        "setting for a method that reads maps; {} is the dataset's own maps; a method that reads none runs once"
    ),
]


def _metric_key(value: Any, handler: Callable[[Any], Any]) -> Any:
    split, sep, metric = value.partition("/") if isinstance(value, str) else ("", "", "")
    if not (split.strip() and sep and metric.strip()):
        raise fail(f"must be a metric key SPLIT/METRIC (e.g. test/accuracy), got {shown(value)}")
    return handler(value)


def _metric_keys(value: Any, handler: Callable[[Any], Any]) -> Any:
    return handler([value] if isinstance(value, str) else value)


MetricKey = Annotated[str, WrapValidator(_metric_key)]
MetricKeys = Annotated[
    list[MetricKey],
    listed("of metric keys"),
    WrapValidator(_metric_keys),
    # the JSON Schema says what the validator accepts: a string is made a list of one (``_metric_keys``)
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}],
            "description": "a metric key SPLIT/METRIC or a non-empty list of them",
        }
    ),
]


class Fronts(Block):
    """What ``python -m benchmark fronts STUDY`` draws when no ``--x`` / ``--y`` is given (issue 26)."""

    shape: ClassVar[str] = "a mapping {x: SPLIT/METRIC or [...], y: SPLIT/METRIC or [...]}"
    x: Annotated[
        MetricKeys,
        Field(description="the target metric: a cell uses the first of these its runs define (e.g. test/accuracy)"),
    ] = None
    y: Annotated[
        MetricKeys,
        Field(
            description="alignment metrics, one panel each where a cell defines it (e.g. Rao et al.'s EPG: "
            "test/saliency/cam/energy_pointing)"
        ),
    ] = None


class Curves(Block):
    """What ``python -m benchmark curves STUDY`` draws when no ``--metric`` is given (issue 26)."""

    shape: ClassVar[str] = "a mapping {metrics: SPLIT/METRIC or [...]}"
    metrics: Annotated[
        MetricKeys,
        Field(
            description="the metrics drawn against the annotation levels, one set of curves each (e.g. "
            "test_closed/auc and an alignment metric: test_closed/saliency/cam/energy_pointing)"
        ),
    ] = None


class Grid(RunSettings):
    """One grid of a study: the four axes, the guidance and annotation axes, and run settings (keys here win
    over the study's)."""

    shape: ClassVar[str] = (
        "a mapping of grid keys (methods, archs, datasets, seeds, guidance, annotations, run settings)"
    )
    methods: MethodItems = None
    archs: Items = None
    datasets: Items = None
    seeds: Seeds = None
    guidance: GuidanceScales = None
    annotations: AnnotationSettings = None


Grids = Annotated[list[Grid], listed("of grids")]


def _replacement(value: Any, handler: Callable[[Any], Any]) -> Any:
    if not isinstance(value, (str, Mapping, list)) or (isinstance(value, list) and not value):
        raise fail(
            f"must be an item (a name or {{name, params, grid}}) or a non-empty list of items, got {shown(value)}"
        )
    return handler(value)


def _replace_axis(item: Any) -> Any:
    replacement = Annotated[item | list[item], WrapValidator(_replacement)]
    return Annotated[dict[str, replacement], Field(min_length=1), mapping("NAME -> ITEM or [ITEMS]", non_empty=True)]


class Replace(Block):
    """``{AXIS: {NAME: ITEM or [ITEMS]}}``: every item named NAME, in the study and its grids, becomes the item(s)."""

    shape: ClassVar[str] = "a mapping AXIS -> {NAME: ITEM or [ITEMS]}"
    key_word: ClassVar[str] = "axis"
    methods: _replace_axis(MethodRef) = None  # type: ignore[valid-type]
    archs: _replace_axis(ItemRef) = None  # type: ignore[valid-type]
    datasets: _replace_axis(ItemRef) = None  # type: ignore[valid-type]


class AtProfile(Grid):
    """What a study becomes at one profile (``sweeps.at_profile``)."""

    shape: ClassVar[str] = "a mapping of study keys"
    description: Text = None
    grids: Grids = None
    replace: Replace = None


class Study(Grid):
    """A grid (or a union of grids) of runs: one DVC ``sweep`` stage."""

    shape: ClassVar[str] = "a mapping of study keys"
    description: Text = None
    profile: Name = None
    grids: Grids = None
    at_profile: Annotated[dict[str, AtProfile] | None, mapping("PROFILE -> {study keys}")] = None
    fronts: Annotated[
        Fronts,
        Field(description="the default axes of `python -m benchmark fronts STUDY` (docs/statistics.md §1.22)"),
    ] = None
    curves: Annotated[
        Curves,
        Field(description="the default metrics of `python -m benchmark curves STUDY` (docs/statistics.md §1.21)"),
    ] = None
    extends: Annotated[
        Name,
        Field(
            description="(optional_studies only) a study under `studies:` whose settings and profile blocks this one "
            "takes, training only its own grids: arms the claims read beside that study's (`claims --extended`)"
        ),
    ] = None
    reuse_from: Annotated[
        list[Name] | None,
        listed("of study names"),
        Field(
            description="studies whose current records of the same runs (same run id) this study's sweep copies "
            "instead of retraining (benchmark/records/reuse.py), e.g. a guidance study's scale-1 and ERM runs"
        ),
    ] = None
