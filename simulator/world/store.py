"""SQLite storage of a generated world (`world.db`).

Records are stored as *versions*: each row is the state of one vendor object from `ts`
(epoch milliseconds) onward, holding compact facts rather than the full vendor JSON (the
servers render the vendor shape). The whole planned timeline, past the as-of date, is
stored; the `current` table materialises the latest version of every object visible at the
world's clock, and is refreshed when the clock moves (time travel) or a client writes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

DB_NAME = "world.db"

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE versions (
    vendor  TEXT NOT NULL,
    otype   TEXT NOT NULL,
    id      TEXT NOT NULL,
    ts      INTEGER NOT NULL,   -- epoch ms from which this version is the truth
    created INTEGER NOT NULL,   -- epoch ms the object was created (list order)
    deleted INTEGER NOT NULL DEFAULT 0,
    merge   INTEGER NOT NULL DEFAULT 0,  -- 1 = body is a partial update (client write)
    body    TEXT NOT NULL
);
CREATE INDEX versions_by_ts ON versions (ts);
CREATE INDEX versions_by_obj ON versions (vendor, otype, id, ts);
CREATE TABLE current (
    vendor   TEXT NOT NULL,
    otype    TEXT NOT NULL,
    id       TEXT NOT NULL,
    created  INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    deleted  INTEGER NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (vendor, otype, id)
);
CREATE INDEX current_by_created ON current (vendor, otype, created, id);
CREATE INDEX current_by_modified ON current (vendor, otype, modified, id);
CREATE TABLE associations (
    from_type TEXT NOT NULL, from_id TEXT NOT NULL,
    to_type   TEXT NOT NULL, to_id   TEXT NOT NULL,
    type      TEXT NOT NULL,     -- e.g. company_to_contact
    ts        INTEGER NOT NULL  -- visible from
);
CREATE INDEX associations_from ON associations (from_type, to_type, from_id);
CREATE TABLE usage_accounts (
    account_id TEXT PRIMARY KEY,
    idx        INTEGER NOT NULL,
    profile    TEXT NOT NULL    -- JSON: engagement curve and users (see world.usage)
);
CREATE TABLE hubspot_properties (
    object_type TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (object_type, name)
);
CREATE TABLE hubspot_property_groups (
    object_type TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (object_type, name)
);
"""


def dumps(obj: object) -> str:
    """Canonical compact JSON (sorted keys) so identical worlds are byte-identical."""
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)


class WorldWriter:
    """Buffered writer used by the generator; rows are flushed in batches."""

    def __init__(self, path: Path):
        if path.exists():
            path.unlink()
        self.conn = sqlite3.connect(path)
        self.conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        self._versions: list[tuple] = []
        self._assocs: list[tuple] = []

    def version(
        self, vendor: str, otype: str, oid: str, ts: int, created: int, body: dict, deleted: bool = False
    ) -> None:
        self._versions.append((vendor, otype, oid, ts, created, int(deleted), 0, dumps(body)))
        if len(self._versions) >= 20_000:
            self.flush()

    def association(self, from_type: str, from_id: str, to_type: str, to_id: str, type_: str, ts: int) -> None:
        self._assocs.append((from_type, from_id, to_type, to_id, type_, ts))

    def usage_account(self, account_id: str, idx: int, profile: dict) -> None:
        self.conn.execute("INSERT INTO usage_accounts VALUES (?,?,?)", (account_id, idx, dumps(profile)))

    def meta(self, items: dict[str, object]) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?,?)", [(k, str(v)) for k, v in sorted(items.items())]
        )

    def rows(self, sql: str, rows: Iterable[tuple]) -> None:
        self.conn.executemany(sql, rows)

    def flush(self) -> None:
        self.conn.executemany("INSERT INTO versions VALUES (?,?,?,?,?,?,?,?)", self._versions)
        self.conn.executemany("INSERT INTO associations VALUES (?,?,?,?,?,?)", self._assocs)
        self._versions.clear()
        self._assocs.clear()

    def close(self) -> None:
        self.flush()
        self.conn.commit()
        self.conn.close()


def connect(world_dir: Path) -> sqlite3.Connection:
    """Open an existing world for serving (one connection shared under a lock)."""
    conn = sqlite3.connect(Path(world_dir) / DB_NAME, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT key, value FROM meta"))


def rebuild_current(conn: sqlite3.Connection, cutoff_ms: int) -> None:
    """Materialise `current`: every object's versions with ts < cutoff, patched in order."""
    conn.execute("DELETE FROM current")
    cur = conn.execute(
        "SELECT vendor, otype, id, ts, created, deleted, body FROM versions "
        "WHERE ts < ? ORDER BY vendor, otype, id, ts, rowid",
        (cutoff_ms,),
    )
    batch: list[tuple] = []
    key: tuple | None = None
    state: dict = {}
    meta: tuple = ()
    for vendor, otype, oid, ts, created, deleted, body in cur:
        k = (vendor, otype, oid)
        if k != key:
            if key is not None:
                batch.append((*key, *meta, dumps(state)))
                if len(batch) >= 10_000:
                    conn.executemany("INSERT INTO current VALUES (?,?,?,?,?,?,?)", batch)
                    batch.clear()
            key, state = k, {}
        state.update(json.loads(body))
        meta = (created, ts, deleted)
    if key is not None:
        batch.append((*key, *meta, dumps(state)))
    conn.executemany("INSERT INTO current VALUES (?,?,?,?,?,?,?)", batch)


def apply_versions(conn: sqlite3.Connection, from_ms: int, to_ms: int) -> None:
    """Move `current` forward: apply the versions with from_ms <= ts < to_ms (time travel)."""
    touched: dict[tuple, list] = {}
    rows = conn.execute(
        "SELECT vendor, otype, id, ts, created, deleted, body FROM versions "
        "WHERE ts >= ? AND ts < ? ORDER BY ts, rowid",
        (from_ms, to_ms),
    ).fetchall()
    for vendor, otype, oid, ts, created, deleted, body in rows:
        key = (vendor, otype, oid)
        entry = touched.get(key)
        if entry is None:
            row = conn.execute("SELECT body FROM current WHERE vendor=? AND otype=? AND id=?", key).fetchone()
            entry = touched[key] = [json.loads(row[0]) if row else {}, created, ts, deleted]
        entry[0].update(json.loads(body))
        entry[2], entry[3] = ts, deleted
    conn.executemany(
        "INSERT OR REPLACE INTO current VALUES (?,?,?,?,?,?,?)",
        [(*k, created, ts, deleted, dumps(state)) for k, (state, created, ts, deleted) in touched.items()],
    )
