"""Runs: seeds, device-resident data, the training loop, evaluation and one run end to end."""
