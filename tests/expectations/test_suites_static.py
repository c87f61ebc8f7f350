"""Suites agree with the dbt project: value sets, and thresholds read from vars and seeds."""

from __future__ import annotations

import yaml

from expectations.settings import DBT_PROJECT_DIR, Settings, dbt_var
from expectations.suites import staging


def _accepted_values() -> dict[tuple[str, str], list[str]]:
    out = {}
    for path in (DBT_PROJECT_DIR / "models" / "staging").rglob("_*__models.yml"):
        for model in yaml.safe_load(path.read_text())["models"]:
            for col in model.get("columns", []):
                for test in col.get("data_tests", []) or []:
                    if isinstance(test, dict) and "accepted_values" in test:
                        spec = test["accepted_values"]
                        out[(model["name"], col["name"])] = (spec.get("arguments") or spec)["values"]
    return out


def test_value_sets_match_dbt_accepted_values():
    dbt = _accepted_values()
    pairs = {
        ("stg_stripe__subscriptions", "subscription_status"): staging.SUBSCRIPTION_STATUSES,
        ("stg_hubspot__deals", "deal_stage"): staging.DEAL_STAGES,
        ("stg_hubspot__deals", "deal_kind"): staging.DEAL_KINDS,
        ("stg_hubspot__contacts", "contact_role"): staging.CONTACT_ROLES,
        ("stg_hubspot__companies", "crm_segment"): staging.SEGMENTS,
        ("stg_hubspot__tickets", "priority"): staging.TICKET_PRIORITIES,
        ("stg_stripe__invoices", "invoice_status"): staging.INVOICE_STATUSES,
    }
    for key, ours in pairs.items():
        assert sorted(dbt[key]) == sorted(ours), key


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("POSTSALE_GX_RAW_MAX_AGE_HOURS", "2")
    assert Settings.from_env().raw_max_age_hours == 2.0
    assert dbt_var("health_green_min") == 70 and dbt_var("scorecard_ready_min") == 8.0
