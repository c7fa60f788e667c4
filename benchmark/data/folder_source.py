"""The fingerprints of an annotated folder's source (the CSV and every file it references), recorded in
a build's manifest so that ``dataset_store.find`` serves the build only while the folder is unchanged:
``folder_checksum`` hashes the files' bytes, ``folder_stat`` their paths, sizes and mtimes (git's index
entry: cheap, checked first; the checksum decides when the stats differ)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..contracts import ContractError
from ..paths import project_root
from .folder_validation import csv_path_of, inside, read_rows


def folder_root(raw: str) -> Path:
    """An annotated folder's ``root`` parameter as a path: ``~`` expanded, and a relative root taken
    relative to the project (the folder of params.yaml, where it is written), not to the working
    directory of whichever command reads it."""
    root = Path(str(raw)).expanduser()
    return root if root.is_absolute() else project_root() / root


def source_files(root: Path, csv_name: str) -> list[tuple[str, Path]]:
    """(path relative to ROOT, resolved path) of the CSV and of every file it references (images and
    maps, in CSV order); a ``ContractError`` when the CSV is unreadable or a path leaves ROOT."""
    root = Path(root).expanduser()
    csv_path = csv_path_of(root, csv_name)
    base = root.resolve()
    files = [(csv_path.relative_to(base).as_posix(), csv_path)]
    for row in read_rows(csv_path):
        for relative in (row.image, row.annotation):
            if relative:
                path = inside(root, relative)
                if path is None:
                    raise ContractError(f"{csv_path}: line {row.line}: {relative!r} escapes the root {root}")
                files.append((path.relative_to(base).as_posix(), path))
    return files


def folder_checksum(root: Path, csv_name: str) -> str | None:
    """The source checksum of an annotated folder: sha256 over the CSV's bytes and, for every path
    it references (images and maps, in CSV order), the path relative to ROOT and the file's bytes.
    None when it cannot be computed (CSV or a file unreadable or outside ROOT)."""
    try:
        (_, csv_path), *referenced = source_files(root, csv_name)
        digest = hashlib.sha256(b"annotated_folder source v1\0")
        digest.update(csv_path.read_bytes())
        for relative, path in referenced:
            with open(path, "rb") as handle:
                file_digest = hashlib.file_digest(handle, "sha256").hexdigest()
            digest.update(f"\0{relative}\0{file_digest}".encode())
        return "sha256:" + digest.hexdigest()
    except (ContractError, OSError):
        return None


def folder_stat(root: Path, csv_name: str, older_than_ns: int | None = None) -> str | None:
    """The stat fingerprint of an annotated folder: sha256 over (path relative to ROOT, size in bytes,
    mtime_ns) of the CSV and of every file it references, read without opening them (what git's index
    records per file). None when a file cannot be stat'ed, or when one was modified at or after
    ``older_than_ns``: such a file is "racily clean" (git's term), a later write within the same
    timestamp tick would leave its stat unchanged, so only its content checksum may vouch for it."""
    try:
        digest = hashlib.sha256(b"annotated_folder stat v1\0")
        for relative, path in source_files(root, csv_name):
            info = path.stat()
            if older_than_ns is not None and info.st_mtime_ns >= older_than_ns:
                return None
            digest.update(f"\0{relative}\0{info.st_size}\0{info.st_mtime_ns}".encode())
        return "stat:" + digest.hexdigest()
    except (ContractError, OSError):
        return None
