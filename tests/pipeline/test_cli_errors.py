"""Bad input to ``postsale``: one line on stderr naming what is wrong, exit 1, no traceback, no secret."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import psycopg
import pytest
from psycopg import sql

from warehouse.paths import PROJECT_ROOT
from warehouse.postgres import WarehouseParams

TOKEN = "pat-na1-secret-token-0451"
DB_PASSWORD = "hunter2-db-secret"
# Variables that would let the command find credentials or a server other than the ones given.
CLEARED = ("HUBSPOT_", "STRIPE_", "MIXPANEL_", "AIRFLOW_CONN_", "WAREHOUSE_URL", "REVERSE_ETL_", "POSTSALE_")


def postsale(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED)}
    base["PYTHONPATH"] = str(PROJECT_ROOT)
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        env={**base, **env},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line(result: subprocess.CompletedProcess, command: str, *expected: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = lines
    assert line.startswith(f"postsale {command}: ")
    for text in expected:
        assert text in line
    for secret in (TOKEN, DB_PASSWORD):
        assert secret not in result.stderr and secret not in result.stdout
    return line


@pytest.fixture
def db(fresh_warehouse_url) -> str:
    """The test database, reached with a password in its URL (trust auth ignores it)."""
    params = WarehouseParams.from_url(fresh_warehouse_url)
    return f"postgresql://{params.user}:{DB_PASSWORD}@{params.host}:{params.port}/{params.dbname}"


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (("sync", "--source", "hubspot"), {}, ["HUBSPOT_ACCESS_TOKEN"]),
        (("reverse-etl", "hubspot"), {}, ["HUBSPOT_ACCESS_TOKEN"]),
        (("sync", "--source", "hubspot"), {"HUBSPOT_SETTINGS": "{not json"}, ["HUBSPOT_SETTINGS", "JSON"]),
        (("sync", "--source", "hubspot"), {"HUBSPOT_SETTINGS": '["page_size", 5]'}, ["HUBSPOT_SETTINGS"]),
        (("sync", "--source", "hubspot"), {"HUBSPOT_SETTINGS": '{"streams": {"companies": 5}}'}, ["streams"]),
        (("sync", "--source", "nope"), {}, ["unknown source 'nope'"]),
        (("sync", "--source", "hubspot", "--stream", "nope"), {}, ["unknown stream hubspot.nope"]),
        (("reverse-etl", "hubspot", "--dry-run"), {"REVERSE_ETL_BATCH_SIZE": "many"}, ["REVERSE_ETL_BATCH_SIZE"]),
        (("reverse-etl", "hubspot"), {"REVERSE_ETL_MAX_FAILURE_SHARE": "2"}, ["REVERSE_ETL_MAX_FAILURE_SHARE"]),
        (("reverse-etl", "hubspot"), {"REVERSE_ETL_FRESH_LAYERS": "marts,gold"}, ["REVERSE_ETL_FRESH_LAYERS"]),
        (("report",), {"AIRFLOW_CONN_POSTSALE_WAREHOUSE": "{not json"}, ["AIRFLOW_CONN_POSTSALE_WAREHOUSE"]),
    ],
)
def test_bad_configuration(db, args, env, expected):
    token = {} if "HUBSPOT_ACCESS_TOKEN" in expected else {"HUBSPOT_ACCESS_TOKEN": TOKEN}
    # Nothing listens at the API base: no case may get as far as a request.
    result = postsale(*args, WAREHOUSE_URL=db, HUBSPOT_API_BASE="http://127.0.0.1:9", **token, **env)
    assert_one_line(result, args[0], *expected)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://postsale:{DB_PASSWORD}@127.0.0.1:1/postsale",  # nothing listens there
        f"postgresql://postsale:{DB_PASSWORD}@127.0.0.1:notaport/postsale",  # not a connection string
    ],
)
def test_unreachable_or_malformed_warehouse(url):
    assert_one_line(postsale("report", WAREHOUSE_URL=url), "report", "warehouse")


def test_read_only_role(fresh_warehouse_url, db):
    role = f"postsale_ro_{uuid.uuid4().hex[:8]}"
    params = WarehouseParams.from_url(fresh_warehouse_url)
    with psycopg.connect(fresh_warehouse_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
        conn.execute(sql.SQL("revoke create on schema public from public"))
    try:
        url = f"postgresql://{role}:{DB_PASSWORD}@{params.host}:{params.port}/{params.dbname}"
        result = postsale("reverse-etl", "hubspot", "--dry-run", WAREHOUSE_URL=url, HUBSPOT_ACCESS_TOKEN=TOKEN)
        assert_one_line(result, "reverse-etl", "permission denied")
    finally:
        with psycopg.connect(fresh_warehouse_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def test_verbose_shows_the_traceback(db):
    result = postsale("--verbose", "sync", "--source", "nope", WAREHOUSE_URL=db)
    assert result.returncode != 0 and "Traceback" in result.stderr
