"""The schema of ``params.yaml``, defined once: pydantic models of every section, every key and its range.

``check_params_file`` validates a whole params.yaml document (``config.load_params`` calls it on every
load): every block is checked whether or not the command at hand uses it (a ``paper`` profile with
``epochs: -1`` is refused by a quick sweep too). A problem is one ``ContractError`` line naming the
file, the key's path and the value, e.g. ``params.yaml: profiles.quick.epochs: must be an integer
>= 1, got -1``. ``python -m benchmark schema`` prints the models as JSON Schema
(``docs/params.schema.json``), for editors to validate the file as it is typed.

What the file's shape cannot say is checked where the names are resolved, before any compute: a
method, architecture or dataset family name is the registry's (``sweeps.study``, ``config``), a
method's or a dataset's parameters are their declared ``HParam`` s, a study's axes are complete once
its grids are merged, a ``replace`` names an item of the study (``sweeps.at_profile``), a search's
hyperparameters are the method's (``sweeps.search``), and the optimizer and schedule are built once on
a dummy parameter (what torch refuses). The cross-references between sections (a study's profile, its
``at_profile`` profiles, the leaderboard's studies) are ``check_references``.

This module sits below everything but ``contracts`` and ``registry``: the sweeps, the CLI and the
reports read params.yaml through it. Ranges mirror the run layer's own checks (``runs.training``,
``runs.precision``, ``saliency.settings``, ``sweeps.executors``); tests/test_params_schema.py keeps
them in step.
"""

import functools
import operator
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .contracts import ContractError
from .registry import did_you_mean

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
DEVICE_REGEX = r"^(auto|cpu|cuda(:[0-9]+)?|mps)$"
DEVICES = "auto, cpu, cuda, cuda:N, mps"
ATTRIBUTION_NAMES = ("cam", "gradcam", "gradient", "input_x_gradient", "integrated_gradients")
METRICS = ("accuracy", "auc", "loss")
RUN_SETTINGS = ("epochs", "batch_size", "eval_batch_size", "optimizer", "schedule", "evaluation", "precision")
AXES = ("methods", "archs", "datasets", "seeds")
LEADERBOARD = "leaderboard"
TAG = "~"  # the prefix of a tagged union's tags: they are in pydantic's error locations, never in a key's path


# --------------------------------------------------------------------------- messages
def shown(value: Any, limit: int = 120) -> str:
    """``repr(value)`` cut to ``limit`` characters (a message stays one readable line)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(value: Any) -> str:
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


def _text_rule(what: str) -> Callable[[Any, Callable[[Any], Any]], Any]:
    def check(value: Any, handler: Callable[[Any], Any]) -> Any:
        if not isinstance(value, str) or not value.strip():
            raise fail(f"must be {what}, got {_kind(value)}")
        return handler(value)

    return check


Name = Annotated[str, Field(min_length=1), WrapValidator(_text_rule("a non-empty name"))]
Text = Annotated[str, WrapValidator(_text_rule("a non-empty text"))]


def _flag(value: Any, handler: Callable[[Any], Any]) -> Any:
    if not isinstance(value, bool):
        raise fail(f"must be true or false, got {_kind(value)}")
    return handler(value)


Flag = Annotated[bool, WrapValidator(_flag)]


def mapping(what: str, non_empty: bool = False) -> WrapValidator:
    """A mapping (else ``must be a mapping WHAT, got ...``); its entries are validated by the wrapped type."""

    def check(value: Any, handler: Callable[[Any], Any]) -> Any:
        if value is None:
            return handler(value)  # refused there unless the field may be null
        if not isinstance(value, Mapping) or (non_empty and not value):
            raise fail(f"must be a {'non-empty ' if non_empty else ''}mapping {what}, got {_kind(value)}")
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
            raise fail(f"must be {cls.shape}, got {_kind(data)}")
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


# --------------------------------------------------------------------------- run settings
PositiveInt = number(ge=1, integer=True)
Epochs = number(ge=1, integer=True, description="training epochs")
BatchSize = number(ge=1, integer=True, description="training batch size")


class _Optimizer(Block):
    shape: ClassVar[str] = "a mapping {name: adam | adamw | sgd, lr: ..., ...}"
    lr: number(gt=0, description="learning rate") = None  # type: ignore[valid-type]
    weight_decay: number(ge=0) = None  # type: ignore[valid-type]

    @classmethod
    def context(cls, data: Mapping[str, Any]) -> str:
        return f" (optimizer {shown(data.get('name', 'adam'))})"


Betas = Annotated[
    list[number(ge=0, lt=1)],  # type: ignore[misc]
    Field(min_length=2, max_length=2),
    WrapValidator(lambda v, h: _reworded(v, h, "must be two numbers in [0, 1)")),
]


def _reworded(value: Any, handler: Callable[[Any], Any], rule: str) -> Any:
    try:
        return handler(value)
    except ValidationError:
        raise fail(f"{rule}, got {shown(value)}") from None


class Adam(_Optimizer):
    """torch.optim.Adam (``name`` may be left out: adam is the default)."""

    name: Literal["adam"] = "adam"
    betas: Betas = None
    eps: number(gt=0) = None  # type: ignore[valid-type]
    amsgrad: Flag = None


class AdamW(Adam):
    """torch.optim.AdamW."""

    name: Literal["adamw"]  # type: ignore[assignment]


class SGD(_Optimizer):
    """torch.optim.SGD."""

    name: Literal["sgd"]
    momentum: number(ge=0, lt=1) = None  # type: ignore[valid-type]  # momentum 1 never forgets
    dampening: number(ge=0, le=1) = None  # type: ignore[valid-type]
    nesterov: Flag = None


class _Schedule(Block):
    shape: ClassVar[str] = "a mapping {name: constant | step | cosine, ...}"

    @classmethod
    def context(cls, data: Mapping[str, Any]) -> str:
        return f" (schedule {shown(data.get('name', 'constant'))})"


class Constant(_Schedule):
    """A constant learning rate (``name`` may be left out: constant is the default)."""

    name: Literal["constant"] = "constant"


class Step(_Schedule):
    """torch.optim.lr_scheduler.StepLR, stepped per epoch: a step schedule needs ``step_size``."""

    name: Literal["step"]
    step_size: number(ge=1, integer=True, description="epochs between two decays") = Field()  # type: ignore[valid-type]
    gamma: number(gt=0, description="the decay factor (torch's default 0.1)") = None  # type: ignore[valid-type]


class Cosine(_Schedule):
    """torch.optim.lr_scheduler.CosineAnnealingLR over the run's epochs."""

    name: Literal["cosine"]
    eta_min: number(ge=0) = None  # type: ignore[valid-type]


def _union(*members: Any) -> Any:
    """``A | B | ...`` of types built at run time."""
    return functools.reduce(operator.or_, members)


def _tagged(default: str) -> Callable[[Any], str | None]:
    """The tag of a ``{name: ...}`` mapping (``default`` when it has no name); None for anything else."""

    def tag(value: Any) -> str | None:
        if isinstance(value, Mapping):
            name = value.get("name", default)
            return TAG + name if isinstance(name, str) else TAG + "?"
        return None

    return tag


def _named_union(default: str, what: str, members: dict[str, type[Block]]) -> Any:
    union = _union(*(Annotated[model, Tag(TAG + name)] for name, model in members.items()))

    def check(value: Any, handler: Callable[[Any], Any]) -> Any:
        if not isinstance(value, Mapping):
            raise fail(f"must be a mapping with a 'name' ({' | '.join(members)}), got {_kind(value)}")
        name = value.get("name", default)
        if name not in members:
            raise fail(f"unknown {what} {shown(name)}; known: {list(members)}", at="name")
        return handler(value)

    return Annotated[union, Discriminator(_tagged(default)), WrapValidator(check)]


Optimizer = _named_union("adam", "optimizer", dict(zip(OPTIMIZERS, (Adam, AdamW, SGD), strict=True)))
Schedule = _named_union("constant", "schedule", dict(zip(SCHEDULES, (Constant, Step, Cosine), strict=True)))


def _names_list(allowed: tuple[str, ...] | None) -> Any:
    """A non-empty list of names, or a comma-separated string of them (as ``--eval`` takes them)."""
    item: Any = choice(allowed) if allowed else Name

    def split(value: Any, handler: Callable[[Any], Any]) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not value:
            raise fail(f"must be a non-empty list of names, got {shown(value)}")
        return handler(value)

    return Annotated[list[item], WrapValidator(split)]


class Evaluation(Block):
    """The saliency evaluation after training (``saliency.settings.EVALUATION_PARAMS``; a study's keys
    refine its profile's)."""

    shape: ClassVar[str] = "a mapping of evaluation settings (enabled, attributions, probe_size, ...)"
    enabled: Flag = None
    attributions: _names_list(ATTRIBUTION_NAMES) = None  # type: ignore[valid-type]
    splits: _names_list(None) = None  # type: ignore[valid-type]
    probe_size: PositiveInt = None
    target: choice(("label", "predicted")) = None  # type: ignore[valid-type]
    ig_steps: PositiveInt = None
    ig_baseline: choice(("zeros", "mean")) = None  # type: ignore[valid-type]
    mask_levels: PositiveInt = None
    mask_power: number(ge=1, le=4) = None  # type: ignore[valid-type]
    mask_fill: choice(("mean", "random")) = None  # type: ignore[valid-type]
    annotation_threshold: number(gt=0, le=1) = None  # type: ignore[valid-type]
    wrong_reason_keys: _names_list(None) = None  # type: ignore[valid-type]
    sanity: Flag = None
    sanity_seed: number(ge=0, le=SEED_MAX, integer=True) = None  # type: ignore[valid-type]
    sanity_images: PositiveInt = None
    sanity_max_stages: PositiveInt = None
    sanity_threshold: number(ge=-1, le=1) = None  # type: ignore[valid-type]


def _precision(value: Any, handler: Callable[[Any], Any]) -> Any:
    try:
        return handler(value)
    except ValidationError:  # runs.precision's words
        raise fail(f"precision {shown(value)} unknown; valid precisions: {', '.join(PRECISIONS)}") from None


Precision = Annotated[Literal[PRECISIONS], WrapValidator(_precision)]  # type: ignore[valid-type]


class RunSettings(Block):
    """The run settings a profile, a study, a grid or a search may set (the most specific wins)."""

    epochs: Epochs = None
    batch_size: BatchSize = None
    eval_batch_size: PositiveInt = None
    optimizer: Optimizer = None
    schedule: Schedule = None
    evaluation: Annotated[Evaluation | None, Field(description="null: the defaults")] = None
    precision: Precision = None


# --------------------------------------------------------------------------- profiles
SLURM_KEYS = (
    "time_min",
    "partition",
    "gres",
    "cpus_per_task",
    "mem_gb",
    "gpus_per_node",
    "array_parallelism",
    "account",
    "qos",
    "constraint",
    "additional",
    "runs_per_job",
    "poll_seconds",
)


class Slurm(Block):
    """submitit's job array settings (``sweeps.executors.SlurmExecutor``)."""

    shape: ClassVar[str] = "a mapping of SLURM settings (time_min, partition, gres, ...)"
    time_min: PositiveInt = None
    partition: Name = None
    gres: Name = None
    cpus_per_task: PositiveInt = None
    mem_gb: number(gt=0) = None  # type: ignore[valid-type]
    gpus_per_node: number(ge=0, integer=True) = None  # type: ignore[valid-type]
    array_parallelism: PositiveInt = None
    account: Name = None
    qos: Name = None
    constraint: Name = None
    additional: Annotated[dict[str, Any], mapping("of extra sbatch parameters")] = None
    runs_per_job: PositiveInt = None
    poll_seconds: number(gt=0) = None  # type: ignore[valid-type]


class Ray(Block):
    """Ray resources per run (``sweeps.executors.RayExecutor``)."""

    shape: ClassVar[str] = "a mapping {num_cpus: ..., num_gpus: ...}"
    num_cpus: number(gt=0) = None  # type: ignore[valid-type]
    num_gpus: number(ge=0) = None  # type: ignore[valid-type]


def _device(value: Any, handler: Callable[[Any], Any]) -> Any:
    try:
        return handler(value)
    except ValidationError:
        raise fail(f"device {shown(value)} unknown; valid devices: {DEVICES}") from None


Device = Annotated[str, Field(pattern=DEVICE_REGEX), WrapValidator(_device)]


class Profile(RunSettings):
    """Training settings plus where runs execute. A training setting a profile leaves out is quick's."""

    shape: ClassVar[str] = "a mapping of profile settings (epochs, batch_size, optimizer, ...)"
    description: Text = None
    device: Device = None
    checkpoint: Flag = None
    threads: Annotated[PositiveInt | None, Field(description="torch CPU threads per run; null: split the cores")] = None
    slurm: Slurm | None = None
    ray: Ray | None = None


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
        _union(*members),
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


class Grid(RunSettings):
    """One grid of a study: the four axes and run settings (keys here win over the study's)."""

    shape: ClassVar[str] = "a mapping of grid keys (methods, archs, datasets, seeds, run settings)"
    methods: MethodItems = None
    archs: Items = None
    datasets: Items = None
    seeds: Seeds = None


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
        raise fail(f"must be a mapping SETTING -> distribution, got {_kind(value)}")
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
        WrapValidator(lambda v, h: _reworded(v, h, f"expected the number of draws per method, 1..{MAX_DRAWS}")),
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
    family: Annotated[str, WrapValidator(_text_rule("a dataset family name, e.g. family: annotated_folder"))] = Field()
    params: Annotated[dict[str, Any] | None, mapping("of dataset parameters")] = None


Variants = Annotated[dict[VariantName, Variant], mapping("NAME -> {family: ..., params: {...}}")]


def _leaderboard(value: Any, handler: Callable[[Any], Any]) -> Any:
    if value is not None and (not isinstance(value, list) or not value or not all(isinstance(n, str) for n in value)):
        raise fail(f"expected a list of study names, got {shown(value)}")
    return handler(value)


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
    studies: Annotated[dict[str, Study] | None, _section("studies")] = None
    optional_studies: Annotated[dict[str, Study] | None, _section("studies")] = None
    searches: Annotated[dict[str, Search] | None, _section("searches")] = None


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
        return f"must be a mapping, got {_kind(value)}"
    if kind in ("list_type", "too_short"):
        return f"expected a non-empty list, got {shown(value)}"
    if kind == "string_type":
        return f"must be a string, got {_kind(value)}"
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


# --------------------------------------------------------------------------- the whole file
def check_params_file(data: Mapping[str, Any], source: str = SOURCE) -> ParamsFile:
    """A params.yaml document checked whole: every section, every block (``ParamsFile``), then the names
    one section gives another (``check_references``). Raises one ``ContractError`` line."""
    model = validated(ParamsFile, data, source)
    check_references(data, source)
    return model


def check_references(data: Mapping[str, Any], source: str = SOURCE) -> None:
    """The names one section takes from another: a study's ``profile`` and ``at_profile`` profiles and a
    search's ``profile`` are under ``profiles:``; ``leaderboard:`` lists studies."""
    profiles = sorted(map(str, data.get("profiles") or {}))

    def profile_of(where: str, name: Any) -> None:
        if name not in profiles:
            raise ContractError(
                f"{source}: {where}: unknown profile {shown(name)}{did_you_mean(str(name), profiles)}; "
                f"profiles in {source}: {profiles}"
            )

    for section in ("studies", "optional_studies"):
        for name, study in (data.get(section) or {}).items():
            if study.get("profile") is not None:
                profile_of(f"{section}.{name}.profile", study["profile"])
            for profile in study.get("at_profile") or {}:
                profile_of(f"{section}.{name}.at_profile", profile)
    for name, search in (data.get("searches") or {}).items():
        if search.get("profile") is not None:
            profile_of(f"searches.{name}.profile", search["profile"])
    if data.get(LEADERBOARD) is not None:
        leaderboard_studies(data, source)


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
        "$comment": "generated by `python -m benchmark schema` from benchmark/params_schema.py; do not edit",
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
