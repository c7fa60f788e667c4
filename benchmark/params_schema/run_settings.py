"""params.yaml's schema: the training settings a profile, a study, a grid or a search may set (optimizer, schedule,
evaluation, precision, split, epochs, batch sizes, val_curve, steps_per_epoch, deterministic)."""

import functools
import operator
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    Discriminator,
    Field,
    Tag,
    ValidationError,
    WrapValidator,
)

from .fields import (
    ATTRIBUTION_NAMES,
    OPTIMIZERS,
    PRECISIONS,
    SCHEDULES,
    SEED_MAX,
    SPLIT_MODES,
    TAG,
    Block,
    Flag,
    Name,
    choice,
    fail,
    kind_of,
    number,
    shown,
)

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
    WrapValidator(lambda v, h: reworded(v, h, "must be two numbers in [0, 1)")),
]


def reworded(value: Any, handler: Callable[[Any], Any], rule: str) -> Any:
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


def union_of(*members: Any) -> Any:
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
    union = union_of(*(Annotated[model, Tag(TAG + name)] for name, model in members.items()))

    def check(value: Any, handler: Callable[[Any], Any]) -> Any:
        if not isinstance(value, Mapping):
            raise fail(f"must be a mapping with a 'name' ({' | '.join(members)}), got {kind_of(value)}")
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
    split: Annotated[
        choice(SPLIT_MODES),  # type: ignore[valid-type]
        Field(
            description="fixed: the built train/val split; per_seed: train/val redrawn per seed, the same for every method"
        ),
    ] = None
    val_curve: Annotated[
        Flag,
        Field(
            description="true: score the val split after every epoch (the record's val_accuracy curve); "
            "false, the default: only after training"
        ),
    ] = None
    steps_per_epoch: Annotated[
        PositiveInt | None,
        Field(
            description="at most N training batches per epoch, the first N of the epoch's order "
            "(null, the default: every batch)"
        ),
    ] = None
    deterministic: Annotated[
        Flag,
        Field(
            description="true, the default: deterministic kernels, cuDNN autotuner off (bitwise on the same card); "
            "false: cudnn.benchmark on, deterministic algorithms off (faster on a GPU, not bitwise)"
        ),
    ] = None
