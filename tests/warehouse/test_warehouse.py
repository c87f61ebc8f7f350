"""Warehouse resolution: WAREHOUSE_URL wins; otherwise the embedded server starts, answers, is reused."""

from __future__ import annotations

import psycopg
import pytest

from warehouse import postgres as warehouse
from warehouse.embedded import EmbeddedPostgres
from warehouse.postgres import WarehouseParams


def test_url_parts_round_trip():
    p = WarehouseParams.from_url("postgresql://loader:s%40cret@db.example:6543/wh")
    assert (p.host, p.port, p.user, p.password, p.dbname) == ("db.example", 6543, "loader", "s@cret", "wh")
    assert p.dbt_env()["WAREHOUSE_PORT"] == "6543"
    assert WarehouseParams.from_url(p.url()).password == "s@cret"


def test_dbt_sessions_run_without_jit(monkeypatch, warehouse_admin_url):
    """dbt's connections get the session options through libpq's PGOPTIONS (JIT off by default)."""
    env = WarehouseParams.from_url(warehouse_admin_url).dbt_env()
    assert env["PGOPTIONS"] == "-c jit=off"
    monkeypatch.setenv("PGOPTIONS", env["PGOPTIONS"])
    with psycopg.connect(warehouse_admin_url) as conn:
        assert conn.execute("show jit").fetchone()[0] == "off"
    monkeypatch.setenv("POSTSALE_DBT_PGOPTIONS", "-c jit=on -c work_mem=64MB")
    assert WarehouseParams.from_url(warehouse_admin_url).dbt_env()["PGOPTIONS"] == "-c jit=on -c work_mem=64MB"


@pytest.mark.parametrize("bad", ["mysql://x@h/db", "postgresql:///db?host=/tmp"])
def test_url_rejects_other_schemes_and_sockets(bad):
    with pytest.raises(ValueError):
        WarehouseParams.from_url(bad)


def test_warehouse_url_env_wins(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://u@somewhere:5432/x")
    assert warehouse.resolve_warehouse_url() == "postgresql://u@somewhere:5432/x"


def test_embedded_server_starts_answers_and_is_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("POSTSALE_LOCAL_DIR", str(tmp_path / "local"))
    server = EmbeddedPostgres()
    try:
        url = warehouse.resolve_warehouse_url()
        params = WarehouseParams.from_url(url)
        assert params.host == "127.0.0.1" and params.dbname == "postsale"
        with psycopg.connect(url) as conn:
            pid_before = conn.execute("select pg_postmaster_start_time()").fetchone()[0]
            assert conn.execute("select 41 + 1").fetchone()[0] == 42
        # A second resolution reuses the running server instead of starting another one.
        assert warehouse.resolve_warehouse_url() == url
        with psycopg.connect(url) as conn:
            assert conn.execute("select pg_postmaster_start_time()").fetchone()[0] == pid_before
        # After a stop, the same data directory and port come back.
        server.stop()
        assert not server.is_running()
        assert warehouse.resolve_warehouse_url() == url
    finally:
        server.stop()
