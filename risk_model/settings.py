"""Fit settings: defaults, then environment variables.

| setting | env | default |
|---|---|---|
| min_renewals | ``RISK_MODEL_MIN_RENEWALS`` | 60 labelled past renewals, else the rule points stay |
| min_churned | ``RISK_MODEL_MIN_CHURNED`` | 12 churned among them |
| refit_days | ``RISK_MODEL_REFIT_DAYS`` | 7: a version younger than this (in as-of days) is kept |
| folds | ``RISK_MODEL_FOLDS`` | 5 cross-validation folds, grouped by account |
"""

from __future__ import annotations

import os
from dataclasses import dataclass


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


@dataclass(frozen=True)
class FitSettings:
    min_renewals: int = 60
    min_churned: int = 12
    refit_days: int = 7
    folds: int = 5

    @classmethod
    def from_env(cls) -> FitSettings:
        d = cls()
        return cls(
            min_renewals=_int("RISK_MODEL_MIN_RENEWALS", d.min_renewals),
            min_churned=_int("RISK_MODEL_MIN_CHURNED", d.min_churned),
            refit_days=_int("RISK_MODEL_REFIT_DAYS", d.refit_days),
            folds=max(2, _int("RISK_MODEL_FOLDS", d.folds)),
        )
