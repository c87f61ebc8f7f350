"""dbt fixtures: a private simulated world loaded by the connectors into its own database, and
helpers to run dbt against it and compare the warehouse with the simulator's ground truth.

The world and the mock server are private to this package (the tests advance the clock), and
so is the database, so nothing here disturbs the session-wide fixtures other tests share.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from connectors.config import SourceConfig
from connectors.registry import STREAMS
from connectors.sync import run_stream
from tests.conftest import (
    HUBSPOT_TOKEN,
    MIXPANEL_SECRET,
    MIXPANEL_USER,
    STRIPE_KEY,
    TEST_AS_OF,
    TEST_WORLD_ACCOUNTS,
    TEST_WORLD_SEED,
    _create_db,
    _drop_db,
)
from warehouse.dbt import run_dbt

# Product events are loaded from this many days before as-of (the daily marts need 150).
EVENT_HISTORY_DAYS = 400
AS_OF_VARS = f'{{"as_of_date": "{TEST_AS_OF.isoformat()}"}}'
# Measured numbers, printed at the end of the session (pytest -s) and written beside the target.
MEASURED: dict[str, object] = {}


def source_configs(srv) -> dict[str, SourceConfig]:
    start = (TEST_AS_OF - timedelta(days=EVENT_HISTORY_DAYS)).isoformat()
    mix = {"engage_base": srv.url("mixpanel"), "start_date": start, "window_days": EVENT_HISTORY_DAYS + 10}
    return {
        "stripe": SourceConfig("stripe", srv.url("stripe"), STRIPE_KEY),
        "hubspot": SourceConfig("hubspot", srv.url("hubspot"), HUBSPOT_TOKEN),
        "mixpanel": SourceConfig("mixpanel", srv.url("mixpanel"), MIXPANEL_SECRET, MIXPANEL_USER, settings=mix),
    }


def sync_everything(url: str, srv) -> None:
    cfgs = source_configs(srv)
    for source, streams in STREAMS.items():
        for name in streams:
            run_stream(url, cfgs[source], name)


def dbt(args: list[str], url: str, target: Path) -> float:
    """Run dbt; return the wall time in seconds (raises DbtFailed on any failure)."""
    started = time.perf_counter()
    run_dbt(args, url, target_path=target)
    return time.perf_counter() - started


def dbt_node_seconds(args: list[str], url: str, target: Path) -> float:
    """Run dbt; return the summed execution time of its nodes (without parsing and start-up)."""
    return sum(node["seconds"] or 0 for node in run_dbt(args, url, target_path=target))


def query(url: str, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="package")
def dbt_world(tmp_path_factory) -> Path:
    from simulator.world import generate_world

    return generate_world(
        tmp_path_factory.mktemp("dbt_world"), accounts=TEST_WORLD_ACCOUNTS, seed=TEST_WORLD_SEED, as_of=TEST_AS_OF
    )


@pytest.fixture(scope="package")
def dbt_apis(dbt_world: Path):
    from simulator.server import MockApiServer

    with MockApiServer(dbt_world, host="127.0.0.1", port=0) as srv:
        yield srv


@pytest.fixture(scope="package")
def loaded_warehouse(warehouse_admin_url: str, dbt_apis) -> str:
    """A fresh database with every stream of the simulated world loaded by the connectors."""
    url = _create_db(warehouse_admin_url, "postsale_dbt")
    try:
        sync_everything(url, dbt_apis)
        yield url
    finally:
        _drop_db(warehouse_admin_url, url)


@pytest.fixture(scope="package")
def dbt_target(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("dbt_target")


@pytest.fixture(scope="package")
def built_warehouse(loaded_warehouse: str, dbt_target: Path) -> str:
    """The warehouse after one `dbt build --full-refresh` (models, snapshots, seeds and data tests
    on every row), then every unit test: those on incremental models read the built table."""
    build = ["build", "--full-refresh", "--exclude-resource-type", "unit_test", "--vars", AS_OF_VARS]
    MEASURED["full_build_seconds"] = round(dbt(build, loaded_warehouse, dbt_target), 1)
    dbt(["test", "--select", "test_type:unit", "--vars", AS_OF_VARS], loaded_warehouse, dbt_target)
    return loaded_warehouse


@pytest.fixture(scope="package")
def ground_truth(dbt_world: Path) -> dict:
    from simulator.accuracy import load_truth

    return load_truth(dbt_world)


def pytest_sessionfinish(session, exitstatus):
    if MEASURED:
        print("\n== dbt measurements: " + json.dumps(MEASURED, sort_keys=True))
