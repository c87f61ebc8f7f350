"""Raw DDL is safe when several workers start their first syncs at the same moment."""

from __future__ import annotations

import threading

import psycopg

from connectors import schema
from tests.conftest import _create_db, _drop_db

SESSIONS = 8


def _first_sync(url: str, i: int, barrier: threading.Barrier, errors: list[BaseException]) -> None:
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            barrier.wait()
            schema.ensure_meta_tables(conn)
            schema.ensure_stream_tables(conn, f"src__stream{i % 2}", "merge")
    except BaseException as exc:  # collected, asserted by the test
        errors.append(exc)


def test_concurrent_first_syncs_create_the_raw_schema_and_tables_once(warehouse_admin_url):
    """`create ... if not exists` races with itself (a unique violation on the catalog); the DDL
    lock makes eight sessions creating the same schema and tables at once all succeed."""
    for _ in range(3):
        url = _create_db(warehouse_admin_url, "postsale_ddl")
        errors: list[BaseException] = []
        barrier = threading.Barrier(SESSIONS)
        threads = [threading.Thread(target=_first_sync, args=(url, i, barrier, errors)) for i in range(SESSIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        try:
            assert errors == []
            with psycopg.connect(url) as conn:
                tables = {r[0] for r in conn.execute("select tablename from pg_tables where schemaname = 'raw'")}
            assert {"_sync_runs", "src__stream0", "src__stream1", "src__stream0__loads"} <= tables
        finally:
            _drop_db(warehouse_admin_url, url)
