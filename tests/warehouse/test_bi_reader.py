"""The BI reader role: idempotent and race-safe on a shared server, read-only, marts and the
reports' two audit tables only, still reading marts after dbt rebuilds them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from warehouse.bi_reader import ensure_bi_reader


def test_concurrent_creates_agree_and_the_reader_reads_only_what_reports_show(fresh_warehouse_url):
    with psycopg.connect(fresh_warehouse_url, autocommit=True) as conn:
        conn.execute("create schema marts; create schema audit")
        conn.execute("create table marts.old (i int); insert into marts.old values (1)")
        conn.execute("create table audit.validation_results (i int); create table audit.validation_marks (i int)")
    with ThreadPoolExecutor(4) as pool:  # roles are cluster-wide: sessions race on them
        urls = set(pool.map(lambda _: ensure_bi_reader(fresh_warehouse_url), range(4)))
    assert len(urls) == 1
    url = urls.pop()
    with psycopg.connect(fresh_warehouse_url, autocommit=True) as conn:  # dbt rebuilds a mart
        conn.execute("create table marts.new (i int); insert into marts.new values (2)")
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("select i from old").fetchone() == (1,)  # search_path = marts
        assert conn.execute("select i from marts.new").fetchone() == (2,)
        assert conn.execute("select count(*) from audit.validation_results").fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from audit.validation_marks")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("insert into marts.new values (3)")


def test_processes_generating_the_password_at_once_all_get_the_one_written(tmp_path, monkeypatch):
    from warehouse.bi_reader import password

    monkeypatch.delenv("WAREHOUSE_BI_READER_PASSWORD", raising=False)
    path = tmp_path / "bi_reader_password"
    with ThreadPoolExecutor(8) as pool:
        secrets_ = set(pool.map(lambda _: password(path), range(8)))
    assert len(secrets_) == 1 and secrets_ == {path.read_text().strip()}
    assert path.stat().st_mode & 0o077 == 0
    assert [p.name for p in tmp_path.iterdir()] == ["bi_reader_password"]  # no temporary file left
