"""`python -m simulator accuracy`'s figures: the flat rows the demo prints and loads, with targets."""

from __future__ import annotations

import sqlite3

from simulator.accuracy import figures, render_table, world_seed

MEASURE = {
    "as_of": "2026-12-06",
    "primary_stage": {"agreement": 0.91, "accounts": 180, "disagreements": {}},
    "renewal_risk": {"auc": 0.75, "churned": 10, "renewed": 90},
    "revenue_retention": {
        "month": "2026-12-01",
        "window_start": "2025-12-01",
        "warehouse": {"grr": 0.9012, "nrr": 1.0301},
        "truth": {"grr": 0.8980, "nrr": 1.0101},
    },
}


def test_each_figure_has_its_target_and_verdict():
    doc = figures(MEASURE, 42)
    by_metric = {f["metric"]: f for f in doc["figures"]}
    assert doc["world_seed"] == 42 and doc["as_of_date"] == "2026-12-06" and doc["measure"] == MEASURE
    assert by_metric["primary_stage.agreement"] == {
        "metric": "primary_stage.agreement", "value": 0.91, "target": "≥ 90%", "is_met": True
    }  # fmt: skip
    assert by_metric["renewal_risk.auc"]["is_met"] is False
    assert by_metric["retention.grr_abs_error_points"]["value"] == 0.32
    assert by_metric["retention.grr_abs_error_points"]["is_met"] is True
    assert by_metric["retention.nrr_abs_error_points"]["value"] == 2.0
    assert by_metric["retention.nrr_abs_error_points"]["is_met"] is False


def test_a_figure_without_data_is_none_not_a_made_up_verdict():
    measure = {
        **MEASURE,
        "renewal_risk": {"auc": None, "churned": 0, "renewed": 3},
        "revenue_retention": {**MEASURE["revenue_retention"], "warehouse": None},
    }
    by_metric = {f["metric"]: f for f in figures(measure, None)["figures"]}
    assert by_metric["renewal_risk.auc"]["value"] is None and by_metric["renewal_risk.auc"]["is_met"] is None
    assert by_metric["retention.nrr_abs_error_points"]["is_met"] is None
    assert "n/a" in render_table(figures(measure, None))


def test_the_seed_comes_from_the_world(tmp_path):
    conn = sqlite3.connect(tmp_path / "world.db")
    conn.execute("create table meta (key text primary key, value text not null)")
    conn.execute("insert into meta values ('seed', '7')")
    conn.commit()
    conn.close()
    assert world_seed(tmp_path) == 7
    assert world_seed(tmp_path / "nowhere") is None
