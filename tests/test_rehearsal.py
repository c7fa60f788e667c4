"""The rehearsal (issue 25; README "The rehearsal"): the paper path end to end on this CPU, as a slow test
(`pytest -m slow tests/test_rehearsal.py`, about 15 minutes on 2 cores). Every step passes: the generated
CYBORG-layout folder, the streamed builds of its two variants, one run on the 7x data, the rehearsal blocks of
faces, faces_more and decoy swept at 224 px (faces) and 28 px (decoy), and their statistics; the 7x build's
peak memory stays within the built arrays plus the interpreter (the former in-memory build took 13 times the
arrays)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from benchmark.paths import project_root

GIB = 2**30


@pytest.mark.slow
def test_the_rehearsal_passes_and_its_build_memory_is_bounded(tmp_path):
    params = yaml.safe_load((project_root() / "params.yaml").read_text())
    for name in ("rehearsal_faces", "rehearsal_faces_7x"):
        params["paper_datasets"][name]["params"]["root"] = str(tmp_path / "folder")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "SALBENCH_PARAMS": str(tmp_path / "params.yaml"), "SALBENCH_DATA": str(tmp_path / "data")}
    dest = tmp_path / "rehearsal"
    done = subprocess.run(
        [sys.executable, "-m", "benchmark", "rehearsal", "--dest", str(dest)], env=env, cwd=project_root(), check=False
    )
    assert done.returncode == 0
    steps = {s["step"]: s for s in json.loads((dest / "rehearsal.json").read_text())["steps"]}
    assert all(s["exit"] == 0 for s in steps.values()) and len(steps) == 9
    runs = {study: len(list((dest / "runs" / study).glob("*.json"))) for study in ("faces", "faces_more", "decoy")}
    assert runs == {"faces": 6, "faces_more": 4, "decoy": 16}
    build = steps["data build rehearsal_faces_7x"]
    assert 300 * 2**20 < build["array_bytes"] and build["peak_rss_bytes"] < build["array_bytes"] + 1 * GIB
    assert any(Path(dest / "stats").rglob("*.md"))
