"""Shared fixtures: a fresh warehouse database per session, the simulated APIs, an Airflow home.

The database is created on the server at ``WAREHOUSE_ADMIN_URL`` (CI points it at the machine's
PostgreSQL) or, when unset, on the embedded server under ``.local/pg``; it is dropped afterwards.

`make test` runs the suite on two pytest-xdist workers (``-n 2 --dist loadgroup``). Session
fixtures are then per worker, so each worker has its own databases (named after the worker), its
own Airflow home, cosmos cache and dbt log directory; and dbt runs in tests write their own target
path, never ``dbt_project/target`` (whose manifest, from `make manifest`, the DAGs render from).
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
# "gw0", "gw1", ... under pytest-xdist; "main" when the suite runs in one process.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
TESTS_DIR = Path(__file__).resolve().parent
# pytest-xdist groups (`make test`: -n 2 --dist loadgroup): one worker runs a whole group. A group
# is a test file (module fixtures), or a whole package whose conftest builds a warehouse or a world
# once per package or session, so that only one worker builds it.
WHOLE_PACKAGE_GROUPS = ("dbt", "expectations", "reports", "simulator")
# The groups that start first, in this order (`--no-loadscope-reorder` keeps it): the end-to-end
# test on one worker, the bench smoke on the other. xdist queues a third group on the first worker
# at once (it keeps two tests pending), so that is the DagBag test, which shares its Airflow home;
# then the next longest.
FIRST_GROUPS = (
    "pipeline/test_pipeline_e2e.py",
    "benchmarks/test_bench_smoke.py",
    "pipeline/test_dagbag.py",
    "reports",
    "dbt",
)


def xdist_group(path: Path) -> str:
    rel = path.resolve().relative_to(TESTS_DIR)
    return rel.parts[0] if rel.parts[0] in WHOLE_PACKAGE_GROUPS else rel.as_posix()


def pytest_collection_modifyitems(config, items):
    """Put the groups of FIRST_GROUPS first, in that order (a stable sort: the rest keep theirs)."""

    def rank(item) -> int:
        group = xdist_group(item.path)
        return FIRST_GROUPS.index(group) if group in FIRST_GROUPS else len(FIRST_GROUPS)

    items.sort(key=rank)


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadgroup` by xdist_group() of each test's path. (xdist's own loadgroup reads the
    `xdist_group` mark through node ids, which pytest 9.2 no longer lets it rewrite:
    pytest-dev/pytest-xdist#1386; it would silently split every group.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class PathGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_group(config.rootpath / nodeid.split("::", 1)[0])

    return PathGroupScheduling(config, log)


@pytest.fixture(scope="session", autouse=True)
def _private_dbt_logs(tmp_path_factory):
    """dbt (in this process and in the DAG runs' tasks) logs into this worker's directory, not
    ``dbt_project/logs`` which every worker would append to and rotate at once."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DBT_LOG_PATH", str(tmp_path_factory.mktemp("dbt_logs")))
        yield


@pytest.fixture(scope="session")
def warehouse_admin_url() -> str:
    return admin_url()


def _create_db(admin: str, prefix: str) -> str:
    name = f"{prefix}_{XDIST_WORKER}_{uuid.uuid4().hex[:10]}"
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
def airflow_home(tmp_path_factory, _private_dbt_logs) -> dict[str, str]:
    """An Airflow home with migrated SQLite metadata; returns the environment to run Airflow in."""
    home = tmp_path_factory.mktemp("airflow")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        # cosmos' partial-parse cache: this worker's, not `make`'s shared .local/cosmos.
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos"),
        "DO_NOT_TRACK": "1",
        "POSTSALE_TASK_RETRIES": "0",
    }
    subprocess.run([str(VENV_BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
    return env
