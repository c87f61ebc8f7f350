"""Measure the events loader against the physical limit: ``psql \\copy`` of the same rows.

Both load the same events into the same table (``raw.mixpanel__events``, emptied before each
run) on the same server in the same process run. Ours starts from the export's JSONL bytes
(parse, key, probe, COPY of the new keys); ``\\copy`` starts from a file already
in COPY format, so the ratio is what our extra work costs.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from connectors import loader, schema
from connectors.mixpanel.streams import Events
from connectors.stream import Page
from warehouse.embedded import EmbeddedPostgres
from warehouse.postgres import WarehouseParams


def export_events(world_dir: Path, out: Path, from_date: str, to_date: str) -> int:
    """Write the simulator's export for the date range to ``out`` (JSONL); returns lines written."""
    import requests

    from simulator.connections import credentials
    from simulator.server import MockApiServer

    n = 0
    with MockApiServer(world_dir, port=0) as srv, open(out, "wb") as fh:
        resp = requests.get(
            f"{srv.url('mixpanel')}/api/2.0/export",
            params={"from_date": from_date, "to_date": to_date},
            auth=credentials("mixpanel"),
            stream=True,
            timeout=600,
        )
        resp.raise_for_status()
        for line in resp.iter_lines():
            if line:
                fh.write(line + b"\n")
                n += 1
    return n


def _psql() -> str:
    return str(EmbeddedPostgres.bin_dir() / "psql")


def _reset(url: str) -> None:
    with psycopg.connect(url) as conn:
        schema.ensure_meta_tables(conn)
        schema.ensure_stream_tables(conn, "mixpanel__events", "append_dedupe")
        conn.execute("truncate raw.mixpanel__events")


def load_ours(url: str, jsonl: Path, page_lines: int = Events.LINES_PER_PAGE) -> float:
    """Seconds for our events path: JSONL bytes → records → COPY → de-duplicating insert.

    The same calls as the events sync (``connectors.sync``): pages of ``LINES_PER_PAGE`` export
    lines, each parsed by ``Events.to_record`` as ``loader.append_streamed`` COPYs it."""
    stream = Events(client=None)  # type: ignore[arg-type]
    sync_id = str(uuid.uuid4())

    def load(conn: psycopg.Connection, batch: list) -> None:
        page = Page(batch, "bench")
        loader.append_streamed(
            conn,
            "mixpanel__events",
            sync_id,
            (stream.to_record(i, page) for i in batch),
            lambda: (stream.to_record(i, page) for i in batch),
        )

    t0 = time.perf_counter()
    with psycopg.connect(url) as conn, open(jsonl, "rb") as fh:
        batch: list = []
        for raw in fh:
            batch.append(raw.rstrip(b"\n"))
            if len(batch) >= page_lines:
                load(conn, batch)
                batch = []
        if batch:
            load(conn, batch)
        conn.commit()
    return time.perf_counter() - t0


def copy_file_for(jsonl: Path, out: Path) -> None:
    """The same rows in COPY text format, as our loader would insert them."""
    stream = Events(client=None)  # type: ignore[arg-type]
    sync_id = str(uuid.uuid4())
    page = Page([], "bench")
    with open(jsonl, "rb") as src, open(out, "w") as dst:
        for raw in src:
            rec = stream.to_record(raw.rstrip(b"\n"), page)
            text = rec.raw.replace("\\", "\\\\")  # COPY text format escapes backslashes
            dst.write(f"{rec.pk}\t{rec.cursor.isoformat()}\t{text}\tnow\t{sync_id}\tf\n")


def load_psql_copy(url: str, copy_file: Path) -> float:
    """Seconds for ``psql \\copy`` of the prepared rows into the same table."""
    p = WarehouseParams.from_url(url)
    cmd = [
        _psql(),
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        p.host,
        "-p",
        str(p.port),
        "-U",
        p.user,
        p.dbname,
        "-c",
        f"\\copy raw.mixpanel__events (_pk, _cursor, record, _loaded_at, _sync_id, _deleted) from '{copy_file}'",
    ]
    env = {"PGPASSWORD": p.password} if p.password else {}
    import os

    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env={**os.environ, **env})
    return time.perf_counter() - t0


def bench_loader(url: str, jsonl: Path, repeats: int = 3) -> dict:
    """Best of ``repeats`` for each loader, alternating, on the same rows and table."""
    rows = sum(1 for _ in open(jsonl, "rb"))
    with tempfile.TemporaryDirectory() as tmp:
        copy_file = Path(tmp) / "events.copy"
        copy_file_for(jsonl, copy_file)
        ours, theirs, ours_cpu = [], [], []
        for _ in range(repeats):
            _reset(url)
            c0 = time.process_time()
            ours.append(load_ours(url, jsonl))
            ours_cpu.append(time.process_time() - c0)
            _reset(url)
            theirs.append(load_psql_copy(url, copy_file))
    best_ours, best_copy = min(ours), min(theirs)
    return {
        "rows": rows,
        "ours_seconds": round(best_ours, 3),
        "psql_copy_seconds": round(best_copy, 3),
        "ours_rows_per_s": round(rows / best_ours),
        "psql_copy_rows_per_s": round(rows / best_copy),
        "ratio_vs_copy": round(best_copy / best_ours, 3),
        # Our client's own CPU (parse + format); the rest of our wall time is the server's COPY,
        # the probe, and waiting for a core on a shared machine.
        "ours_client_cpu_seconds": round(min(ours_cpu), 3),
        "ours_client_cpu_rows_per_s": round(rows / min(ours_cpu)) if min(ours_cpu) else None,
    }
