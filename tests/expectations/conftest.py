"""A small validated warehouse, built once and copied per test (``create database ... template``).

The base database gets every raw table the dbt project declares as a source (each a stream of
a 25-account simulated world, events from September) and the dbt staging views; each test
receives its own copy to corrupt.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from connectors.config import SourceConfig
from expectations.suites.raw import streams
from tests.conftest import HUBSPOT_TOKEN, MIXPANEL_SECRET, MIXPANEL_USER, STRIPE_KEY, TEST_AS_OF
from warehouse.postgres import WarehouseParams


def _configs(srv) -> dict[str, SourceConfig]:
    mix = {"engage_base": srv.url("mixpanel"), "start_date": "2026-09-15", "end_date": TEST_AS_OF.isoformat()}
    return {
        "stripe": SourceConfig("stripe", srv.url("stripe"), STRIPE_KEY),
        "hubspot": SourceConfig("hubspot", srv.url("hubspot"), HUBSPOT_TOKEN),
        "mixpanel": SourceConfig("mixpanel", srv.url("mixpanel"), MIXPANEL_SECRET, MIXPANEL_USER, settings=mix),
    }


# The marts the marts suites check (expectations/suites/marts.py).
MARTS_WITH_SUITES = (
    "fct_journey_stage_daily",
    "fct_account_health_daily",
    "fct_onboarding_scorecard",
    "fct_renewals",
    "fct_revenue_retention",
    "fct_revenue_retention_by_month",
    "mart_crm_sync",
    "mart_crm_tasks",
)


@pytest.fixture(scope="session")
def gx_local_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("gx_local")


@pytest.fixture(autouse=True)
def _private_gx_context(monkeypatch, gx_local_dir):
    """The GX file context and Data Docs of these tests live in a temporary directory.

    (Not through POSTSALE_LOCAL_DIR: that also says where the embedded PostgreSQL lives.)
    """
    import expectations.runner

    monkeypatch.setattr(expectations.runner, "gx_root", lambda: gx_local_dir / "gx")


@pytest.fixture(scope="session")
def base_warehouse(warehouse_admin_url, tmp_path_factory):
    from connectors.sync import run_stream
    from simulator.server import MockApiServer
    from simulator.world import generate_world
    from warehouse.dbt import run_dbt

    name = f"postsale_gxbase_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = WarehouseParams.from_url(warehouse_admin_url).url(dbname=name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIMULATOR_MIXPANEL_HOURLY_LIMIT", "0")
        world = generate_world(tmp_path_factory.mktemp("gxworld"), accounts=25, seed=11, as_of=TEST_AS_OF)
        with MockApiServer(world, host="127.0.0.1", port=0) as srv:
            cfgs = _configs(srv)
            for source, stream, _table in streams():
                run_stream(url, cfgs[source], stream)
    run_dbt(
        ["build", "--select", "staging", "--vars", f'{{"as_of_date": "{TEST_AS_OF.isoformat()}"}}'],
        url,
        target_path=tmp_path_factory.mktemp("dbt_target"),
    )
    yield url
    with psycopg.connect(warehouse_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture
def warehouse(base_warehouse, warehouse_admin_url):
    """A private copy of the validated base warehouse, dropped after the test."""
    base = WarehouseParams.from_url(base_warehouse).dbname
    name = f"postsale_gxtest_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(base)))
    url = WarehouseParams.from_url(warehouse_admin_url).url(dbname=name)
    yield url
    with psycopg.connect(warehouse_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def execute(url: str, *statements: str, params=None) -> None:
    with psycopg.connect(url) as conn:
        for statement in statements:
            conn.execute(statement, params)
