"""The streams each source offers, by name only: cheap to import (DAG files read it at parse time).

``connectors.sources.STREAMS`` maps the same names to their classes; a test keeps the two equal.
"""

from __future__ import annotations

STREAM_NAMES: dict[str, tuple[str, ...]] = {
    "hubspot": ("companies", "contacts", "deals", "tickets", "feedback_submissions", "owners", "associations"),
    "stripe": ("customers", "subscriptions", "invoices", "products", "prices", "events"),
    "mixpanel": ("events", "profiles"),
}


def raw_tables() -> list[str]:
    """Every current-state table the connectors load: ``raw.<source>__<stream>``."""
    return [f"{source}__{name}" for source, names in STREAM_NAMES.items() for name in names]
