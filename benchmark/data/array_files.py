"""Where a build puts its arrays: ``.npy`` files written in place, or plain arrays in memory.

A family that builds image by image (``annotated_folder``) asks its sink for each array by split,
key, shape and dtype and fills it row by row. ``ArrayFiles`` hands out ``.npy`` files opened as
writable memory maps (``numpy.lib.format.open_memmap``, the same header ``np.save`` writes, so the
bytes equal a ``np.save`` of the finished array); ``ArraysInMemory`` hands out ``np.empty`` arrays,
for a build that is not saved. Either way the host holds one decoded image plus the arrays at their
target size, never the whole source or a float copy of it.

Digests are computed in chunks (``hashlib.file_digest`` on a file, ``np.save`` into a hashing sink
for an array): constant memory whatever the array's size.
"""

from __future__ import annotations

import hashlib
import mmap
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.format import open_memmap

from ..contracts import Split

# An array file at least this large is memory-mapped read-only on load instead of read into memory.
MMAP_BYTES = 64 * 2**20


class ArraysInMemory:
    """Arrays of a build kept in memory, by split and key (``x``, ``y``, ``saliency``, ``annotated``,
    ``extra.NAME``: the keys of ``Split.arrays``)."""

    def __init__(self) -> None:
        self.arrays: dict[str, dict[str, np.ndarray]] = {}

    def array(self, split: str, key: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """A new writable array to fill."""
        out = self.arrays.setdefault(split, {})[key] = np.empty(shape, dtype=dtype)
        return out

    def put(self, split: str, key: str, value: np.ndarray) -> None:
        """A finished array."""
        self.array(split, key, value.shape, value.dtype)[...] = value

    def settle(self) -> None:
        """Called every few rows by a build that writes in place (nothing to do in memory)."""

    def splits(self) -> dict[str, Split]:
        return {name: Split.from_arrays(arrays) for name, arrays in self.arrays.items()}


class ArrayFiles(ArraysInMemory):
    """Arrays of a build written as ``folder/SPLIT/KEY.npy``, each a writable memory map until
    ``splits`` flushes them and reopens them read-only."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = Path(folder)

    def array(self, split: str, key: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        (self.folder / split).mkdir(exist_ok=True)
        out = open_memmap(self.folder / split / f"{key}.npy", mode="w+", dtype=np.dtype(dtype), shape=shape)
        self.arrays.setdefault(split, {})[key] = out
        return out

    def settle(self) -> None:
        """Flush the written pages to their files and drop them from this process's resident memory
        (``madvise(MADV_DONTNEED)`` on the shared file mapping: the data stays in the file and the page
        cache), so that a build's peak RSS does not grow with the arrays it has written."""
        for arrays in self.arrays.values():
            for value in arrays.values():
                if isinstance(value, np.memmap):
                    value.flush()
                    handle = getattr(value, "_mmap", None)  # numpy's mmap.mmap behind the array
                    if handle is not None and hasattr(mmap, "MADV_DONTNEED"):
                        handle.madvise(mmap.MADV_DONTNEED)

    def splits(self) -> dict[str, Split]:
        """Every array flushed to its file and reopened (``load_array``): the splits as saved."""
        self.settle()
        names = {name: list(arrays) for name, arrays in self.arrays.items()}
        self.arrays.clear()  # drops the writable maps
        return {
            name: Split.from_arrays({key: load_array(self.folder / name / f"{key}.npy") for key in keys})
            for name, keys in names.items()
        }


class _HashSink:
    """A write-only file object that only hashes what ``np.save`` writes into it."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def write(self, data: Any) -> int:
        self.digest.update(data)
        return len(data)


def array_sha256(array: np.ndarray) -> str:
    """sha256 of ``np.save(array)``'s bytes (the ``.npy`` file's), hashed as numpy writes them in chunks."""
    sink = _HashSink()
    np.save(sink, np.ascontiguousarray(array), allow_pickle=False)  # type: ignore[arg-type]
    return sink.digest.hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in chunks."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def load_array(path: Path) -> np.ndarray:
    """A ``.npy`` file (no pickle): memory-mapped read-only when at least ``MMAP_BYTES``, else read."""
    if Path(path).stat().st_size >= MMAP_BYTES:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    return np.load(path, allow_pickle=False)
