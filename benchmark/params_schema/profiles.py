"""params.yaml's schema: ``profiles:`` (run settings, device, threads, executors: SLURM and Ray)."""

from collections.abc import Callable
from typing import Annotated, Any, ClassVar

from pydantic import (
    Field,
    ValidationError,
    WrapValidator,
)

from .fields import DEVICE_REGEX, DEVICES, Block, Flag, Name, Text, choice, fail, mapping, number, shown
from .run_settings import PositiveInt, RunSettings

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

    shape: ClassVar[str] = "a mapping {num_cpus: ..., num_gpus: ..., max_retries: ...}"
    num_cpus: number(gt=0) = None  # type: ignore[valid-type]
    num_gpus: number(ge=0) = None  # type: ignore[valid-type]
    max_retries: Annotated[
        number(ge=0, integer=True) | None,  # type: ignore[valid-type]
        Field(description="retries of a run whose worker or node is lost; default 2 with checkpoint: true, else 0"),
    ] = None


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
    checkpoint_every_epochs: Annotated[
        PositiveInt | None,
        Field(
            description="with checkpoint: true, save after every N-th epoch (default 1; null: only by minutes); "
            "never after the last epoch"
        ),
    ] = None
    checkpoint_every_minutes: Annotated[
        number(gt=0) | None,  # type: ignore[valid-type]
        Field(
            description="with checkpoint: true, also save at an epoch's end once M minutes have passed since the last save (default null: off)"
        ),
    ] = None
    threads: Annotated[PositiveInt | None, Field(description="torch CPU threads per run; null: split the cores")] = None
    runs_per_gpu: Annotated[
        PositiveInt | None,
        Field(description="local --jobs auto: workers per visible GPU (default 1); worker i on cuda:{i % GPUs}"),
    ] = None
    data_placement: Annotated[
        choice(("auto", "resident", "stream")) | None,
        Field(
            description="images on the device whole (resident) or streamed batch by batch from the host; auto: "
            "resident while they fit in half the device's free memory (benchmark/runs/placement.py); never in run ids"
        ),
    ] = None
    slurm: Slurm | None = None
    ray: Ray | None = None
