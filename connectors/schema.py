"""DDL of the raw schema: load tables, current-state tables, state, rejects and the sync-run log."""

from __future__ import annotations

from psycopg import Connection, sql

RAW_SCHEMA = "raw"

_SCHEMA_DDL = "create schema if not exists raw"
_META_DDL = """
create table if not exists raw._sync_runs (
    sync_id      uuid primary key,
    source       text not null,
    stream       text not null,
    started_at   timestamptz not null default clock_timestamp(),
    finished_at  timestamptz,
    status       text not null check (status in ('running', 'success', 'failed')),
    records      bigint not null default 0,
    rejected     bigint not null default 0,
    pages        bigint not null default 0,
    checkpoints  bigint not null default 0,
    requests     bigint not null default 0,
    retries      bigint not null default 0,
    bytes        bigint not null default 0,
    seconds      double precision,
    full_refresh boolean not null default false,
    source_total bigint,
    error        text
);
-- Columns added after the first release: warehouses created earlier gain them in place.
alter table raw._sync_runs
    add column if not exists rejected bigint not null default 0,
    add column if not exists checkpoints bigint not null default 0,
    add column if not exists seconds double precision,
    add column if not exists full_refresh boolean not null default false,
    add column if not exists source_total bigint;
create table if not exists raw._stream_state (
    source      text not null,
    stream      text not null,
    state       jsonb not null,
    sync_id     uuid not null,
    updated_at  timestamptz not null default clock_timestamp(),
    primary key (source, stream)
);
create table if not exists raw._rejected_records (
    sync_id      uuid not null,
    source       text not null,
    stream       text not null,
    location     text not null,
    reason       text not null,
    payload      text,
    rejected_at  timestamptz not null default clock_timestamp()
);
"""

_MERGE_STREAM_DDL = """
create table if not exists {loads} (
    _pk         text not null,
    _cursor     timestamptz,
    record      jsonb not null,
    _deleted    boolean not null default false,
    _loaded_at  timestamptz not null default clock_timestamp(),
    _sync_id    uuid not null,
    _batch      integer not null default 0
);
alter table {loads}
    add column if not exists _deleted boolean not null default false,
    add column if not exists _batch integer not null default 0;
create index if not exists {loads_idx} on {loads} (_sync_id, _batch);
"""

_CURRENT_DDL = """
create table if not exists {current} (
    _pk         text primary key,
    _cursor     timestamptz,
    record      jsonb not null,
    _loaded_at  timestamptz not null default clock_timestamp(),
    _sync_id    uuid not null,
    _deleted    boolean not null default false
);
alter table {current} alter column _loaded_at set default clock_timestamp();
"""


# "create ... if not exists" is not safe against itself: two sessions creating the same schema
# or table at once both pass the check and one fails on the catalog's unique index (seen with
# two Celery workers starting their first syncs together). All raw DDL takes this lock first.
_DDL_LOCK = "select pg_advisory_xact_lock(hashtext('postsale.raw.ddl'))"


META_TABLES = ("_sync_runs", "_stream_state", "_rejected_records")


def ensure_meta_tables(conn: Connection) -> None:
    with conn.transaction():
        if not _may_create(conn):
            _require(conn, META_TABLES)
            return
        conn.execute(_DDL_LOCK)
        conn.execute(_SCHEMA_DDL)
        conn.execute(_META_DDL)


def ensure_stream_tables(
    conn: Connection, table: str, write_mode: str = "merge", record_statistics: tuple[str, ...] = ()
) -> None:
    """``raw.<table>`` keeps the latest row per key; merge streams also keep every load in ``__loads``.
    ``record_statistics``: record keys to keep planner statistics on (``Stream.record_statistics``)."""
    with conn.transaction():
        if not _may_create(conn):
            _require(conn, (table, f"{table}__loads") if write_mode == "merge" else (table,))
            return
        conn.execute(_DDL_LOCK)
        for stmt in stream_ddl(table, write_mode, record_statistics):
            conn.execute(stmt)


def stream_ddl(table: str, write_mode: str = "merge", record_statistics: tuple[str, ...] = ()) -> list[sql.Composed]:
    """The statements ``ensure_stream_tables`` runs (deploy/raw_ddl.py renders them for a deployment)."""
    stmts = [sql.SQL(_CURRENT_DDL).format(current=sql.Identifier(RAW_SCHEMA, table))]
    if record_statistics:
        stmts.append(_record_statistics_ddl(table, record_statistics))
    if write_mode == "merge":
        stmts.append(
            sql.SQL(_MERGE_STREAM_DDL).format(
                loads=sql.Identifier(RAW_SCHEMA, f"{table}__loads"),
                loads_idx=sql.Identifier(f"{table}__loads_sync_idx"),
            )
        )
    else:
        # Append-only streams (events) are the big ones: dbt's incremental models read only
        # the days since their last run, by the connector's cursor (the event time).
        stmts.append(
            sql.SQL("create index if not exists {} on {} (_cursor)").format(
                sql.Identifier(f"{table}_cursor_idx"), sql.Identifier(RAW_SCHEMA, table)
            )
        )
    return stmts


def meta_ddl() -> str:
    """The meta tables' statements, without creating the schema (deploy/raw_ddl.py)."""
    return _META_DDL


def _may_create(conn: Connection) -> bool:
    """Whether this role runs raw's DDL. A deployment with a role per component keeps it from
    ``loader`` (a table's owner can make a reader run its code): the raw tables are created at
    deploy time by their owner role, and the connectors only check they are there."""
    return conn.execute(
        "select has_database_privilege(current_database(), 'CREATE')"
        " and coalesce(has_schema_privilege(to_regnamespace(%s)::oid, 'CREATE'), true)",
        (RAW_SCHEMA,),
    ).fetchone()[0]


def _require(conn: Connection, tables: tuple[str, ...]) -> None:
    for table in tables:
        if conn.execute("select to_regclass(%s)", (sql.Identifier(RAW_SCHEMA, table).as_string(conn),)).fetchone()[0]:
            continue
        user = conn.execute("select current_user").fetchone()[0]
        raise RuntimeError(
            f"raw.{table} does not exist and role {user} may not create it: re-run the deployment's "
            "init (deploy/postgres/initdb.d/10-postsale.sh) to create the raw tables"
        )


def _record_statistics_ddl(table: str, keys: tuple[str, ...]) -> sql.Composed:
    """Expression statistics on ``record ->> key`` (PostgreSQL 14+), gathered by the next ANALYZE
    (autovacuum's, after a load); the staging views' conditions then estimate from real values."""
    exprs = sql.SQL(", ").join(sql.SQL("(record ->> {})").format(sql.Literal(k)) for k in keys)
    return sql.SQL("create statistics if not exists {} on {} from {}").format(
        sql.Identifier(RAW_SCHEMA, f"{table}_record_stats"), exprs, sql.Identifier(RAW_SCHEMA, table)
    )
