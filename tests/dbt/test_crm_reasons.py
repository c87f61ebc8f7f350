"""The reasons on the CRM record, on the built test world: every driver code the marts emit has
a phrase in seed crm_reason_phrases, every phrase that names a value got one, and the reasons
agree with the drivers they describe (fct_account_reasons → mart_crm_sync)."""

from __future__ import annotations

import csv
import os

from tests.dbt.conftest import query
from warehouse.paths import DBT_PROJECT_DIR

SEED = DBT_PROJECT_DIR / "seeds" / "crm_reason_phrases.csv"


def _phrases() -> dict[tuple[str, str], dict]:
    with SEED.open() as f:
        return {(r["driver_kind"], r["driver_code"]): r for r in csv.DictReader(f)}


def test_every_driver_the_marts_emit_has_a_phrase(built_warehouse):
    phrases = _phrases()
    health = query(
        built_warehouse,
        "select distinct split_part(d, ' ', 1) from marts.fct_account_health_daily, "
        "unnest(string_to_array(nullif(top_drivers, ''), ', ')) as d",
    )
    rules = query(
        built_warehouse,
        "select distinct d from marts.fct_renewals, unnest(string_to_array(nullif(risk_rule_drivers, ''), ', ')) as d",
    )
    assert health and rules  # the world has drivers to word
    assert {c for (c,) in health} <= {c for k, c in phrases if k == "health"}
    assert {c for (c,) in rules} <= {c for k, c in phrases if k == "renewal_rule"}
    # Every feature the risk model may name has one too (risk_model/features.py).
    from risk_model.features import FEATURES

    assert set(FEATURES) <= {c for k, c in phrases if k == "renewal_feature"}


def test_reasons_word_the_drivers_of_the_day(built_warehouse):
    rows = query(
        built_warehouse,
        """
        select s.company_id, s.health_reasons, s.renewal_risk_reasons, h.top_drivers, r.risk_drivers,
               s.health_band, s.previous_health_band, s.health_band_changed_date, s.health_coverage_percent
        from marts.mart_crm_sync as s
        left join marts.fct_account_health_daily as h
            on s.company_id = h.company_id and h.calendar_date = s.score_date
        left join marts.fct_renewals as r on s.company_id = r.company_id
        order by s.company_id
        """,
    )
    assert rows
    for cid, health, renewal, top, risk, band, previous, since, coverage in rows:
        # A reason exactly when the mart has a driver, at most three, every value filled in.
        assert (health is not None) == bool(top), cid
        assert renewal is not None or not risk, cid  # (a decided churn has a reason without drivers)
        for text in (health, renewal):
            if text:
                assert "{value}" not in text and len(text.split("; ")) <= 3, (cid, text)
        if top:
            assert len(health.split("; ")) == len(top.split(", ")), (cid, top, health)
        assert previous is None or previous != band, cid
        assert (previous is None) == (since is None), cid
        assert coverage is None or 0 <= coverage <= 100, cid
    assert any(r[6] for r in rows)  # some bands changed within the kept history
    # Samples for a reviewer (POSTSALE_REASON_SAMPLES names a file to write them to).
    out = os.environ.get("POSTSALE_REASON_SAMPLES")
    if out:
        with open(out, "w") as f:
            for r in [r for r in rows if r[1] or r[2]][:12]:
                f.write(f"{r[0]} | band {r[5]} since {r[7]} (was {r[6]}) | coverage {r[8]}%\n")
                f.write(f"  health:  {r[1]}\n  renewal: {r[2]}\n")
