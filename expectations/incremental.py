"""Incremental validation of big append-only tables: check only the rows that can have changed.

A ``TableSuite`` with ``dated_by`` (e.g. ``cursor_at`` on ``staging.stg_mixpanel__events``)
is validated on the rows whose dating column is ``>= mark - late_arrival_days`` or null,
where the mark is the column's maximum read at the start of the last run in which that suite
had no critical failure. It is the late-arrival contract of the incremental dbt models and of their
data tests (``dbt_project/macros/get_where_subquery.sql``): older rows were checked when they
arrived and an append-only table leaves them as they were, so re-reading millions of them on
every run would cost more than building the layer.

Every row is checked on the first run (no mark), when the table went backwards (its maximum
is below the mark: reloaded, so old rows may be new), and when asked for
(``validate_layer(..., all_rows=True)``, ``--all-rows``, or ``POSTSALE_VALIDATE_ALL_ROWS=1``).
Marks live in ``audit.validation_marks`` and are written in the same transaction as the run's
results, only for suites that passed: a failed run leaves the old mark, so its rerun re-checks
the same rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from psycopg import Connection

from expectations.audit import DDL
from expectations.catalog import Catalog
from expectations.settings import dbt_var
from expectations.spec import TableSuite, ident

ALL_ROWS_ENV = "POSTSALE_VALIDATE_ALL_ROWS"


@dataclass(frozen=True)
class Scope:
    """Which rows of a dated suite's table one run validates."""

    relation: str
    column: str
    mark: datetime | None  # the column's maximum at the start of this run (recorded if the suite passes)
    since: datetime | None  # lower bound of the batch; None = every row
    previous_mark: datetime | None = None
    late_arrival_days: int = 0
    reason: str = ""  # why every row is checked

    def query(self) -> str | None:
        """The batch as a query restricted in PostgreSQL (through the column's index), or None for every row."""
        if self.since is None:
            return None
        schema, table = self.relation.split(".", 1)
        col = ident(self.column)
        # A row without a date cannot be placed before the mark: it is always checked.
        return (
            f"select * from {ident(schema)}.{ident(table)} "
            f"where {col} >= timestamptz '{self.since.isoformat()}' or {col} is null"
        )

    def describe(self) -> dict:
        """What ``audit.validation_results.kwargs -> 'scope'`` shows for the suite's rows."""
        if self.since is None:
            return {"rows": "all", "column": self.column, "reason": self.reason}
        return {
            "rows": "incremental",
            "column": self.column,
            "since": self.since.isoformat(),
            "previous_mark": self.previous_mark.isoformat() if self.previous_mark else None,
            "late_arrival_days": self.late_arrival_days,
        }


def all_rows_requested() -> bool:
    return os.environ.get(ALL_ROWS_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def late_arrival_days() -> int:
    """The dbt var the incremental models re-read by: the gate and the models share one contract."""
    return int(dbt_var("late_arrival_days"))


def _as_timestamp(value: date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=UTC)  # a date column's day starts the mark


def read_scopes(
    conn: Connection, suites: list[TableSuite], all_rows: bool, catalog: Catalog, as_of_date: date | None = None
) -> dict[str, Scope]:
    """Each dated suite's scope for this run; read before any check runs.

    ``as_of_date`` (the pipeline run's day) lowers the bound to that day less the late-arrival
    days when it is earlier: a backfill rebuilds the rows from its day on, and they are checked.

    A suite whose dating column is missing checks every row (and its catalog check, which lists
    the column among the key columns, fails naming it) instead of failing the whole run here.
    """
    dated = [ts for ts in suites if ts.dated_by]
    if not dated:
        return {}
    days = late_arrival_days()
    has_marks = conn.execute("select to_regclass('audit.validation_marks') is not null").fetchone()[0]
    scopes = {}
    for ts in dated:
        col = ts.dated_by
        if not catalog.has_column(ts.schema, ts.table, col):
            scopes[ts.name] = Scope(ts.relation, col, None, None, None, days, "dating column missing")
            continue
        previous = None
        if has_marks:
            row = conn.execute(
                "select mark from audit.validation_marks where suite = %s and column_name = %s", (ts.name, col)
            ).fetchone()
            previous = row[0] if row else None
        # Lower bounds to find the maximum above cheaply: at or past the previous mark (normally),
        # or within the last day (a first run on current data).
        recent = datetime.now(UTC) - timedelta(days=1)
        mark = _max(conn, ts, [b for b in (previous, recent) if b is not None])
        if all_rows:
            reason = "all rows requested"
        elif previous is None:
            reason = "no mark recorded (first run)"
        elif mark is None or mark < previous:
            reason = "table went back below the mark (reloaded or emptied)"
        else:
            reason = ""
        since = None if reason else previous - timedelta(days=days)
        if since is not None and as_of_date is not None:
            since = min(since, _as_timestamp(as_of_date) - timedelta(days=days))
        scopes[ts.name] = Scope(ts.relation, col, mark, since, previous, days, reason)
    return scopes


def _max(conn: Connection, ts: TableSuite, bounds: list[datetime]) -> datetime | None:
    """The dating column's maximum: the first non-null max over ``col >= bound`` is the maximum
    of the whole column, whatever the bound; without one, the whole column is read.

    (PostgreSQL does not push a bare max() into a dbt view built from CTEs, so over the whole
    view it reads every row; a lower bound is pushed down to the raw table's index.)
    """
    col, rel = ident(ts.dated_by), f"{ident(ts.schema)}.{ident(ts.table)}"
    for bound in bounds:
        found = conn.execute(f"select max({col}) from {rel} where {col} >= %s", (bound,)).fetchone()[0]
        if found is not None:
            return _as_timestamp(found)
    return _as_timestamp(conn.execute(f"select max({col}) from {rel}").fetchone()[0])


def record_marks(conn: Connection, scopes: dict[str, Scope], failed_suites: set[str], run_id: str) -> list[str]:
    """Move the mark of every dated suite that had no critical failure; return the suites moved."""
    moved = [name for name, s in scopes.items() if s.mark is not None and name not in failed_suites]
    if not moved:
        return []
    conn.execute(DDL)
    with conn.cursor() as cur:
        cur.executemany(
            """
            insert into audit.validation_marks (suite, column_name, table_name, mark, run_id)
            values (%(suite)s, %(column)s, %(table)s, %(mark)s, %(run_id)s)
            on conflict (suite, column_name) do update
            set table_name = excluded.table_name, mark = excluded.mark, run_id = excluded.run_id,
                recorded_at = clock_timestamp()
            """,
            [
                {
                    "suite": name,
                    "column": scopes[name].column,
                    "table": scopes[name].relation,
                    "mark": scopes[name].mark,
                    "run_id": run_id,
                }
                for name in moved
            ],
        )
    return moved
