"""The exam's arithmetic on hand-made data: AUC, Brier, ROC, calibration, bootstrap."""

from __future__ import annotations

import itertools

import pytest

from simulator.evaluation import metrics


def pairwise_auc(items):
    """The definition, pair by pair: P(churner scores above renewer), ties half."""
    pos = [s for s, y in items if y]
    neg = [s for s, y in items if not y]
    return sum((p > n) + 0.5 * (p == n) for p, n in itertools.product(pos, neg)) / (len(pos) * len(neg))


def test_auc_perfect_inverse_and_ties():
    assert metrics.auc([(0.9, True), (0.8, True), (0.1, False), (0.2, False)]) == 1.0
    assert metrics.auc([(0.1, True), (0.9, False)]) == 0.0
    assert metrics.auc([(0.5, True), (0.5, False)]) == 0.5  # a tie counts half
    # 2 churners x 3 renewers: churner 0.7 beats 0.2 and 0.4, ties 0.7 (half); churner 0.3 beats 0.2.
    items = [(0.7, True), (0.3, True), (0.2, False), (0.4, False), (0.7, False)]
    assert metrics.auc(items) == pytest.approx((2 + 0.5 + 1) / 6)


def test_auc_matches_the_pairwise_definition_with_many_ties():
    items = [(s % 5, s % 3 == 0) for s in range(40)]
    assert metrics.auc(items) == pytest.approx(pairwise_auc(items))


def test_auc_needs_both_outcomes():
    assert metrics.auc([(0.3, True), (0.4, True)]) is None
    assert metrics.auc([]) is None


def test_brier_and_base_rate():
    items = [(1.0, True), (0.0, False), (0.5, True), (0.5, False)]
    assert metrics.brier(items) == pytest.approx((0 + 0 + 0.25 + 0.25) / 4)
    # churn rate 1/4: predicting 0.25 for everyone scores 0.25 * 0.75
    assert metrics.base_rate_brier([(0.9, True), (0.1, False), (0.1, False), (0.1, False)]) == pytest.approx(0.1875)
    assert metrics.brier([]) is None and metrics.base_rate_brier([]) is None


def test_share():
    assert metrics.share([True, False, False, True]) == 0.5
    assert metrics.share([]) is None


def test_roc_points_moves_tied_scores_together():
    items = [(0.9, True), (0.5, True), (0.5, False), (0.1, False)]
    assert metrics.roc_points(items) == [(0.0, 0.0), (0.0, 0.5), (0.5, 1.0), (1.0, 1.0)]


def test_calibration_bins():
    items = [(0.05, False), (0.05, True), (0.95, True), (1.0, True)]
    bins = metrics.calibration_bins(items)
    assert [b["n"] for b in bins] == [2, 2]
    assert bins[0]["observed"] == 0.5 and bins[0]["predicted"] == pytest.approx(0.05)
    assert bins[1]["bin"] == [0.9, 1.0] and bins[1]["observed"] == 1.0


def test_percentile_interpolates():
    assert metrics.percentile([1, 2, 3, 4, 5], 0.5) == 3
    assert metrics.percentile([0, 10], 0.25) == 2.5


def test_bootstrap_is_reproducible_and_brackets_the_estimate():
    units = {"11": [1.0, 2.0, 3.0, 4.0], "12": [10.0, 10.0, 10.0]}

    def mean(u):
        return sum(u) / len(u) if u else None

    a = metrics.bootstrap(units, mean, resamples=300)
    b = metrics.bootstrap(units, mean, resamples=300)
    assert a == b
    assert a["per_seed"] == {"11": 2.5, "12": 10.0}
    assert a["mean"] == pytest.approx(6.25)
    lo, hi = a["ci95"]
    assert lo < 6.25 < hi
    assert a["per_seed_ci95"]["12"] == [10.0, 10.0]  # no spread, no interval width


def test_bootstrap_dict_statistics_and_missing_values():
    units = {"1": ["a", "a", "b"], "2": []}

    def shares(u):
        return {"a": u.count("a") / len(u), "b": u.count("b") / len(u)} if u else None

    out = metrics.bootstrap(units, shares, resamples=50)
    assert out["per_seed"]["2"] is None
    assert out["mean"] == pytest.approx({"a": 2 / 3, "b": 1 / 3})  # the seed without data is left out
    assert set(out["ci95"]) == {"a", "b"}
