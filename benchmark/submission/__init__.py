"""Validating a submitted method before the leaderboard protocol spends compute on it (issue 15).

- ``failures``: ``CheckFailure``, one problem of one check (where, what, what to change) as one line;
- ``contract``: check 1, the method's declarations (name, citation, url, cost, hyperparameters, loss);
- ``harness``: running a method's real training steps a few at a time (shared by checks 2-4);
- ``smoke``: check 2, one training step per architecture x dataset of the protocol;
- ``determinism``: check 3, two identical short trainings give identical weights;
- ``honesty``: check 4, training sees train rows only, annotations reach only methods that declare them;
- ``cost``: check 4, the declared cost against the measured step time (a warning, never a rejection);
- ``checks``: ``run_checks``, checks 1 -> 4 in order, and their ``ChecksReport``.
"""
