"""When the training loop saves its checkpoint: the profile's ``checkpoint_every_epochs`` and
``checkpoint_every_minutes`` (issue 25 item 4), execution settings outside the run's identity."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cadence:
    """When the loop saves its checkpoint (the profile's ``checkpoint_every_epochs`` and
    ``checkpoint_every_minutes``): at the end of an epoch whose number is a multiple of ``every_epochs``
    or once ``every_minutes`` have passed since the last save (or the start), whichever is due first;
    None turns that trigger off. Never after the last epoch: the record is written then. Not part of the
    run's identity: a run resumed from any of its checkpoints is bitwise the uninterrupted one."""

    every_epochs: int | None = 1
    every_minutes: float | None = None

    def due(self, epochs_done: int, seconds_since_save: float) -> bool:
        by_epochs = self.every_epochs is not None and epochs_done % self.every_epochs == 0
        return by_epochs or (self.every_minutes is not None and seconds_since_save >= 60.0 * self.every_minutes)


EVERY_EPOCH = Cadence()
