"""A built dataset as arrays: named ``Split`` s of one ``DatasetBundle`` (part of the contracts,
``benchmark.contracts`` re-exports both).

A ``Dataset`` family (``contracts.Dataset``) builds a bundle; the store (``benchmark.data.dataset_store``)
saves and memory-maps its arrays; a run copies the splits to its device (``benchmark.runs.device_data``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from .errors import ContractError


@dataclass
class Split:
    """One named split as arrays: x uint8 (N,C,H,W); y int64 (N,); annotated bool (N,) or None;
    saliency float32 (A,1,H,W) in [0,1] or None: the maps of the annotated rows only, in row order
    (A = annotated.sum(), so an unannotated row carries no map: a 7x set of mostly unannotated images
    stores and moves only its few maps); extras: further per-sample arrays (decoy masks, generator ids),
    first axis N. A dense (N,1,H,W) ``saliency`` given with ``annotated`` is compacted on construction
    (the unannotated rows' maps dropped); without ``annotated`` every row is annotated.
    ``map_index`` maps rows to maps, ``dense_saliency`` expands the maps of chosen rows."""

    x: np.ndarray
    y: np.ndarray
    saliency: np.ndarray | None = None
    annotated: np.ndarray | None = None
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.y)
        if self.x.ndim != 4 or self.x.shape[0] != n:
            raise ContractError(f"split images must be (N,C,H,W) with N={n}, got {self.x.shape}")
        if self.x.dtype != np.uint8:
            raise ContractError(f"split images must be uint8, got {self.x.dtype}")
        if self.saliency is not None:
            if self.annotated is None:
                self.annotated = np.ones(n, dtype=bool)
            if self.annotated.shape != (n,):
                raise ContractError(f"annotated must have shape ({n},), got {self.annotated.shape}")
            count = int(self.annotated.sum())
            if self.saliency.shape[0] == n and count != n:
                self.saliency = self.saliency[self.annotated.astype(bool)]  # dense given: keep the annotated rows' maps
            want = (count, 1, *self.x.shape[2:])
            if self.saliency.shape != want:
                raise ContractError(
                    f"saliency must have shape {want} (one map per annotated row) or {(n, *want[1:])}, "
                    f"got {self.saliency.shape}"
                )
        for key, arr in self.extras.items():
            if arr.shape[0] != n:
                raise ContractError(f"extra '{key}' has {arr.shape[0]} rows, split has {n}")

    def __len__(self) -> int:
        return len(self.y)

    def map_index(self) -> np.ndarray:
        """Per row, the position of its map in ``saliency`` (int64 (N,)), -1 for an unannotated row."""
        if self.annotated is None:
            return np.full(len(self), -1, dtype=np.int64)
        flags = self.annotated.astype(bool)
        return np.where(flags, np.cumsum(flags) - 1, -1).astype(np.int64)

    def dense_saliency(self, rows: np.ndarray | None = None) -> np.ndarray | None:
        """The maps of ``rows`` (default: every row) as float32 (len(rows),1,H,W), zero for an
        unannotated row; None without annotations."""
        if self.saliency is None:
            return None
        index = self.map_index() if rows is None else self.map_index()[rows]
        out = np.zeros((len(index), *self.saliency.shape[1:]), dtype=np.float32)
        out[index >= 0] = self.saliency[index[index >= 0]]
        return out

    def take(self, rows: np.ndarray) -> Split:
        """The split of rows ``rows`` (int indices, any order): every per-row array and the maps follow their rows."""
        rows = np.asarray(rows, dtype=np.int64)
        saliency = None
        if self.saliency is not None:
            index = self.map_index()[rows]
            saliency = self.saliency[index[index >= 0]]
        return Split(
            x=self.x[rows],
            y=self.y[rows],
            saliency=saliency,
            annotated=None if self.annotated is None else self.annotated[rows],
            extras={key: value[rows] for key, value in self.extras.items()},
        )

    @classmethod
    def concat(cls, first: Split, second: Split) -> Split:
        """The rows of ``first`` then those of ``second`` (they must hold the same arrays)."""
        a, b = first.arrays(), second.arrays()
        if sorted(a) != sorted(b):
            raise ContractError(f"cannot join splits holding different arrays: {sorted(a)} and {sorted(b)}")
        return cls.from_arrays({key: np.concatenate([a[key], b[key]]) for key in a})

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"x": self.x, "y": self.y}
        if self.saliency is not None:
            out["saliency"] = self.saliency
            out["annotated"] = cast(np.ndarray, self.annotated)  # set with the saliency by __post_init__
        out.update({f"extra.{k}": v for k, v in self.extras.items()})
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Split:
        extras = {k[len("extra.") :]: v for k, v in arrays.items() if k.startswith("extra.")}
        return cls(
            x=arrays["x"],
            y=arrays["y"],
            saliency=arrays.get("saliency"),
            annotated=arrays.get("annotated"),
            extras=extras,
        )


@dataclass
class DatasetBundle:
    """A built dataset: named splits, class names and its manifest (sizes, checksums, parameters)."""

    splits: dict[str, Split]
    classes: list[str]
    manifest: dict[str, Any]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def has_saliency(self) -> bool:
        train = self.splits["train"]
        return train.saliency is not None and bool(cast(np.ndarray, train.annotated).any())

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.splits["train"].x.shape[1:])
