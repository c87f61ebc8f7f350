"""`dbt build` on a simulated world loaded through the connectors, and the warehouse measured
against the simulator's ground truth (stages, renewal risk, revenue retention)."""

from __future__ import annotations

from datetime import timedelta

import psycopg

from simulator import accuracy
from simulator.evaluation.truth import stages_on
from tests.conftest import TEST_AS_OF
from tests.dbt.conftest import AS_OF_VARS, MEASURED, dbt, dbt_node_seconds, query, sync_everything

# Floors the warehouse must keep on the test world; the measured values are reported. The
# honest measurement of the scores is `make accuracy` (docs/ACCURACY.md): the test world is
# small, so these only catch a model that stopped working.
MIN_RENEWAL_AUC = 0.6
MAX_RETENTION_GAP = 0.12


def test_build_passes_and_marts_are_populated(built_warehouse):
    marts = [
        t
        for (t,) in query(
            built_warehouse, "select table_name from information_schema.tables where table_schema = 'marts'"
        )
    ]
    counts = {t: query(built_warehouse, f"select count(*) from marts.{t}")[0][0] for t in marts}
    for mart in (
        "dim_accounts",
        "mart_crm_sync",
        "fct_account_health_daily",
        "fct_journey_stage_daily",
        "fct_renewals",
    ):
        assert counts.get(mart, 0) > 0, f"{mart} is empty: {counts}"
    # One CRM-sync row per CRM company, one score date.
    (companies,) = query(built_warehouse, "select count(*) from staging.stg_hubspot__companies")[0]
    rows = query(
        built_warehouse, "select count(*), count(distinct score_date), min(score_date) from marts.mart_crm_sync"
    )
    assert rows[0][0] == companies and rows[0][1] == 1 and rows[0][2] == TEST_AS_OF


def test_daily_marts_cover_the_history_window(built_warehouse):
    days = query(
        built_warehouse,
        "select count(distinct calendar_date), min(calendar_date), max(calendar_date)"
        " from marts.fct_account_health_daily",
    )[0]
    assert days[2] == TEST_AS_OF
    assert days[0] == 90 and days[1] == TEST_AS_OF - timedelta(days=89)


def test_no_billing_customer_silently_dropped(built_warehouse):
    (dropped,) = query(
        built_warehouse,
        """
        select count(*) from staging.stg_stripe__customers as c
        where c.customer_id not in (select stripe_customer_id from intermediate.int_accounts_resolved
                                    where stripe_customer_id is not null)
          and c.customer_id not in (select record_id from intermediate.int_identities_unmatched
                                    where source_system = 'stripe')
        """,
    )[0]
    assert dropped == 0


def test_primary_stage_beats_the_majority_stage(built_warehouse, ground_truth):
    with psycopg.connect(built_warehouse) as conn:
        stages = accuracy.stage_agreement(conn, ground_truth, TEST_AS_OF)
    MEASURED["primary_stage_agreement"] = stages["agreement"]
    MEASURED["primary_stage_accounts"] = stages["accounts"]
    # The true stage applies DOMAIN's evidence rules to the simulator's hidden state, and the
    # CRM is kept by noisy simulated CSMs, so the stage model must at least beat always
    # answering the most common true stage.
    live = list(stages_on(ground_truth, TEST_AS_OF).values())
    majority = max(live.count(stage) for stage in set(live)) / stages["accounts"]
    MEASURED["primary_stage_majority_baseline"] = round(majority, 3)
    assert stages["agreement"] > majority, stages["disagreements"]


def test_renewal_risk_ranks_real_churn(built_warehouse, ground_truth):
    with psycopg.connect(built_warehouse) as conn:
        risk = accuracy.renewal_auc(conn, ground_truth)
    assert risk["churned"] and risk["renewed"], "the test world needs both churned and renewed upcoming renewals"
    MEASURED["renewal_risk_auc"] = risk["auc"]
    MEASURED["renewal_outcomes"] = {"churned": risk["churned"], "renewed": risk["renewed"]}
    assert risk["auc"] >= MIN_RENEWAL_AUC


def test_revenue_retention_close_to_ground_truth(built_warehouse, ground_truth):
    with psycopg.connect(built_warehouse) as conn:
        ret = accuracy.retention(conn, ground_truth, TEST_AS_OF)
    mine, truth = ret["warehouse"], ret["truth"]
    MEASURED["grr"] = {"warehouse": mine["grr"], "ground_truth": truth["grr"]}
    MEASURED["nrr"] = {"warehouse": mine["nrr"], "ground_truth": truth["nrr"]}
    assert abs(mine["grr"] - truth["grr"]) <= MAX_RETENTION_GAP
    assert abs(mine["nrr"] - truth["nrr"]) <= MAX_RETENTION_GAP


# Day-grain models built incrementally (macros/daily_windows.sql), with their schema.
DAILY_MODELS = {
    "int_user_days_aggregated": "intermediate",
    "int_user_days_spined": "intermediate",
    "int_account_usage_daily": "intermediate",
    "int_account_health_signals_daily": "intermediate",
    "fct_user_adoption_daily": "marts",
    "fct_account_adoption_daily": "marts",
    "fct_account_health_daily": "marts",
    "fct_journey_stage_daily": "marts",
}
DAY_COLUMN = {"intermediate": "date_day", "marts": "calendar_date"}
LATE_ARRIVAL_DAYS = 3  # dbt_project.yml var late_arrival_days
# Milestones an incremental run carries from the day before its rebuilt days: reached since the
# table was first built, where a full refresh sees only its padded window. They may only be more.
CARRIED = ("is_regular_use_reached", "is_habit_reached", "is_advanced_reached")


def daily_fingerprints(url: str, since) -> dict[str, tuple]:
    """Per day-grain model: the days it covers, and a checksum of every row of the rebuilt days."""
    out = {}
    for model, schema in DAILY_MODELS.items():
        # Intermediate day-grain models keep date_day; the marts' day is calendar_date.
        day = "activity_date" if model == "int_user_days_aggregated" else DAY_COLUMN[schema]
        row = "t::text"
        carried = ""
        if model == "fct_user_adoption_daily":
            row = "(to_jsonb(t) - array[" + ", ".join(f"'{c}'" for c in CARRIED) + "])::text"
            carried = "".join(f", count(*) filter (where {day} >= %(since)s and {c})" for c in CARRIED)
        out[model] = query(
            url,
            f"""
            select min({day}), max({day}), count(distinct {day}),
                   count(*) filter (where {day} >= %(since)s),
                   md5(string_agg({row}, ',' order by {row}) filter (where {day} >= %(since)s)) {carried}
            from {schema}.{model} as t
            """,
            {"since": since},
        )[0]
    return out


def test_incremental_run_after_one_more_day_matches_full_refresh(built_warehouse, dbt_apis, dbt_target):
    """Advance the simulator one day and sync; an incremental build then gives every day-grain
    model the same days, and the same rows on the days it rebuilt, as a full refresh, while
    reading only the new days plus the late-arrival window."""
    dbt_apis.advance(days=1)
    sync_everything(built_warehouse, dbt_apis)
    as_of = TEST_AS_OF + timedelta(days=1)
    next_day = f'{{"as_of_date": "{as_of.isoformat()}"}}'
    rebuilt_since = as_of - timedelta(days=LATE_ARRIVAL_DAYS)
    select = ["--select", *DAILY_MODELS]
    incremental = dbt_node_seconds(["run", "--vars", next_day], built_warehouse, dbt_target)
    after_incremental = daily_fingerprints(built_warehouse, rebuilt_since)
    daily_incremental = dbt_node_seconds(["run", *select, "--vars", next_day], built_warehouse, dbt_target)
    full = dbt_node_seconds(["run", *select, "--full-refresh", "--vars", next_day], built_warehouse, dbt_target)
    after_full = daily_fingerprints(built_warehouse, rebuilt_since)
    MEASURED["daily_models_incremental_seconds"] = round(daily_incremental, 1)
    MEASURED["daily_models_full_refresh_seconds"] = round(full, 1)
    MEASURED["next_day_run_seconds"] = round(incremental, 1)
    for model in DAILY_MODELS:
        assert after_incremental[model][3] > 0, f"{model}: no rows on the rebuilt days"
        assert after_incremental[model][:5] == after_full[model][:5], model
        for carried_incremental, carried_full in zip(after_incremental[model][5:], after_full[model][5:], strict=True):
            assert carried_incremental >= carried_full, model
    (days,) = query(built_warehouse, "select max(calendar_date) from marts.fct_account_health_daily")[0]
    assert days == as_of
    # The project's data tests pass on the incremental tables too.
    dbt(["build", "--exclude", "resource_type:unit_test", "--vars", next_day], built_warehouse, dbt_target)


def test_backfill_for_a_past_date_is_reproducible(built_warehouse, dbt_target):
    """Two runs for the same past as_of_date give the same scores."""
    past = f'{{"as_of_date": "{(TEST_AS_OF - timedelta(days=30)).isoformat()}"}}'
    select = ["--select", "+mart_crm_sync", "--exclude", "int_user_days_aggregated"]
    sql = "select md5(string_agg(t::text, ',' order by company_id)) from marts.mart_crm_sync as t"
    dbt(["run", *select, "--vars", past], built_warehouse, dbt_target)
    first = query(built_warehouse, sql)[0]
    dbt(["run", *select, "--vars", past], built_warehouse, dbt_target)
    assert query(built_warehouse, sql)[0] == first
    (score_date,) = query(built_warehouse, "select distinct score_date from marts.mart_crm_sync")[0]
    assert score_date == TEST_AS_OF - timedelta(days=30)
    # Restore the as-of build for anything that runs after.
    dbt(["run", *select, "--vars", AS_OF_VARS], built_warehouse, dbt_target)
