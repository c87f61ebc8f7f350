"""The summary `postsale report` and the demo print: layers in pipeline order, each gate's
verdict, every warning named without its sample values, and the mart figures."""

from __future__ import annotations

import json

import psycopg
import pytest

from expectations.audit import DDL as AUDIT_DDL
from pipeline.report import collect, render_layers, render_report, render_warnings

SAMPLE = "alice@example.com"


def _result(run_id, layer, suite, table, expectation, column=None, severity="critical", success=True, n=None):
    return (run_id, layer, suite, table, expectation, column, severity, success, n, json.dumps([SAMPLE]))


@pytest.fixture
def built(fresh_warehouse_url) -> str:
    with psycopg.connect(fresh_warehouse_url) as conn:
        conn.execute(
            """
            create schema raw; create schema staging; create schema intermediate; create schema marts;
            create table raw.hubspot__companies (_pk text); insert into raw.hubspot__companies values ('a'), ('b');
            create table raw.hubspot__companies__loads (_pk text);
            create view staging.stg_hubspot__companies as select * from raw.hubspot__companies;
            create table intermediate.int_x as select 1 as n;
            create table marts.mart_crm_sync (company_id text, health_band text, primary_stage text);
            insert into marts.mart_crm_sync values ('a', 'green', 'adoption'), ('b', 'red', 'renewal'),
                ('c', 'green', 'adoption');
            """
        )
        conn.execute(AUDIT_DDL)
        rows = [
            _result("r-old", "staging", "staging.s", "staging.t", "expect_old", severity="warning", success=False),
            _result("r-raw", "raw", "raw.companies", "raw.hubspot__companies", "expect_rows"),
            _result("r-stg", "staging", "staging.companies", "staging.stg_hubspot__companies", "expect_pk"),
            _result(
                "r-stg", "staging", "staging.companies", "staging.stg_hubspot__companies",
                "expect_column_values_to_match_regex", "email", "warning", False, 3,
            ),
            _result("r-marts", "marts", "marts.crm", "marts.mart_crm_sync", "expect_band", "health_band"),
            _result(
                "r-marts", "marts", "marts.crm", "marts.mart_crm_sync", "expect_mean_score", "health_score",
                "warning", False,
            ),
        ]  # fmt: skip
        for i, row in enumerate(rows):
            conn.execute(
                "insert into audit.validation_results (run_id, layer, suite, table_name, expectation, column_name, "
                "severity, success, unexpected_count, sample_unexpected, kwargs, run_at) "
                "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '{}', now() + make_interval(secs => %s))",
                (*row, i),
            )
    return fresh_warehouse_url


def test_layers_come_in_pipeline_order_with_their_gates(built):
    layers = collect(built)
    assert [layer.name for layer in layers] == ["raw", "staging", "intermediate", "marts", "CRM sync"]
    raw, staging, intermediate, marts, crm = layers
    assert raw.figures == ["1 tables, 2 rows"]  # the __loads log is not a layer table
    assert raw.gate.verdict == "passed (1/1 expectations)"
    assert staging.figures == ["1 views"]
    assert staging.gate.run_id == "r-stg"  # the latest run only: r-old's warning is gone
    assert staging.gate.verdict == "passed with 1 warning (1/2 expectations)"
    assert intermediate.gate is None
    assert "health band: green 2, red 1" in marts.figures
    assert "primary stage: adoption 2, renewal 1" in marts.figures
    assert crm.figures == ["no CRM sync has run yet"]
    text = "\n".join(render_layers(layers))
    assert "gate: not run yet" in text  # intermediate


def test_every_warning_is_named_with_where_to_read_it_and_no_sample_value(built):
    lines = render_warnings(collect(built))
    text = "\n".join(lines)
    assert lines[0].startswith("warnings (2;")
    assert (
        "staging.stg_hubspot__companies column email: expect_column_values_to_match_regex "
        "(suite staging.companies; 3 unexpected)"
    ) in text
    assert "marts.mart_crm_sync column health_score: expect_mean_score (suite marts.crm)" in text
    assert "expect_old" not in text
    assert "from audit.validation_results where not success and severity = 'warning'" in text
    assert "/superset/dashboard/data-quality/" in text
    assert SAMPLE not in text


def test_a_renamed_mart_column_shows_as_not_available_instead_of_failing(built):
    with psycopg.connect(built) as conn:
        conn.execute("alter table marts.mart_crm_sync rename column health_band to band")
    marts = collect(built)[3]
    assert "health band: n/a" in marts.figures
    assert "primary stage: adoption 2, renewal 1" in marts.figures


def test_an_empty_warehouse_reports_nothing_built(fresh_warehouse_url):
    text = render_report(fresh_warehouse_url)
    assert "nothing built yet" in text and "gate: not run yet" in text
    assert "warnings: none" in text
