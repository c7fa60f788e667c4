"""The statistics layer stays pure: it never imports the layers that run, store or render studies."""

from __future__ import annotations

import ast
from pathlib import Path

import benchmark.statistics

FORBIDDEN = ("benchmark.sweeps", "benchmark.cli", "benchmark.reports", "benchmark.runs", "benchmark.records", "torch")


def test_statistics_imports_no_pipeline_layer():
    package = Path(benchmark.statistics.__file__).parent
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = ("", "benchmark.statistics", "benchmark")[node.level]
                names = [".".join(part for part in (base, node.module) if part)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
        assert len(path.read_text().splitlines()) <= 250, f"{path.name} is longer than 250 lines"
