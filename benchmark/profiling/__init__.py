"""Training-step profiles (``python -m benchmark profile``): what each method's step costs here,
measured and explained.

Per architecture case (a seeded synthetic fully annotated batch, the training profile's
optimizer): the unit times a ``Cost`` counts, measured on ERM's network (``units``); the steps
of every method timed in interleaved rounds with ``torch.utils.benchmark.Timer`` (``timing``),
summarized as median/IQR and a ratio to ERM with a bootstrap CI beside the ratio the declared
cost predicts (``ratios``); a phase breakdown from the ``salbench.*`` profiler ranges on the CPU
and from CUDA timing events on a GPU (``breakdown``), the step's own peak memory (``memory``) and its
FLOPs (``flops``), all three untimed; everything under the training profile's precision, determinism
switch and the runs' layout. ``measure`` puts it together into one document (schema 1), ``report`` and ``plots``
render it, ``outputs`` writes it.

Document (``LABEL.json``)::

    {"schema": 1, "label", "command", "machine": {"hostname", "cpu", "cores", "platform"}, "threads",
     "device", "precision", "torch", "commit", "target": 1.2, "settings": {...},
     "cases": [{"arch", "channels", "image_size", "batch_size", "units_s": {unit: s}, "timed_steps",
                "methods": [{"method", "cost", "step_median_s", "step_iqr_s", "images_per_s", "ratio_to_erm",
                             "ratio_ci", "theoretical_ratio", "measured_over_theoretical", "within_target",
                             "phases_s", "peak_memory_bytes", "memory_source", "flops", "flops_per_s",
                             "rounds"}]}]}

Read back by ``benchmark.records.profiles`` for the leaderboard. Nothing is imported here: the
CLI validates its input with ``case`` before ``measure`` (and ``torch.utils.benchmark``) loads.
"""

from __future__ import annotations
