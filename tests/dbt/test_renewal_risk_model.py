"""The fitted renewal risk on the test world: its features are point-in-time, and a fitted
version is stored and applied by dbt with contributions that add up to its probability."""

from __future__ import annotations

import math

import psycopg
import pytest

from risk_model.features import FEATURES, KEY_COLUMNS
from risk_model.fit import fit_renewal_risk
from risk_model.settings import FitSettings
from tests.conftest import TEST_AS_OF
from tests.dbt.conftest import AS_OF_VARS, dbt, query

FEATURES_TABLE = "intermediate.int_renewal_features_derived"
PLANTED_USERS = 987_654  # marks the planted activity rows
# One planted fact of every dated type the features read.
PLANTED_EVENTS = [
    ("ticket", 1),
    ("high_severity_ticket", 1),
    ("payment_failed", 1),
    ("nps_answer", 0),
    ("champion_left", 1),
    ("executive_sponsor_left", 1),
    ("mrr_usd", 1),
    ("seats", 1),
    ("user_invited", 1),
]


def _features(url: str) -> dict[str, tuple]:
    cols = ", ".join(("risk_point_id", "is_churned", *FEATURES))
    return {r[0]: r[1:] for r in query(url, f"select {cols} from {FEATURES_TABLE}")}


def _plant(url: str, day_offset: int) -> None:
    """Facts of every kind for each feature row's account, ``day_offset`` days from its date."""
    with psycopg.connect(url) as conn:
        points = f"select distinct company_id, feature_date + {day_offset} as day from {FEATURES_TABLE}"
        conn.execute(
            "insert into intermediate.int_account_activity_daily (company_id, activity_date, active_users) "
            f"select company_id, day, {PLANTED_USERS} from ({points}) as p"
        )
        for event_type, value in PLANTED_EVENTS:
            conn.execute(
                "insert into intermediate.int_account_risk_events_dated "
                "(company_id, event_date, event_type, event_value) "
                f"select company_id, day, %s, %s from ({points}) as p",
                (event_type, value),
            )


def _restore(url: str, target) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(f"delete from intermediate.int_account_activity_daily where active_users = {PLANTED_USERS}")
    dbt(
        ["run", "--select", "int_account_risk_events_dated", "int_renewal_features_derived", "--vars", AS_OF_VARS],
        url,
        target,
    )


def test_feature_columns_match_the_fit(built_warehouse):
    cols = [
        c
        for (c,) in query(
            built_warehouse,
            "select column_name from information_schema.columns where table_schema = 'intermediate' "
            "and table_name = 'int_renewal_features_derived' order by ordinal_position",
        )
    ]
    assert sorted(cols) == sorted((*KEY_COLUMNS, *FEATURES))


def test_no_feature_reads_a_fact_dated_after_its_feature_date(built_warehouse, dbt_target):
    before = _features(built_warehouse)
    training = sum(1 for r in before.values() if r[0] is not None)
    assert training > 0 and len(before) > training, "the test world needs training and scoring rows"
    rebuild = ["run", "--select", "int_renewal_features_derived", "--vars", AS_OF_VARS]
    try:
        # Facts the day after every row's feature date (and a month after) change nothing ...
        _plant(built_warehouse, 1)
        _plant(built_warehouse, 30)
        dbt(rebuild, built_warehouse, dbt_target)
        after = _features(built_warehouse)
        moved = [k for k in before if after.get(k) != before[k]]
        assert set(after) == set(before) and not moved, f"{len(moved)} feature rows read later facts"
        # ... while the same facts on the feature date itself do (the check can fail).
        _plant(built_warehouse, 0)
        dbt(rebuild, built_warehouse, dbt_target)
        seen = _features(built_warehouse)
        assert sum(seen[k] != before[k] for k in before) == len(before)
    finally:
        _restore(built_warehouse, dbt_target)
    assert _features(built_warehouse) == before


@pytest.fixture
def fitted(built_warehouse, dbt_target):
    """A version fitted for the test as-of (low label minimums: the test world is small), the
    scoring models built with it; removed afterwards so the other tests see the rule points."""
    cfg = FitSettings(min_renewals=20, min_churned=3, refit_days=7, folds=3)
    summary = fit_renewal_risk(built_warehouse, TEST_AS_OF, cfg)
    dbt(["run", "--select", "int_renewal_risks_scored+", "--vars", AS_OF_VARS], built_warehouse, dbt_target)
    yield summary, cfg
    with psycopg.connect(built_warehouse) as conn:
        conn.execute("delete from audit.risk_model_versions")
    dbt(["run", "--select", "int_renewal_risks_scored+", "--vars", AS_OF_VARS], built_warehouse, dbt_target)


def test_fitted_version_is_stored_and_applied(built_warehouse, fitted):
    summary, cfg = fitted
    assert summary["status"] == "fitted", summary
    version = query(
        built_warehouse,
        "select version_id, as_of_date, training_rows, labelled_churned, cv_auc, cv_brier, base_rate_brier "
        "from audit.risk_model_versions",
    )
    assert len(version) == 1 and version[0][0] == summary["version_id"] and version[0][1] == TEST_AS_OF
    (n_coef,) = query(built_warehouse, "select count(*) from audit.risk_model_coefficients")[0]
    assert n_coef == len(FEATURES)
    rows = query(
        built_warehouse,
        "select r.risk_method, r.risk_model_version, r.risk_probability::float, r.risk_score, "
        "r.is_cancellation_scheduled or r.is_renewal_deal_lost, "
        "(select sum(value::float) from jsonb_each_text(r.risk_contributions)), r.risk_drivers "
        "from marts.fct_renewals as r",
    )
    (intercept,) = query(built_warehouse, "select intercept from audit.risk_model_versions")[0]
    assert rows and all(r[0] == "fitted" and r[1] == summary["version_id"] for r in rows)
    for _method, _v, prob, score, decided, contributions, _drivers in rows:
        # The kept contributions (rounded to 3 places) add up to the probability's log-odds.
        assert math.isclose(prob, 1 / (1 + math.exp(-(intercept + contributions))), abs_tol=0.01)
        assert score == (100 if decided else round(100 * prob))
    # A second run within refit_days keeps the version; the history holds today's scores.
    again = fit_renewal_risk(built_warehouse, TEST_AS_OF, cfg)
    assert again["status"] == "kept" and again["version_id"] == summary["version_id"]
    (history,) = query(
        built_warehouse,
        "select count(*) from marts.fct_renewal_risk_history where as_of_date = %s and risk_method = 'fitted'",
        (TEST_AS_OF,),
    )[0]
    assert history == len(rows)


def test_too_few_labels_keep_the_rule_points(built_warehouse):
    cfg = FitSettings(min_renewals=100_000, min_churned=1)
    with psycopg.connect(built_warehouse) as conn:
        before = conn.execute("select count(*) from audit.risk_model_versions").fetchone()[0]
    summary = fit_renewal_risk(built_warehouse, TEST_AS_OF, cfg, force=True)
    assert summary["status"] == "skipped" and "labelled renewals" in summary["reason"]
    (after,) = query(built_warehouse, "select count(*) from audit.risk_model_versions")[0]
    assert after == before
    (methods,) = query(built_warehouse, "select array_agg(distinct risk_method) from marts.fct_renewals")[0]
    assert methods == ["rules"]
