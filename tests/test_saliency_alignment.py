"""Alignment scores on hand-built maps with known answers (docs/statistics.md §2.4)."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from benchmark.saliency import alignment as A


def mask_of(rows):
    return np.array(rows, dtype=bool)[None]


def test_auroc_is_one_for_the_mask_zero_for_its_inverse_half_for_a_constant():
    mask = mask_of([[0, 1, 1], [0, 1, 0], [0, 0, 0]])
    assert A.auroc(mask.astype(float), mask)[0] == 1.0
    assert A.auroc(1.0 - mask, mask)[0] == 0.0
    assert A.auroc(np.full(mask.shape, 0.3), mask)[0] == 0.5


def test_auroc_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    maps = rng.integers(0, 4, size=(5, 6, 6)).astype(float)  # many ties
    masks = rng.random((5, 6, 6)) < 0.3
    ours = A.auroc(maps, masks)
    for i in range(5):
        assert ours[i] == pytest.approx(roc_auc_score(masks[i].ravel(), maps[i].ravel()), abs=1e-12)


def test_auroc_undefined_for_empty_or_full_masks():
    maps = np.arange(8.0).reshape(2, 2, 2)
    masks = np.stack([np.zeros((2, 2), bool), np.ones((2, 2), bool)])
    assert np.isnan(A.auroc(maps, masks)).all()


def test_top_k_precision_by_hand():
    saliency = np.array([[[4.0, 3.0], [2.0, 1.0]]])
    # k = 2 annotated pixels; the top 2 are 4 and 3, one of which (4) is annotated
    assert A.top_k_precision(saliency, mask_of([[1, 0], [1, 0]]))[0] == 0.5
    assert A.top_k_precision(saliency, mask_of([[1, 1], [0, 0]]))[0] == 1.0
    assert A.top_k_precision(saliency, mask_of([[0, 0], [0, 1]]))[0] == 0.0


def test_top_k_precision_splits_ties_by_expectation():
    # k = 1; the two maxima tie, one of them annotated: a random tie-break hits half the time
    assert A.top_k_precision(np.array([[[5.0, 5.0], [0.0, 0.0]]]), mask_of([[1, 0], [0, 0]]))[0] == 0.5
    # a constant map scores the annotated area fraction (chance)
    assert A.top_k_precision(np.ones((1, 2, 2)), mask_of([[1, 0], [0, 0]]))[0] == 0.25


def test_pointing_game_hit_miss_and_an_empty_annotation_is_never_a_hit():
    saliency = np.zeros((3, 3, 3))
    saliency[:, 1, 1] = 1.0
    hit, miss, empty = (
        mask_of([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
        mask_of([[1, 0, 0], [0, 0, 0], [0, 0, 0]]),
        mask_of([[0] * 3] * 3),
    )
    scores = A.pointing_game(saliency, np.concatenate([hit, miss, empty]))
    assert scores[0] == 1.0 and scores[1] == 0.0 and np.isnan(scores[2])
    # Quantus @85bc29d1 would count the empty annotation as a hit: mean over (miss, empty) would be 0.5
    assert A.mean_defined(A.pointing_game(saliency[1:], np.concatenate([miss, empty]))) == (0.0, 1)


def test_energy_pointing_game_by_hand():
    saliency = np.array([[[3.0, 1.0], [0.0, 0.0]]])
    assert A.energy_share(saliency, mask_of([[1, 0], [0, 0]]))[0] == 0.75
    assert A.energy_share(saliency, mask_of([[0, 1], [1, 1]]))[0] == 0.25
    assert A.energy_share(np.zeros((1, 2, 2)), mask_of([[1, 0], [0, 0]]))[0] == 0.25  # no energy: chance


def test_wrong_reason_share_is_one_on_the_decoy_and_zero_off_it():
    decoy = np.zeros((1, 8, 8), bool)
    decoy[0, :2, :2] = True
    on_decoy = np.where(decoy, 0.7, 0.0)
    off_decoy = np.where(decoy, 0.0, 0.2)
    assert A.wrong_reason_share(on_decoy, decoy)[0] == 1.0
    assert A.wrong_reason_share(off_decoy, decoy)[0] == 0.0
    assert A.wrong_reason_share(np.ones((1, 8, 8)), decoy)[0] == pytest.approx(4 / 64)


def test_alignment_scores_report_only_what_the_masks_define():
    saliency = np.random.default_rng(1).random((4, 5, 5))
    human = np.zeros((4, 5, 5), bool)
    human[:2, 2, 2] = True  # two annotated images, two with empty annotations
    scores = A.alignment_scores(saliency, human, None)
    assert set(scores) == {"auroc", "topk_precision", "pointing_game", "energy_pointing"}
    assert all(count == 2 for _, count in scores.values())
    assert set(A.alignment_scores(saliency, None, human)) == {"wrong_reason_share"}
