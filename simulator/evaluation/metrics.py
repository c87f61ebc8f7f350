"""The exam's arithmetic: AUC, Brier, ROC and calibration points, shares, bootstrap intervals.

Pure functions on plain lists, so the tests check them on hand-made data. A statistic that
has nothing to measure (no churner, an empty set) is None, never a made-up 0.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

# A scored item: (predicted score or probability, True when the renewal churned).
Scored = tuple[float, bool]


def auc(items: Sequence[Scored]) -> float | None:
    """ROC AUC as the Mann–Whitney U statistic: the chance a churner outscores a renewer, ties
    counting half. Computed from mid-ranks (O(n log n)) so the bootstrap can afford it."""
    pos = sum(1 for _, y in items if y)
    neg = len(items) - pos
    if not pos or not neg:
        return None
    ordered = sorted(items, key=lambda it: it[0])
    rank_sum = 0.0
    i = 0
    while i < len(ordered):
        j = i
        while j < len(ordered) and ordered[j][0] == ordered[i][0]:
            j += 1
        mid_rank = (i + 1 + j) / 2  # ranks i+1..j share their mean
        rank_sum += mid_rank * sum(1 for _, y in ordered[i:j] if y)
        i = j
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def brier(items: Sequence[Scored]) -> float | None:
    """Mean squared difference between the probability and the outcome (0 or 1)."""
    if not items:
        return None
    return sum((p - (1.0 if y else 0.0)) ** 2 for p, y in items) / len(items)


def base_rate_brier(items: Sequence[Scored]) -> float | None:
    """Brier of always predicting the set's own churn rate r: r(1 − r). A model must beat it."""
    if not items:
        return None
    rate = sum(1 for _, y in items if y) / len(items)
    return rate * (1 - rate)


def share(flags: Sequence[bool]) -> float | None:
    """The share of True in ``flags`` (None when empty)."""
    return sum(1 for f in flags if f) / len(flags) if flags else None


def roc_points(items: Sequence[Scored]) -> list[tuple[float, float]]:
    """(false-positive rate, true-positive rate) at every distinct threshold, from (0, 0) to (1, 1)."""
    pos = sum(1 for _, y in items if y)
    neg = len(items) - pos
    if not pos or not neg:
        return []
    points = [(0.0, 0.0)]
    tp = fp = 0
    ordered = sorted(items, key=lambda it: -it[0])
    for k, (score, y) in enumerate(ordered):
        tp += y
        fp += not y
        if k + 1 == len(ordered) or ordered[k + 1][0] != score:  # tied scores move together
            points.append((fp / neg, tp / pos))
    return points


def calibration_bins(items: Sequence[Scored], bins: int = 10) -> list[dict]:
    """Equal-width probability bins (deciles of 0–1): mean predicted vs observed churn rate."""
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [(p, y) for p, y in items if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        if inside:
            out.append(
                {
                    "bin": [lo, hi],
                    "n": len(inside),
                    "predicted": sum(p for p, _ in inside) / len(inside),
                    "observed": sum(1 for _, y in inside if y) / len(inside),
                }
            )
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0–1) of ``values`` with linear interpolation between order statistics."""
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


Value = float | dict[str, float] | None


def _mean(values: list[Value]) -> Value:
    """Mean of floats, or per key of dicts; None values are left out (None if nothing is left)."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if isinstance(present[0], dict):
        keys = sorted({k for v in present for k in v})  # type: ignore[union-attr]
        return {k: sum(v.get(k, 0.0) for v in present) / len(present) for k in keys}  # type: ignore[union-attr]
    return sum(present) / len(present)  # type: ignore[arg-type]


def _interval(draws: list[Value]) -> Any:
    present = [d for d in draws if d is not None]
    if not present:
        return None
    if isinstance(present[0], dict):
        keys = sorted({k for d in present for k in d})  # type: ignore[union-attr]
        return {k: _interval([d.get(k) for d in present]) for k in keys}  # type: ignore[union-attr]
    return [percentile(present, 0.025), percentile(present, 0.975)]  # type: ignore[arg-type]


def bootstrap(
    units_by_seed: dict[str, Sequence],
    statistic: Callable[[Sequence], Value],
    resamples: int = 1000,
    rng_seed: str = "postsale-accuracy",
) -> dict:
    """``statistic`` per seed, its across-seed mean, and 95% percentile intervals of both.

    Each resample draws every seed's units (renewals, accounts, months) with replacement, within
    the seed; the mean's interval comes from averaging the seeds' statistics resample by resample,
    so it reflects the sampling noise of every seed. A fixed RNG seed makes the report
    reproducible. Returns ``{"mean", "ci95", "per_seed", "per_seed_ci95"}``.
    """
    rng = random.Random(rng_seed)
    per_seed = {seed: statistic(units) for seed, units in units_by_seed.items()}
    draws: dict[str, list[Value]] = {seed: [] for seed in units_by_seed}
    for _ in range(resamples if resamples > 0 else 0):
        for seed, units in units_by_seed.items():
            draws[seed].append(statistic(rng.choices(units, k=len(units))) if units else None)
    means = [_mean([draws[seed][b] for seed in draws]) for b in range(resamples)]
    return {
        "mean": _mean(list(per_seed.values())),
        "ci95": _interval(means),
        "per_seed": per_seed,
        "per_seed_ci95": {seed: _interval(d) for seed, d in draws.items()},
    }
