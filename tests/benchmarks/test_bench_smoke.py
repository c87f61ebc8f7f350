"""`make bench`'s harness end to end on a tiny world: every stage runs and the report has every
figure. No timing asserts: the machine is shared, so only the shape of the report is checked."""

from __future__ import annotations

import json

import pytest

from benchmarks import report
from benchmarks.harness import Bench, BenchConfig

pytestmark = pytest.mark.slow


def test_bench_harness_runs_every_stage_on_a_tiny_world(tmp_path, warehouse_admin_url, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_ADMIN_URL", warehouse_admin_url)
    docs = tmp_path / "PERFORMANCE.md"
    docs.write_text(f"# Performance\n\n{report.BEGIN}\nold\n{report.END}\n\nHow to reproduce.\n")
    cfg = BenchConfig(
        accounts=20,
        event_days=4,
        loader_days=2,
        loader_repeats=1,
        memory_days=2,
        out=tmp_path,
        airflow=False,
        update_docs=docs,
    )
    bench = Bench(cfg)
    data = bench.run()

    assert data["status"] == "complete"
    saved = json.loads((bench.dir / "report.json").read_text())
    assert saved["status"] == "complete"
    assert saved["stages"]["loader"]["rows"] > 0 and saved["stages"]["loader"]["ratio_vs_copy"] > 0
    assert saved["extraction"]["mixpanel.events"]["records"] > 0
    assert {s["stream"] for s in saved["stages"]["profile"]["streams"]} >= {"mixpanel.events"}
    assert saved["dbt"]["incremental_over_full"] > 0
    assert saved["dbt"]["full_refresh"]["models"] > 0
    layers = {"raw", "staging", "intermediate", "marts"}
    assert set(saved["validation"]) == layers | {f"{layer} (incremental)" for layer in layers}
    # Both runs are seeds then the three layers; the incremental one is for the next day.
    assert list(saved["dbt"]["incremental"]["steps"]) == ["seed", "staging", "intermediate", "marts"]
    assert all("gx_over_dbt" in v for k, v in saved["validation"].items() if not k.startswith("raw"))
    # Sent, or refused by the validation gate (a failed critical expectation is reported, not fatal).
    first = saved["reverse_etl"]["first"]
    assert first.get("changed", 0) > 0 or first["status"] == "refused"
    assert saved["memory_doubling"]["2n"]["events"] > saved["memory_doubling"]["n"]["events"]
    assert all(v.get("peak_rss_mb", 1) > 0 for v in saved["stages"].values())
    # The docs section is replaced, the rest of the file is kept; the databases are dropped.
    text = docs.read_text()
    assert "old" not in text and "How to reproduce." in text and "Ratios against targets" in text
    import psycopg

    with psycopg.connect(warehouse_admin_url) as conn:
        names = {r[0] for r in conn.execute("select datname from pg_database")}
    assert not set(bench.databases) & names
