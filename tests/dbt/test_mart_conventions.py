"""Every mart follows the BI conventions (docs/DBT.md, "Naming in marts"), read from the parsed
manifest (`make manifest`): the column names say the type, every mart enforces its contract
with a primary key, and no mart keeps a text year or month."""

from __future__ import annotations

import json
import re

import pytest

from warehouse.paths import DBT_MANIFEST

# Names BI reads as dates, months, timestamps and booleans, by declared data_type.
DATE_NAME = re.compile(r"_(date|month)$")
TIMESTAMP_NAME = re.compile(r"_at$")
BOOLEAN_NAME = re.compile(r"^is_")
# Names that would say "date", "month", "year" or "boolean" for another type.
DATE_LIKE_NAME = re.compile(r"(_date|_month|_on|_at|^date_day)$")


@pytest.fixture(scope="module")
def marts() -> list[dict]:
    if not DBT_MANIFEST.exists():
        pytest.fail(f"{DBT_MANIFEST} is missing: parse the dbt project first (make manifest)")
    nodes = json.loads(DBT_MANIFEST.read_text())["nodes"].values()
    found = [n for n in nodes if n["resource_type"] == "model" and n["fqn"][1] == "marts"]
    assert found
    return found


def _columns(model: dict):
    for name, column in model["columns"].items():
        yield name, (column.get("data_type") or "").lower()


def test_mart_column_names_follow_their_type(marts):
    broken = []
    for model in marts:
        for name, data_type in _columns(model):
            if data_type == "date" and not DATE_NAME.search(name):
                broken.append(f"{model['name']}.{name} ({data_type}): a date ends in _date or _month")
            elif data_type.startswith("timestamp") and not TIMESTAMP_NAME.search(name):
                broken.append(f"{model['name']}.{name} ({data_type}): a timestamp ends in _at")
            elif data_type == "boolean" and not BOOLEAN_NAME.search(name):
                broken.append(f"{model['name']}.{name} ({data_type}): a boolean starts with is_")
            elif data_type not in ("date", "boolean") and not data_type.startswith("timestamp"):
                if DATE_LIKE_NAME.search(name) or BOOLEAN_NAME.search(name):
                    broken.append(f"{model['name']}.{name} ({data_type}): the name says another type")
    assert not broken, "\n".join(broken)


def test_mart_years_and_months_are_not_text(marts):
    text_periods = [
        f"{model['name']}.{name}"
        for model in marts
        for name, data_type in _columns(model)
        if re.search(r"(^|_)(year|month)$", name) and data_type == "text"
    ]
    assert not text_periods


def test_every_mart_enforces_a_primary_key(marts):
    missing = []
    for model in marts:
        enforced = model["config"].get("contract", {}).get("enforced")
        keys = [c for c in model.get("constraints", []) if c["type"] == "primary_key"]
        for column in model["columns"].values():
            keys += [c for c in column.get("constraints", []) if c["type"] == "primary_key"]
        if not enforced or len(keys) != 1:
            missing.append(model["name"])
    assert not missing, f"marts without an enforced contract and one primary key: {missing}"


def test_every_mart_carries_its_layer_and_area_tags(marts):
    areas = {"accounts", "adoption", "crm_sync", "growth", "health", "journey", "onboarding", "playbooks", "renewals"}
    areas |= {"revenue"}
    untagged = [
        model["name"]
        for model in marts
        if "marts" not in model["tags"] or (model["fqn"][2] != "calendar" and not areas & set(model["tags"]))
    ]
    assert not untagged
