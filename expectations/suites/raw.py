"""Raw layer: the current-state tables the connectors load, judged against the sync-run log.

The raw tables are the ones the dbt project declares as sources in schema ``raw``
(``sources:`` in the staging ymls: source name = vendor, table name = stream, ``identifier`` =
the relation): what the warehouse is built from is what must be loaded and fresh.

Per table ``raw.<source>__<stream>``: key columns present (the columns the dbt source declares,
its ``loaded_at_field``, and those the checks below read); ``_pk`` unique and not null (a
catalog check when the primary key constraint exists, a scan otherwise); cursors not in the
future; rows present when the last successful run loaded records; every key the last
successful run loaded (``__loads``) present in the current-state table; as many distinct keys
loaded by that run as the source said its window held (``source_total``, when it says). On ``raw._sync_runs``:
the last successful sync of every stream is recent enough (freshness); a stream whose latest
run failed is reported.
"""

from __future__ import annotations

from expectations import dbt_project
from expectations.rules import BuildEnv, not_in_future, not_null, unique_key
from expectations.spec import TableSuite, offending_rows, sql_list

RAW = "raw"
# Columns the checks below read, and their types (the dbt sources declare no ``data_type``:
# the connectors' loader creates these tables).
COLUMN_TYPES = {"_pk": "text", "_cursor": "timestamp with time zone", "record": "jsonb", "_sync_id": "uuid"}


def streams() -> list[tuple[str, str, str]]:
    """(source, stream, table) of every raw table the dbt project declares as a source."""
    return dbt_project.project().source_tables(RAW)


def _key_columns(source: str, stream: str) -> tuple[str, ...]:
    declared = dbt_project.project().sources[source]
    loaded_at = (declared.loaded_at_field,) if declared.loaded_at_field else ()
    return tuple(dict.fromkeys([*COLUMN_TYPES, *declared.columns[stream], *loaded_at]))


def _last_success(source: str, stream: str) -> str:
    return (
        "(select sync_id, finished_at, records from raw._sync_runs "
        f"where source = '{source}' and stream = '{stream}' and status = 'success' "
        "order by finished_at desc limit 1)"
    )


def _current_state(env: BuildEnv, source: str, stream: str, table: str) -> TableSuite:
    checks, constraint_keys = unique_key(env, RAW, table, ("_pk",))
    for col in ("record", "_sync_id"):
        if not env.catalog.not_null(RAW, table, col):
            checks.append(not_null([col], show=("_pk",)))
    checks.append(not_in_future(env, "_cursor", key=("_pk",), name="expect_cursor_not_in_future"))
    checks.append(
        offending_rows(
            "expect_rows_when_last_sync_loaded",
            f"select r.sync_id, r.finished_at, r.records from {_last_success(source, stream)} as r "
            "where r.records > 0 and not exists (select 1 from {batch} as t)",
            "The table has rows when its last successful sync loaded records.",
        )
    )
    if env.catalog.exists(RAW, f"{table}__loads"):
        checks.append(
            offending_rows(
                "expect_last_sync_rows_present",
                f"select l._pk, l._sync_id from raw.{table}__loads as l "
                f"inner join {_last_success(source, stream)} as r on l._sync_id = r.sync_id "
                "where not exists (select 1 from {batch} as c where c._pk = l._pk)",
                "Every key the last successful sync loaded is in the current-state table.",
            )
        )
        if env.catalog.has_column(RAW, "_sync_runs", "source_total"):
            checks.append(_source_total_loaded(source, stream, table))
    return TableSuite(
        layer="raw",
        schema=RAW,
        table=table,
        checks=checks,
        key_columns=_key_columns(source, stream),
        column_types=COLUMN_TYPES,
        constraint_keys=tuple(constraint_keys),
    )


def _source_total_loaded(source: str, stream: str, table: str):
    """A count gap: the source said the last successful sync's window held more records
    (``source_total``, e.g. CRM search's ``total``) than the distinct keys it loaded or rejected.
    Records only join a window (an edit moves a record later, never out), so fewer means paging
    skipped one; the key check above cannot see it, as the skipped key is in no load."""
    return offending_rows(
        "expect_source_total_loaded",
        "select r.sync_id, r.finished_at, r.source_total, r.rejected, count(distinct c._pk) as loaded_keys "
        "from (select sync_id, finished_at, source_total, rejected from raw._sync_runs "
        f"where source = '{source}' and stream = '{stream}' and status = 'success' "
        "order by finished_at desc limit 1) as r "
        f"left join raw.{table}__loads as l on l._sync_id = r.sync_id "
        "left join {batch} as c on c._pk = l._pk "
        "where r.source_total is not null "
        "group by r.sync_id, r.finished_at, r.source_total, r.rejected "
        "having count(distinct c._pk) + r.rejected < r.source_total",
        "The last successful sync loaded (or rejected) as many distinct keys as the source said its window held.",
    )


def _sync_log(env: BuildEnv) -> TableSuite:
    hours = env.settings.raw_max_age_hours
    expected = ", ".join(f"({sql_list([source, stream, table])})" for source, stream, table in streams())
    return TableSuite(
        layer="raw",
        schema=RAW,
        table="_sync_runs",
        key_columns=("sync_id", "source", "stream", "status", "finished_at", "records"),
        checks=[
            offending_rows(
                "expect_streams_fresh",
                "select 'raw.' || e.table_name as table_name, "
                "max(r.finished_at) as last_success, "
                f"now() - interval '{hours} hours' as required_after "
                f"from (values {expected}) as e (source, stream, table_name) "
                "left join {batch} as r on r.source = e.source and r.stream = e.stream and r.status = 'success' "
                "group by e.source, e.stream, e.table_name "
                f"having max(r.finished_at) is null or max(r.finished_at) < now() - interval '{hours} hours'",
                f"Every stream's last successful sync finished within {hours} h.",
            ),
            offending_rows(
                "expect_latest_run_not_failed",
                "select 'raw.' || source || '__' || stream as table_name, sync_id, started_at, error "
                "from (select distinct on (source, stream) * from {batch} as b "
                "where status <> 'running' order by source, stream, started_at desc) as latest "
                "where status = 'failed'",
                "The latest finished run of every stream succeeded.",
                severity="warning",
            ),
        ],
    )


def build(env: BuildEnv) -> list[TableSuite]:
    return [_sync_log(env)] + [_current_state(env, *s) for s in streams()]
