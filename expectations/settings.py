"""Where every threshold of the suites comes from.

Business thresholds (health bands, scorecard cut-offs, forecast rules, GRR cap, journey stages,
scorecard dimensions) are read from the dbt project the marts are built with — ``vars`` in
``dbt_project/dbt_project.yml`` and the seed CSVs — so a suite can never disagree with the
model it checks. Operational thresholds that only validation uses (how stale a raw stream may
be, how much of the identities may stay unmatched, plausible NRR/GRR) are settings below, each
overridable by an environment variable.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import lru_cache

import yaml

from warehouse.paths import DBT_PROJECT_DIR


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    """Validation-only thresholds; the environment variable of each is in ``ENV``."""

    # raw: the last successful sync of every stream finished at most this long ago.
    raw_max_age_hours: float = 36.0
    # raw/staging: a cursor or event time may be at most this far past now(). The simulator
    # materialises the whole as-of day, and sources' clocks drift: one day by default.
    future_tolerance_hours: float = 24.0
    # intermediate: share of Stripe customers / product accounts no CRM company claims.
    unmatched_share_max: float = 0.10
    # marts: plausible retention ratios (1.0 = 100%). Outside: warning; below 0: critical.
    nrr_plausible_min: float = 0.5
    nrr_plausible_max: float = 2.0
    grr_plausible_min: float = 0.5

    @classmethod
    def from_env(cls) -> Settings:
        return cls(**{field: _env_float(var, getattr(cls, field)) for field, var in ENV.items()})


ENV = {
    "raw_max_age_hours": "POSTSALE_GX_RAW_MAX_AGE_HOURS",
    "future_tolerance_hours": "POSTSALE_GX_FUTURE_TOLERANCE_HOURS",
    "unmatched_share_max": "POSTSALE_GX_UNMATCHED_SHARE_MAX",
    "nrr_plausible_min": "POSTSALE_GX_NRR_MIN",
    "nrr_plausible_max": "POSTSALE_GX_NRR_MAX",
    "grr_plausible_min": "POSTSALE_GX_GRR_MIN",
}


@lru_cache(maxsize=1)
def dbt_vars() -> dict:
    """The ``vars`` of dbt_project.yml (the values the marts are built with)."""
    with open(DBT_PROJECT_DIR / "dbt_project.yml") as fh:
        return yaml.safe_load(fh).get("vars", {})


def dbt_var(name: str) -> float:
    """A numeric dbt var; fails loudly when the project no longer defines it."""
    value = dbt_vars().get(name)
    if value is None:
        raise KeyError(f"dbt var {name!r} is not defined in dbt_project.yml; a suite depends on it")
    return float(value)


def seed_rows(seed: str) -> list[dict]:
    with open(DBT_PROJECT_DIR / "seeds" / f"{seed}.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def seed_values(seed: str, column: str) -> list[str]:
    return [row[column] for row in seed_rows(seed)]
