"""Server-side view of a world: the SQLite connection, the clock and the `current` table.

The world stores its whole planned timeline; what a client may see is bounded by the clock
(a UTC date, everything up to the end of that day). `WorldState.sync()` refreshes the
`current` table whenever the clock moved, including when another process (the `advance`
CLI) moved it, so time travel works against a running server.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import date, timedelta
from pathlib import Path

from simulator.world.ids import epoch_s
from simulator.world.store import apply_versions, connect, dumps, read_meta, rebuild_current


class WorldState:
    """Thread-safe access to one world directory."""

    def __init__(self, world_dir: Path):
        self.world_dir = Path(world_dir)
        self.conn: sqlite3.Connection = connect(self.world_dir)
        self.lock = threading.RLock()
        meta = read_meta(self.conn)
        self.seed = int(meta["seed"])
        self.as_of = date.fromisoformat(meta["as_of"])
        self.history_start = date.fromisoformat(meta["history_start"])
        self.horizon_end = date.fromisoformat(meta["horizon_end"])
        self._materialised: str | None = meta.get("current_clock")
        self.sync()

    # -- clock -------------------------------------------------------------------------
    @property
    def clock(self) -> date:
        with self.lock:
            return date.fromisoformat(self.conn.execute("SELECT value FROM meta WHERE key='clock'").fetchone()[0])

    @property
    def cutoff_ms(self) -> int:
        """Exclusive upper bound of visible time: midnight UTC after the clock day."""
        return epoch_s(self.clock + timedelta(days=1)) * 1000

    @property
    def now_ms(self) -> int:
        """The world's 'now' for writes made by clients: the last millisecond of the clock day."""
        return self.cutoff_ms - 1

    def advance(self, days: int) -> date:
        if days < 1:
            raise ValueError("days must be >= 1")
        with self.lock:
            new = self.clock + timedelta(days=days)
            if new > self.horizon_end:
                raise ValueError(f"cannot advance past the planned horizon {self.horizon_end}")
            self.conn.execute("UPDATE meta SET value=? WHERE key='clock'", (new.isoformat(),))
            self.conn.commit()
            self.sync()
            return new

    # -- materialisation -----------------------------------------------------------------
    def sync(self) -> None:
        """Bring `current` to the clock: incrementally forward, or rebuilt from scratch."""
        with self.lock:
            clock = self.clock.isoformat()
            if clock == self._materialised:
                return
            if self._materialised and clock > self._materialised:
                old = epoch_s(date.fromisoformat(self._materialised) + timedelta(days=1)) * 1000
                apply_versions(self.conn, old, self.cutoff_ms)
            else:
                rebuild_current(self.conn, self.cutoff_ms)
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('current_clock', ?)", (clock,))
            self.conn.commit()
            self._materialised = clock

    def write_version(
        self, vendor: str, otype: str, oid: str, created: int, patch: dict, deleted: bool = False, commit: bool = True
    ) -> int:
        """Persist a client write (partial update; `deleted` archives) at the world's now; returns its ts.

        `commit=False` leaves the transaction open for a caller writing several rows at once."""
        with self.lock:
            ts = self.now_ms
            self.conn.execute(
                "INSERT INTO versions VALUES (?,?,?,?,?,?,1,?)",
                (vendor, otype, oid, ts, created, int(deleted), dumps(patch)),
            )
            row = self.conn.execute(
                "SELECT body FROM current WHERE vendor=? AND otype=? AND id=?", (vendor, otype, oid)
            ).fetchone()
            body = {**json.loads(row[0]), **patch} if row else patch
            self.conn.execute(
                "INSERT OR REPLACE INTO current VALUES (?,?,?,?,?,?,?)",
                (vendor, otype, oid, created, ts, int(deleted), dumps(body)),
            )
            if commit:
                self.conn.commit()
            return ts

    def close(self) -> None:
        with self.lock:
            self.conn.close()
