"""``python -m benchmark repro``: the time per stage, parsed from DVC's output."""
from __future__ import annotations

from benchmark.cli.repro_cmd import RUNNING, stage_times, table


def test_stage_times_split_the_run_at_each_running_stage_line():
    lines = ["Stage 'data@x' didn't change, skipping", "Running stage 'sweep@sgt':", "> python -m benchmark sweep sgt",
             "Running stage 'claims':", "Use `dvc push` to send your updates to remote storage."]
    starts = [0.0, 1.0, 2.0, 10.0, 11.0]
    events = [(t, m.group(1)) for t, line in zip(starts, lines) if (m := RUNNING.search(line))]
    assert stage_times(events, 12.5) == [("sweep@sgt", 9.0), ("claims", 2.5)]
    text = table(stage_times(events, 12.5), 12.5, ["dvc", "repro"], 2, 0.5)
    assert "| sweep@sgt | 9 | 72.0% |" in text and "| claims | 2 | 20.0% |" in text and "2 cores" in text
