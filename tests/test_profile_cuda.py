"""``profile`` on CUDA without a GPU (issue 25 item 6): the phase times come from
``torch.cuda.Event(enable_timing=True)`` pairs (monkeypatched here with a host-clock stand-in), never from
the profiler; the step's memory from ``max_memory_allocated`` after ``reset_peak_memory_stats``; and the
profile times under the runs' determinism switch."""

from __future__ import annotations

import time

import pytest
import torch

from benchmark import phases
from benchmark.profiling import breakdown as breakdown_module
from benchmark.profiling import memory
from benchmark.profiling.breakdown import breakdown


class FakeEvent:
    """A CUDA timing event on a stand-in device clock (``FakeEvent.now``, milliseconds, advanced by the step):
    ``record`` stamps it, ``elapsed_time`` in milliseconds."""

    made: list[FakeEvent] = []
    now = 0.0

    def __init__(self, enable_timing: bool = False) -> None:
        assert enable_timing, "a timing event"
        self.at: float | None = None
        FakeEvent.made.append(self)

    def record(self, stream: object = None) -> None:
        self.at = FakeEvent.now

    def elapsed_time(self, end: FakeEvent) -> float:
        assert self.at is not None and end.at is not None, "read after both were recorded"
        return end.at - self.at


@pytest.fixture
def fake_cuda(monkeypatch):
    syncs: list[object] = []
    FakeEvent.made = []
    monkeypatch.setattr(torch.cuda, "Event", FakeEvent)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: syncs.append(device))

    def no_profiler(*args, **kwargs):
        raise AssertionError("the CUDA phases come from events, not from torch.profiler")

    monkeypatch.setattr(breakdown_module, "profile", no_profiler)
    return syncs


def device_work(ms: float) -> None:
    FakeEvent.now += ms


def step_on_the_device() -> None:
    """forward 30 ms of device time (10 of them saliency, nested), backward 20 ms, optimizer 10 ms, 10 ms
    unmarked; the host's own time does not count."""
    with phases.phase("forward"):
        device_work(20)
        time.sleep(0.001)
        with phases.phase("saliency"):
            device_work(10)
    with phases.phase("backward"):
        device_work(20)
    with phases.phase("optimizer"):
        device_work(10)
    device_work(10)


def test_cuda_phase_times_come_from_timing_event_pairs(fake_cuda):
    """Fails on the old code: it read the profiler's kernel times (the stand-in profiler raises)."""
    parts = breakdown(step_on_the_device, torch.device("cuda:1"), steps=2, warmup=1)
    want = {"forward": 0.02, "saliency": 0.01, "backward": 0.02, "optimizer": 0.01, "other": 0.01, "masking": 0.0}
    assert parts == pytest.approx(want, abs=1e-12)
    assert len(FakeEvent.made) == 2 * (1 + 4) * 2, "a pair per step and per phase, none during the warm-up"
    assert fake_cuda and all(d == torch.device("cuda:1") for d in fake_cuda), "the device synchronized, not another"
    assert phases._EVENTS is None, "outside the breakdown a phase records no event"
    assert type(phases.phase("forward")).__name__ == "record_function"


def test_cuda_step_memory_is_the_allocator_peak_above_the_start(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append("sync"))
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda device=None: calls.append("reset"))
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device=None: 1000)
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda device=None: 5096)
    assert memory.step_peak(lambda: calls.append("step"), torch.device("cuda:0")) == (4096, "cuda")
    assert calls == ["sync", "reset", "step", "sync"]


def test_the_profile_times_under_the_runs_determinism_switch(monkeypatch):
    from benchmark.profiling import measure

    seen: list[tuple[bool, bool]] = []

    def case(*args, **kwargs):
        seen.append((torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark))
        return {}

    monkeypatch.setattr(measure, "profile_case", case)
    before = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark)
    settings = measure.Settings()
    args = ("x", "cmd", [("simple_cnn", 1, 28)], ["erm"], 4, {"name": "adam"}, torch.device("cpu"), "fp32", 1)
    doc = measure.run_profile(*args, settings, progress=False, deterministic=False)
    assert doc["settings"]["deterministic"] is False and doc["settings"]["layout"].startswith("cpu_channels_last")
    measure.run_profile(*args, settings, progress=False)
    assert seen == [(False, True), (True, False)]
    assert (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark) == before
