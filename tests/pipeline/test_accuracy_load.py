"""`postsale load-accuracy`: the simulator's figures file into audit.score_accuracy, and the table
the demo prints from it."""

from __future__ import annotations

import json
from datetime import date

import psycopg
import pytest

from pipeline.accuracy import AccuracyFileError, load_accuracy, read_figures, render_accuracy

DOC = {
    "world_seed": 42,
    "as_of_date": "2026-12-06",
    "figures": [
        {"metric": "primary_stage.agreement", "value": 0.812, "target": "≥ 90%", "is_met": False},
        {"metric": "renewal_risk.auc", "value": None, "target": "≥ 0.80", "is_met": None},
        {"metric": "retention.grr_abs_error_points", "value": 0.4, "target": "≤ 1 point", "is_met": True},
    ],
    "note": "one world, one day",
    "measure": {"anything": "the simulator keeps here"},
}
COLUMNS = [
    ("metric", "text"),
    ("value", "double precision"),
    ("target", "text"),
    ("is_met", "boolean"),
    ("world_seed", "integer"),
    ("as_of_date", "date"),
    ("recorded_at", "timestamp with time zone"),
    ("source", "text"),
    ("ci_low", "double precision"),
    ("ci_high", "double precision"),
    ("seeds", "text"),
]
# What `make accuracy` writes (simulator/evaluation/cli.py), trimmed to what the loader reads.
EVALUATION = {
    "source": "evaluation",
    "seeds": ["101", "102"],
    "figures": [
        {"metric": "renewal_risk.auc_90d", "value": 0.735, "target": "≥ 0.80", "is_met": False,
         "ci_low": 0.657, "ci_high": 0.806},
    ],
}  # fmt: skip


@pytest.fixture
def figures_file(tmp_path):
    path = tmp_path / "accuracy.json"
    path.write_text(json.dumps(DOC))
    return path


def test_load_creates_the_table_with_exactly_its_columns_and_appends_a_row_per_metric(
    fresh_warehouse_url, figures_file
):
    assert load_accuracy(fresh_warehouse_url, figures_file) == 3
    assert load_accuracy(fresh_warehouse_url, figures_file) == 3  # a second load appends
    with psycopg.connect(fresh_warehouse_url) as conn:
        columns = conn.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'audit' and table_name = 'score_accuracy' order by ordinal_position"
        ).fetchall()
        assert columns == COLUMNS
        rows = conn.execute(
            "select metric, value, target, is_met, world_seed, as_of_date from audit.score_accuracy "
            "order by recorded_at, metric"
        ).fetchall()
        loads = conn.execute("select count(distinct recorded_at) from audit.score_accuracy").fetchone()[0]
    assert len(rows) == 6 and loads == 2  # one recorded_at per load
    assert rows[0] == ("primary_stage.agreement", 0.812, "≥ 90%", False, 42, date(2026, 12, 6))
    assert ("renewal_risk.auc", None, "≥ 0.80", None, 42, date(2026, 12, 6)) in rows
    assert ("retention.grr_abs_error_points", 0.4, "≤ 1 point", True, 42, date(2026, 12, 6)) in rows


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not JSON"),
        (json.dumps({"figures": []}), "no 'figures' list"),
        (json.dumps({"figures": [{"value": 1}]}), "no metric name"),
        (json.dumps({"figures": [{"metric": "m", "value": "high"}]}), "non-numeric value"),
        (json.dumps({"figures": [{"metric": "m", "value": 1, "ci_low": "0.5"}]}), "non-numeric ci_low"),
        (json.dumps({"figures": [{"metric": "m", "value": 1, "is_met": "yes"}]}), "non-boolean is_met"),
        (json.dumps({"world_seed": "42", "figures": [{"metric": "m", "value": 1}]}), "world_seed"),
        (json.dumps({"as_of_date": "06/12/2026", "figures": [{"metric": "m", "value": 1}]}), "as_of_date"),
    ],
)
def test_a_malformed_file_is_refused_naming_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "accuracy.json"
    path.write_text(content)
    with pytest.raises(AccuracyFileError, match=message):
        read_figures(path)


def test_a_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(AccuracyFileError, match="simulator accuracy --json"):
        read_figures(tmp_path / "nope.json")


def test_the_table_has_metric_value_target_met(figures_file):
    lines = render_accuracy(read_figures(figures_file))
    assert "world seed 42" in lines[0] and "2026-12-06" in lines[0]
    assert lines[1].split() == ["metric", "value", "target", "met"]
    agreement = next(line for line in lines if "primary_stage.agreement" in line)
    assert agreement.split()[1:] == ["0.812", "≥", "90%", "no"]
    auc = next(line for line in lines if "renewal_risk.auc" in line)
    assert auc.split()[1] == "n/a" and auc.split()[-1] == "n/a"
    assert next(line for line in lines if "grr" in line).split()[-1] == "yes"
    assert not any("{" in line for line in lines)  # no JSON blob


def test_an_evaluation_replaces_the_one_before_and_keeps_the_smoke_checks(fresh_warehouse_url, figures_file, tmp_path):
    evaluation = tmp_path / "evaluation.json"
    evaluation.write_text(json.dumps(EVALUATION))
    load_accuracy(fresh_warehouse_url, figures_file)
    assert load_accuracy(fresh_warehouse_url, evaluation) == 1
    assert load_accuracy(fresh_warehouse_url, evaluation) == 1  # e.g. a second `make reports`
    with psycopg.connect(fresh_warehouse_url) as conn:
        rows = conn.execute(
            "select source, metric, value, ci_low, ci_high, seeds, world_seed from audit.score_accuracy"
            " order by source, metric"
        ).fetchall()
    assert rows[0] == ("evaluation", "renewal_risk.auc_90d", 0.735, 0.657, 0.806, "101,102", None)
    assert [r[0] for r in rows] == ["evaluation", "smoke check", "smoke check", "smoke check"]


def test_a_table_an_earlier_version_made_gains_the_new_columns(fresh_warehouse_url, figures_file):
    with psycopg.connect(fresh_warehouse_url) as conn:
        conn.execute("create schema if not exists audit")
        conn.execute(
            "create table audit.score_accuracy (metric text not null, value double precision, target text,"
            " is_met boolean, world_seed integer, as_of_date date, recorded_at timestamptz not null default now())"
        )
        conn.execute("insert into audit.score_accuracy (metric, value) values ('old', 1)")
    assert load_accuracy(fresh_warehouse_url, figures_file) == 3
    with psycopg.connect(fresh_warehouse_url) as conn:
        assert conn.execute("select count(*), count(source) from audit.score_accuracy").fetchone() == (4, 3)
