"""The report and the command line: development seeds are refused, every figure is written."""

from __future__ import annotations

import json

import pytest

from simulator.__main__ import main
from simulator.evaluation import report, score
from simulator.evaluation.seeds import DEVELOPMENT_SEEDS, REPORTED_SEEDS
from tests.simulator.test_evaluation_score import RECORD, TRUTH


def test_reported_seeds_were_not_used_for_development():
    assert not set(REPORTED_SEEDS) & set(DEVELOPMENT_SEEDS)
    assert {42, *range(1, 11)} <= set(DEVELOPMENT_SEEDS)


def test_evaluate_refuses_to_report_development_seeds(tmp_path, capsys):
    doc = tmp_path / "ACCURACY.md"
    assert main(["evaluate", "--seeds", "101,42", "--markdown", str(doc)]) == 2
    err = capsys.readouterr().err
    assert "[42]" in err and len(err.strip().splitlines()) == 1
    assert not doc.exists()


def test_evaluate_names_the_seed_when_there_is_no_earlier_run(tmp_path, capsys):
    code = main(["evaluate", "--seeds", "7", "--reuse", "--workdir", str(tmp_path), "--json", str(tmp_path / "o")])
    assert code == 1
    assert capsys.readouterr().err.strip() == f"evaluate: seed 7: no earlier run in {tmp_path}/seed-7/run.json"


@pytest.fixture()
def result():
    scores = score.score({"101": RECORD}, {"101": TRUTH}, resamples=20)
    return {
        "command": "python -m simulator evaluate --seeds 101",
        "started_at": "2026-12-06T00:00:00+00:00",
        "wall_seconds": 60.0,
        "commit": "abc1234",
        "seeds": ["101"],
        "accounts": 4,
        "as_ofs": list(RECORD["snapshots"]),
        "resamples": 20,
        "timings": {"101": {"generate_s": 1.0, "as_of": {}, "total_s": 60.0}},
        "scores": scores,
    }


def test_report_writes_every_figure_target_and_chart(tmp_path, result):
    doc = tmp_path / "ACCURACY.md"
    report.write(result, doc)
    text = doc.read_text()
    for key in report.LABELS:
        assert f"`{key}`" in text
    assert "| ≥ 0.80 and ≥ 0.92 × oracle AUC | **missed** |" in text  # AUC 0.875 ≥ 0.80, < 0.92 × 1.0
    assert "| ≥ 0.9 | met |" in text  # commit precision 1.0
    for png in ("roc_90d.png", "calibration_90d.png"):
        assert (tmp_path / "accuracy" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"(accuracy/{png})" in text
    assert ", ".join(map(str, DEVELOPMENT_SEEDS)) in text
    json.dumps(result)  # the JSON the command writes


def test_timing_summary_separates_the_first_as_of_from_the_incremental_ones():
    t = {"generate_s": 9.0, "total_s": 600.0,
         "as_of": {"2026-01-01": {"sync": 200.0, "dbt": 150.0}, "2026-01-31": {"sync": 30.0, "dbt": 60.0},
                   "2026-03-02": {"sync": 40.0, "dbt": 70.0}}}  # fmt: skip
    assert report.timing_summary(t) == {
        "generate_s": 9.0, "first_sync_s": 200.0, "first_dbt_s": 150.0, "later_sync_s": 35.0, "later_dbt_s": 65.0,
        "total_min": 10.0, "steps_cpu_s": None,
    }  # fmt: skip


def test_figures_give_each_reported_metric_its_interval_and_verdict(result):
    figures = {f["metric"]: f for f in report.figures(result)}
    assert set(figures) == set(report.LABELS)
    auc = figures["renewal_risk.auc_90d"]
    assert auc["is_met"] is False and auc["target"] == "≥ 0.80 and ≥ 0.92 × oracle AUC"  # 0.875 < 0.92 × 1.0
    assert figures["forecast.commit_precision"]["is_met"] is True
    assert figures["renewal_risk.auc_60d"]["is_met"] is None and figures["renewal_risk.auc_60d"]["target"] is None
    for f in figures.values():
        if f["value"] is not None and f["ci_low"] is not None:
            assert f["ci_low"] <= f["value"] <= f["ci_high"], f["metric"]
    json.dumps(figures)
