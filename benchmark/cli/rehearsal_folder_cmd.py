"""``rehearsal-folder DEST``: a generated annotated folder in the CYBORG release's layout, for the CPU
rehearsal of the paper path (README "The rehearsal"; issue 25).

Toy faces (``datasets/toy_faces.py``) drawn at ``--size`` px and written as JPEG images and PNG heat
maps (``benchmark.data.cyborg_layout``), with two CSVs like the CYBORG data's:

- ``labels.csv``: train (every image annotated), val, test_closed and test_open;
- ``labels_7x.csv``: the same val and test rows and ``--copies`` times the train rows, the added ones
  unannotated (the "7x more training data" arm of Boyd et al. WACV 2023, Table 2).

The paper variants ``rehearsal_faces`` and ``rehearsal_faces_7x`` of params.yaml read it through the same
``annotated_folder`` code a user's copy of the CYBORG data goes through. DEST must be absent or a folder
this command wrote (it holds ``rehearsal.json``); it is replaced in one rename.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

MARKER = "rehearsal.json"
SPLITS = {"train": "train", "val": "val", "test_closed": "test_closed", "test_open": "test_open"}


def check_destination(dest: Path) -> None:
    """``dest`` absent, or a folder this command wrote; else a ``ContractError`` (nothing is touched)."""
    from ..contracts import ContractError

    if dest.is_symlink() or (dest.exists() and not (dest.is_dir() and (dest / MARKER).is_file())):
        raise ContractError(
            f"{dest} exists and is not a folder written by rehearsal-folder (no {MARKER}); choose another "
            f"destination or move it away; nothing was written"
        )


def generate(dest: Path, train: int, val: int, test: int, copies: int, size: int, seed: int) -> dict[str, int]:
    """Write the folder (atomically) and return the CSVs' row counts."""
    from tqdm.auto import tqdm

    from ..atomic import atomic_folder
    from ..data.cyborg_layout import write_csv, write_split
    from ..data.dataset_store import build

    common = {"image_size": size, "annotators": 5}
    with atomic_folder(dest) as tmp:
        base = build("toy_faces", {**common, "train_size": train, "val_size": val, "test_size": test, "seed": seed})
        classes = base.classes
        rows = []
        for source, name in tqdm(SPLITS.items(), desc="rehearsal folder: labels.csv", unit="split", leave=False):
            rows += write_split(tmp, base.splits[source], name, classes, prefix="")
        del base
        extra = []
        for copy in tqdm(range(1, copies), desc="rehearsal folder: 7x train rows", unit="copy", leave=False):
            more = build(
                "toy_faces",
                {
                    **common,
                    "train_size": train,
                    "val_size": 2,
                    "test_size": 2,
                    "seed": seed + copy,
                    "annotated_fraction": 0.0,
                },
            )
            extra += write_split(tmp, more.splits["train"], "train", classes, prefix=f"x{copy}_", annotations=False)
        write_csv(tmp / "labels.csv", rows)
        first_train = next(i for i, row in enumerate(rows) if row[2] == "train")
        n_train = sum(row[2] == "train" for row in rows)
        rows_7x = rows[: first_train + n_train] + extra + rows[first_train + n_train :]
        write_csv(tmp / "labels_7x.csv", rows_7x)
        counts = {"labels.csv": len(rows), "labels_7x.csv": len(rows_7x)}
        settings = {"train": train, "val": val, "test": test, "copies": copies, "size": size, "seed": seed}
        (tmp / MARKER).write_text(json.dumps({"settings": settings, "rows": counts}, indent=2) + "\n")
    return counts


def main(args: argparse.Namespace) -> int:
    from ..contracts import ContractError

    for flag in ("train", "val", "test", "copies"):
        if getattr(args, flag) < (1 if flag == "copies" else 2):
            raise ContractError(f"--{flag} must be >= {1 if flag == 'copies' else 2}, got {getattr(args, flag)}")
    if args.size < 32:
        raise ContractError(f"--size must be >= 32 px, got {args.size}")
    dest = Path(args.dest)
    check_destination(dest)
    counts = generate(dest, args.train, args.val, args.test, args.copies, args.size, args.seed)
    print(
        f"wrote {dest}: {counts['labels.csv']} rows in labels.csv, {counts['labels_7x.csv']} in labels_7x.csv ({args.size} px)"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "rehearsal-folder", help="write a generated CYBORG-layout annotated folder (the CPU rehearsal's data)"
    )
    p.add_argument("dest", help="folder to write (absent, or one this command wrote)")
    p.add_argument("--train", type=int, default=280, help="train images in labels.csv, all annotated (default 280)")
    p.add_argument("--val", type=int, default=40, help="val images (default 40)")
    p.add_argument("--test", type=int, default=40, help="images in each of test_closed and test_open (default 40)")
    p.add_argument("--copies", type=int, default=7, help="labels_7x.csv has this many times the train rows (default 7)")
    p.add_argument("--size", type=int, default=256, help="image side in px (default 256; the paper runs resize to 224)")
    p.add_argument("--seed", type=int, default=0, help="drawing seed (default 0)")
    p.set_defaults(func=main)
