"""Reusable rules, each one set-based query returning the offending rows (and their values).

Every builder takes the ``BuildEnv`` (catalog snapshot + settings) so that it can skip work
the database already guarantees (a primary key, a NOT NULL column) and only reference columns
that exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from expectations import dbt_project
from expectations.catalog import Catalog
from expectations.settings import Settings
from expectations.spec import Check, Severity, ident, offending_rows, sql_list


@dataclass(frozen=True)
class BuildEnv:
    catalog: Catalog
    settings: Settings


def _cols(cols: tuple[str, ...] | list[str]) -> str:
    return ", ".join(ident(c) for c in cols)


def unique_key(
    env: BuildEnv,
    schema: str,
    table: str,
    cols: tuple[str, ...],
    severity: Severity = "critical",
    backed_by: tuple[str, str, tuple[str, ...]] | None = None,
) -> tuple[list[Check], list[tuple[str, str, tuple[str, ...]]]]:
    """Key ``cols`` unique and not null.

    When a constraint guarantees it — on the table itself, or on the upstream table
    ``backed_by`` a view only filters and renames — nothing is scanned: the constraint is
    returned so the layer's catalog suite verifies it. Otherwise one grouping query returns
    every duplicated key with its number of copies, and one query returns keys with nulls.
    """
    if env.catalog.enforces_unique(schema, table, cols) and all(env.catalog.not_null(schema, table, c) for c in cols):
        return [], [(schema, table, cols)]
    if (
        backed_by
        and env.catalog.enforces_unique(*backed_by)
        and all(env.catalog.not_null(backed_by[0], backed_by[1], c) for c in backed_by[2])
    ):
        return [], [backed_by]
    checks = [
        offending_rows(
            "expect_key_unique",
            f"select {_cols(cols)}, count(*) as copies from {{batch}} as b group by {_cols(cols)} having count(*) > 1",
            f"Each ({', '.join(cols)}) appears once.",
            severity,
        ),
    ]
    nullable = [c for c in cols if not env.catalog.not_null(schema, table, c)]
    if nullable:
        checks.append(not_null(nullable, severity, name="expect_key_not_null", show=cols))
    return checks, []


def not_null(
    cols: list[str] | tuple[str, ...],
    severity: Severity = "critical",
    name: str = "expect_not_null",
    show: tuple[str, ...] | list[str] = (),
) -> Check:
    shown = list(dict.fromkeys([*show, *cols]))
    cond = " or ".join(f"{ident(c)} is null" for c in cols)
    return offending_rows(
        name,
        f"select {_cols(shown)} from {{batch}} as b where {cond}",
        f"No null in {', '.join(cols)}.",
        severity,
    )


def in_set(col: str, values: list[str], severity: Severity = "critical", allow_null: bool = True) -> Check:
    """Every value of ``col`` in ``values``; the failure lists each wrong value and how often."""
    null_part = "" if allow_null else f" or {ident(col)} is null"
    return offending_rows(
        "expect_values_in_set",
        f"select {ident(col)} as value, count(*) as rows from {{batch}} as b "
        f"where {ident(col)} not in ({sql_list(values)}){null_part} group by 1",
        f"{col} is one of {', '.join(map(str, values))}" + ("" if allow_null else " (never null)") + ".",
        severity,
    )


def accepted_values(model: str, col: str, severity: Severity = "critical", allow_null: bool = True) -> Check:
    """``in_set`` with the values of the dbt ``accepted_values`` test on ``model.col`` (the model yml)."""
    return in_set(col, dbt_project.accepted_values(model, col), severity, allow_null)


def between(
    cols: list[str] | tuple[str, ...],
    low: float | None,
    high: float | None,
    key: tuple[str, ...] = (),
    severity: Severity = "critical",
    name: str = "expect_values_between",
) -> Check:
    """Every (non-null) value of each of ``cols`` within [low, high]; offending rows with their key."""
    conds = []
    for c in cols:
        if low is not None:
            conds.append(f"{ident(c)} < {low!r}")
        if high is not None:
            conds.append(f"{ident(c)} > {high!r}")
    shown = list(dict.fromkeys([*key, *cols]))
    bounds = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
    return offending_rows(
        name,
        f"select {_cols(shown)} from {{batch}} as b where {' or '.join(conds)}",
        f"{', '.join(cols)} within {bounds}.",
        severity,
    )


def not_in_future(
    env: BuildEnv, col: str, key: tuple[str, ...] = (), severity: Severity = "critical", name: str | None = None
) -> Check:
    hours = env.settings.future_tolerance_hours
    shown = list(dict.fromkeys([*key, col]))
    return offending_rows(
        name or "expect_not_in_future",
        f"select {_cols(shown)} from {{batch}} as b where {ident(col)} > now() + interval '{hours} hours'",
        f"{col} is not later than now() + {hours} h.",
        severity,
    )


def references(
    col: str,
    parent: str,
    parent_col: str,
    severity: Severity = "critical",
    key: tuple[str, ...] = (),
    name: str = "expect_reference_resolves",
    where: str = "",
) -> Check:
    """Every non-null ``col`` exists as ``parent.parent_col`` (orphans listed)."""
    shown = list(dict.fromkeys([*key, col]))
    extra = f" and ({where})" if where else ""
    return offending_rows(
        name,
        f"select {', '.join('t.' + ident(c) for c in shown)} from {{batch}} as t "
        f"where t.{ident(col)} is not null{extra} and not exists "
        f"(select 1 from {parent} as p where p.{ident(parent_col)} = t.{ident(col)})",
        f"Every {col} resolves to {parent}.{parent_col}.",
        severity,
    )
