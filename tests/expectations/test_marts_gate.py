"""Marts: scores in range, bands consistent with the dbt vars, one row per key per day; every
mart with a suite is required — one the dbt project defines but nobody built is a critical
failure — and its columns and types are those of its dbt contract."""

from __future__ import annotations

import pytest

import expectations.suites.marts as marts
from expectations import dbt_project
from expectations.catalog import Catalog
from expectations.rules import BuildEnv
from expectations.runner import ValidationFailed, raise_on_failure, validate_layer
from expectations.settings import Settings
from expectations.spec import SAMPLE_ROWS, ident
from tests.expectations.conftest import MARTS_WITH_SUITES, execute

MARTS = set(MARTS_WITH_SUITES)
CATALOG = "information_schema.columns"

HEALTH_ROWS = """
insert into marts.fct_account_health_daily
    (company_id, calendar_date, health_score, health_band, components_used, usage_score, relationship_score)
values
    ('c-ok', '2026-11-01', 71, 'green', 4, 80, 60),
    ('c-high', '2026-11-01', 140, 'green', 4, 80, 60),
    ('c-dup', '2026-11-01', 50, 'yellow', 3, 50, 50),
    ('c-dup', '2026-11-01', 50, 'yellow', 3, 50, 50),
    (null, '2026-11-01', 20, 'red', 2, 10, 30),
    ('c-band', '2026-11-01', 69.9, 'green', 4, 70, 70),
    ('c-none', '2026-11-01', null, 'unknown', 0, null, null);
"""


def _create_from_contract(url: str, table: str) -> None:
    """An empty mart with exactly the columns and types of its dbt contract (as dbt builds it)."""
    columns = ", ".join(f"{ident(c)} {t}" for c, t in dbt_project.model(table).column_types().items())
    execute(url, "create schema if not exists marts", f"create table marts.{table} ({columns})")


def _failure(outcome, table: str, expectation: str) -> dict:
    return next(r for r in outcome.critical_failures if (r["table_name"], r["expectation"]) == (table, expectation))


def test_suites_cover_the_marts():
    assert {ts.table for ts in marts.build(BuildEnv(Catalog(), Settings()))} == MARTS


def test_bad_mart_rows_stop_the_layer(warehouse):
    _create_from_contract(warehouse, "fct_account_health_daily")
    execute(warehouse, HEALTH_ROWS)
    outcome = validate_layer("marts", warehouse, build_docs=False)
    failed = {(r["table_name"], r["expectation"]): r for r in outcome.critical_failures}
    table = "marts.fct_account_health_daily"
    assert set(failed) == {
        (table, "expect_scores_0_100"),
        (table, "expect_key_unique"),
        (table, "expect_key_not_null"),
        (table, "expect_band_matches_score"),
        (CATALOG, "expect_tables_and_key_columns_present"),  # the other marts nobody built
    }
    assert failed[(table, "expect_scores_0_100")]["sample_unexpected"][0]["company_id"] == "c-high"
    assert failed[(table, "expect_band_matches_score")]["sample_unexpected"][0]["expected_band"] == "yellow"
    missing = failed[(CATALOG, "expect_tables_and_key_columns_present")]
    assert missing["observed_value"] == len(MARTS) - 1
    # The sample holds at most SAMPLE_ROWS of them.
    sample = {r["table_name"]: r["missing"] for r in missing["sample_unexpected"]}
    assert len(sample) == min(len(MARTS) - 1, SAMPLE_ROWS)
    assert sample.items() <= {f"marts.{t}": "(table missing)" for t in MARTS - {"fct_account_health_daily"}}.items()
    assert set(outcome.skipped) == {f"marts.{t}" for t in MARTS - {"fct_account_health_daily"}}
    assert not [r for r in outcome.rows if r["expectation"] == "expect_planned_tables_present"]
    with pytest.raises(ValidationFailed) as err:
        raise_on_failure(outcome)
    message = str(err.value)
    assert "marts.fct_account_health_daily: expect_key_unique" in message and "'company_id': 'c-dup'" in message
    assert "'health_score': 140" in message


def test_mart_defined_but_not_built_is_critical(warehouse):
    outcome = validate_layer("marts", warehouse, build_docs=False)
    assert set(outcome.skipped) == {f"marts.{t}" for t in MARTS}
    assert [(r["table_name"], r["expectation"]) for r in outcome.critical_failures] == [
        (CATALOG, "expect_tables_and_key_columns_present")
    ]
    assert outcome.critical_failures[0]["observed_value"] == len(MARTS)
    with pytest.raises(ValidationFailed, match=r"expect_tables_and_key_columns_present.*\(table missing\)"):
        raise_on_failure(outcome)


def test_mart_columns_and_types_are_those_of_the_dbt_contract(warehouse):
    for table in MARTS:
        _create_from_contract(warehouse, table)
    raise_on_failure(validate_layer("marts", warehouse, build_docs=False))  # built as declared: passes

    execute(
        warehouse,
        "alter table marts.fct_renewals drop column risk_drivers",
        "alter table marts.fct_renewals alter column days_to_renewal type text",
    )
    outcome = validate_layer("marts", warehouse, build_docs=False)
    assert {r["expectation"] for r in outcome.critical_failures} == {
        "expect_tables_and_key_columns_present",
        "expect_column_types",
    }
    assert _failure(outcome, CATALOG, "expect_tables_and_key_columns_present")["sample_unexpected"] == [
        {"table_name": "marts.fct_renewals", "missing": "risk_drivers"}
    ]
    assert _failure(outcome, CATALOG, "expect_column_types")["sample_unexpected"] == [
        {
            "table_name": "marts.fct_renewals",
            "column_name": "days_to_renewal",
            "expected_type": "integer",
            "actual_type": "text",
        }
    ]


def test_thresholds_come_from_the_dbt_project(monkeypatch):
    monkeypatch.setattr(marts, "dbt_var", lambda name: {"health_green_min": 75.0, "health_yellow_min": 45.0}[name])
    assert "when \"s\" >= 75.0 then 'green' when \"s\" >= 45.0 then 'yellow'" in marts._band_case("s")
