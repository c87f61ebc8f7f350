"""HubSpot object rendering and CRM search translation (filterGroups/sorts to SQL).

Computed properties are derived from the `current` row rather than stored: `hs_object_id`
(the id), `createdate` (creation), `hs_lastmodifieddate` (companies, deals, tickets,
feedback) or `lastmodifieddate` (contacts), the last version's timestamp.
"""

from __future__ import annotations

from datetime import UTC, datetime

OBJECT_ALIASES = {
    "companies": "companies",
    "company": "companies",
    "0-2": "companies",
    "contacts": "contacts",
    "contact": "contacts",
    "0-1": "contacts",
    "deals": "deals",
    "deal": "deals",
    "0-3": "deals",
    "tickets": "tickets",
    "ticket": "tickets",
    "0-5": "tickets",
    "feedback_submissions": "feedback_submissions",
    "feedback_submission": "feedback_submissions",
    "0-19": "feedback_submissions",
    "tasks": "tasks",
    "task": "tasks",
    "0-27": "tasks",
}

# Properties returned when the request names none (HubSpot's defaults per object type).
DEFAULT_PROPERTIES = {
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "deals": (
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ),
    "tickets": (
        "content",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
        "hs_pipeline",
        "hs_pipeline_stage",
        "hs_ticket_category",
        "hs_ticket_priority",
        "subject",
    ),
    "feedback_submissions": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
    "tasks": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
}

MODIFIED_PROP = {"contacts": "lastmodifieddate"}
CREATED_PROP = {"feedback_submissions": "hs_createdate", "tasks": "hs_createdate"}
# Datetime properties held in the body (as ISO 8601 strings); filters compare them as epoch ms.
BODY_TIMES = {"hs_timestamp", "hs_task_completion_date"}


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_time(value: str) -> int:
    """A HubSpot datetime filter value: epoch ms, or an ISO 8601 date/date-time."""
    value = str(value).strip()
    if value.lstrip("-").isdigit():
        return int(value)
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def computed_props(otype: str, oid: str, created: int, modified: int) -> dict[str, str]:
    return {
        "hs_object_id": oid,
        CREATED_PROP.get(otype, "createdate"): iso_ms(created),
        MODIFIED_PROP.get(otype, "hs_lastmodifieddate"): iso_ms(modified),
    }


def render_object(
    otype: str,
    oid: str,
    created: int,
    modified: int,
    body: dict,
    requested: list[str] | None,
    known: set[str],
    archived: bool = False,
) -> dict:
    """`SimplePublicObject`: requested (or default) properties; unknown names ignored, unset ones null.

    An archived object's last version is its archiving, so `archivedAt` is its modified time.
    """
    props = {**body, **computed_props(otype, oid, created, modified)}
    names = requested if requested else DEFAULT_PROPERTIES[otype]
    out = {}
    for name in names:
        if name in props or name in known:
            v = props.get(name)
            out[name] = None if v is None else str(v)
    obj = {
        "id": oid,
        "properties": out,
        "createdAt": iso_ms(created),
        "updatedAt": iso_ms(modified),
        "archived": archived,
    }
    if archived:
        obj["archivedAt"] = iso_ms(modified)
    return obj


class SearchError(ValueError):
    """An invalid search request (rendered as HubSpot's 400 VALIDATION_ERROR)."""


def _column(otype: str, prop: str) -> tuple[str, bool]:
    """SQL expression for a property and whether it is a time column (compare as ms)."""
    if prop == MODIFIED_PROP.get(otype, "hs_lastmodifieddate") or prop in ("hs_lastmodifieddate", "lastmodifieddate"):
        return "modified", True
    if prop in ("createdate", "hs_createdate"):
        return "created", True
    if prop == "hs_object_id":
        return "CAST(id AS INTEGER)", False
    safe = prop.replace('"', "")
    if prop in BODY_TIMES:
        iso = f"json_extract(body, '$.\"{safe}\"')"
        return f"CAST(ROUND((julianday({iso}) - 2440587.5) * 86400000) AS INTEGER)", True
    return f"json_extract(body, '$.\"{safe}\"')", False


def _value(v: object, is_time: bool) -> tuple[str, object]:
    """Placeholder and bound value; numeric strings compare numerically, like HubSpot's number props."""
    if is_time:
        return "?", parse_time(str(v))
    s = str(v)
    try:
        float(s)
        return "CAST(? AS REAL)", s
    except ValueError:
        return "?", s


def _association_filter(otype: str, prop: str, op: str, f: dict, cutoff_ms: int | None) -> tuple[str, list]:
    """`associations.company` (HubSpot's pseudo-property): objects associated with the given ids."""
    target = OBJECT_ALIASES.get(prop.split(".", 1)[1])
    if not target:
        raise SearchError(f"Unknown association type in filter {prop}")
    sub = "SELECT from_id FROM associations WHERE from_type=? AND to_type=?"
    args: list = [otype, target]
    if cutoff_ms is not None:
        sub += " AND ts < ?"
        args.append(cutoff_ms)
    if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        return f"id {'NOT ' if op.startswith('NOT') else ''}IN ({sub})", args
    if op in ("EQ", "NEQ"):
        values = [str(f.get("value"))]
    elif op in ("IN", "NOT_IN"):
        values = [str(x) for x in f.get("values") or []]
    else:
        raise SearchError(f"Operator {op} is not supported for {prop}")
    sub += f" AND to_id IN ({','.join('?' * len(values)) or 'NULL'})"
    neg = "NOT " if op in ("NEQ", "NOT_IN") else ""
    return f"id {neg}IN ({sub})", args + values


def filters_sql(otype: str, groups: list[dict], cutoff_ms: int | None = None) -> tuple[str, list]:
    """OR of filterGroups, each an AND of filters; `("1", [])` when there are none.

    `associations.<type>` filters match objects associated with the given ids (visible before
    `cutoff_ms` when given)."""
    if len(groups) > 5:
        raise SearchError("Too many filter groups (max 5)")
    ors, args = [], []
    for g in groups:
        ands = []
        filters = g.get("filters") or []
        if len(filters) > 6:
            raise SearchError("Too many filters in a filter group (max 6)")
        for f in filters:
            prop, op = f.get("propertyName"), str(f.get("operator", "")).upper()
            if not prop or not op:
                raise SearchError("Each filter needs propertyName and operator")
            if prop.startswith("associations."):
                sql, extra = _association_filter(otype, prop, op, f, cutoff_ms)
                ands.append(sql)
                args += extra
                continue
            expr, is_time = _column(otype, prop)
            cmp = {"EQ": "=", "NEQ": "!=", "GT": ">", "GTE": ">=", "LT": "<", "LTE": "<="}
            if op in cmp:
                ph, v = _value(f.get("value"), is_time)
                lhs = f"CAST({expr} AS REAL)" if ph.startswith("CAST") else expr
                ands.append(f"{lhs} {cmp[op]} {ph}")
                args.append(v)
            elif op == "BETWEEN":
                ph1, v1 = _value(f.get("value"), is_time)
                ph2, v2 = _value(f.get("highValue"), is_time)
                lhs = f"CAST({expr} AS REAL)" if ph1.startswith("CAST") else expr
                ands.append(f"{lhs} BETWEEN {ph1} AND {ph2}")
                args += [v1, v2]
            elif op in ("IN", "NOT_IN"):
                values = [str(x) for x in f.get("values") or []]
                if is_time:
                    values = [parse_time(x) for x in values]  # type: ignore[misc]
                neg = "NOT " if op == "NOT_IN" else ""
                ands.append(f"{expr} {neg}IN ({','.join('?' * len(values)) or 'NULL'})")
                args += values
            elif op == "HAS_PROPERTY":
                ands.append(f"{expr} IS NOT NULL")
            elif op == "NOT_HAS_PROPERTY":
                ands.append(f"{expr} IS NULL")
            elif op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
                token = str(f.get("value", "")).replace("*", "%")
                neg = "NOT " if op.startswith("NOT") else ""
                ands.append(f"COALESCE({expr}, '') {neg}LIKE ?")
                args.append(f"%{token}%")
            else:
                raise SearchError(f"Unsupported operator {op}")
        if ands:
            ors.append("(" + " AND ".join(ands) + ")")
    return (" OR ".join(ors) or "1"), args


def sort_sql(otype: str, sorts: list) -> str:
    """ORDER BY for `sorts` (objects or "-prop" strings); id breaks ties deterministically."""
    parts = []
    for s in sorts or []:
        if isinstance(s, str):
            prop, desc = s.lstrip("-"), s.startswith("-")
        else:
            prop, desc = s.get("propertyName"), str(s.get("direction", "ASCENDING")).upper() == "DESCENDING"
        expr, _ = _column(otype, prop)
        parts.append(f"{expr} {'DESC' if desc else 'ASC'}")
    parts.append("CAST(id AS INTEGER) ASC")
    return ", ".join(parts)
