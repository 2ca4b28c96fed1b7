"""Fitting the answerability check, and judging suggested replies: pure functions on tiny data."""

from __future__ import annotations

import numpy as np

from eval.calibrate import choose_threshold, fit_logistic, rates
from eval.drafts import is_fragment, word_overlap


def test_the_logistic_fit_separates_what_its_signal_separates() -> None:
    x = np.array([[0.9], [0.8], [0.7], [0.3], [0.2], [0.1]])
    y = np.array([1, 1, 1, 0, 0, 0], dtype=float)
    weights, bias = fit_logistic(x, y)
    p = 1 / (1 + np.exp(-(x @ weights + bias)))
    assert weights[0] > 0 and (p[:3] > 0.5).all() and (p[3:] < 0.5).all()


def test_the_threshold_keeps_false_refusals_within_the_limit() -> None:
    p = np.array([0.9, 0.6, 0.4, 0.5, 0.3, 0.1])
    answerable = np.array([True, True, True, False, False, False])
    strict = choose_threshold(p, answerable, max_false_refusal=0.0)
    assert rates(p, answerable, strict) == {"correct_refusal": 2 / 3, "false_refusal": 0.0}
    loose = choose_threshold(p, answerable, max_false_refusal=0.34)
    assert rates(p, answerable, loose) == {"correct_refusal": 1.0, "false_refusal": 1 / 3}


def test_drafts_are_compared_word_by_word_and_fragments_are_seen() -> None:
    assert word_overlap("I'm here to help.", "I'm here to help.", "en") == 1.0
    assert word_overlap("Refunds take 5 days.", "Your parcel left today.", "en") == 0.0
    assert is_fragment("We accept two reasons: [1]") and is_fragment("and then the")
    assert not is_fragment("Returns are free.\nhttps://help.example/returns")
