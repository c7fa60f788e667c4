"""``python -m benchmark repro``: the time per stage, parsed from DVC's output, and the replication report it ends with."""

from __future__ import annotations

from benchmark.cli.repro_cmd import RUNNING, stage_times, table


def test_stage_times_split_the_run_at_each_running_stage_line():
    lines = [
        "Stage 'data@x' didn't change, skipping",
        "Running stage 'sweep@sgt':",
        "> python -m benchmark sweep sgt",
        "Running stage 'claims':",
        "Use `dvc push` to send your updates to remote storage.",
    ]
    starts = [0.0, 1.0, 2.0, 10.0, 11.0]
    events = [(t, m.group(1)) for t, line in zip(starts, lines) if (m := RUNNING.search(line))]
    assert stage_times(events, 12.5) == [("sweep@sgt", 9.0), ("claims", 2.5)]
    text = table(stage_times(events, 12.5), 12.5, ["dvc", "repro"], 2, 0.5)
    assert "| sweep@sgt | 9 | 72.0% |" in text and "| claims | 2 | 20.0% |" in text and "2 cores" in text


def test_repro_runs_dvc_and_writes_the_stage_times_without_dvc_on_the_path(tmp_path, monkeypatch, capsys):
    import subprocess
    import sys

    from benchmark.cli import main

    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=tmp_path, check=True)
    seeds = tmp_path / "results" / "leaderboards" / "s.seeds.csv"  # the committed basis of the replication report
    seeds.parent.mkdir(parents=True)
    seeds.write_text("run,method,dataset,arch,seed,test/accuracy\nerm | d | n | seed 0,erm,d,n,0,0.5\n")
    cmd = f"echo hi > hi.txt && sed -i s/0.5/0.25/ {seeds}"  # the stage changes a per-seed value
    (tmp_path / "dvc.yaml").write_text(f"stages:\n  hello:\n    cmd: {cmd}\n    outs: [hi.txt]\n")
    monkeypatch.setenv("SALBENCH_ROOT", str(tmp_path))
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no venv on the PATH: dvc runs through this interpreter
    out = tmp_path / "times.md"
    assert main(["repro", "--out", str(out)]) == 0
    assert (tmp_path / "hi.txt").read_text() == "hi\n"
    printed = capsys.readouterr().out
    assert "| hello |" in out.read_text() and "Running stage 'hello'" in printed
    # the replication report against the snapshot taken before DVC ran (issue 23), its summary printed last
    assert printed.strip().splitlines()[-1].startswith("replication: 1 of 1 per-seed values differ")
    assert "| s | erm | d | n | 0 | test/accuracy | 0.5 | 0.25 | -0.25 | differs |" in (
        report := (tmp_path / "results/replication.md").read_text()
    )
    assert "(taken " in report and "before DVC ran)" in report, "the report says where its basis came from"
    out.unlink()
    assert main(["repro", "--out", str(out)]) == 0 and not out.exists(), "a no-op rerun keeps the last table"
    assert "replication: bitwise identical to the committed results" in capsys.readouterr().out
