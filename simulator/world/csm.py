"""How simulated CSMs keep the CRM: late, sometimes never, sometimes wrong.

The CRM's milestone dates, onboarding status, risk flags and champion changes are typed in
by people. `CsmBehaviour` holds the rates; the defaults below are the simulator's reading of
a CS team with a reasonable but imperfect CRM discipline:

| what | default | meaning |
|---|---|---|
| `entry_lag_days` | 10 | mean delay (exponential) between a milestone happening and the CSM recording it |
| `milestone_missing` | 0.12 | share of milestone dates never recorded |
| `milestone_wrong` | 0.06 | share recorded with a wrong date (7-45 days off, either way) |
| `graduation_missing` | 0.08 | share of graduations never recorded (status stays in progress) |
| `risk_flag_missed` | 0.35 | share of real risks (champion left, budget cut, competitor) never flagged |
| `risk_flag_lag_days` | (3, 30) | range of delay before a real risk is flagged |
| `false_flags_per_year` | 0.06 | flags raised with nothing behind them, per account-year |
| `left_date_missing` | 0.2 | share of departed contacts whose left date is never recorded |

`scaled(f)` multiplies every rate and lag by `f`: `scaled(0)` is a perfect CRM.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields, replace
from datetime import date

from simulator.world.ids import add_days


@dataclass(frozen=True)
class CsmBehaviour:
    entry_lag_days: float = 10.0
    milestone_missing: float = 0.12
    milestone_wrong: float = 0.06
    graduation_missing: float = 0.08
    risk_flag_missed: float = 0.35
    risk_flag_lag_days: tuple[int, int] = (3, 30)
    false_flags_per_year: float = 0.06
    left_date_missing: float = 0.2

    def scaled(self, factor: float) -> CsmBehaviour:
        """Every rate and lag times `factor` (rates capped at 1)."""
        if factor < 0:
            raise ValueError("the CRM noise factor must be >= 0")
        changes = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, tuple):
                changes[f.name] = tuple(round(x * factor) for x in v)
            elif f.name.endswith("_days") or f.name.endswith("_per_year"):
                changes[f.name] = v * factor
            else:
                changes[f.name] = min(1.0, v * factor)
        return replace(self, **changes)

    def lag(self, r: random.Random) -> int:
        return int(r.expovariate(1 / self.entry_lag_days)) if self.entry_lag_days > 0 else 0

    def milestone(self, r: random.Random, happened: date, missing: float | None = None) -> tuple[date, date] | None:
        """(day recorded, date typed in) for a milestone, or None when never recorded."""
        missing = self.milestone_missing if missing is None else missing
        x = r.random()
        if x < missing:
            return None
        typed = happened
        if x < missing + self.milestone_wrong:
            typed = add_days(happened, r.choice((-1, 1)) * r.randint(7, 45))
        return add_days(happened, self.lag(r)), typed

    def risk_flag_day(self, r: random.Random, happened: date) -> date | None:
        """The day a real risk gets flagged, or None when the CSM never flags it."""
        if r.random() < self.risk_flag_missed:
            return None
        lo, hi = self.risk_flag_lag_days
        return add_days(happened, r.randint(lo, max(lo, hi)))


DEFAULT = CsmBehaviour()
