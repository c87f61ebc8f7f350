"""The validation gate: reverse ETL refuses to run unless the warehouse's validations passed.

The rule, per ``Settings``:

1. every required layer (default raw, staging, and marts once its suite exists) has a latest
   validation run in ``audit.validation_results``, and that run has no failed ``critical``
   expectation;
2. for every "fresh" layer (default marts, the layer that validates the synced mart): its
   latest run was written after the mart's newest row.

"After" is decided by PostgreSQL transaction ids, not clocks: ``age(xmin)`` is how many
transactions ago a row was written, so a validation row with a smaller age than every mart row
was committed after the mart was (re)built or edited. dbt writes no build timestamp into the
mart, and comparing wall clocks across hosts would be weaker anyway. A mart rebuilt after its
validation therefore blocks the sync until it is validated again.
"""

from __future__ import annotations

from datetime import date

import psycopg
from psycopg import sql


class ValidationGateClosed(RuntimeError):
    """Validation failed, is missing, or is older than the mart: says which layer and why."""


def check(
    conn: psycopg.Connection,
    mart: str,
    required: tuple[str, ...],
    fresh: tuple[str, ...],
    as_of_date: date | None = None,
) -> dict:
    """Return ``{layer: run_id}`` of the runs the sync relies on, or raise ValidationGateClosed.

    With ``as_of_date`` (the pipeline run's day), a fresh layer's latest run must also have been
    for that day when it recorded one: a validation of another day's marts does not count.
    """
    if not required:
        return {}
    exists = conn.execute("select to_regclass('audit.validation_results') is not null").fetchone()[0]
    if not exists:
        raise ValidationGateClosed(
            f"no validation results at all (audit.validation_results is missing); validate {', '.join(required)} first"
        )
    # The latest run of each layer, its critical failures, and how many transactions ago it was written.
    rows = conn.execute(
        """
        with latest as (
            select distinct on (layer) layer, run_id
            from audit.validation_results
            where layer = any(%s)
            order by layer, run_at desc
        )
        select l.layer, l.run_id, min(age(r.xmin)), max((to_jsonb(r) ->> 'as_of_date')::date),
               count(*) filter (where not r.success and r.severity = 'critical'),
               array_agg(r.table_name || coalesce(' column ' || r.column_name, '') || ': ' || r.expectation
                         order by r.table_name, r.expectation)
                   filter (where not r.success and r.severity = 'critical')
        from latest l
        join audit.validation_results r using (layer, run_id)
        group by l.layer, l.run_id
        """,
        (list(required),),
    ).fetchall()
    runs = {layer: (run_id, age, failed, what) for layer, run_id, age, _, failed, what in rows}
    days = {layer: day for layer, _, _, day, _, _ in rows}
    problems = []
    for layer in required:
        if layer not in runs:
            problems.append(f"{layer}: never validated")
            continue
        run_id, _, failed, what = runs[layer]
        if failed:
            shown = "; ".join(what[:5]) + (f"; … {failed - 5} more" if failed > 5 else "")
            problems.append(f"{layer}: latest run {run_id} has {failed} failed critical expectation(s): {shown}")
    if fresh and not problems:
        mart_age = _newest_row_age(conn, mart)
        for layer in fresh:
            run_id, age, _, _ = runs[layer]
            if mart_age is not None and age >= mart_age:
                problems.append(f"{layer}: latest run {run_id} is older than {mart} (rebuilt since): validate it again")
            elif as_of_date is not None and days[layer] is not None and days[layer] != as_of_date:
                day = days[layer]
                problems.append(f"{layer}: latest run {run_id} validated {day}, not this run's day {as_of_date}")
    if problems:
        raise ValidationGateClosed("reverse ETL refused: " + " | ".join(problems))
    return {layer: runs[layer][0] for layer in required}


def _newest_row_age(conn: psycopg.Connection, mart: str) -> int | None:
    """Transactions since the mart's newest row was written (None for an empty mart)."""
    schema, table = mart.split(".")
    query = sql.SQL("select min(age(xmin)) from {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    return conn.execute(query).fetchone()[0]
