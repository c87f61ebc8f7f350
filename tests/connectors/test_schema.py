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


def _estimated_rows(conn: psycopg.Connection, table: str, kind: str) -> float:
    plan = conn.execute(
        f"explain (format json) select * from raw.{table} where record ->> 'kind' = %s", (kind,)
    ).fetchone()[0]
    return plan[0]["Plan"]["Plan Rows"]


def test_record_statistics_give_the_planner_real_estimates_on_json_keys(warehouse_admin_url):
    """A stream's `record_statistics` keys get expression statistics: after ANALYZE the planner
    estimates a condition on `record ->> key` from the data, where a table without them gets
    PostgreSQL's 0.5% guess (the guess that picked quadratic nested loops on HubSpot links)."""
    url = _create_db(warehouse_admin_url, "postsale_stats")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            schema.ensure_meta_tables(conn)
            for table, keys in (("src__with_stats", ("kind",)), ("src__without", ())):
                schema.ensure_stream_tables(conn, table, "merge", keys)
                schema.ensure_stream_tables(conn, table, "merge", keys)  # idempotent
                conn.execute(
                    f"insert into raw.{table} (_pk, record, _sync_id) select i::text, "
                    "jsonb_build_object('kind', case when i % 10 = 0 then 'rare' else 'common' end), "
                    "gen_random_uuid() from generate_series(1, 20000) as i"
                )
                conn.execute(f"analyze raw.{table}")
            assert 1_000 <= _estimated_rows(conn, "src__with_stats", "rare") <= 4_000  # 2,000 rows match
            assert _estimated_rows(conn, "src__without", "rare") <= 200  # the 0.5% guess: 100
    finally:
        _drop_db(warehouse_admin_url, url)
