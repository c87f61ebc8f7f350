"""Pure pieces of reverse ETL: value rendering, fingerprints, 207 parsing, settings."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from reverse_etl.diff import Change, plan
from reverse_etl.mapping import PROPERTIES, InvalidValue
from reverse_etl.push import outcomes
from reverse_etl.settings import Settings
from tests.reverse_etl.conftest import mart_row

BY_COLUMN = {p.column: p for p in PROPERTIES}


@pytest.mark.parametrize(
    ("column", "value", "rendered"),
    [
        ("health_score", Decimal("72.50"), "72.5"),
        ("health_score", Decimal("100.00"), "100"),
        ("health_score", None, ""),  # a missing score clears HubSpot's value rather than keep a stale one
        ("is_advocacy_candidate", False, "false"),
        ("expansion_signal_type", "seat_limit", "seat_limit"),
        ("score_date", date(2026, 11, 1), "2026-11-01"),
        ("days_to_renewal", -3, "-3"),
        ("health_reasons", "usage -32% in 28 days", "usage -32% in 28 days"),
        ("renewal_risk_reasons", None, ""),
        ("health_band_changed_date", date(2026, 10, 2), "2026-10-02"),
        ("health_coverage_percent", 67, "67"),
    ],
)
def test_render(column, value, rendered):
    assert BY_COLUMN[column].render(value) == rendered


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("health_score", Decimal("100.5")),
        ("health_band", "amber"),
        ("onboarding_score", -1),
        ("days_to_renewal", Decimal("3.5")),
        ("is_advocacy_candidate", "yes"),
        ("score_date", None),
        ("renewal_risk_score", float("nan")),
        ("health_coverage_percent", 101),
        ("health_components_used", 5),
        ("previous_health_band", "amber"),
    ],
)
def test_render_refuses_what_hubspot_must_not_receive(column, value):
    with pytest.raises(InvalidValue, match=column):
        BY_COLUMN[column].render(value)


def test_a_day_passing_alone_is_not_a_change():
    today = mart_row("1", 3)
    state = {"1": (plan([today], {}).changes[0].fingerprint, {})}
    tomorrow = {
        **today,
        "score_date": today["score_date"] + timedelta(days=1),
        "days_to_renewal": today["days_to_renewal"] - 1,
    }
    assert plan([tomorrow], state).changes == []
    # The renewal date moving (a contract change) is a change; so is any score.
    assert len(plan([{**tomorrow, "days_to_renewal": today["days_to_renewal"] + 30}], state).changes) == 1
    assert len(plan([{**tomorrow, "health_score": "1"}], state).changes) == 1


def test_outcomes_match_a_207_answer_to_the_inputs():
    changes = [Change(i, {"postsale_health_score": "1"}, "fp" + i, None) for i in ("1", "2", "3", "4")]
    answer = {
        "status": "COMPLETE",
        "results": [{"id": "1"}, {"id": "4"}],
        "numErrors": 1,
        "errors": [{"status": "error", "category": "OBJECT_NOT_FOUND", "message": "gone", "context": {"ids": ["2"]}}],
    }
    got = {o["id"]: (o["status"], (o["error"] or {}).get("category")) for o in outcomes(changes, answer)}
    # "3" is in neither list: counted as failed, so it is retried rather than assumed written.
    assert got == {
        "1": ("succeeded", None),
        "2": ("failed", "OBJECT_NOT_FOUND"),
        "3": ("failed", None),
        "4": ("succeeded", None),
    }


def test_settings_from_env_and_limits():
    s = Settings.from_env(
        {
            "REVERSE_ETL_MAX_CHANGE_SHARE": "0.2",
            "REVERSE_ETL_REQUIRED_LAYERS": "raw, marts",
            "REVERSE_ETL_FRESH_LAYERS": "",
        },
        force=True,
    )
    assert (s.max_change_share, s.required_layers, s.fresh_layers, s.force) == (0.2, ("raw", "marts"), (), True)
    with pytest.raises(ValueError, match="HubSpot's batch limit"):
        Settings(batch_size=101)
    with pytest.raises(ValueError, match="must also be required"):
        Settings(required_layers=("raw",), fresh_layers=("marts",))


def test_every_mapped_column_is_in_the_marts_contract():
    """The mapping and the dbt model agree on names and enumerations; the sync tests run on a
    hand-made mart, so this is what catches a renamed column before a pipeline run does."""

    import yaml

    from reverse_etl.mapping import KEY_COLUMN
    from warehouse.paths import DBT_PROJECT_DIR

    models = yaml.safe_load((DBT_PROJECT_DIR / "models/marts/crm_sync/_crm_sync__models.yml").read_text())
    (model,) = [m for m in models["models"] if m["name"] == "mart_crm_sync"]
    assert model["config"]["contract"]["enforced"]
    columns = {c["name"]: c for c in model["columns"]}
    assert KEY_COLUMN in columns
    for prop in PROPERTIES:
        assert prop.column in columns, prop.column
        for test in columns[prop.column].get("data_tests", []):
            if prop.options and isinstance(test, dict) and "accepted_values" in test:
                allowed = set(test["accepted_values"]["arguments"]["values"])
                assert allowed <= set(prop.options), (prop.column, allowed - set(prop.options))


# The HubSpot properties existing CRM records carry: a mart column may be renamed (the marts'
# naming rule, docs/DBT.md), the property it is written to may not, or every synced company
# would keep a stale field and get a new one.
CRM_PROPERTY_OF_COLUMN = {
    "health_score": "postsale_health_score",
    "health_band": "postsale_health_band",
    "primary_stage": "postsale_primary_stage",
    "adoption_tier": "postsale_adoption_tier",
    "onboarding_score": "postsale_onboarding_score",
    "onboarding_status": "postsale_onboarding_status",
    "renewal_risk_score": "postsale_renewal_risk_score",
    "forecast_category": "postsale_forecast_category",
    "days_to_renewal": "postsale_days_to_renewal",
    "expansion_signal_type": "postsale_expansion_signal",
    "is_advocacy_candidate": "postsale_advocacy_candidate",
    "health_reasons": "postsale_health_reasons",
    "renewal_risk_reasons": "postsale_renewal_risk_reasons",
    "health_coverage_percent": "postsale_health_coverage",
    "health_components_used": "postsale_health_components_used",
    "previous_health_band": "postsale_previous_health_band",
    "health_band_changed_date": "postsale_health_band_since",
    "score_date": "postsale_score_date",
}


def test_crm_property_names_stay_stable():
    assert {p.column: p.name for p in PROPERTIES} == CRM_PROPERTY_OF_COLUMN


def test_score_drift_is_sent_but_only_material_changes_count_for_the_guardrail():
    rows = [mart_row(f"c{i}", i) for i in range(20)]
    state = {c.id: (c.fingerprint, c.properties) for c in plan(rows, {}).changes}

    def drift(row: dict, points: float) -> dict:
        score = float(row["health_score"])
        return {**row, "health_score": str(score + points if score + points <= 100 else score - points)}

    # A day of drift: every score moves 2 points. All are sent; none is material.
    drifted = plan([drift(r, 2) for r in rows], state)
    assert len(drifted.changes) == len(rows)
    assert drifted.material(5) == [] and drifted.material_share(5) == 0
    # Everything counts when the threshold is 0 (the guardrail on every change).
    assert drifted.material_share(0) == 1
    # A move of 5+ points, a category, or a cleared value is material.
    moved = plan([drift(rows[0], 6), {**rows[1], "adoption_tier": "dormant"}, {**rows[2], "health_score": None}], state)
    assert [c.id for c in moved.material(5)] == ["c0", "c1", "c2"]
    # A day closer to renewal alone is not even a change; a new renewal date is material.
    later = {**rows[3], "days_to_renewal": rows[3]["days_to_renewal"] + 365}
    assert [c.id for c in plan([later], state).material(5)] == ["c3"]
    # Drift sent a week after the last sync: days to renewal moved by 7 with its score date, which
    # is the same renewal date, so still not material.
    week = drift({**rows[4], "score_date": rows[4]["score_date"] + timedelta(days=7)}, 2)
    week["days_to_renewal"] -= 7
    assert len(plan([week], state).changes) == 1 and plan([week], state).material(5) == []


def test_long_reasons_are_cut_at_a_whole_phrase_within_hubspots_limit():
    from reverse_etl.mapping import REASON_MAX_CHARS

    phrase = "usage -32% in 28 days"
    text = "; ".join([phrase] * 100)
    for column in ("health_reasons", "renewal_risk_reasons"):
        rendered = BY_COLUMN[column].render(text)
        assert len(rendered) <= REASON_MAX_CHARS < len(text)
        assert rendered.endswith(phrase + "…")  # whole phrases, marked as cut
        assert BY_COLUMN[column].render(phrase) == phrase  # short text untouched
    # One phrase longer than the limit is cut inside it rather than dropped.
    assert BY_COLUMN["health_reasons"].render("x" * 600) == "x" * (REASON_MAX_CHARS - 1) + "…"


def test_reason_text_changes_are_sent_but_not_judged_by_the_guardrail():
    rows = [mart_row(f"c{i}", i) for i in range(6)]
    state = {c.id: (c.fingerprint, c.properties) for c in plan(rows, {}).changes}
    reworded = [{**r, "health_reasons": "usage -1% in 28 days", "renewal_risk_reasons": None} for r in rows]
    changed = plan(reworded, state)
    assert len(changed.changes) == len(rows)  # sent: the CSM reads today's numbers
    assert changed.material(5) == []  # not material: the scores they explain are judged instead
    # The other new properties are judged like any other: a new band history is material.
    moved = plan([{**rows[1], "previous_health_band": "red"}], state)
    assert [c.id for c in moved.material(5)] == ["c1"]


def test_first_fill_of_newly_mapped_properties_is_not_material():
    """A deploy that maps new properties changes every company's fingerprint; their first fill
    overwrites nothing of ours, so only the properties a company already carried are judged."""
    new = {
        "postsale_health_reasons",
        "postsale_renewal_risk_reasons",
        "postsale_health_coverage",
        "postsale_health_components_used",
        "postsale_previous_health_band",
        "postsale_health_band_since",
    }
    rows = [mart_row(f"c{i}", i) for i in range(10)]
    # The state an older deployment left: its fingerprints, and none of the new properties.
    state = {
        c.id: ("fingerprint-before-the-deploy", {k: v for k, v in c.properties.items() if k not in new})
        for c in plan(rows, {}).changes
    }
    deployed = plan(rows, state)
    assert len(deployed.changes) == len(rows)  # every company gets the new properties
    assert deployed.material_share(5) == 0
    # A real change on the same run is still judged.
    band_flip = plan([{**rows[2], "health_band": "red" if rows[2]["health_band"] != "red" else "green"}], state)
    assert [c.id for c in band_flip.material(5)] == ["c2"]
