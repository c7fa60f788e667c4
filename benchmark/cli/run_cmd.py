"""``run``: one method on one dataset and architecture with one seed; writes its record."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..config import dataset_variant
from ..contracts import RunConfig
from ..runs.run import execute
from . import parse_assignments


def run(args: argparse.Namespace) -> int:
    optimizer = {"name": args.optimizer, "lr": args.lr, "weight_decay": args.weight_decay}
    if args.optimizer == "sgd":
        optimizer["momentum"] = args.momentum
    family, variant_params = dataset_variant(args.dataset)
    config = RunConfig(
        method=args.method, dataset=family, arch=args.arch, seed=args.seed, epochs=args.epochs,
        batch_size=args.batch_size,
        method_params=parse_assignments(args.set, "--set"),
        dataset_params={**variant_params, **parse_assignments(args.data, "--data")},
        arch_params=parse_assignments(args.arch_param, "--arch-param"),
        optimizer=optimizer,
        evaluation={**parse_assignments(args.eval, "--eval"), **({"enabled": False} if args.no_saliency else {})},
    )
    result = execute(config, Path(args.out), device=args.device, progress=not args.quiet, checkpoint=args.checkpoint)
    summary = {split: {k: round(v, 4) for k, v in m.items() if not k.startswith("saliency/")}
               for split, m in result.record.metrics.items()}
    print(json.dumps({"run_id": result.record.run_id, "record": str(result.path), "metrics": summary}, indent=1))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("run", help="train and evaluate one run, write its record")
    p.add_argument("--method", required=True)
    p.add_argument("--dataset", required=True, help="a dataset family or a variant from params.yaml")
    p.add_argument("--arch", default="simple_cnn")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--optimizer", choices=["adam", "adamw", "sgd"], default="adam")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--device", default="auto", help="auto (GPU when present), cpu, cuda, cuda:1, ...")
    p.add_argument("--out", default="results/runs", help="folder of run records")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="method hyperparameter (repeatable)")
    p.add_argument("--data", action="append", metavar="KEY=VALUE", help="dataset parameter, e.g. decoy=false")
    p.add_argument("--arch-param", action="append", metavar="KEY=VALUE", help="architecture parameter")
    p.add_argument("--eval", action="append", metavar="KEY=VALUE",
                   help="saliency-evaluation setting (repeatable), e.g. ig_steps=32, probe_size=128, sanity=false")
    p.add_argument("--no-saliency", action="store_true", help="skip the saliency evaluation (probe maps, alignment, faithfulness, sanity)")
    p.add_argument("--checkpoint", action="store_true", help="checkpoint every epoch and resume from it")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
