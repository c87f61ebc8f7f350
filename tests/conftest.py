"""Shared fixtures: a fresh warehouse database per session, the simulated APIs, an Airflow home.

The database is created on the server at ``WAREHOUSE_ADMIN_URL`` (CI points it at the machine's
PostgreSQL) or, when unset, on the embedded server under ``.local/pg``; it is dropped afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from simulator.connections import credentials
from warehouse.paths import PROJECT_ROOT
from warehouse.postgres import WarehouseParams, admin_url

TEST_WORLD_ACCOUNTS = 40
TEST_WORLD_SEED = 7
TEST_AS_OF = date(2026, 11, 1)
# The credentials the simulator accepts: it owns them (simulator/connections.py).
STRIPE_KEY = credentials("stripe")[1]
HUBSPOT_TOKEN = credentials("hubspot")[1]
MIXPANEL_USER, MIXPANEL_SECRET = credentials("mixpanel")
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def warehouse_admin_url() -> str:
    return admin_url()


def _create_db(admin: str, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return WarehouseParams.from_url(admin).url(dbname=name)


def _drop_db(admin: str, url: str) -> None:
    name = WarehouseParams.from_url(url).dbname
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def warehouse_url(warehouse_admin_url: str):
    """A fresh database for the whole session."""
    url = _create_db(warehouse_admin_url, "postsale_test")
    yield url
    _drop_db(warehouse_admin_url, url)


@pytest.fixture
def fresh_warehouse_url(warehouse_admin_url: str):
    """A fresh database for one test (for tests that corrupt or count from zero)."""
    url = _create_db(warehouse_admin_url, "postsale_test")
    yield url
    _drop_db(warehouse_admin_url, url)


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory) -> Path:
    from simulator.world import generate_world

    return generate_world(
        tmp_path_factory.mktemp("world"), accounts=TEST_WORLD_ACCOUNTS, seed=TEST_WORLD_SEED, as_of=TEST_AS_OF
    )


@pytest.fixture(scope="session")
def mock_apis(world_dir: Path):
    from simulator.server import MockApiServer

    with MockApiServer(world_dir, host="127.0.0.1", port=0) as srv:
        yield srv


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory) -> dict[str, str]:
    """An Airflow home with migrated SQLite metadata; returns the environment to run Airflow in."""
    home = tmp_path_factory.mktemp("airflow")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "DO_NOT_TRACK": "1",
        "POSTSALE_TASK_RETRIES": "0",
    }
    subprocess.run([str(VENV_BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
    return env
