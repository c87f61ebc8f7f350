"""The stream contract every endpoint implements.

A stream reads from its source and yields ``Page`` items (records to load) and ``Checkpoint``
items (a state that is safe to commit: everything before it has been yielded). The sync
commits data and state together at each checkpoint and at the end, never in between, so a
killed run resumes from the last checkpoint without gaps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from connectors.http_client import HttpClient


@dataclass(frozen=True)
class Record:
    """One source record, with the key and cursor the loader needs pulled out."""

    pk: str
    cursor: datetime | None
    data: dict
    deleted: bool = False
    # The record's JSON text as received, when the source sent it that way: loaded as is,
    # which saves re-serialising millions of events.
    raw: str | None = None


@dataclass
class Page:
    """A page of raw items and where it came from (for error messages)."""

    items: list[Any]
    where: str


@dataclass
class Checkpoint:
    """A state that is safe to commit once everything yielded before it is loaded."""

    state: dict = field(default_factory=dict)


class Stream:
    """An endpoint of a source. Subclasses set the class attributes and ``read``."""

    source: ClassVar[str]
    name: ClassVar[str]
    primary_key: ClassVar[str]
    cursor_field: ClassVar[str | None]
    # merge: upsert by key, latest cursor wins, every load kept in __loads.
    # append_dedupe: insert new keys only (immutable events), no __loads copy.
    write_mode: ClassVar[Literal["merge", "append_dedupe"]] = "merge"
    # A snapshot stream re-reads everything each run: rows it no longer returns are soft-deleted.
    snapshot: ClassVar[bool] = False
    # Top-level record keys the warehouse filters and joins on: PostgreSQL keeps statistics on
    # ``record ->> key`` for each (``connectors.schema``). Without them it guesses 0.5% per
    # condition on JSON, and a guess of one row picks a nested loop that re-reads a whole table
    # per row (22 s instead of 0.2 s for contract terms at 2,000 accounts; quadratic in size).
    record_statistics: ClassVar[tuple[str, ...]] = ()

    def __init__(self, client: HttpClient, settings: dict | None = None) -> None:
        self.client = client
        self.settings = settings or {}
        # How many records the source said this run's window holds, when it says (CRM search's
        # ``total``): logged in ``raw._sync_runs.source_total``; raw validation compares it with
        # the distinct keys the run loaded, so a record the paging skipped does not go unnoticed.
        self.source_total: int | None = None

    def max_pages(self) -> int:
        """Pages one read may take before the paginator stops it (a server paging without end)."""
        from connectors.paginators import DEFAULT_MAX_PAGES

        return int(self.settings.get("max_pages", DEFAULT_MAX_PAGES))

    @property
    def table(self) -> str:
        """Raw table name: ``<source>__<stream>``."""
        return f"{self.source}__{self.name}"

    def read(self, state: dict, full_refresh: bool = False) -> Iterator[Page | Checkpoint]:
        raise NotImplementedError

    def primary_key_of(self, item: dict) -> Any:
        return item.get(self.primary_key)

    def to_record(self, item: Any, page: Page) -> Record:
        """Pull the key and cursor out of a record, or raise naming what is wrong."""
        if not isinstance(item, dict):
            raise ValueError(f"record is {type(item).__name__}, not an object")
        pk = self.primary_key_of(item)
        if pk in (None, ""):
            raise ValueError(f"record has no primary key {self.primary_key!r}")
        cursor = self.parse_cursor(item.get(self.cursor_field)) if self.cursor_field else None
        return Record(pk=str(pk), cursor=cursor, data=item)

    def parse_cursor(self, value: Any) -> datetime | None:
        """Turn the source's cursor value into a ``datetime`` (subclasses override)."""
        return value
