"""Make sure HubSpot has the ``postsale`` group and every owned company property, idempotently.

Reads first (one GET for the group, one for all company properties) and creates only what is
missing, so a rerun sends no writes. A 409 on create means another run created it in between:
that is success. An existing property with one of our names but another type, field type or
group is not ours: the sync stops rather than write into it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from connectors.http_client import HttpClient, SourceHttpError
from reverse_etl import answers
from reverse_etl.mapping import OBJECT_TYPE, PROPERTIES, PROPERTY_GROUP, PROPERTY_GROUP_LABEL

log = logging.getLogger(__name__)

BASE = f"/crm/v3/properties/{OBJECT_TYPE}"


class PropertyConflict(RuntimeError):
    """A HubSpot property carries one of our names but is not the property reverse ETL owns."""


@dataclass
class SchemaResult:
    created_group: bool = False
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"created_group": self.created_group, "created": self.created, "existing": len(self.existing)}


def existing_properties(client: HttpClient) -> dict[str, dict]:
    """Every company property definition, by name."""
    return existing_properties_of(client, BASE)


def existing_properties_of(client: HttpClient, base: str) -> dict[str, dict]:
    """Every property definition of an object type (``base`` is its properties path), by name."""
    resp = client.get(base)
    found = answers.records(answers.json_object(resp, "GET", base), "results", "GET", base, resp.status_code)
    return {str(p.get("name")): p for p in found}


def ensure(client: HttpClient, existing: dict[str, dict]) -> SchemaResult:
    """Create the group and any missing owned property; check the ones that exist are ours."""
    out = SchemaResult()
    conflicts = [_conflict(existing[p.name], p) for p in PROPERTIES if p.name in existing]
    conflicts = [c for c in conflicts if c]
    if conflicts:
        raise PropertyConflict("HubSpot properties with reverse ETL's names are not ours: " + "; ".join(conflicts))
    missing = [(i, p) for i, p in enumerate(PROPERTIES) if p.name not in existing]
    out.existing = [p.name for p in PROPERTIES if p.name in existing]
    if not missing:
        return out
    out.created_group = ensure_group(client)
    for order, prop in missing:
        if create(client, f"{BASE}", prop.definition(order)):
            out.created.append(prop.name)
    log.info("hubspot: created %d company properties in group %s", len(out.created), PROPERTY_GROUP)
    return out


def _conflict(found: dict, prop) -> str | None:
    wanted = {"type": prop.type, "fieldType": prop.field_type, "groupName": PROPERTY_GROUP}
    diff = {k: found.get(k) for k, v in wanted.items() if found.get(k) != v}
    if diff:
        return f"{prop.name} is {diff}, expected {wanted}"
    if prop.options or prop.type == "bool":
        have = {o.get("value") for o in found.get("options") or []}
        need = set(prop.options) if prop.options else {"true", "false"}
        if need - have:
            # HubSpot would reject every record carrying a missing option: add them in HubSpot.
            return f"{prop.name} lacks options {sorted(need - have)}"
    return None


def ensure_group(client: HttpClient, base: str = BASE) -> bool:
    """Create the ``postsale`` group of an object type's properties unless it exists."""
    try:
        client.get(f"{base}/groups/{PROPERTY_GROUP}")
        return False
    except SourceHttpError as exc:
        if exc.status != 404:
            raise
    return create(client, f"{base}/groups", {"name": PROPERTY_GROUP, "label": PROPERTY_GROUP_LABEL, "displayOrder": -1})


def create(client: HttpClient, path: str, body: dict) -> bool:
    """POST a definition; False when it already existed (409 from a concurrent creator)."""
    try:
        client.request("POST", path, json=body)
        return True
    except SourceHttpError as exc:
        if exc.status == 409:
            return False
        raise
