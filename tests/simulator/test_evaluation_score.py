"""Per-seed metrics on a hand-made world and warehouse: the exam scores what the snapshots said."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from simulator.evaluation import score

A0 = date(2026, 1, 1)
A1 = A0 + timedelta(days=30)


def account(n: int, end: date, outcome: str, p90: float | None = None) -> dict:
    renewal = {"contract_end": end.isoformat(), "outcome": outcome}
    if p90 is not None:
        renewal["churn_probability"] = {"90": p90, "60": p90, "30": p90}
    arr = [{"date": "2024-06-01", "arr": 1000.0}]
    if outcome == "churned":
        arr.append({"date": end.isoformat(), "arr": 0.0})
    return {"account_id": f"a{n}", "hubspot_company_id": f"c{n}", "renewals": [renewal], "arr_changes": arr}


# Four renewals 90 days after A0 (scored at lead 90 from A0), two churn.
END = A0 + timedelta(days=90)
TRUTH = {
    "accounts": [
        account(1, END, "churned", 0.9),
        account(2, END, "churned", 0.6),
        account(3, END, "renewed", 0.2),
        account(4, END + timedelta(days=1), "renewed", 0.1),
    ],
    "timeline": [
        {"account_id": "a1", "from": "2025-01-01", "to": "2027-01-01", "primary_stage": "retention"},
        {"account_id": "a2", "from": "2025-01-01", "to": "2027-01-01", "primary_stage": "renewal"},
        {"account_id": "a3", "from": "2025-01-01", "to": "2027-01-01", "primary_stage": "retention"},
    ],
}


def renewal_row(n: int, end: date, risk: int, band: str, forecast: str) -> dict:
    return {"company_id": f"c{n}", "contract_end_date": end.isoformat(), "risk_score": risk,
            "health_band": band, "forecast_category": forecast}  # fmt: skip


RECORD = {
    "snapshots": {
        A0.isoformat(): {
            # c1 outranks both renewers, c2 ties c3; c4's row is a day off the planted end.
            "renewals": [
                renewal_row(1, END, 80, "red", "at_risk"),
                renewal_row(2, END, 30, "green", "likely"),
                renewal_row(3, END, 30, "green", "commit"),
                renewal_row(4, END, 10, "green", "commit"),
            ],
            "health": {"c1": "red", "c2": "green", "c3": "green", "c4": "green"},
            "stages": {"c1": "retention", "c2": "retention", "c4": "adoption"},
            "retention": {"calendar_month": "2026-01-01", "grr": 0.99, "nrr": 1.01},
        },
        A1.isoformat(): {
            # At lead 60 (A1) the warehouse has lost c2: a miss for the churner metrics.
            "renewals": [
                renewal_row(1, END, 90, "yellow", "at_risk"),
                renewal_row(3, END, 20, "yellow", "commit"),
                renewal_row(4, END, 20, "green", "commit"),
            ],
            "health": {"c1": "yellow", "c3": "yellow", "c4": "green"},
            "stages": {"c1": "retention", "c2": "renewal", "c3": "retention"},
            "retention": {"calendar_month": "2026-01-01", "grr": 0.99, "nrr": 1.01},
        },
    }
}


@pytest.fixture(scope="module")
def result():
    return score.score({"11": RECORD}, {"11": TRUTH}, resamples=50)


def test_renewal_risk(result):
    m = result["metrics"]
    assert m["renewal_risk.auc_90d"]["per_seed"]["11"] == pytest.approx((2 + 1 + 0.5) / 4)
    assert m["renewal_risk.oracle_auc_90d"]["per_seed"]["11"] == 1.0
    brier = ((0.8 - 1) ** 2 + (0.3 - 1) ** 2 + 0.3**2 + 0.1**2) / 4
    assert m["renewal_risk.brier_90d"]["per_seed"]["11"] == pytest.approx(brier)
    assert m["renewal_risk.brier_base_rate"]["per_seed"]["11"] == pytest.approx(0.25)
    assert m["renewal_risk.auc_90d_ci95"]["per_seed"]["11"] == m["renewal_risk.auc_90d"]["per_seed_ci95"]["11"]


def test_health_and_forecast_at_lead_60_count_lost_churners_as_misses(result):
    m = result["metrics"]
    # churners c1 (yellow, at_risk) and c2 (no row at A1): half flagged, half called at_risk
    assert m["health.churner_non_green_60d"]["per_seed"]["11"] == 0.5
    assert m["forecast.at_risk_recall"]["per_seed"]["11"] == 0.5
    # renewers with rows at A1: c3 yellow, c4 green
    assert m["health.renewer_non_green_60d"]["per_seed"]["11"] == 0.5
    assert m["forecast.commit_precision"]["per_seed"]["11"] == 1.0
    assert result["coverage"]["11"]["60"] == {"planted": 4, "scored": 3, "unscored": 1, "churners": 2}


def test_band_shares_over_the_account_days_of_the_as_of_dates(result):
    shares = result["metrics"]["health.band_shares"]["per_seed"]["11"]
    assert shares == {"green": 4 / 7, "yellow": 2 / 7, "red": 1 / 7, "unknown": 0.0}


def test_stage_agreement_counts_one_sided_accounts_as_disagreements(result):
    m = result["metrics"]
    # A0: a1 ok, a2 wrong, a3 planted only, a4 warehouse only; A1: a1, a2, a3 ok
    assert m["primary_stage.agreement"]["per_seed"]["11"] == pytest.approx(4 / 7)
    confusion = m["primary_stage.confusion"]["per_seed"]["11"]
    assert confusion["renewal"] == {"retention": 1, "renewal": 1}
    assert confusion[score.ABSENT] == {"adoption": 1}


def test_retention_errors_in_points_once_per_month(result):
    [row] = result["retention_rows"]["11"]  # both as-of dates are in January
    assert row["truth"] == {"grr": 1.0, "nrr": 1.0}  # nobody churned by 2026-01-01
    m = result["metrics"]
    assert m["retention.grr_abs_error_points"]["per_seed"]["11"] == pytest.approx(1.0)
    assert m["retention.nrr_abs_error_points"]["per_seed"]["11"] == pytest.approx(1.0)


def test_no_oracle_without_planted_probabilities():
    truth = {**TRUTH, "accounts": [account(1, END, "churned"), account(3, END, "renewed")]}
    out = score.score({"11": RECORD}, {"11": truth}, resamples=10)
    assert out["metrics"]["renewal_risk.oracle_auc_90d"]["per_seed"]["11"] is None
    assert out["charts"]["roc_oracle_90d"] is None
