"""Deterministic identifiers and random streams.

Every random decision is drawn from a stream keyed by (seed, purpose, ...) so that a record
never depends on how many records were generated before it: accounts can be produced in any
order, events for any day can be regenerated alone, and adding a feature to one generator
does not reshuffle the rest of the world.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, date, datetime, time, timedelta

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def stream_seed(*parts: object) -> int:
    """A 64-bit seed from arbitrary parts (stable across runs and Python versions)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def rng(*parts: object) -> random.Random:
    """A `random.Random` seeded from `parts` (see `stream_seed`)."""
    return random.Random(stream_seed(*parts))


def stripe_id(prefix: str, *parts: object, length: int = 14) -> str:
    """A Stripe-looking id (`cus_Q1w2E3r4T5y6U7`) that is a pure function of `parts`."""
    n = stream_seed("stripe-id", prefix, *parts)
    chars = []
    for _ in range(length):
        n, r = divmod(n, 62)
        chars.append(_BASE62[r])
        if n == 0:
            n = stream_seed("stripe-id-more", prefix, *parts, len(chars))
    return f"{prefix}_{''.join(chars)}"


def hex_id(*parts: object, length: int = 32) -> str:
    """A lowercase hex token, e.g. for Mixpanel `$insert_id`."""
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=length // 2).hexdigest()


def day_start(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=UTC)


def epoch_s(d: date, seconds_into_day: int = 0) -> int:
    """Unix seconds of `d` 00:00 UTC plus an offset."""
    return int(day_start(d).timestamp()) + seconds_into_day


def add_days(d: date, n: int) -> date:
    return d + timedelta(days=n)


def add_months(d: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the month's last day."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")
