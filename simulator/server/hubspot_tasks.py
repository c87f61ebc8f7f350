"""Client-written HubSpot objects: CRM tasks (`/crm/v3/objects/tasks`, object type `0-27`).

The world generates no tasks; clients create, update, upsert and archive them, and a CSM (a
test, through `/_control/hubspot/tasks/...`) completes or deletes them. Every write is a row
of `versions` (like batch updates of companies), so tasks survive server restarts and time
travel; associations go to the world's `associations` table in both directions.

Validation follows HubSpot: `hs_timestamp` is required on create; unknown, read-only and
out-of-options values are rejected with HubSpot's `Property values were not valid: [...]`
message; `hubspot_owner_id` must name an owner; datetimes take epoch ms or ISO 8601 and are
stored as ISO. Associations on create use HubSpot's v4 `associationTypeId`s (task to company
192, contact 204, deal 216, ticket 230); an unknown type or target rejects the input.
Setting `hs_task_status` to COMPLETED stamps `hs_task_completion_date`, as HubSpot does.
"""

from __future__ import annotations

import json

from simulator.server.hubspot_errors import (
    HubSpotError,
    invalid_properties_message,
    not_found,
    property_problem,
    standard_error,
)
from simulator.server.hubspot_query import iso_ms, parse_time
from simulator.server.state import WorldState
from simulator.world.crm_schema import READ_ONLY_VALUES

WRITABLE = ("tasks",)  # object types clients may create and archive
TASK_ID_BASE = 90_000_000_000
NEXT_ID_KEY = "hubspot_next_task_id"
REQUIRED_ON_CREATE = {"tasks": ("hs_timestamp",)}
# HubSpot-defined association type ids (v4) from a task, and the object type they point to.
TASK_ASSOCIATION_TYPES = {192: "companies", 204: "contacts", 216: "deals", 230: "tickets"}
SINGULAR = {
    "companies": "company",
    "contacts": "contact",
    "deals": "deal",
    "tickets": "ticket",
    "feedback_submissions": "feedback_submission",
    "tasks": "task",
}


def definitions(state: WorldState, otype: str) -> dict[str, dict]:
    with state.lock:
        rows = state.conn.execute("SELECT name, body FROM hubspot_properties WHERE object_type=?", (otype,)).fetchall()
    return {name: json.loads(body) for name, body in rows}


def owner_ids(state: WorldState) -> set[str]:
    with state.lock:
        return {i for (i,) in state.conn.execute("SELECT id FROM current WHERE vendor='hubspot' AND otype='owners'")}


def validate(state: WorldState, otype: str, props: dict, creating: bool) -> tuple[dict, list[dict]]:
    """The patch to store (values as HubSpot keeps them; "" or null clears) and the problems.

    Unknown and read-only names are rejected for every type; values are checked (options,
    owners, datetimes) for the client-written types, whose writes HubSpot fully validates."""
    if not isinstance(props, dict):
        raise HubSpotError(400, "properties must be an object of property names to string values")
    defs = definitions(state, otype)
    strict = otype in WRITABLE
    owners = owner_ids(state) if strict and props.get("hubspot_owner_id") not in (None, "") else set()
    patch: dict = {}
    problems: list[dict] = []
    for name, raw in props.items():
        d = defs.get(name)
        if d is None:
            problems.append(property_problem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
            continue
        if name in READ_ONLY_VALUES:
            problems.append(
                property_problem(name, "READ_ONLY_VALUE", f"{name} is a read only property; its value cannot be set.")
            )
            continue
        value = None if raw is None or raw == "" else str(raw)
        if value is not None and strict:
            value, problem = _check_value(name, value, d, owners)
            if problem:
                problems.append(problem)
                continue
        patch[name] = value
    for name in REQUIRED_ON_CREATE.get(otype, ()) if strict else ():
        cleared = name in patch and patch[name] is None
        if (creating and patch.get(name) is None) or cleared:
            if not any(p["name"] == name for p in problems):
                problems.append(property_problem(name, "REQUIRED_PROPERTY", f"{name} is required"))
    return patch, problems


def _check_value(name: str, value: str, d: dict, owners: set[str]) -> tuple[str, dict | None]:
    if name == "hubspot_owner_id":
        if value not in owners:
            return value, property_problem(name, "INVALID_OWNER_ID", f"{value} is not a valid owner id")
        return value, None
    if d["type"] == "datetime":
        try:
            return iso_ms(parse_time(value)), None
        except (ValueError, OverflowError, OSError):
            return value, property_problem(name, "INVALID_DATE", f"{value} is not a valid datetime for {name}")
    if d["type"] == "enumeration" and d.get("options") and not d.get("externalOptions"):
        allowed = [o["value"] for o in d["options"]]
        chosen = value.split(";") if d.get("fieldType") == "checkbox" else [value]
        if any(v not in allowed for v in chosen):
            return value, property_problem(
                name, "INVALID_OPTION", f"{value} was not one of the allowed options: [{', '.join(allowed)}]"
            )
    if d["type"] == "number":
        try:
            float(value)
        except ValueError:
            return value, property_problem(name, "INVALID_NUMBER", f"{value} is not a valid number for {name}")
    return value, None


def with_derived(otype: str, patch: dict, before: dict, now_ms: int) -> dict:
    """HubSpot's own bookkeeping: completing a task stamps its completion date; reopening clears it."""
    if otype != "tasks" or "hs_task_status" not in patch:
        return patch
    if patch["hs_task_status"] == "COMPLETED":
        if before.get("hs_task_status") != "COMPLETED" or not before.get("hs_task_completion_date"):
            return {**patch, "hs_task_completion_date": iso_ms(now_ms)}
        return patch
    return {**patch, "hs_task_completion_date": None}


def raise_invalid(problems: list[dict], context: dict | None = None) -> None:
    if problems:
        raise HubSpotError(
            400,
            invalid_properties_message(problems),
            "VALIDATION_ERROR",
            context={"propertyName": [p["name"] for p in problems], **(context or {})},
        )


def parse_associations(state: WorldState, otype: str, specs: object) -> list[tuple[str, str, str, str]]:
    """`PublicAssociationsForObject`s of a create input as (to_type, to_id, label, inverse label)."""
    if specs in (None, []):
        return []
    if not isinstance(specs, list):
        raise HubSpotError(400, "Invalid input JSON: associations must be a list")
    links, errors = [], []
    for i, spec in enumerate(specs):
        to_id = str(((spec or {}).get("to") or {}).get("id") or "")
        types = (spec or {}).get("types") or []
        if not to_id or not types:
            errors.append({"message": "Each association needs to.id and types", "in": f"associations[{i}]"})
            continue
        for t in types:
            type_id, category = t.get("associationTypeId"), t.get("associationCategory")
            to_type = TASK_ASSOCIATION_TYPES.get(type_id) if otype == "tasks" else None
            if category != "HUBSPOT_DEFINED" or to_type is None:
                errors.append(
                    {
                        "message": f"{category} association type {type_id} is not valid from {otype}",
                        "in": f"associations[{i}].types",
                    }
                )
                continue
            with state.lock:
                found = state.conn.execute(
                    "SELECT 1 FROM current WHERE vendor='hubspot' AND otype=? AND id=? AND deleted=0", (to_type, to_id)
                ).fetchone()
            if not found:
                errors.append(
                    {"message": f"No {SINGULAR[to_type]} with id {to_id} exists", "in": f"associations[{i}].to.id"}
                )
                continue
            src, dst = SINGULAR[otype], SINGULAR[to_type]
            links.append((to_type, to_id, f"{src}_to_{dst}", f"{dst}_to_{src}"))
    if errors:
        raise HubSpotError(
            400,
            "One or more associations are invalid: " + "; ".join(e["message"] for e in errors),
            "VALIDATION_ERROR",
            context={"associations": [e["in"] for e in errors]},
            errors=errors,
        )
    return links


def insert(state: WorldState, otype: str, patch: dict, links: list[tuple[str, str, str, str]]) -> str:
    """Store a new object and its associations (one transaction); returns its id."""
    with state.lock:
        row = state.conn.execute("SELECT value FROM meta WHERE key=?", (NEXT_ID_KEY,)).fetchone()
        oid = str(int(row[0]) if row else TASK_ID_BASE + 1)
        state.conn.execute("INSERT OR REPLACE INTO meta VALUES (?,?)", (NEXT_ID_KEY, str(int(oid) + 1)))
        now = state.now_ms
        body = {k: v for k, v in patch.items() if v is not None}
        state.write_version("hubspot", otype, oid, now, body, commit=False)
        for to_type, to_id, label, inverse in links:
            state.conn.execute(
                "INSERT INTO associations VALUES (?,?,?,?,?,?)", (otype, oid, to_type, to_id, label, now)
            )
            state.conn.execute(
                "INSERT INTO associations VALUES (?,?,?,?,?,?)", (to_type, to_id, otype, oid, inverse, now)
            )
        state.conn.commit()
    return oid


def live_row(state: WorldState, otype: str, oid: str) -> tuple[int, dict] | None:
    """(created, body) of a live (not archived) object."""
    with state.lock:
        row = state.conn.execute(
            "SELECT created, body FROM current WHERE vendor='hubspot' AND otype=? AND id=? AND deleted=0",
            (otype, oid),
        ).fetchone()
    return (row[0], json.loads(row[1])) if row else None


def update(state: WorldState, otype: str, oid: str, props: dict) -> dict | None:
    """Apply a client's partial update; None when stored, else the `StandardError` to report."""
    found = live_row(state, otype, oid)
    if not found:
        return not_found([oid])
    patch, problems = validate(state, otype, props, creating=False)
    if problems:
        return standard_error(
            "VALIDATION_ERROR",
            invalid_properties_message(problems),
            {"propertyName": [p["name"] for p in problems], "id": [oid]},
        )
    state.write_version("hubspot", otype, oid, found[0], with_derived(otype, patch, found[1], state.now_ms))
    return None


def archive(state: WorldState, otype: str, oid: str) -> bool:
    """Move an object to the recycle bin (HubSpot's archive); False when there is none live."""
    found = live_row(state, otype, oid)
    if found:
        state.write_version("hubspot", otype, oid, found[0], {}, deleted=True)
    return bool(found)


def complete(state: WorldState, oid: str) -> bool:
    """A CSM ticks the task off in HubSpot's UI."""
    found = live_row(state, "tasks", oid)
    if found:
        patch = with_derived("tasks", {"hs_task_status": "COMPLETED"}, found[1], state.now_ms)
        state.write_version("hubspot", "tasks", oid, found[0], patch)
    return bool(found)


def purge(state: WorldState, oid: str) -> bool:
    """Delete a task for good (emptied from the recycle bin): gone even with `archived=true`."""
    with state.lock:
        gone = state.conn.execute(
            "DELETE FROM versions WHERE vendor='hubspot' AND otype='tasks' AND id=?", (oid,)
        ).rowcount
        state.conn.execute("DELETE FROM current WHERE vendor='hubspot' AND otype='tasks' AND id=?", (oid,))
        state.conn.execute(
            "DELETE FROM associations WHERE (from_type='tasks' AND from_id=?) OR (to_type='tasks' AND to_id=?)",
            (oid, oid),
        )
        state.conn.commit()
    return gone > 0
