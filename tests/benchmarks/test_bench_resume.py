"""`make bench --resume`: a stopped run goes on from where it stopped, on its own databases."""

from __future__ import annotations

import json

import pytest

from benchmarks.harness import Bench, BenchConfig


def stopped_run(tmp_path, stages: dict) -> BenchConfig:
    run = tmp_path / "run-20261203T000000-20"
    run.mkdir()
    report = {
        "run_id": "20261203T000000",
        "config": {"accounts": 20, "seed": 42},
        "database": "postsale_bench_x",
        "scratch_database": "postsale_bench_scratch_x",
        "stages": stages,
        "status": "failed: bench stage dbt.marts failed (exit 1)",
    }
    (run / "report.json").write_text(json.dumps(report))
    return BenchConfig(accounts=20, out=tmp_path, resume=run, redo=("dbt.",))


def test_resume_keeps_finished_stages_and_redoes_the_rest(tmp_path):
    cfg = stopped_run(
        tmp_path,
        {
            "loader": {"rows": 10},
            "dbt.staging": {"wall_seconds": 1.0},
            "dbt.marts": {"error": "exit 1: no space left on device"},
        },
    )
    bench = Bench(cfg)
    assert list(bench.data["stages"]) == ["loader"]  # dbt.* redone, the failed stage runs again
    assert bench.databases == ["postsale_bench_x", "postsale_bench_scratch_x"]
    assert bench.data["resumed"][0]["previous_status"].startswith("failed")
    # A kept stage is not run again (no process, no database): its stored figures come back.
    assert bench.stage("loader", "loader", {}) == {"rows": 10}


def test_resume_refuses_a_run_whose_world_changed(tmp_path):
    cfg = stopped_run(tmp_path, {"loader": {"rows": 10}, "reverse_etl.first": {"requests": 3}})
    with pytest.raises(ValueError, match="world changed"):
        Bench(cfg)


def test_resume_refuses_another_world(tmp_path):
    cfg = stopped_run(tmp_path, {"loader": {"rows": 10}})
    cfg.accounts = 30
    with pytest.raises(ValueError, match="another world"):
        Bench(cfg)
