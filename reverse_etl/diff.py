"""Read the mart, render each row to HubSpot values, and diff it against the last accepted sync.

A row's fingerprint is a hash of its rendered properties (names included), so a changed value,
a cleared value or a newly mapped property all make a company "changed"; equal rendered values
never do. Two properties move on every row every day and are fingerprinted by what they mean
instead (``OwnedProperty.change_key``): the score date is left out, and days to renewal counts as
the renewal date it points at. Both are still sent, fresh, whenever a company is sent.

Rows HubSpot must not receive (a missing key, a duplicate key, a value outside its range or
options) are *rejected* here: logged, never sent, never fingerprinted.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from reverse_etl.mapping import KEY_COLUMN, PROPERTIES, InvalidValue


class MartContractError(RuntimeError):
    """The mart is missing or lacks a mapped column: the mapping and the mart disagree."""


@dataclass(frozen=True)
class Change:
    """A company whose rendered properties differ from what HubSpot last accepted."""

    id: str
    properties: dict[str, str]
    fingerprint: str
    previous: dict[str, str] | None  # None: never synced (or never accepted)


@dataclass
class Plan:
    """What a run would send: changed companies, rejected rows, and the numbers the guardrail needs."""

    mart_rows: int
    synced_before: int  # companies with an accepted sync state
    changes: list[Change] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)

    @property
    def first_sync(self) -> bool:
        return self.synced_before == 0

    @property
    def change_share(self) -> float:
        return len(self.changes) / self.mart_rows if self.mart_rows else 0.0

    def material(self, points: float) -> list[Change]:
        """Changes a reviewer would call real: any category, flag or text, a value set or
        cleared, or a number moving by ``points`` or more. A score drifting by a point is sent
        like any change, but a day of drift is not what the guardrail is there to stop; nor is
        the first fill of a property mapped since the company's last accepted sync, nor a
        change of the reason texts (``OwnedProperty.material``)."""
        return [c for c in self.changes if _is_material(c, points)]

    def material_share(self, points: float) -> float:
        return len(self.material(points)) / self.mart_rows if self.mart_rows else 0.0

    def sample(self, n: int) -> list[dict]:
        """Up to ``n`` changes as ``{id, changes: {property: [before, after]}}``: what a reviewer reads."""
        out = []
        for c in self.changes[:n]:
            before = c.previous or {}
            diff = {k: [before.get(k), v] for k, v in c.properties.items() if before.get(k) != v}
            out.append({"id": c.id, "changes": diff})
        return out


def _is_material(change: Change, points: float) -> bool:
    if change.previous is None:
        return True
    # Rendered values back under their column names, for the change keys.
    before_row = {p.column: change.previous.get(p.name) or None for p in PROPERTIES}
    after_row = {p.column: change.properties.get(p.name) or None for p in PROPERTIES}
    for p in PROPERTIES:
        if not p.material:  # explanations: their numbers drift with the scores they explain
            continue
        if p.name not in change.previous:
            # Mapped after this company's last accepted sync: its first fill overwrites nothing
            # of ours, so a deploy adding properties does not trip the guardrail by itself (the
            # properties it already carried are still judged).
            continue
        if p.change_key is not None:  # judged by what it means: score date never, renewal date when moved
            if p.change_key(before_row) != p.change_key(after_row):
                return True
            continue
        before, after = change.previous.get(p.name, ""), change.properties.get(p.name, "")
        if before == after:
            continue
        if p.type == "number" and before and after and abs(float(after) - float(before)) < points:
            continue
        return True
    return False


def fingerprint(row: dict, properties: dict[str, str]) -> str:
    """A hash of what the company's properties mean (see the module docstring)."""
    key = {p.name: p.change_value(row, properties[p.name]) for p in PROPERTIES}
    return hashlib.sha256(json.dumps(key, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def read_mart(conn: psycopg.Connection, mart: str) -> list[dict]:
    """Every mart row as a dict of the mapped columns (and the key)."""
    schema, table = mart.split(".")
    present = {
        name
        for (name,) in conn.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
            (schema, table),
        )
    }
    if not present:
        raise MartContractError(f"{mart} does not exist (build it with dbt first)")
    wanted = [KEY_COLUMN, *(p.column for p in PROPERTIES)]
    missing = [c for c in wanted if c not in present]
    if missing:
        raise MartContractError(f"{mart} lacks mapped column(s) {missing}: update reverse_etl/mapping.py")
    query = sql.SQL("select {} from {}.{} order by {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in wanted),
        sql.Identifier(schema),
        sql.Identifier(table),
        sql.Identifier(KEY_COLUMN),
    )
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(query).fetchall()


def render(row: dict) -> dict[str, str]:
    """The HubSpot properties of one mart row; raises InvalidValue naming every bad column."""
    out, errors = {}, []
    for p in PROPERTIES:
        try:
            out[p.name] = p.render(row[p.column])
        except InvalidValue as exc:
            errors.append(str(exc))
    if errors:
        raise InvalidValue("; ".join(errors))
    return out


def plan(rows: list[dict], state: dict[str, tuple[str, dict]]) -> Plan:
    """Diff rendered mart rows against ``state`` (id -> (fingerprint, properties))."""
    keys = Counter(str(r[KEY_COLUMN]).strip() if r[KEY_COLUMN] is not None else None for r in rows)
    out = Plan(mart_rows=len(rows), synced_before=len(state))
    for row in rows:
        key = row[KEY_COLUMN]
        oid = str(key).strip() if key is not None else None
        if not oid:
            out.rejected.append({"id": "", "error": f"{KEY_COLUMN} is null or empty", "row": _jsonable(row)})
            continue
        if keys[oid] > 1:
            # Two verdicts for one company: sending either could be the wrong one.
            out.rejected.append({"id": oid, "error": f"{keys[oid]} mart rows for this company", "row": _jsonable(row)})
            continue
        try:
            props = render(row)
        except InvalidValue as exc:
            out.rejected.append({"id": oid, "error": str(exc), "row": _jsonable(row)})
            continue
        fp = fingerprint(row, props)
        previous = state.get(oid)
        if previous is None or previous[0] != fp:
            out.changes.append(Change(oid, props, fp, previous[1] if previous else None))
    return out


def _jsonable(row: dict) -> dict:
    return json.loads(json.dumps(row, default=str))
