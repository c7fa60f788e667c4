"""params.yaml's schema, the building blocks: names, limits and the value types every section uses (numbers with
ranges, choices, texts, mappings, lists), the messages they give, and ``Block`` (every model: ``extra="forbid"``)."""

from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ..registry import did_you_mean

SOURCE = "params.yaml"

# A dataset variant name names a folder under the data root (benchmark.data.names.NAME_PATTERN: the same rule).
NAME_REGEX = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}"
NAME_RULE = "up to 100 letters, digits, '_', '.' and '-', not starting with a dot"
MAX_SEEDS = 10_000  # per grid: more is a typo (a count of 10**9 would expand for hours before failing)
SEED_MAX = 2**64 - 1  # torch.manual_seed accepts [-2**63, 2**64 - 1]; a run seed is non-negative
MAX_DRAWS = 1000
OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "step", "cosine")
PRECISIONS = ("fp32", "bf16", "fp16")
SPLIT_MODES = ("fixed", "per_seed")  # data.resplit.SPLITS (tested equal)
DEVICE_REGEX = r"^(auto|cpu|cuda(:[0-9]+)?|mps)$"
DEVICES = "auto, cpu, cuda, cuda:N, mps"
ATTRIBUTION_NAMES = ("cam", "gradcam", "gradient", "input_x_gradient", "integrated_gradients")
METRICS = ("accuracy", "auc", "loss")
RUN_SETTINGS = (
    "epochs",
    "batch_size",
    "eval_batch_size",
    "optimizer",
    "schedule",
    "evaluation",
    "precision",
    "split",
    "val_curve",
    "steps_per_epoch",
    "deterministic",
)
AXES = ("methods", "archs", "datasets", "seeds")
LEADERBOARD = "leaderboard"
TAG = "~"  # the prefix of a tagged union's tags: they are in pydantic's error locations, never in a key's path


# --------------------------------------------------------------------------- messages
def shown(value: Any, limit: int = 120) -> str:
    """``repr(value)`` cut to ``limit`` characters (a message stays one readable line)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def kind_of(value: Any) -> str:
    return f"{type(value).__name__} {shown(value)}"


def fail(message: str, at: str = "") -> PydanticCustomError:
    """A validation error whose message is the final text (``at``: a key below the failing value's place)."""
    return PydanticCustomError("salbench", message, {"at": at} if at else None)


def _yaml_hint(value: Any) -> str:
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return ""
        return f" (YAML reads {value} as a string: write it with a decimal point, e.g. 1.0e-3 for 1e-3)"
    return ""


def _bounds(ge: float | None, gt: float | None, le: float | None, lt: float | None) -> str:
    parts = [f"{op} {bound:g}" for op, bound in ((">=", ge), (">", gt), ("<=", le), ("<", lt)) if bound is not None]
    return " and ".join(parts)


def number(
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    integer: bool = False,
    description: str | None = None,
) -> Any:
    """An int (``integer``) or a finite float in the given range; one message saying the rule and the value."""
    rule = f"must be {'an integer' if integer else 'a finite number'}"
    if any(b is not None for b in (ge, gt, le, lt)):
        rule += " " + _bounds(ge, gt, le, lt)
    if integer and le == SEED_MAX:
        rule = "must be an integer in [0, 2**64 - 1] (torch.manual_seed's range)"

    def check(value: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise fail(f"{rule}, got {shown(value)}{_yaml_hint(value)}") from None

    constraints: dict[str, Any] = {"ge": ge, "gt": gt, "le": le, "lt": lt, "description": description}
    if not integer:
        constraints["allow_inf_nan"] = False
    field = Field(**{k: v for k, v in constraints.items() if v is not None})
    return Annotated[int if integer else float, field, WrapValidator(check)]


def choice(values: tuple[str, ...], what: str | None = None) -> Any:
    """One of ``values``: ``expected one of [...]`` (or ``unknown WHAT 'x'; known: [...]``)."""

    def check(value: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(value)
        except ValidationError:
            if what:
                raise fail(f"unknown {what} {shown(value)}; known: {list(values)}") from None
            raise fail(f"expected one of {list(values)}, got {shown(value)}") from None

    return Annotated[Literal[values], WrapValidator(check)]  # type: ignore[valid-type]


def text_rule(what: str) -> Callable[[Any, Callable[[Any], Any]], Any]:
    def check(value: Any, handler: Callable[[Any], Any]) -> Any:
        if not isinstance(value, str) or not value.strip():
            raise fail(f"must be {what}, got {kind_of(value)}")
        return handler(value)

    return check


Name = Annotated[str, Field(min_length=1), WrapValidator(text_rule("a non-empty name"))]
Text = Annotated[str, WrapValidator(text_rule("a non-empty text"))]


def _flag(value: Any, handler: Callable[[Any], Any]) -> Any:
    if not isinstance(value, bool):
        raise fail(f"must be true or false, got {kind_of(value)}")
    return handler(value)


Flag = Annotated[bool, WrapValidator(_flag)]


def mapping(what: str, non_empty: bool = False) -> WrapValidator:
    """A mapping (else ``must be a mapping WHAT, got ...``); its entries are validated by the wrapped type."""

    def check(value: Any, handler: Callable[[Any], Any]) -> Any:
        if value is None:
            return handler(value)  # refused there unless the field may be null
        if not isinstance(value, Mapping) or (non_empty and not value):
            raise fail(f"must be a {'non-empty ' if non_empty else ''}mapping {what}, got {kind_of(value)}")
        return handler(value)

    return WrapValidator(check)


def listed(what: str = "") -> WrapValidator:
    """A non-empty list (else ``expected a non-empty list WHAT, got ...``); its items are validated by the wrapped type."""

    def check(value: Any, handler: Callable[[Any], Any]) -> Any:
        if not isinstance(value, list) or not value:
            raise fail(f"expected a non-empty list{' ' + what if what else ''}, got {shown(value)}")
        return handler(value)

    return WrapValidator(check)


# --------------------------------------------------------------------------- the base block
class Block(BaseModel):
    """A mapping with known keys: an unknown key is refused naming it (and the closest known one)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    shape: ClassVar[str] = "a mapping"  # what the block is, for "must be ..., got a list"
    key_word: ClassVar[str] = "key"  # "unknown key 'x'" ("unknown axis 'x'" for replace)

    @classmethod
    def context(cls, data: Mapping[str, Any]) -> str:
        """Appended to an unknown or missing key's message (e.g. `` (schedule 'step')``)."""
        return ""

    @model_validator(mode="before")
    @classmethod
    def _keys(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise fail(f"must be {cls.shape}, got {kind_of(data)}")
        known = list(cls.model_fields)
        for key in data:
            if key not in cls.model_fields:
                raise fail(
                    f"unknown {cls.key_word} {shown(key)}{cls.context(data)}{did_you_mean(str(key), known)}; "
                    f"known: {sorted(known)}"
                )
        for key, info in cls.model_fields.items():
            if info.is_required() and key not in data:
                raise fail(f"missing '{key}'{cls.context(data)}")
        return data
