"""Run one stream: pages → COPY → merge → state, committed together at each checkpoint.

Nothing is half-advanced: data and the state that covers it commit in one transaction, so a
failed or killed run leaves the warehouse at the last checkpoint and a rerun resumes there.
Every run is logged in ``raw._sync_runs`` whatever its outcome.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import psycopg
from psycopg import Connection, sql

from connectors import loader, nul, schema
from connectors.state import load_state, save_state
from connectors.stream import Checkpoint, Page, Record, Stream

log = logging.getLogger(__name__)

# A stream that yields no checkpoint for this many pages (a snapshot re-read, a first full
# read) still commits its data, so a long read is not one huge transaction; the state only
# moves at the stream's own checkpoints, so a rerun still re-reads from the last one.
COMMIT_EVERY_PAGES = 100


def _analyze(conn: Connection, table: str) -> None:
    """ANALYZE a raw table: through ``raw.analyze_table`` where a deployment defines it (the
    connectors' role does not own raw's tables there: deploy/postgres/sql/warehouse.sql), else
    directly (the embedded and single-role warehouses)."""
    if conn.execute("select to_regprocedure('raw.analyze_table(text)') is not null").fetchone()[0]:
        conn.execute("select raw.analyze_table(%s)", (table,))
    else:
        conn.execute(sql.SQL("analyze {}").format(sql.Identifier(schema.RAW_SCHEMA, table)))


# A page's malformed items, kept aside while its COPY runs: (index in the page, reason, item).
Rejects = list[tuple[int, str, object]]


class StreamSyncError(RuntimeError):
    """A stream stopped: names the source, stream and page or cursor, and keeps the cause."""


@dataclass
class SyncResult:
    sync_id: str
    source: str
    stream: str
    records: int
    rejected: int
    pages: int
    checkpoints: int
    seconds: float


class _Run:
    """Book-keeping of one stream run."""

    def __init__(self, stream: Stream, sync_id: str) -> None:
        self.stream, self.sync_id = stream, sync_id
        self.records = self.rejected = self.pages = self.checkpoints = 0
        self.batch = 0
        self.batch_rows = 0
        self.pages_committed = 0
        self.started = time.monotonic()
        self.where = "before the first page"

    @property
    def label(self) -> str:
        return f"{self.stream.source}.{self.stream.name}"


def sync_stream(
    conn_url: str, stream: Stream, full_refresh: bool = False, reject_malformed: bool = False
) -> SyncResult:
    """Extract ``stream`` and load it, committing at each checkpoint. Raises StreamSyncError on failure."""
    sync_id = str(uuid.uuid4())
    run = _Run(stream, sync_id)
    with psycopg.connect(conn_url, autocommit=True) as log_conn:
        schema.ensure_meta_tables(log_conn)
        schema.ensure_stream_tables(log_conn, stream.table, stream.write_mode, stream.record_statistics)
        # One run per stream at a time; the session lock dies with a killed process.
        key = f"postsale.sync.{stream.source}.{stream.name}"
        if not log_conn.execute("select pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()[0]:
            raise StreamSyncError(f"{stream.source}.{stream.name}: another sync of this stream is running")
        log_conn.execute(
            "update raw._sync_runs set status = 'failed', finished_at = clock_timestamp(), "
            "error = 'abandoned: the process ended before the run finished' "
            "where source = %s and stream = %s and status = 'running'",
            (stream.source, stream.name),
        )
        log_conn.execute(
            "insert into raw._sync_runs (sync_id, source, stream, status, full_refresh) "
            "values (%s, %s, %s, 'running', %s)",
            (sync_id, stream.source, stream.name, full_refresh),
        )
        try:
            with psycopg.connect(conn_url) as conn:
                state = {} if full_refresh else load_state(conn, stream.source, stream.name)
                last_state = state
                for item in stream.read(state, full_refresh=full_refresh):
                    if isinstance(item, Page):
                        run.pages += 1
                        run.where = item.where
                        rejects: Rejects = []
                        records = _parse(run, item, reject_malformed, rejects)
                        if stream.write_mode == "merge":
                            read = loader.copy_records(
                                conn, loader.loads_table(stream.table), sync_id, run.batch, records
                            )
                        else:  # parsed while the server loads the page (append_streamed)
                            again = partial(_reparse, run, item, reject_malformed, rejects)
                            read, _ = loader.append_streamed(conn, stream.table, sync_id, records, again)
                        _save_rejects(conn, run, item, rejects)
                        run.records += read
                        run.batch_rows += read
                        if run.pages - run.pages_committed >= COMMIT_EVERY_PAGES:
                            _commit(conn, run, None)
                    elif isinstance(item, Checkpoint):
                        last_state = item.state
                        _commit(conn, run, last_state)
                _commit(conn, run, last_state, final=True)
            if run.records or stream.record_statistics:
                # The transform plans from these statistics and follows the sync at once; autovacuum
                # would analyze later (after 10% of a table changed) or never (`autovacuum = off`,
                # as on the machines of docs/PERFORMANCE.md). Never analyzed, the events table
                # looked like a third of it matched any `_cursor >=` day: the daily models and tests
                # seq-scanned every event instead of reading the rebuilt days through the index.
                _analyze(log_conn, stream.table)
        except Exception as exc:
            reason = _reason(exc)
            _finish(log_conn, run, "failed", reason)
            if isinstance(exc, StreamSyncError):
                raise
            raise StreamSyncError(f"{run.label}: failed at {run.where}: {reason}") from exc
    seconds = time.monotonic() - run.started
    log.info(
        "%s: %d records, %d rejected, %d pages in %.1fs (sync %s)",
        run.label,
        run.records,
        run.rejected,
        run.pages,
        seconds,
        sync_id,
    )
    return SyncResult(
        sync_id, stream.source, stream.name, run.records, run.rejected, run.pages, run.checkpoints, seconds
    )


def run_stream(conn_url: str, cfg, stream_name: str, full_refresh: bool = False) -> SyncResult:
    """Build ``cfg``'s stream ``stream_name`` and sync it with its configured reject policy."""
    from connectors.registry import build_stream

    stream = build_stream(cfg, stream_name)
    return sync_stream(conn_url, stream, full_refresh, bool(stream.settings.get("reject_malformed", False)))


def _reason(exc: Exception) -> str:
    """What went wrong, in one line. PostgreSQL's DETAIL and CONTEXT quote the failing row (a
    COPY's record, a key), so only its primary message is kept."""
    if isinstance(exc, psycopg.Error) and exc.diag.message_primary:
        return f"{type(exc).__name__}: {exc.diag.message_primary}"
    return str(exc)


def _parse(run: _Run, page: Page, reject_malformed: bool, rejects: Rejects) -> Iterator[Record]:
    """The page's records, parsed one at a time as the loader asks for them; a malformed item
    stops the sync, or (``reject_malformed``) goes to ``rejects`` for ``_save_rejects``."""
    for i, item in enumerate(page.items):
        try:
            yield nul.storable(run.stream.to_record(item, page))
        except (ValueError, TypeError, KeyError) as exc:
            if not reject_malformed:
                raise StreamSyncError(f"{run.label}: malformed record #{i} at {page.where}: {exc}") from exc
            rejects.append((i, str(exc), item))


def _reparse(run: _Run, page: Page, reject_malformed: bool, rejects: Rejects) -> Iterator[Record]:
    """The page parsed anew (the loader's fallback), its malformed items collected afresh."""
    rejects.clear()
    return _parse(run, page, reject_malformed, rejects)


def _save_rejects(conn: Connection, run: _Run, page: Page, rejects: Rejects) -> None:
    """Keep the page's malformed items in ``raw._rejected_records`` (after its COPY: a COPY in
    progress holds the connection)."""
    for i, reason, item in rejects:
        run.rejected += 1
        conn.execute(
            "insert into raw._rejected_records (sync_id, source, stream, location, reason, payload) "
            "values (%s, %s, %s, %s, %s, %s)",
            (
                run.sync_id,
                run.stream.source,
                run.stream.name,
                f"record #{i} at {page.where}",
                reason,
                json.dumps(item, default=str)[:100_000],
            ),
        )


def _commit(conn: Connection, run: _Run, state: dict | None, final: bool = False) -> None:
    """Fold the open batch into the current-state table, save state (unless None), log, and commit — atomically."""
    stream = run.stream
    if run.batch_rows and stream.write_mode == "merge":
        loader.merge_batch(conn, stream.table, run.sync_id, run.batch)
    if final and stream.snapshot and run.records:
        # Everything still present was re-read (and re-stamped) by this sync; the rest is gone.
        conn.execute(
            sql.SQL("update {} set _deleted = true where _sync_id <> %s and not _deleted").format(
                sql.Identifier(schema.RAW_SCHEMA, stream.table)
            ),
            (run.sync_id,),
        )
    if state is not None:
        save_state(conn, stream.source, stream.name, state, run.sync_id)
    run.checkpoints += 1
    run.pages_committed = run.pages
    _finish(conn, run, "success" if final else "running", None)
    conn.commit()
    run.batch += 1
    run.batch_rows = 0


def _finish(conn: Connection, run: _Run, status: str, error: str | None) -> None:
    c = run.stream.client.counters
    conn.execute(
        """
        update raw._sync_runs
        set finished_at = case when %(status)s = 'running' then null else clock_timestamp() end,
            status = %(status)s, records = %(records)s, rejected = %(rejected)s, pages = %(pages)s,
            checkpoints = %(checkpoints)s, requests = %(requests)s, retries = %(retries)s, bytes = %(bytes)s,
            seconds = %(seconds)s, error = %(error)s, source_total = %(source_total)s
        where sync_id = %(sync_id)s
        """,
        {
            "status": status,
            "records": run.records,
            "rejected": run.rejected,
            "pages": run.pages,
            "checkpoints": run.checkpoints,
            "requests": c.requests,
            "retries": c.retries,
            "bytes": c.bytes,
            "seconds": time.monotonic() - run.started,
            "error": error,
            "source_total": run.stream.source_total,
            "sync_id": run.sync_id,
        },
    )
