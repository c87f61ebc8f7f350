"""fct_journey_transitions is incremental by episode: a daily run re-derives only the episodes it
can change and keeps every other stored row. After such a run the whole table must equal a full
refresh for the same as_of_date.

Independent of the other dbt tests: it starts from whatever day the warehouse was last built for
(test_dbt_build.py may have moved it), moves as_of_date forward without advancing the simulator
(the window slides, ongoing episodes grow), and restores that day at the end."""

from __future__ import annotations

from datetime import timedelta

from tests.dbt.conftest import dbt, query

MODELS = ["fct_journey_stage_daily", "fct_journey_transitions"]
FINGERPRINT = (
    "select count(*), md5(string_agg(t::text, '|' order by t.stage_episode_id)) from marts.fct_journey_transitions as t"
)
PLACES = "select stage_episode_id, ctid::text from marts.fct_journey_transitions"


def as_of_vars(day) -> str:
    return f'{{"as_of_date": "{day.isoformat()}"}}'


def test_incremental_episodes_equal_a_full_refresh(built_warehouse, dbt_target):
    (base,) = query(built_warehouse, "select max(calendar_date) from marts.fct_journey_stage_daily")[0]
    compiled = dbt_target / "compiled" / "postsale" / "models" / "marts" / "journey" / "fct_journey_transitions.sql"
    try:
        # The stored episodes as the new code builds them for the base day.
        dbt(["run", "--select", *MODELS[1:], "--full-refresh", "--vars", as_of_vars(base)], built_warehouse, dbt_target)
        built_for = base
        for days_ahead in (1, 1, 3):  # one day on, a re-run of the same day, then a gap of two days
            as_of = base + timedelta(days=days_ahead)
            before = dict(query(built_warehouse, PLACES))
            dbt(["run", "--select", *MODELS, "--vars", as_of_vars(as_of)], built_warehouse, dbt_target)
            assert "recent_days" in compiled.read_text(), "the daily run did not take the incremental path"
            after = dict(query(built_warehouse, PLACES))
            kept = sum(1 for key, place in after.items() if before.get(key) == place)
            if as_of == built_for:
                # Same inputs: no row differs, so none is written.
                assert kept == len(after) == len(before)
            else:
                # Most episodes are neither rewritten nor deleted; some (the ongoing ones) are.
                assert 0 < kept < len(after), (kept, len(after))
            incremental = query(built_warehouse, FINGERPRINT)[0]
            dbt(
                ["run", "--select", *MODELS[1:], "--full-refresh", "--vars", as_of_vars(as_of)],
                built_warehouse,
                dbt_target,
            )
            assert "recent_days" not in compiled.read_text()
            assert query(built_warehouse, FINGERPRINT)[0] == incremental, as_of
            built_for = as_of
    finally:
        # Back to the base day for anything that runs after (a backfill: every episode rebuilt).
        dbt(["run", "--select", *MODELS, "--vars", as_of_vars(base)], built_warehouse, dbt_target)
