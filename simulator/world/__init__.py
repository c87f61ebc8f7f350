"""Synthetic B2B SaaS world: generation (`generate_world`) and its on-disk layout.

A world directory holds `world.db` (SQLite: versioned vendor records, product-usage
profiles, the clock) and `ground_truth/` (the planted story). Product events are not stored:
`simulator.world.usage` regenerates them deterministically for any date range.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from simulator.world.generate import generate_world
from simulator.world.store import DB_NAME


def world_exists(world_dir: Path | str) -> bool:
    return (Path(world_dir) / DB_NAME).exists()


def today_utc() -> date:
    return datetime.now(UTC).date()


__all__ = ["generate_world", "world_exists", "today_utc"]
