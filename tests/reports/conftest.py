"""Reports fixtures: a small simulated world synced by the connectors into a private database,
the marts the dashboards read built by dbt, a few audit rows, and the reports built on it.

Cheap on purpose: 60 accounts, `dbt run` of the marts the pages read and their parents (no data
tests: tests/dbt does those), one Superset metadata home in pytest's tmp, one server.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import psycopg
import pytest

from tests.conftest import TEST_AS_OF, TEST_WORLD_SEED, _create_db, _drop_db
from tests.dbt.conftest import AS_OF_VARS, dbt, sync_everything
from warehouse.embedded import free_port
from warehouse.paths import local_dir

REPORT_ACCOUNTS = 60
# The marts the dashboards read (reports/superset/assets/datasets); dbt builds their parents too.
MARTS = [
    "dim_accounts",
    "dim_accounts_scored",
    "fct_account_health_daily",
    "fct_journey_stage_daily",
    "fct_journey_transitions",
    "fct_journey_metrics",
    "fct_renewals",
    "fct_revenue_retention",
    "fct_adoption_funnel",
    "fct_user_adoption_daily",
    "fct_account_adoption_daily",
    "fct_onboarding_scorecard",
]
SCREENSHOTS = local_dir() / "test-screenshots"
CHROMIUM = Path(os.environ.get("POSTSALE_CHROMIUM", "/usr/bin/chromium"))


def _browser_or_skip() -> None:
    """CI (.ci/run sets POSTSALE_REQUIRE_BROWSER) must run the browser test; elsewhere a missing
    Chromium or Superset skips it, loudly."""
    from reports.build import superset_venv

    missing = [str(p) for p in (CHROMIUM, superset_venv() / "bin" / "superset") if not p.exists()]
    if not missing:
        return
    reason = (
        f"REPORTS NOT TESTED: {', '.join(missing)} missing; `make reports` installs both "
        "(apt-get install chromium; Superset from reports/superset/uv.lock)"
    )
    if os.environ.get("POSTSALE_REQUIRE_BROWSER") or os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def reports_warehouse(warehouse_admin_url: str, tmp_path_factory) -> str:
    """A database with the marts built from a 60-account world, plus audit rows."""
    from simulator.server import MockApiServer
    from simulator.world import generate_world

    _browser_or_skip()
    world = generate_world(
        tmp_path_factory.mktemp("reports_world"), accounts=REPORT_ACCOUNTS, seed=TEST_WORLD_SEED, as_of=TEST_AS_OF
    )
    url = _create_db(warehouse_admin_url, "postsale_reports")
    try:
        with MockApiServer(world, host="127.0.0.1", port=0) as srv:
            sync_everything(url, srv)
        target = tmp_path_factory.mktemp("reports_dbt_target")
        dbt(["seed", "--vars", AS_OF_VARS], url, target)
        dbt(["run", "--full-refresh", "--select", *[f"+{m}" for m in MARTS], "--vars", AS_OF_VARS], url, target)
        fill_audit(url)
        yield url
    finally:
        _drop_db(warehouse_admin_url, url)


def fill_audit(url: str) -> None:
    """Validation results of two runs of the marts layer (the page shows the newer only): a
    pass, a warning and a critical failure with sample rows; and accuracy metrics."""
    from psycopg.types.json import Jsonb

    from expectations.audit import DDL
    from pipeline.accuracy import DDL as SCORE_ACCURACY_DDL

    rows = [
        ("old", "2026-10-31", "critical", False, "expect_column_values_to_not_be_null", "health_score", 9, ["stale"]),
        ("new", "2026-11-01", "critical", True, "expect_column_values_to_not_be_null", "health_score", 0, []),
        ("new", "2026-11-01", "warning", False, "expect_column_values_to_be_between", "score_change_7d", 2, [41, -38]),
        ("new", "2026-11-01", "critical", False, "expect_column_values_to_be_in_set", "health_band", 3,
         ["purple", "teal", "x"]),
    ]  # fmt: skip
    with psycopg.connect(url) as conn:
        conn.execute(DDL)
        for run, day, severity, ok, expectation, column, unexpected, sample in rows:
            conn.execute(
                "insert into audit.validation_results (run_id, run_at, layer, suite, table_name, expectation,"
                " column_name, severity, success, observed_value, unexpected_count, sample_unexpected, kwargs)"
                " values (%s, %s, 'marts', 'marts.fct_account_health_daily', 'fct_account_health_daily', %s, %s,"
                " %s, %s, %s, %s, %s, %s)",
                (run, day, expectation, column, severity, ok, Jsonb(unexpected), unexpected, Jsonb(sample),
                 Jsonb({"column": column})),
            )  # fmt: skip
        conn.execute(SCORE_ACCURACY_DDL)
        conn.cursor().executemany(
            "insert into audit.score_accuracy (metric, value, target, is_met, world_seed, as_of_date)"
            " values (%s, %s, %s, %s, %s, %s)",
            [
                ("churn_auc", 0.81, ">= 0.75", True, TEST_WORLD_SEED, TEST_AS_OF),
                ("health_band_accuracy", 0.64, ">= 0.70", False, TEST_WORLD_SEED, TEST_AS_OF),
            ],
        )


@pytest.fixture(scope="package")
def bi_reader_url(reports_warehouse: str) -> str:
    from warehouse.bi_reader import ensure_bi_reader

    return ensure_bi_reader(reports_warehouse)


@pytest.fixture(scope="package")
def built_reports(bi_reader_url: str, tmp_path_factory):
    """The reports built and checked once; Superset keeps running for the package's tests."""
    from reports.build import Superset, build

    home = tmp_path_factory.mktemp("superset")
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    result = build(bi_reader_url, home, free_port(), SCREENSHOTS, keep_running=True)
    try:
        yield result
    finally:
        Superset(home, int(result.url.rsplit(":", 1)[1])).stop()
