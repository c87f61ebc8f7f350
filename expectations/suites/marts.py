"""Marts layer: what BI reads and what reverse ETL pushes into the CRM.

Every threshold comes from the dbt project the marts are built with (``settings.dbt_var`` /
``settings.seed_values``): health bands from vars ``health_green_min``/``health_yellow_min``,
scorecard statuses from ``scorecard_ready_min``/``scorecard_close_min``, forecast rules from
``forecast_at_risk_risk_min``, the GRR cap from ``grr_cap``, stages and their precedence from
seed ``journey_stages``, scorecard dimensions from seed ``onboarding_scorecard_dimensions``,
health components from seed ``health_score_components``.

Suites exist for the marts agreed in issue 5. A mart the dbt project defines (a
``models/marts/<name>.sql``) must exist (critical); one it does not define yet is reported as
a warning and its suite is not run. Where issue 5 leaves a column name open, the first of a
few candidate names present in the catalog is used; a required column none of whose
candidates exists fails the catalog suite, naming the first candidate.
"""

from __future__ import annotations

from expectations.rules import BuildEnv, between, in_set, not_null, unique_key
from expectations.settings import dbt_models, dbt_var, dbt_vars, seed_rows, seed_values
from expectations.spec import Check, TableSuite, ident, offending_rows

M = "marts"
FORECASTS = ["commit", "likely", "at_risk"]
BANDS = ["green", "yellow", "red", "unknown"]  # unknown: no component had data (score null)
# not_scored: no scorecard input at all. Missing inputs must not read as a low score (DOMAIN.md).
READINESS = ["ready", "close", "not_ready", "not_scored"]
DATE_CANDIDATES = ["date_day", "as_of_date", "score_date", "snapshot_date"]


class _Mart:
    """Resolves a mart's column names against the catalog while its suite is built."""

    def __init__(self, env: BuildEnv, table: str):
        self.env, self.table = env, table
        self.exists = env.catalog.exists(M, table)
        self.key_columns: list[str] = []

    def col(self, *candidates: str, required: bool = True) -> str | None:
        found = self.env.catalog.first_column(M, self.table, list(candidates))
        if required:
            self.key_columns.append(found or candidates[0])
        return found if (found or not self.exists) else None

    def has(self, column: str | None) -> bool:
        return bool(column) and self.env.catalog.has_column(M, self.table, column)

    def suite(self, key: tuple[str, ...], checks: list[Check]) -> TableSuite:
        key = tuple(k for k in key if k)
        key_checks, constraint_keys = unique_key(self.env, M, self.table, key) if key else ([], [])
        return TableSuite(
            layer=M,
            schema=M,
            table=self.table,
            checks=key_checks + [c for c in checks if c is not None],
            key_columns=tuple(dict.fromkeys([*key, *self.key_columns])),
            required=self.table in dbt_models(M),
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
    m = _Mart(env, "fct_journey_stage_daily")
    stages = seed_rows("journey_stages")
    company, day, primary = m.col("company_id"), m.col(*DATE_CANDIDATES), m.col("primary_stage")
    flags = {s["stage"]: m.col(f"is_{s['stage']}") for s in stages}
    checks = [in_set("primary_stage", [s["stage"] for s in stages], allow_null=False)] if primary else []
    if primary and all(flags.values()):
        best = (
            "least("
            + ", ".join(f"case when {ident(flags[s['stage']])} then {int(s['precedence'])} end" for s in stages)
            + ")"
        )
        prec = (
            "case "
            + " ".join(f"when {ident(primary)} = '{s['stage']}' then {int(s['precedence'])}" for s in stages)
            + " end"
        )
        checks.append(
            offending_rows(
                "expect_primary_stage_by_precedence",
                f"select {ident(company)}, {ident(day)}, {ident(primary)}, {best} as best_precedence, "
                f"{prec} as primary_precedence from {{batch}} as b where {best} is distinct from {prec}",
                "The primary stage is the flagged stage of highest precedence (seed journey_stages).",
            )
        )
    if m.has("stage_count"):
        checks.append(between(["stage_count"], 1, len(stages), key=(company, day)))
    return m.suite((company, day), checks)


def account_health_daily(env: BuildEnv) -> TableSuite:
    m = _Mart(env, "fct_account_health_daily")
    company, day = m.col("company_id"), m.col(*DATE_CANDIDATES)
    score, band = m.col("health_score"), m.col("health_band")
    components = [
        c
        for c in env.catalog.column_names(M, m.table)
        if c.endswith("_score") and c != score and not c.endswith("change_score")
    ]
    checks: list[Check] = []
    if score:
        checks.append(between([score, *components], 0, 100, key=(company, day), name="expect_scores_0_100"))
    if score and band:
        checks.append(in_set(band, BANDS, allow_null=False))
        checks.append(_health_band_consistent(score, band, (company, day)))
    used = m.col("components_used", "component_count", required=False)
    if m.has(used):
        n = len(seed_values("health_score_components", "component"))
        checks.append(between([used], 0, n, key=(company, day)))
        if score:
            checks.append(
                offending_rows(
                    "expect_score_iff_components",
                    f"select {ident(company)}, {ident(day)}, {ident(score)}, {ident(used)} from {{batch}} as b "
                    f"where ({ident(score)} is null) <> ({ident(used)} = 0)",
                    "A score exists exactly when at least one component had data (missing is not zero).",
                )
            )
    return m.suite((company, day), checks)


def onboarding_scorecard(env: BuildEnv) -> TableSuite:
    m = _Mart(env, "fct_onboarding_scorecard")
    company = m.col("company_id")
    day = m.col(*DATE_CANDIDATES, required=False)
    dims = [m.col(f"{d}_score", f"score_{d}") for d in seed_values("onboarding_scorecard_dimensions", "dimension")]
    total = m.col("total_score", "weighted_score", "weighted_total", "scorecard_total", "scorecard_score")
    status = m.col("readiness", "readiness_status", "graduation_readiness", "scorecard_status")
    key = (company, day) if m.has(day) else (company,)
    checks: list[Check] = []
    scores = [c for c in [*dims, total] if c]
    if scores:
        checks.append(between(scores, 0, 10, key=key, name="expect_scores_0_10"))
    if status:
        checks.append(in_set(status, READINESS, allow_null=False))
    if status and total:
        ready, close = dbt_var("scorecard_ready_min"), dbt_var("scorecard_close_min")
        t, s = ident(total), ident(status)
        checks.append(
            offending_rows(
                "expect_readiness_matches_total",
                f"select {', '.join(ident(c) for c in (*key, total, status))} from {{batch}} as b "
                f"where ({s} = 'ready' and {t} < {ready}) or ({s} = 'close' and {t} < {close}) "
                f"or ({t} < {close} and {s} <> 'not_ready')",
                f"ready needs total >= {ready:g}, close >= {close:g}, below {close:g} is not_ready "
                "(dbt vars scorecard_ready_min, scorecard_close_min).",
            )
        )
    return m.suite(key, checks)


def renewals(env: BuildEnv) -> TableSuite:
    m = _Mart(env, "fct_renewals")
    rid = m.col("renewal_id", "contract_term_id", "subscription_id", "company_id")
    company = m.col("company_id")
    day = m.col(*DATE_CANDIDATES, required=False)
    risk = m.col("renewal_risk_score", "risk_score")
    forecast = m.col("forecast_category", "forecast")
    key = (rid, day) if m.has(day) else (rid,)
    checks: list[Check] = [not_null([company], show=key)] if company else []
    if risk:
        checks.append(between([risk], 0, 100, key=key, name="expect_scores_0_100"))
    if forecast:
        checks.append(in_set(forecast, FORECASTS, allow_null=False))
    stage = m.col("renewal_deal_stage", required=False)
    if risk and forecast:
        at_risk = dbt_var("forecast_at_risk_risk_min")
        # DOMAIN.md's precedence: a renewal deal in a committed stage is commit whatever the risk.
        committed = [str(v) for v in dbt_vars().get("forecast_commit_deal_stages", [])]
        unless_committed = ""
        if m.has(stage) and committed:
            listed = ", ".join("'" + v.replace("'", "''") + "'" for v in committed)
            unless_committed = f" and coalesce({ident(stage)}, '') not in ({listed})"
        checks.append(
            offending_rows(
                "expect_forecast_matches_risk",
                f"select {', '.join(ident(c) for c in (*key, risk, forecast))} from {{batch}} as b "
                f"where {ident(risk)} >= {at_risk} and {ident(forecast)} <> 'at_risk'{unless_committed}",
                f"Risk >= {at_risk:g} is forecast at_risk unless the renewal deal is in a committed stage "
                "(dbt vars forecast_at_risk_risk_min, forecast_commit_deal_stages).",
            )
        )
    return m.suite(key, checks)


def revenue_retention(env: BuildEnv) -> TableSuite:
    m = _Mart(env, "fct_revenue_retention")
    grain_candidates = ["month_start", "month", "period_month", "segment", "cohort", "cohort_year", "cohort_month"]
    grain = tuple(c for c in grain_candidates if m.has(c))
    grr, nrr = m.col("grr", "gross_revenue_retention", "grr_ratio"), m.col("nrr", "net_revenue_retention", "nrr_ratio")
    cap, s = dbt_var("grr_cap"), env.settings
    checks: list[Check] = []
    if grr:
        checks.append(between([grr], 0, cap, key=grain, name="expect_grr_within_0_and_cap"))
        checks.append(
            between([grr], s.grr_plausible_min, None, key=grain, severity="warning", name="expect_grr_plausible")
        )
    if nrr:
        checks.append(between([nrr], 0, None, key=grain, name="expect_nrr_not_negative"))
        checks.append(
            between(
                [nrr],
                s.nrr_plausible_min,
                s.nrr_plausible_max,
                key=grain,
                severity="warning",
                name="expect_nrr_plausible",
            )
        )
    if grr and nrr:
        checks.append(
            offending_rows(
                "expect_nrr_at_least_grr",
                f"select {', '.join(ident(c) for c in (*grain, grr, nrr))} from {{batch}} as b "
                f"where {ident(nrr)} < {ident(grr)}",
                "NRR adds expansion to GRR: never below it.",
            )
        )
    return m.suite(grain, checks)


def crm_sync(env: BuildEnv) -> TableSuite:
    m = _Mart(env, "mart_crm_sync")
    company = m.col("company_id")
    score = m.col("health_score", required=False)
    band = m.col("health_band", required=False)
    forecast = m.col("forecast_category", "renewal_forecast", required=False)
    checks: list[Check] = []
    if m.has(score):
        checks.append(between([score], 0, 100, key=(company,), name="expect_scores_0_100"))
    if m.has(score) and m.has(band):
        checks.append(_health_band_consistent(score, band, (company,)))
    if m.has(forecast):
        checks.append(in_set(forecast, FORECASTS))
    return m.suite((company,), checks)


def build(env: BuildEnv) -> list[TableSuite]:
    return [
        journey_stage_daily(env),
        account_health_daily(env),
        onboarding_scorecard(env),
        renewals(env),
        revenue_retention(env),
        crm_sync(env),
    ]
