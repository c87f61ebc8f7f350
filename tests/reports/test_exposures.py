"""The dbt exposures name the real report pages: one per dashboard, at its URL, depending on
every mart and audit table its datasets' SQL reads (static: no warehouse, no browser)."""

from __future__ import annotations

import re

import yaml

from reports.build import ASSETS

EXPOSURES = ASSETS.parents[2] / "dbt_project" / "models" / "_exposures.yml"
TABLE = re.compile(r"\b(marts|audit)\.([a-z_]+)\b")


def _page_tables() -> dict[str, set[str]]:
    """Slug → the dbt nodes (``ref('x')`` / ``source('postsale', 'x')``) its datasets read."""
    datasets = {}
    for path in (ASSETS / "datasets").rglob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        datasets[doc["uuid"]] = {
            f"ref('{t}')" if schema == "marts" else f"source('postsale', '{t}')"
            for schema, t in TABLE.findall(doc.get("sql") or "")
        }
    charts = {}
    for path in (ASSETS / "charts").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        charts[doc["uuid"]] = datasets[doc["dataset_uuid"]]
    pages = {}
    for path in (ASSETS / "dashboards").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        used = [n["meta"]["uuid"] for n in doc["position"].values() if isinstance(n, dict) and n.get("type") == "CHART"]
        pages[doc["slug"]] = set().union(*(charts[u] for u in used))
    return pages


def test_each_report_page_has_an_exposure_naming_what_it_reads():
    exposures = {
        e["url"]: set(e["depends_on"])
        for e in yaml.safe_load(EXPOSURES.read_text())["exposures"]
        if e["type"] == "dashboard"
    }
    pages = _page_tables()
    assert len(pages) == 9
    expected = {f"http://127.0.0.1:8088/superset/dashboard/{slug}/": tables for slug, tables in pages.items()}
    assert exposures == expected
