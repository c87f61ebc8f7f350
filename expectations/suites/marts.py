"""Marts layer: what BI reads and what reverse ETL pushes into the CRM.

Every threshold comes from the dbt project the marts are built with (``settings.dbt_var`` /
``settings.seed_values``): health bands from vars ``health_green_min``/``health_yellow_min``,
scorecard statuses from ``scorecard_ready_min``/``scorecard_close_min``, forecast rules from
``forecast_at_risk_risk_min``, the GRR cap from ``grr_cap``, stages and their precedence from
seed ``journey_stages``, scorecard dimensions from seed ``onboarding_scorecard_dimensions``,
health components from seed ``health_score_components``, and the limits of the distribution
check of ``mart_crm_sync`` against the last accepted run from ``mart_profile_max_*``
(``expectations/profiles.py``).

So do the marts' columns: each mart's model yml (an enforced contract) gives the columns that
must exist and their types (``columns:`` / ``data_type``), and the value sets come from its
``accepted_values`` tests. Every mart with a suite is required: one the dbt project declares
but nobody built fails the catalog suite (critical); a suite for a model the project does not
declare fails when the suites are built.
"""

from __future__ import annotations

from expectations import dbt_project, profiles
from expectations.rules import BuildEnv, accepted_values, between, in_set, not_null, unique_key
from expectations.settings import dbt_var, seed_rows, seed_values
from expectations.spec import Check, TableSuite, ident, offending_rows

M = "marts"


def _suite(env: BuildEnv, table: str, key: tuple[str, ...], checks: list[Check]) -> TableSuite:
    """The mart's suite: its key unique and not null, and every column its contract declares
    present with the declared type (``column_types`` of the model yml)."""
    model = dbt_project.model(table)
    missing = [c for c in key if c not in model.columns]
    if missing:
        raise KeyError(f"key {missing} of {table} is not declared in {model.path}")
    key_checks, constraint_keys = unique_key(env, M, table, key)
    return TableSuite(
        layer=M,
        schema=M,
        table=table,
        checks=key_checks + checks,
        key_columns=tuple(dict.fromkeys([*key, *model.column_names])),
        column_types=model.column_types(),
        constraint_keys=tuple(constraint_keys),
    )


def _band_case(score: str) -> str:
    green, yellow = dbt_var("health_green_min"), dbt_var("health_yellow_min")
    s = ident(score)
    return (
        f"case when {s} is null then 'unknown' when {s} >= {green} then 'green' "
        f"when {s} >= {yellow} then 'yellow' else 'red' end"
    )


def _health_band_consistent(score: str, band: str, key: tuple[str, ...]) -> Check:
    shown = ", ".join(ident(c) for c in (*key, score, band))
    return offending_rows(
        "expect_band_matches_score",
        f"select {shown}, {_band_case(score)} as expected_band from {{batch}} as b "
        f"where {ident(band)} is distinct from {_band_case(score)}",
        f"Band green >= {dbt_var('health_green_min'):g}, yellow >= {dbt_var('health_yellow_min'):g}, "
        "else red; unknown only without a score (dbt vars health_green_min, health_yellow_min).",
    )


def journey_stage_daily(env: BuildEnv) -> TableSuite:
    table, key = "fct_journey_stage_daily", ("company_id", "calendar_date")
    stages = seed_rows("journey_stages")
    best = (
        "least("
        + ", ".join(f"case when {ident('is_' + s['stage'])} then {int(s['precedence'])} end" for s in stages)
        + ")"
    )
    prec = (
        "case " + " ".join(f"when primary_stage = '{s['stage']}' then {int(s['precedence'])}" for s in stages) + " end"
    )
    checks = [
        in_set("primary_stage", [s["stage"] for s in stages], allow_null=False),
        offending_rows(
            "expect_primary_stage_by_precedence",
            f"select company_id, calendar_date, primary_stage, {best} as best_precedence, "
            f"{prec} as primary_precedence from {{batch}} as b where {best} is distinct from {prec}",
            "The primary stage is the flagged stage of highest precedence (seed journey_stages).",
        ),
        between(["stage_count"], 1, len(stages), key=key),
    ]
    return _suite(env, table, key, checks)


def account_health_daily(env: BuildEnv) -> TableSuite:
    table, key = "fct_account_health_daily", ("company_id", "calendar_date")
    components = seed_values("health_score_components", "component")
    checks: list[Check] = [
        between(["health_score", *(f"{c}_score" for c in components)], 0, 100, key=key, name="expect_scores_0_100"),
        accepted_values(table, "health_band", allow_null=False),
        _health_band_consistent("health_score", "health_band", key),
        between(["components_used"], 0, len(components), key=key),
        offending_rows(
            "expect_score_iff_components",
            "select company_id, calendar_date, health_score, components_used from {batch} as b "
            "where (health_score is null) <> (components_used = 0)",
            "A score exists exactly when at least one component had data (missing is not zero).",
        ),
    ]
    return _suite(env, table, key, checks)


def onboarding_scorecard(env: BuildEnv) -> TableSuite:
    table, key = "fct_onboarding_scorecard", ("company_id", "as_of_date")
    dims = [f"score_{d}" for d in seed_values("onboarding_scorecard_dimensions", "dimension")]
    ready, close = dbt_var("scorecard_ready_min"), dbt_var("scorecard_close_min")
    checks: list[Check] = [
        between([*dims, "weighted_total"], 0, 10, key=key, name="expect_scores_0_10"),
        accepted_values(table, "scorecard_status", allow_null=False),
        offending_rows(
            "expect_readiness_matches_total",
            "select company_id, as_of_date, weighted_total, scorecard_status from {batch} as b "
            f"where (scorecard_status = 'ready' and weighted_total < {ready}) "
            f"or (scorecard_status = 'close' and weighted_total < {close}) "
            f"or (weighted_total < {close} and scorecard_status <> 'not_ready')",
            f"ready needs total >= {ready:g}, close >= {close:g}, below {close:g} is not_ready "
            "(dbt vars scorecard_ready_min, scorecard_close_min).",
        ),
    ]
    return _suite(env, table, key, checks)


def renewals(env: BuildEnv) -> TableSuite:
    table, key = "fct_renewals", ("contract_term_id", "as_of_date")
    at_risk = dbt_var("forecast_at_risk_risk_min")
    # DOMAIN.md's precedence: a scheduled cancellation, high risk or red health is at_risk
    # whatever the renewal deal's stage (a committed stage no longer wins over them).
    checks: list[Check] = [
        not_null(["company_id"], show=key),
        between(["risk_score"], 0, 100, key=key, name="expect_scores_0_100"),
        accepted_values(table, "forecast_category", allow_null=False),
        offending_rows(
            "expect_forecast_matches_risk",
            "select contract_term_id, as_of_date, risk_score, health_band, is_cancellation_scheduled, "
            "forecast_category from {batch} as b "
            f"where (risk_score >= {at_risk} or health_band = 'red' or is_cancellation_scheduled) "
            "and forecast_category <> 'at_risk'",
            f"Risk >= {at_risk:g}, red health or a scheduled cancellation is forecast at_risk, whatever the "
            "renewal deal's stage (dbt var forecast_at_risk_risk_min).",
        ),
    ]
    return _suite(env, table, key, checks)


def _retention_checks(env: BuildEnv, grain: tuple[str, ...]) -> list[Check]:
    grr, nrr = "gross_revenue_retention", "net_revenue_retention"
    cap, s = dbt_var("grr_cap"), env.settings
    return [
        between([grr], 0, cap, key=grain, name="expect_grr_within_0_and_cap"),
        between([grr], s.grr_plausible_min, None, key=grain, severity="warning", name="expect_grr_plausible"),
        between([nrr], 0, None, key=grain, name="expect_nrr_not_negative"),
        between(
            [nrr], s.nrr_plausible_min, s.nrr_plausible_max, key=grain, severity="warning", name="expect_nrr_plausible"
        ),
        offending_rows(
            "expect_nrr_at_least_grr",
            f"select {', '.join(grain)}, {grr}, {nrr} from {{batch}} as b where {nrr} < {grr}",
            "NRR adds expansion to GRR: never below it.",
        ),
    ]


def revenue_retention(env: BuildEnv) -> TableSuite:
    table, grain = "fct_revenue_retention", ("calendar_month", "segment", "cohort_year")
    return _suite(env, table, grain, _retention_checks(env, grain))


def revenue_retention_by_month(env: BuildEnv) -> TableSuite:
    """The headline GRR/NRR of all customers (the roll-up of fct_revenue_retention)."""
    table, grain = "fct_revenue_retention_by_month", ("calendar_month",)
    return _suite(env, table, grain, _retention_checks(env, grain))


def crm_sync(env: BuildEnv) -> TableSuite:
    table, key = "mart_crm_sync", ("company_id",)
    checks: list[Check] = [
        between(["health_score"], 0, 100, key=key, name="expect_scores_0_100"),
        _health_band_consistent("health_score", "health_band", key),
        accepted_values(table, "forecast_category"),
        between(["health_coverage_percent"], 0, 100, key=key, name="expect_coverage_0_100"),
        between(["health_components_used"], 0, 4, key=key, name="expect_components_0_4"),
        accepted_values(table, "previous_health_band"),
        # A collapsed mart (every score 0) breaks no row rule: its distribution is compared with the
        # last accepted run's (expectations/profiles.py).
        *(profiles.check(t) for t in profiles.PROFILED[M] if t.table == table),
    ]
    return _suite(env, table, key, checks)


def crm_tasks(env: BuildEnv) -> TableSuite:
    """What reverse ETL creates as HubSpot tasks: the catch-up window, HubSpot's options, text present."""
    table, key = "mart_crm_tasks", ("task_key",)
    days = int(dbt_var("playbook_catch_up_max_days"))
    subject_max = int(dbt_var("crm_task_subject_max_chars"))
    checks: list[Check] = [
        accepted_values(table, "task_type"),
        accepted_values(table, "task_priority"),
        not_null(["company_id", "due_date", "task_subject", "task_body"], show=key),
        offending_rows(
            "expect_due_in_catch_up_window",
            "select task_key, due_date, as_of_date from {batch} as b "
            f"where due_date > as_of_date or due_date <= as_of_date - {days}",
            f"Tasks are due within the last {days} days up to the run's day (dbt var playbook_catch_up_max_days).",
        ),
        offending_rows(
            "expect_subject_fits",
            f"select task_key, length(task_subject) as subject_chars from {{batch}} as b "
            f"where length(task_subject) > {subject_max}",
            f"A task subject has at most {subject_max} characters (dbt var crm_task_subject_max_chars).",
        ),
    ]
    return _suite(env, table, key, checks)


def build(env: BuildEnv) -> list[TableSuite]:
    return [
        journey_stage_daily(env),
        account_health_daily(env),
        onboarding_scorecard(env),
        renewals(env),
        revenue_retention(env),
        revenue_retention_by_month(env),
        crm_sync(env),
        crm_tasks(env),
    ]
