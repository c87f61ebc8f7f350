"""HubSpot CRM v3 streams.

Objects (companies, contacts, deals, tickets, feedback submissions) are read through CRM
search on their modified-date property with the keyset walk of ``HubSpotSearchKeyset``, so the
first run and every incremental run share one code path (a first run starts at timestamp 0);
the search's ``total`` for the run's window goes to the sync-run log (``source_total``).
Properties are discovered from the properties API and unioned with the ones this project
needs, which are requested explicitly even if discovery is switched off. Owners and the
associations between objects are small and re-read in full every run (``snapshot``): rows no
longer returned are soft-deleted.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors.paginators import HubSpotAfterPaginator, HubSpotSearchKeyset, MalformedPageError, parse_hubspot_ms
from connectors.stream import Checkpoint, Page, Record, Stream


class HubSpotStream(Stream):
    source = "hubspot"
    primary_key = "id"
    cursor_field = None


class HubSpotObjectStream(HubSpotStream):
    """A CRM object type read incrementally on its modified-date property."""

    object_type: ClassVar[str]
    modified_prop: ClassVar[str] = "hs_lastmodifieddate"
    # Properties the warehouse reads: always requested, discovered or not.
    required_properties: ClassVar[tuple[str, ...]] = ()

    def properties(self) -> list[str]:
        names = {"hs_object_id", "createdate", self.modified_prop, *self.required_properties}
        if self.settings.get("discover_properties", True):
            resp = self.client.get(f"/crm/v3/properties/{self.object_type}")
            try:
                results = resp.json()["results"]
                names |= {p["name"] for p in results if not p.get("hidden", False) or p["name"] in names}
            except (ValueError, KeyError, TypeError) as exc:
                raise MalformedPageError(f"properties of {self.object_type}: unexpected body ({exc})") from exc
        return sorted(names)

    def lookback_ms(self) -> int:
        return int(self.settings.get("lookback_seconds", 300)) * 1000

    def read(self, state: dict, full_refresh: bool = False) -> Iterator[Page | Checkpoint]:
        prev_ts = None if full_refresh else state.get("ts_ms")
        if prev_ts is None:
            start_ts, start_id = 0, -1
        elif self.lookback_ms():
            start_ts, start_id = prev_ts - self.lookback_ms(), -1
        else:
            start_ts, start_id = prev_ts, int(state.get("last_id", -1))
        keyset = HubSpotSearchKeyset(
            self.client,
            self.object_type,
            self.modified_prop,
            self.properties(),
            int(self.settings.get("page_size", 200)),
            self.max_pages(),
        )
        best = (prev_ts or 0, int(state.get("last_id", -1)) if prev_ts else -1)
        for kind, *rest in keyset.read(start_ts, start_id):
            if kind == "page":
                results, where = rest
                yield Page(results, where)
            elif kind == "total":
                self.source_total = rest[0]
            else:
                best = max(best, (rest[0], rest[1]))  # a look-back never moves the state backwards
                yield Checkpoint({"ts_ms": best[0], "last_id": best[1]})

    def to_record(self, item: Any, page: Page) -> Record:
        if not isinstance(item, dict) or not item.get("id"):
            raise ValueError("object without id")
        if not isinstance(item.get("properties"), dict):
            raise ValueError(f"object {item['id']} has no properties object")
        modified = parse_hubspot_ms(item["properties"].get(self.modified_prop) or item.get("updatedAt"))
        return Record(str(item["id"]), datetime.fromtimestamp(modified / 1000, tz=UTC), item)


class Companies(HubSpotObjectStream):
    name = "companies"
    object_type = "companies"
    required_properties = ("name", "domain", "hubspot_owner_id", "lifecyclestage", "annualrevenue")


class Contacts(HubSpotObjectStream):
    name = "contacts"
    object_type = "contacts"
    modified_prop = "lastmodifieddate"
    required_properties = ("email", "firstname", "lastname", "jobtitle", "associatedcompanyid")


class Deals(HubSpotObjectStream):
    name = "deals"
    object_type = "deals"
    required_properties = ("dealname", "amount", "dealstage", "pipeline", "closedate", "dealtype")


class Tickets(HubSpotObjectStream):
    name = "tickets"
    object_type = "tickets"
    required_properties = ("subject", "hs_pipeline_stage", "hs_ticket_priority", "hs_ticket_category")


class FeedbackSubmissions(HubSpotObjectStream):
    name = "feedback_submissions"
    object_type = "feedback_submissions"


class _SnapshotStream(HubSpotStream):
    """Re-read in full each run; the observation time is the cursor."""

    snapshot = True

    def to_record(self, item: Any, page: Page) -> Record:
        rec = super().to_record(item, page)
        return Record(rec.pk, self._observed, rec.data)

    def _start(self) -> None:
        self._observed = datetime.now(tz=UTC)


class Owners(_SnapshotStream):
    """``GET /crm/v3/owners``: CSMs and account owners."""

    name = "owners"

    def read(self, state: dict, full_refresh: bool = False) -> Iterator[Page | Checkpoint]:
        self._start()
        pages = HubSpotAfterPaginator(100, self.max_pages()).pages(self.client, "/crm/v3/owners")
        for n, (results, after) in enumerate(pages, 1):
            yield Page(results, f"/crm/v3/owners page {n} (after={after})")
        yield Checkpoint({"last_full_read": self._observed.isoformat()})


class Associations(_SnapshotStream):
    """Company ↔ contact / deal / ticket and contact ↔ feedback submission links, one row per link."""

    name = "associations"
    primary_key = "key"
    # Every model filters the links by object types (companies → deals, contacts → …).
    record_statistics = ("from_type", "to_type")
    PAIRS: ClassVar[dict[str, tuple[str, ...]]] = {
        "companies": ("contacts", "deals", "tickets"),
        "contacts": ("feedback_submissions",),
    }

    def read(self, state: dict, full_refresh: bool = False) -> Iterator[Page | Checkpoint]:
        self._start()
        for from_type, targets in self.PAIRS.items():
            path = f"/crm/v3/objects/{from_type}"
            params = {"associations": ",".join(targets), "properties": "hs_object_id", "archived": "false"}
            pages = HubSpotAfterPaginator(100, self.max_pages()).pages(self.client, path, params)
            for n, (results, after) in enumerate(pages, 1):
                links = []
                for obj in results:
                    for to_type, block in (obj.get("associations") or {}).items():
                        for link in block.get("results", []):
                            links.append(
                                {
                                    "key": f"{from_type}:{obj['id']}:{to_type}:{link['id']}",
                                    "from_type": from_type,
                                    "from_id": str(obj["id"]),
                                    "to_type": to_type,
                                    "to_id": str(link["id"]),
                                    "types": [{"label": link.get("type")}],
                                }
                            )
                yield Page(links, f"{path} associations page {n} (after={after})")
        yield Checkpoint({"last_full_read": self._observed.isoformat()})
