"""params.yaml's schema: ``searches:`` (random hyperparameter searches: distributions, criterion, draws)."""

from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar

from pydantic import (
    Field,
    ValidationError,
    WrapValidator,
    field_validator,
    model_validator,
)

from .fields import MAX_DRAWS, METRICS, Block, Name, Text, choice, fail, kind_of, listed, mapping, shown
from .run_settings import RunSettings, reworded
from .studies import Items, Seeds


# --------------------------------------------------------------------------- searches
def _bounds_rule(kind: str) -> Callable[[Any, Callable[[Any], Any]], Any]:
    def check(value: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            low, high = handler(value)
        except (ValidationError, ValueError):
            raise fail(f"expected [low, high] with low < high, got {shown(value)}") from None
        if not low < high:
            raise fail(f"expected [low, high] with low < high, got {shown(value)}")
        if kind == "log_uniform" and low <= 0:
            raise fail(f"bounds must be > 0, got {shown(value)}")
        return [low, high]

    return check


def _int_bounds(value: Any, handler: Callable[[Any], Any]) -> Any:
    if (
        isinstance(value, list)
        and len(value) == 2
        and not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise fail(f"bounds must be integers, got {shown(value)}")
    return _bounds_rule("int_uniform")(value, handler)


FloatPair = Annotated[list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=2, max_length=2)]
IntPair = Annotated[list[int], Field(min_length=2, max_length=2)]


class Distribution(Block):
    """One searched value's distribution: exactly one of its four kinds."""

    shape: ClassVar[str] = (
        "one of {log_uniform: [low, high]}, {uniform: [low, high]}, {int_uniform: [low, high]}, {choice: [...]}"
    )
    log_uniform: Annotated[FloatPair, WrapValidator(_bounds_rule("log_uniform"))] = None
    uniform: Annotated[FloatPair, WrapValidator(_bounds_rule("uniform"))] = None
    int_uniform: Annotated[IntPair, WrapValidator(_int_bounds)] = None
    choice: Annotated[list[Any], listed("of values")] = None

    @model_validator(mode="before")
    @classmethod
    def _one_kind(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and len(data) != 1:
            raise fail(f"expected {cls.shape}, got {shown(data)}")
        return data


def _shared_keys(value: Any, handler: Callable[[Any], Any]) -> Any:
    if value is None:
        return handler(value)
    if not isinstance(value, Mapping):
        raise fail(f"must be a mapping SETTING -> distribution, got {kind_of(value)}")
    for key in value:
        head, _, tail = str(key).partition(".")
        if not (head == "optimizer" and tail) and key != "batch_size":
            raise fail("a searched run setting is optimizer.KEY (e.g. optimizer.lr) or batch_size", at=str(key))
    return handler(value)


class Criterion(Block):
    """A split and a metric: what selects a draw (or, for the oracle, what peeks)."""

    shape: ClassVar[str] = "a mapping {split: SPLIT, metric: METRIC}"
    split: Name = Field()
    metric: choice(METRICS) = Field()  # type: ignore[valid-type]


def _distinct(value: Any, handler: Callable[[Any], Any]) -> Any:
    out = handler(value)
    if len(set(out)) != len(out):
        raise fail(f"a method is listed twice: {shown(value)}")
    return out


class Search(RunSettings):
    """A hyperparameter random search (``sweeps.search``): the same number of draws per method."""

    shape: ClassVar[str] = "a mapping of search keys"
    description: Text = None
    profile: Name = None
    methods: Annotated[
        list[Name], listed("of method names (their hyperparameters are drawn: see space)"), WrapValidator(_distinct)
    ] = Field()
    archs: Items = Field()
    datasets: Items = Field()
    seeds: Seeds = Field()
    draws: Annotated[
        int,
        Field(ge=1, le=MAX_DRAWS),
        WrapValidator(lambda v, h: reworded(v, h, f"expected the number of draws per method, 1..{MAX_DRAWS}")),
    ] = Field()
    space: Annotated[
        dict[str, Annotated[dict[str, Distribution], mapping("hyperparameter -> distribution")]] | None,
        mapping("METHOD -> {hyperparameter: distribution}"),
    ] = None
    shared: Annotated[dict[str, Distribution] | None, WrapValidator(_shared_keys)] = None
    select: Criterion = Field()
    oracle: Criterion = Field()

    @field_validator("select")
    @classmethod
    def _never_a_test_split(cls, value: Criterion) -> Criterion:
        if value.split.startswith("test"):
            raise fail(
                f"model selection never reads a test split ('{value.split}'); select on a validation split of "
                f"the training distribution (val), report the test split as the oracle",
                at="split",
            )
        return value
