"""The fit on synthetic labelled renewals: it finds a planted signal, reports honest
out-of-sample metrics, fills missing values, and refuses too few labels."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from risk_model.features import FEATURES
from risk_model.fit import NotEnoughLabels, TrainingSet, fit, version_id
from risk_model.settings import FitSettings


def _rows(n_accounts: int, seed: int = 5) -> list[dict]:
    """Renewals whose churn depends on usage_trend_28d only; nps_latest is often missing."""
    rng = random.Random(seed)
    rows = []
    for a in range(n_accounts):
        trend = rng.gauss(0, 1)
        churned = rng.random() < 1 / (1 + pow(2.718281828, -(-2.0 - 2.0 * trend)))
        for lead in (30, 90):
            row = {f: rng.gauss(0, 1) for f in FEATURES}
            row.update(
                contract_term_id=f"t{a}",
                company_id=f"c{a}",
                contract_end_date=date(2026, 1, 1) + timedelta(days=a % 300),
                is_churned=churned,
                usage_trend_28d=trend + rng.gauss(0, 0.1),
                lead_days=lead,
                nps_latest=None if rng.random() < 0.5 else rng.randint(0, 10),
            )
            rows.append(row)
    return rows


def test_fit_finds_the_planted_signal():
    version, coefficients = fit(TrainingSet(_rows(600)), FitSettings(min_renewals=50, min_churned=10, folds=4))
    by_feature = {c["feature"]: c for c in coefficients}
    assert [c["feature"] for c in coefficients] == list(FEATURES)
    strongest = max(coefficients, key=lambda c: abs(c["coefficient"]))
    assert strongest["feature"] == "usage_trend_28d" and strongest["coefficient"] < 0
    assert 0.75 < version["cv_auc"] < 0.95
    assert version["cv_brier"] < version["base_rate_brier"]
    # nps_latest was half missing: filled with its training mean (0..10), never NaN.
    assert 3 < by_feature["nps_latest"]["fill_value"] < 7
    assert version["labelled_renewals"] == 600 and version["training_rows"] == 1200
    assert version_id(date(2026, 3, 1), version, coefficients).startswith("risk-20260301-")


def test_noise_only_gives_no_skill():
    rows = _rows(600)
    rng = random.Random(9)
    for r in rows:  # labels shuffled: nothing to learn
        r["usage_trend_28d"] = rng.gauss(0, 1)
    version, _ = fit(TrainingSet(rows), FitSettings(min_renewals=50, min_churned=10, folds=4))
    assert version["cv_auc"] < 0.62


def test_too_few_labels_raise():
    with pytest.raises(NotEnoughLabels, match="labelled renewals"):
        fit(TrainingSet(_rows(40)), FitSettings(min_renewals=60, min_churned=5))
