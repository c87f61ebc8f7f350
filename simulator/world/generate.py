"""`generate_world`: plan every account and write world.db plus ground truth.

Accounts are planned and written one at a time, so memory stays flat in the number of
accounts; product events are not materialised at all (see `simulator.world.usage`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from simulator.world import billing, crm, usage
from simulator.world.csm import DEFAULT as DEFAULT_CSM
from simulator.world.ids import add_days, epoch_s
from simulator.world.people import build_people
from simulator.world.store import DB_NAME, WorldWriter, rebuild_current
from simulator.world.story import HISTORY_DAYS, HORIZON_DAYS, plan_account
from simulator.world.truth import TruthWriter

FORMAT_VERSION = 1


def generate_world(
    out_dir: Path | str,
    accounts: int = 200,
    seed: int = 42,
    as_of: date | None = None,
    horizon_days: int = HORIZON_DAYS,
    crm_noise: float = 1.0,
) -> Path:
    """Generate a world of `accounts` accounts at `as_of` (default: today UTC), planned
    `horizon_days` past it for time travel. `crm_noise` scales how late, incomplete and
    wrong the simulated CSMs keep the CRM (`simulator.world.csm`; 0 = a perfect CRM).

    Deterministic: the same arguments give byte-identical files. Returns the world dir.
    """
    if accounts < 1:
        raise ValueError("accounts must be >= 1")
    if horizon_days < 1:
        raise ValueError("horizon_days must be >= 1")
    as_of = as_of or datetime.now(UTC).date()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (DB_NAME + ".tmp")
    csm = DEFAULT_CSM.scaled(crm_noise)
    w = WorldWriter(tmp)
    truth = TruthWriter(out)
    history_start = add_days(as_of, -HISTORY_DAYS)
    catalog_day = add_days(history_start, -30)
    horizon_end = add_days(as_of, horizon_days)
    billing.write_catalog(w, seed, catalog_day)
    crm.write_static(w, seed, catalog_day)
    for i in range(accounts):
        story = plan_account(seed, i, as_of, horizon_days)
        people = build_people(seed, story)
        billing.write_account(w, seed, story, horizon_end)
        crm.write_account(w, seed, story, people, horizon_end, csm)
        usage.write_account(w, seed, story, people)
        truth.write(story)
    w.meta(
        {
            "format_version": FORMAT_VERSION,
            "seed": seed,
            "accounts": accounts,
            "as_of": as_of.isoformat(),
            "clock": as_of.isoformat(),
            "history_start": history_start.isoformat(),
            "horizon_end": horizon_end.isoformat(),
            "crm_noise": crm_noise,
        }
    )
    w.flush()
    # Materialise what is visible at the initial clock, so the first `serve` starts at once.
    rebuild_current(w.conn, epoch_s(add_days(as_of, 1)) * 1000)
    w.meta({"current_clock": as_of.isoformat()})
    w.close()
    truth.close()
    for stale in (out / (DB_NAME + "-wal"), out / (DB_NAME + "-shm")):
        stale.unlink(missing_ok=True)
    tmp.replace(out / DB_NAME)
    return out
