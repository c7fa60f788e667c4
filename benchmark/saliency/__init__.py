"""Saliency evaluation of trained models (docs/statistics.md part 2): attributions, alignment with
human / ground-truth saliency, faithfulness, sanity, and the fixed probe set whose maps every
run saves. ``evaluate.evaluate_saliency`` is the after-training entry point that ``runs.run``
calls; ``metrics`` declares every metric's direction and unit.
"""
