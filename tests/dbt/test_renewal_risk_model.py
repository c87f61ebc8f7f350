"""The fitted renewal risk on the test world: its features are point-in-time, and a fitted
version is stored and applied by dbt with contributions that add up to its probability."""

from __future__ import annotations

import math
from datetime import timedelta

import psycopg
import pytest

from risk_model.features import FEATURES, KEY_COLUMNS
from risk_model.fit import fit_renewal_risk
from risk_model.settings import FitSettings
from tests.conftest import TEST_AS_OF
from tests.dbt.conftest import AS_OF_VARS, dbt, query

FEATURES_TABLE = "intermediate.int_renewal_features_derived"
# What the transform DAG builds after the fit (dags/postsale_transform.py).
SCORING = ["stg_postsale__risk_model_versions+", "stg_postsale__risk_model_coefficients+"]
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


FACT_TABLES = {
    "intermediate.int_account_activity_daily": "activity_date",
    "intermediate.int_account_risk_events_dated": "event_date",
}


def _plant_after_latest(url: str, day_offset: int) -> None:
    """Facts of every kind for every account, ``day_offset`` days after the latest feature date
    (as-of). Not after each account's own latest: whether the loaded events cover a look-back
    depends on the earliest event of any account."""
    points = (
        f"select distinct company_id, (select max(feature_date) from {FEATURES_TABLE}) + {day_offset} as day "
        f"from {FEATURES_TABLE}"
    )
    with psycopg.connect(url) as conn:
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


def _cut_after(url: str, cutoff) -> None:
    """Move every fact dated after ``cutoff`` aside (restored by ``_restore_cut``)."""
    with psycopg.connect(url) as conn:
        for i, (table, day) in enumerate(FACT_TABLES.items()):
            conn.execute(f"create table public.cut_{i} as select * from {table} where {day} > %s", (cutoff,))
            conn.execute(f"delete from {table} where {day} > %s", (cutoff,))


def _restore_cut(url: str) -> None:
    with psycopg.connect(url) as conn:
        for i, table in enumerate(FACT_TABLES):
            if conn.execute("select to_regclass(%s)", (f"public.cut_{i}",)).fetchone()[0]:
                conn.execute(f"insert into {table} select * from public.cut_{i}")
                conn.execute(f"drop table public.cut_{i}")


def _remove_planted(url: str, target) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(f"delete from intermediate.int_account_activity_daily where active_users = {PLANTED_USERS}")
    dbt(["run", "--select", "int_account_risk_events_dated", "--vars", AS_OF_VARS], url, target)


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


@pytest.mark.parametrize("days_back", [120, 300])
def test_no_feature_reads_a_fact_dated_after_its_feature_date(built_warehouse, dbt_target, days_back):
    """Removing every fact after a cut-off leaves each row dated on or before it unchanged (and
    changes later rows, so the check can fail)."""
    cutoff = TEST_AS_OF - timedelta(days=days_back)
    dates = dict(query(built_warehouse, f"select risk_point_id, feature_date from {FEATURES_TABLE}"))
    before = _features(built_warehouse)
    early = [k for k, d in dates.items() if d <= cutoff]
    late = [k for k, d in dates.items() if d > cutoff]
    assert early and late, "the test world needs feature dates on both sides of the cut-off"
    rebuild = ["run", "--select", "int_renewal_features_derived", "--vars", AS_OF_VARS]
    try:
        _cut_after(built_warehouse, cutoff)
        dbt(rebuild, built_warehouse, dbt_target)
        after = _features(built_warehouse)
    finally:
        _restore_cut(built_warehouse)
        dbt(rebuild, built_warehouse, dbt_target)
    moved = [k for k in early if after.get(k) != before[k]]
    assert not moved, f"{len(moved)} of {len(early)} rows dated on or before {cutoff} read later facts"
    assert sum(after.get(k) != before[k] for k in late) > len(late) // 2
    assert _features(built_warehouse) == before


def test_facts_after_the_latest_feature_date_change_nothing(built_warehouse, dbt_target):
    before = _features(built_warehouse)
    rebuild = ["run", "--select", "int_renewal_features_derived", "--vars", AS_OF_VARS]
    try:
        _plant_after_latest(built_warehouse, 1)
        _plant_after_latest(built_warehouse, 30)
        dbt(rebuild, built_warehouse, dbt_target)
        after = _features(built_warehouse)
    finally:
        _remove_planted(built_warehouse, dbt_target)
        dbt(rebuild, built_warehouse, dbt_target)
    assert after == before
    assert _features(built_warehouse) == before


@pytest.fixture
def fitted(built_warehouse, dbt_target):
    """A version fitted for the test as-of (low label minimums: the test world is small), the
    scoring models built with it; removed afterwards so the other tests see the rule points."""
    cfg = FitSettings(min_renewals=20, min_churned=3, refit_days=7, folds=3)
    summary = fit_renewal_risk(built_warehouse, TEST_AS_OF, cfg)
    dbt(["run", "--select", *SCORING, "--vars", AS_OF_VARS], built_warehouse, dbt_target)
    yield summary, cfg
    with psycopg.connect(built_warehouse) as conn:
        conn.execute("delete from audit.risk_model_versions")
    dbt(["run", "--select", *SCORING, "--vars", AS_OF_VARS], built_warehouse, dbt_target)


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
