"""Distribution checks: a mart's profile compared with the one of the last accepted run.

Row rules cannot see a collapsed mart: every health score set to 0 is a valid score with a
valid band. So each marts run that passes records a small profile of ``marts.mart_crm_sync``
(row count, mean health score, share of each health band) in ``audit.mart_profiles``, and the
next run's critical check ``expect_profile_like_last_accepted`` fails when its profile moved
further from that one than the dbt vars allow:

- ``mart_profile_max_row_change_share``: the row count changes by more than this share;
- ``mart_profile_max_mean_shift``: the mean health score moves by more than this many points;
- ``mart_profile_max_band_share_shift``: a band's share of the rows moves by more than this.

The first run (no profile yet) passes and records one; a failed run records none, so it is
compared again with the same accepted profile. A real shift (a new scoring rule, a big
onboarding wave) is accepted by one run with ``POSTSALE_GX_ACCEPT_PROFILE_SHIFT=1``: the check
is then a warning, the run passes and its profile becomes the reference.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from psycopg import Connection
from psycopg.types.json import Jsonb

from expectations import dbt_project
from expectations.audit import DDL
from expectations.settings import dbt_var
from expectations.spec import Check, ident, offending_rows, sql_list

ACCEPT_ENV = "POSTSALE_GX_ACCEPT_PROFILE_SHIFT"
CHECK = "expect_profile_like_last_accepted"


@dataclass(frozen=True)
class Profiled:
    """A mart whose distribution is compared run to run: its score column and band column."""

    schema: str
    table: str
    score: str
    band: str

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.table}"

    def bands(self) -> list[str]:
        return dbt_project.accepted_values(self.table, self.band)

    def profile_sql(self, source: str) -> str:
        """One jsonb profile of ``source`` (a relation or ``{batch}``, aliased ``b``)."""
        shares = ", ".join(
            f"{sql_list([band])}, coalesce(round(count(*) filter (where {ident(self.band)} = {sql_list([band])})"
            "::numeric / nullif(count(*), 0), 4), 0)"
            for band in self.bands()
        )
        return (
            f"select jsonb_build_object('rows', count(*), 'mean_score', round(avg({ident(self.score)})::numeric, 2), "
            f"'band_share', jsonb_build_object({shares})) as p from {source} as b"
        )


PROFILED = {"marts": (Profiled("marts", "mart_crm_sync", "health_score", "health_band"),)}


def check(target: Profiled) -> Check:
    """Critical: the batch's profile is within the dbt vars' limits of the last accepted one."""
    rows_max = dbt_var("mart_profile_max_row_change_share")
    mean_max = dbt_var("mart_profile_max_mean_shift")
    band_max = dbt_var("mart_profile_max_band_share_shift")
    metrics = [
        "('row count', (l.p ->> 'rows')::numeric, (c.p ->> 'rows')::numeric, "
        f"{rows_max!r} * (l.p ->> 'rows')::numeric)",
        f"('mean {target.score}', (l.p ->> 'mean_score')::numeric, (c.p ->> 'mean_score')::numeric, {mean_max!r})",
        *(
            f"({sql_list([f'{band} share'])}, (l.p -> 'band_share' ->> {sql_list([band])})::numeric, "
            f"(c.p -> 'band_share' ->> {sql_list([band])})::numeric, {band_max!r})"
            for band in target.bands()
        ),
    ]
    query = (
        f"with c as ({target.profile_sql('{batch}')}), "
        "l as (select run_id, profile as p from audit.mart_profiles "
        f"where table_name = {sql_list([target.relation])} order by recorded_at desc limit 1) "
        "select m.metric, m.last_accepted, m.current, m.allowed_change, l.run_id as last_accepted_run "
        f"from c cross join l cross join lateral (values {', '.join(metrics)}) "
        "as m (metric, last_accepted, current, allowed_change) "
        "where abs(coalesce(m.current, 0) - coalesce(m.last_accepted, 0)) > m.allowed_change"
    )
    accepting = os.environ.get(ACCEPT_ENV, "") not in ("", "0")
    description = (
        f"Like the last accepted run: rows within {rows_max:.0%}, mean {target.score} within {mean_max:g} points, "
        f"each {target.band} share within {band_max:g} (dbt vars mart_profile_max_row_change_share, "
        f"mart_profile_max_mean_shift, mart_profile_max_band_share_shift); if the shift is real, validate once "
        f"with {ACCEPT_ENV}=1."
    )
    return offending_rows(CHECK, query, description, severity="warning" if accepting else "critical")


def prepare(conn: Connection, layer: str) -> None:
    """Create the profiles table before a layer with profiled marts is checked (its check reads it)."""
    if PROFILED.get(layer):
        conn.execute(DDL)


def record(conn: Connection, layer: str, run_id: str) -> None:
    """Record the profiles of the layer's marts for a run that passed (non-empty marts only:
    an empty one is no reference)."""
    for target in PROFILED.get(layer, ()):
        exists = conn.execute("select to_regclass(%s) is not null", (target.relation,)).fetchone()[0]
        if not exists:
            continue
        relation = f"{ident(target.schema)}.{ident(target.table)}"
        (profile,) = conn.execute(target.profile_sql(relation)).fetchone()
        if profile["rows"]:
            conn.execute(DDL)
            conn.execute(
                "insert into audit.mart_profiles (table_name, run_id, profile) values (%s, %s, %s)",
                (target.relation, run_id, Jsonb(profile)),
            )
