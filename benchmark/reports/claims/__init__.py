"""The claims tables: reads ``claims/PAPER.yaml`` and the studies' records, writes ``results/claims/PAPER.{md,json}`` with figures and ``results/README.md``."""
