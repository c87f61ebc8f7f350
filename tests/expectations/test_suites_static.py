"""Suites agree with the dbt project because they read it: value sets, column lists and types,
the raw tables, thresholds from vars and seeds. No database needed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from expectations import dbt_project
from expectations.catalog import Catalog
from expectations.rules import BuildEnv
from expectations.runner import LAYERS, suites_for
from expectations.settings import Settings, dbt_var
from expectations.spec import sql_list
from warehouse.paths import DBT_PROJECT_DIR

ENV = BuildEnv(Catalog(), Settings())
IN_SET = re.compile(r'where "(\w+)" not in \((.*?)\)(?: or|\s+group)')


def _in_set_checks(layers=LAYERS) -> dict[tuple[str, str], str]:
    """(table, column) -> the SQL list of every accepted-values check of the suites."""
    out = {}
    for layer in layers:
        for ts in suites_for(layer, ENV):
            for check in ts.checks:
                if check.name == "expect_values_in_set":
                    column, values = IN_SET.search(check.expectation.unexpected_rows_query).groups()
                    out[(ts.table, column)] = values
    return out


def test_value_sets_are_the_dbt_accepted_values():
    checks = _in_set_checks()
    from_dbt = {}
    for (table, column), values in checks.items():
        try:
            declared = dbt_project.accepted_values(table, column)
        except KeyError:
            continue
        from_dbt[(table, column)] = values
        assert values == sql_list(declared), (table, column)
    # Checked here only: the dbt project declares no accepted_values for these columns.
    assert set(checks) - set(from_dbt) == {
        ("stg_hubspot__companies", "customer_status"),
        ("stg_hubspot__feedback_submissions", "sentiment"),
    }
    assert len(from_dbt) >= 15


def test_mart_columns_and_types_are_the_contracts():
    for ts in suites_for("marts", ENV):
        model = dbt_project.model(ts.table)
        assert model.contract_enforced, ts.table
        assert set(model.column_names) <= set(ts.key_columns), ts.table
        assert ts.column_types == {c: dbt_project.pg_type(s["data_type"]) for c, s in model.columns.items()}, ts.table
        assert ts.column_types  # every mart with a suite declares its types


def test_raw_tables_are_the_dbt_sources():
    suites = {ts.table: ts for ts in suites_for("raw", ENV)}
    declared = dbt_project.project().source_tables("raw")
    assert set(suites) - {"_sync_runs"} == {table for _, _, table in declared}
    assert len(declared) == 15
    assert "_deleted" in suites["stripe__customers"].key_columns  # declared by the dbt source
    assert "_loaded_at" in suites["stripe__customers"].key_columns  # its loaded_at_field
    # The connectors load exactly what dbt reads (tests may import connectors; expectations may not).
    from connectors.registry import STREAM_NAMES

    assert {(s, n) for s, n, _ in declared} == {(s, n) for s, names in STREAM_NAMES.items() for n in names}


def test_every_suite_checks_a_model_the_dbt_project_declares():
    sql_files = {p.stem for p in (DBT_PROJECT_DIR / "models").rglob("*.sql")}
    for layer in ("staging", "intermediate", "marts"):
        for ts in suites_for(layer, ENV):
            assert ts.table in sql_files and dbt_project.model(ts.table), ts.name


def _moved_project(tmp_path: Path) -> Path:
    """A copy of the dbt project's ymls as the restructuring leaves them: models in area
    subfolders, one yml per folder under another name."""
    root = tmp_path / "dbt_project"
    root.mkdir()
    shutil.copy(DBT_PROJECT_DIR / "dbt_project.yml", root / "dbt_project.yml")
    for path in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        doc = yaml.safe_load(path.read_text()) or {}
        for i, model in enumerate(doc.get("models") or []):
            area = root / "models" / path.relative_to(DBT_PROJECT_DIR / "models").parts[0] / f"area{i % 3}"
            area.mkdir(parents=True, exist_ok=True)
            target = area / "_area__models.yml"
            existing = yaml.safe_load(target.read_text()) if target.exists() else {"version": 2, "models": []}
            existing["models"].append(model)
            target.write_text(yaml.safe_dump(existing, sort_keys=False))
        if doc.get("sources"):
            target = root / "models" / "staging" / doc["sources"][0]["name"] / "sources.yml"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(yaml.safe_dump({"version": 2, "sources": doc["sources"]}, sort_keys=False))
    return root


def test_reader_follows_models_into_subfolders_and_suites_follow_the_yml(tmp_path, monkeypatch):
    moved = dbt_project.load(_moved_project(tmp_path))
    real = dbt_project.project()
    assert set(moved.models) == set(real.models) and moved.source_tables("raw") == real.source_tables("raw")
    assert moved.model("fct_renewals").column_types() == real.model("fct_renewals").column_types()

    # The suites use whatever the yml says: a value set changed in dbt changes the check.
    cols = moved.model("stg_stripe__subscriptions").columns
    cols["subscription_status"]["data_tests"] = [{"accepted_values": {"arguments": {"values": ["active", "zombie"]}}}]
    monkeypatch.setattr(dbt_project, "project", lambda: moved)
    assert _in_set_checks(["staging"])[("stg_stripe__subscriptions", "subscription_status")] == "'active', 'zombie'"


def test_a_model_declared_twice_or_missing_fails_loudly(tmp_path):
    root = _moved_project(tmp_path)
    with pytest.raises(KeyError, match="no model 'fct_missing'"):
        dbt_project.load(root).model("fct_missing")
    shutil.copytree(root / "models" / "marts", root / "models" / "marts_copy")
    with pytest.raises(ValueError, match="declared twice"):
        dbt_project.load(root)


def test_declared_types_are_normalised_to_the_catalog_names():
    assert dbt_project.pg_type("numeric(12, 2)") == "numeric"
    assert dbt_project.pg_type("TIMESTAMPTZ") == "timestamp with time zone"
    assert dbt_project.pg_type("int") == "integer" and dbt_project.pg_type("bigint") == "bigint"


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("POSTSALE_GX_RAW_MAX_AGE_HOURS", "2")
    assert Settings.from_env().raw_max_age_hours == 2.0
    assert dbt_var("health_green_min") == 70 and dbt_var("scorecard_ready_min") == 8.0
