"""The contracts every plug-in meets: the one place they are defined.

Data flow: a ``Dataset`` family builds named ``Split`` arrays; the training loop cuts them
into ``Batch`` es; a ``Network`` maps a batch to ``NetOutput``; a ``Method`` maps
(network, batch, state) to (loss, scalars); a ``RunConfig`` names one run and a run
record (``benchmark.records.schema``) stores what it produced.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

import torch
from torch import Tensor, nn

from .costs import COST_UNITS, NOMINAL_FORWARDS, Cost  # noqa: F401 - part of the contracts
from .errors import ContractError
from .guidance import Guidance  # noqa: F401 - part of the contracts
from .hparams import HParam, resolve_hparams  # noqa: F401 - part of the contracts
from .splits import DatasetBundle, Split  # noqa: F401 - part of the contracts


# --------------------------------------------------------------------------- batches
@dataclass(frozen=True)
class Batch:
    """One minibatch, resident on the run's device.

    x: images (B,C,H,W) float in [0,1]; y: labels (B,) int64;
    saliency: human / ground-truth saliency (B,1,H,W) in [0,1], or None when the dataset
    has none or the method does not declare ``needs_annotations`` (the training loop hands
    annotations to no other method: ``runs.run.training_split``); annotated: (B,) bool, which samples carry a real annotation (annotation may
    cover only part of a training set; unannotated rows of ``saliency`` are zeros).
    annotated_index: (n,) int64 on the device, the positions of the annotated rows in order,
    and n_annotated: their count n as a Python int, so that a method selects the annotated
    rows (``index_select``) and branches on their count without a host-device sync
    (a boolean mask ``x[annotated]`` is a ``nonzero``, which waits for the device).
    ``DeviceSplit.batches`` computes both on the host from the split's CPU flags; given
    neither, they are derived here (from ``annotated`` with one ``nonzero``: a sync when the
    batch is built, outside the training step; none when ``annotated`` is not given either).
    wrong_reason: (B,1,H,W) float 0/1, the dataset's wrong-reason mask (the pixels that must
    not matter: decoy digits' ``extra.decoy``, toy faces' ``extra.cue_mask``), or None. It
    is there only for a method whose ``needs_wrong_reason`` is True (``runs.run`` loads it
    for no other), so that no other method can read it.
    """

    x: Tensor
    y: Tensor
    saliency: Tensor | None = None
    annotated: Tensor | None = None
    annotated_index: Tensor | None = None
    n_annotated: int | None = None
    wrong_reason: Tensor | None = None

    def __post_init__(self) -> None:
        n, device = int(self.y.shape[0]), self.y.device
        if self.wrong_reason is not None and (
            self.wrong_reason.dim() != 4 or self.wrong_reason.shape[0] != n or self.wrong_reason.shape[1] != 1
        ):
            raise ContractError(
                f"Batch: wrong_reason must be (B,1,H,W) with B={n}, got {tuple(self.wrong_reason.shape)}"
            )
        annotated = self.annotated
        if annotated is None:
            flag = self.saliency is not None
            annotated = torch.full((n,), flag, dtype=torch.bool, device=device)
            object.__setattr__(self, "annotated", annotated)
            if self.annotated_index is None and self.n_annotated is None:
                object.__setattr__(self, "annotated_index", torch.arange(n if flag else 0, device=device))
        index = self.annotated_index
        if index is None:
            index = annotated.nonzero().flatten()
            object.__setattr__(self, "annotated_index", index)
        if self.n_annotated is None:
            object.__setattr__(self, "n_annotated", int(index.shape[0]))
        if self.n_annotated != index.shape[0]:
            raise ContractError(f"Batch: n_annotated {self.n_annotated} != {index.shape[0]} annotated positions")

    @property
    def size(self) -> int:
        return int(self.y.shape[0])

    @property
    def all_annotated(self) -> bool:
        """Every row is annotated (known on the host: no sync)."""
        return self.n_annotated == self.size

    @property
    def any_annotated(self) -> bool:
        """Some row is annotated and the batch has saliency (known on the host: no sync)."""
        return self.saliency is not None and cast(int, self.n_annotated) > 0  # an int after __post_init__

    def annotated_rows(self, tensor: Tensor) -> Tensor:
        """The rows of ``tensor`` (B,...) that are annotated, in order (``tensor`` itself when all are);
        without a sync, unlike ``tensor[annotated]``."""
        return tensor if self.all_annotated else tensor.index_select(0, cast(Tensor, self.annotated_index))


# --------------------------------------------------------------------------- networks
@dataclass(frozen=True)
class NetOutput:
    """What every architecture returns.

    logits (B,K); embedding (B,D): pooled penultimate features (SAGE's latent space);
    feature_map (B,D',h,w): the last spatial map that feeds the pooling (CAM / Grad-CAM).
    """

    logits: Tensor
    embedding: Tensor
    feature_map: Tensor


class Network(nn.Module):
    """Base class of every architecture wrapper.

    Subclasses implement ``forward(x) -> NetOutput`` and ``classifier_weight`` and set
    ``exact_cam``: True when the head is global-average-pool -> linear on ``feature_map``
    (then the class activation map is exact, Zhou et al. CVPR 2016, Eq. 2), False when it
    is not (then ``cam`` is Grad-CAM, Selvaraju et al. ICCV 2017, Eq. 1-2).
    """

    exact_cam: ClassVar[bool] = True
    params: ClassVar[dict[str, HParam]]  # declared by every registered architecture (no default here)
    num_classes: int

    @property
    def classifier_weight(self) -> Tensor:  # (K, D')
        raise NotImplementedError

    def cam(self, out: NetOutput, target: Tensor) -> Tensor:
        """Differentiable class activation map (B,h,w) of class ``target`` (B,), unrectified.

        Exact CAM: sum_k w[c,k] * A_k.  Grad-CAM: sum_k mean_ij(d y_c / d A_k) * A_k,
        built with ``create_graph=True`` so a loss on it trains the network. Consumers apply
        their own ReLU / normalization. For a GAP->linear head Grad-CAM = CAM / (h*w).
        """
        fmap = out.feature_map
        if self.exact_cam:
            weights = self.classifier_weight[target]  # (B, D')
        else:
            score = out.logits.gather(1, target[:, None]).sum()
            grads = torch.autograd.grad(score, fmap, create_graph=True)[0]
            weights = grads.mean(dim=(2, 3))
        return torch.einsum("bkhw,bk->bhw", fmap, weights)


# --------------------------------------------------------------------------- methods
@dataclass
class TrainState:
    """What a method may read (and SMOOT may adapt) during training."""

    epoch: int
    step: int
    epochs: int
    device: torch.device
    generator: torch.Generator  # the method's own random stream (masking noise, ...)
    history: list[dict[str, float]] = field(default_factory=list)  # per-epoch curves so far


DOI_PATTERN = re.compile(r"^(?:doi:|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
URL_PATTERN = re.compile(r"^https?://[^\s/]+\.[^\s/]+(?:/\S*)?$")


def paper_link(url: str) -> str | None:
    """The web address of a method's paper: ``url`` itself when it is an http(s) address, a DOI
    (``10.1145/3555590``, ``doi:10.1145/...``) as ``https://doi.org/10...``; None when it is neither."""
    text = str(url or "").strip()
    doi = DOI_PATTERN.match(text)
    if doi:
        return f"https://doi.org/{doi.group(1)}"
    return text if URL_PATTERN.match(text) else None


class Method:
    """Base class of a training method (a loss over a batch).

    Subclasses declare ``name``, ``citation``, ``url`` (the paper: an http(s) address or a DOI,
    ``paper_link``), ``hparams``, ``cost``, ``needs_annotations`` and ``guidance`` (the hyperparameter(s)
    weighing the guidance term, ``benchmark.guidance``; None for a method without one, as ERM) on the class
    and implement ``loss``. The training loop owns ``backward`` and the optimizer step. Hyperparameters
    become attributes.
    """

    name: ClassVar[str] = ""
    citation: ClassVar[str] = ""
    url: ClassVar[str] = ""
    needs_annotations: ClassVar[bool] = False
    cost: ClassVar[Cost] = Cost(forward=1, backward=1)
    hparams: ClassVar[dict[str, HParam]] = {}
    guidance: ClassVar[Guidance | None] = None

    def __init__(self, **overrides: Any) -> None:
        self.config = resolve_hparams(self.hparams, overrides, owner=f"method '{self.name}'")
        for key, value in self.config.items():
            setattr(self, key, value)

    @property
    def needs_wrong_reason(self) -> bool:
        """True when ``loss`` reads ``Batch.wrong_reason`` (the dataset's wrong-reason mask); an instance
        property, since it may depend on a hyperparameter (RRR's ``annotation``). Only then does a run
        load the mask (``runs.run.wrong_reason_source``; a dataset without one is refused before training)."""
        return False

    def loss(self, net: Network, batch: Batch, state: TrainState) -> tuple[Tensor, dict[str, Tensor | float]]:
        raise NotImplementedError

    def on_epoch_end(self, state: TrainState) -> dict[str, float]:
        """Called after every epoch; returns scalars to log in the per-epoch curves."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """Mutable method state to checkpoint (SMOOT's controller); JSON-serializable."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        pass


# --------------------------------------------------------------------------- datasets
class Dataset:
    """Base class of a dataset family: declared construction parameters and ``build``.

    ``build(params, rng)`` returns a ``DatasetBundle`` with at least the splits ``train``,
    ``val`` and one test split; it must be deterministic given ``params`` (use ``rng``).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    params: ClassVar[dict[str, HParam]] = {}

    def resolve(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        return resolve_hparams(self.params, overrides, owner=f"dataset '{self.name}'")

    def build(self, params: Mapping[str, Any]) -> DatasetBundle:
        raise NotImplementedError


# --------------------------------------------------------------------------- runs
@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """Everything that identifies one run (``benchmark.records.identity`` hashes it to the run id).

    The training settings (``epochs``, ``batch_size``, ``optimizer``, ``schedule``) have no
    defaults here: their one home is the ``quick`` profile in params.yaml (``run`` and
    ``sweep`` read them from a profile). The device is not part of the identity (a record
    says where it ran). ``evaluation`` holds the saliency-evaluation settings, resolved with
    defaults like hyperparameters. ``precision`` is the training step's autocast dtype (part of
    the identity: a bf16 run is another run; fp32, the default, leaves ids as they were); ``split``
    likewise (per_seed redraws the train/val partition per seed; fixed, the default, keeps ids), and
    ``numerics`` (the CPU kernels of the process, ``benchmark.numerics.mode``: a native run is another run).
    ``val_curve`` scores the val split after every epoch (the record's ``val_accuracy`` curve); it
    never changes the training, but the record differs, so it is part of the identity like precision
    (false, the default, keeps ids). ``steps_per_epoch`` caps the training batches of every epoch (the first
    N of the epoch's order; null, the default, trains on every batch and keeps ids). ``deterministic``
    (true, the default, keeps ids) runs deterministic kernels with cuDNN's autotuner off; false turns
    ``torch.backends.cudnn.benchmark`` on and deterministic algorithms off (faster on a GPU, not bitwise:
    ``benchmark.seeding.enable_determinism``), another run. ``annotations`` is the view of the train split's
    human maps the run trains with (a budget of annotated rows, a degradation of the maps:
    ``benchmark.data.annotation_views``; {} or the defaults, the dataset's own maps, keep ids).
    """

    method: str
    dataset: str
    arch: str
    seed: int = 0
    epochs: int
    batch_size: int
    method_params: dict[str, Any] = field(default_factory=dict)
    dataset_params: dict[str, Any] = field(default_factory=dict)
    arch_params: dict[str, Any] = field(default_factory=dict)
    optimizer: dict[str, Any]
    schedule: dict[str, Any]
    eval_batch_size: int = 512
    evaluation: dict[str, Any] = field(
        default_factory=dict
    )  # saliency evaluation settings (benchmark.saliency.settings)
    precision: str = "fp32"  # training-step autocast: fp32 | bf16 | fp16 (benchmark.runs.precision)
    split: str = "fixed"  # fixed: the built train/val split; per_seed: redrawn per seed (benchmark.data.resplit)
    numerics: str = "portable"  # CPU kernels: portable (pinned, any AVX2 x86) | native (benchmark.numerics)
    val_curve: bool = False  # per-epoch val accuracy in the curves (benchmark.runs.training.train)
    steps_per_epoch: int | None = None  # at most N training batches per epoch; None: every batch
    deterministic: bool = True  # deterministic kernels, no cuDNN autotuning (benchmark.seeding)
    annotations: dict[str, Any] = field(default_factory=dict)  # the train maps' budget/quality (data.annotation_views)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunConfig:
        """A config from its JSON form; unknown, missing or mistyped fields raise naming them."""
        if not isinstance(data, Mapping):
            raise ContractError(f"run config: expected a mapping, got {type(data).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ContractError(f"run config: unknown field(s) {unknown}; known: {sorted(fields)}")
        missing = sorted(
            name
            for name, f in fields.items()
            if name not in data and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        )
        if missing:
            raise ContractError(f"run config: missing field(s) {missing}")
        for name, value in data.items():
            want = CONFIG_TYPES[name]
            if value is None and name in NULLABLE_FIELDS:
                continue
            if not isinstance(value, want) or (want is int and isinstance(value, bool)):
                nullable = " or null" if name in NULLABLE_FIELDS else ""
                raise ContractError(f"run config: field '{name}' must be {want.__name__}{nullable}, got {value!r}")
        return cls(**dict(data))


CONFIG_TYPES: dict[str, type] = {
    "method": str,
    "dataset": str,
    "arch": str,
    "seed": int,
    "epochs": int,
    "batch_size": int,
    "method_params": dict,
    "dataset_params": dict,
    "arch_params": dict,
    "optimizer": dict,
    "schedule": dict,
    "eval_batch_size": int,
    "evaluation": dict,
    "precision": str,
    "split": str,
    "numerics": str,
    "val_curve": bool,
    "steps_per_epoch": int,
    "deterministic": bool,
    "annotations": dict,
}
NULLABLE_FIELDS = frozenset({"steps_per_epoch"})  # fields whose JSON value may be null
