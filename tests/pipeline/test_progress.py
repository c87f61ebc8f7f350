"""The demo's live lines: the events the tasks write, their one-line rendering, and the runner
that prints them while `airflow dags test` (here a stand-in script) is still running."""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipeline import progress
from pipeline.demo import ProgressFeed, failure_line, run_dag

RUN_RESULTS = {
    "elapsed_time": 2.3,
    "results": [
        {"unique_id": "model.postsale.fct_renewals", "status": "success", "execution_time": 1.2},
        {"unique_id": "test.postsale.not_null_fct_renewals_company_id.abc123", "status": "pass"},
        {"unique_id": "test.postsale.unique_fct_renewals_renewal_id.def456", "status": "pass"},
        {"unique_id": "test.postsale.accepted_range_fct_renewals_risk_score.0a1b", "status": "warn"},
    ],
}


def test_emit_writes_nothing_without_a_progress_file(monkeypatch, tmp_path):
    monkeypatch.delenv(progress.PROGRESS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    progress.emit("extract", stream="stripe.customers", rows=3)
    assert list(tmp_path.iterdir()) == []


def test_emit_appends_one_json_line_per_event(monkeypatch, tmp_path):
    path = tmp_path / "progress.jsonl"
    monkeypatch.setenv(progress.PROGRESS_ENV, str(path))
    progress.emit("extract", stream="stripe.customers", rows=3, rejected=0, seconds=0.5)
    progress.emit("gate", layer="raw", verdict="passed", warnings=0)
    events = progress.read_events(path)
    assert [e["kind"] for e in events] == ["extract", "gate"]
    assert events[0]["rows"] == 3 and events[1]["layer"] == "raw"


def test_emit_never_fails_the_task(monkeypatch, tmp_path):
    monkeypatch.setenv(progress.PROGRESS_ENV, str(tmp_path / "no-such-dir" / "progress.jsonl"))
    progress.emit("extract", stream="s", rows=1)  # no exception


def test_dbt_results_name_the_node_its_status_and_tests():
    got = progress.dbt_results(RUN_RESULTS)
    assert got["node"] == "fct_renewals" and got["resource"] == "model" and got["status"] == "success"
    assert got["tests"] == {"pass": 2, "warn": 1}
    assert got["failing_tests"] == ["accepted_range_fct_renewals_risk_score"]
    assert got["seconds"] == 2.3


def test_dbt_callback_reads_run_results_of_the_build(monkeypatch, tmp_path):
    path = tmp_path / "progress.jsonl"
    monkeypatch.setenv(progress.PROGRESS_ENV, str(path))
    project = tmp_path / "project"
    (project / "target").mkdir(parents=True)
    (project / "target" / "run_results.json").write_text(json.dumps(RUN_RESULTS))

    class TI:
        task_id = "dbt_models.fct_renewals_model_build"

    progress.dbt_finished(str(project), context={"ti": TI()})
    progress.dbt_finished(str(tmp_path / "missing"), context={})  # no results: nothing, no error
    (event,) = progress.read_events(path)
    assert event["kind"] == "dbt" and event["task"] == TI.task_id and event["node"] == "fct_renewals"


GATE = {"kind": "gate", "verdict": "passed", "warnings": 0}
FAILED = {"kind": "failed", "task": "validate_staging", "error": "ValidationFailed: staging validation failed"}
EVENTS = [
    (
        {"kind": "extract", "stream": "mixpanel.events", "rows": 450761, "seconds": 24.13},
        ["mixpanel.events", "450,761 rows", "24.1s"],
    ),
    ({"kind": "extract", "stream": "hubspot.deals", "rows": 1, "rejected": 2}, ["1 row,", "2 rejected"]),
    (
        {"kind": "dbt", **progress.dbt_results(RUN_RESULTS)},
        ["dbt model", "fct_renewals", "success, 3 tests, 1 warn", "2.3s"],
    ),
    ({**GATE, "layer": "raw", "expectations": 63, "passed": 63}, ["raw", "passed (63/63 expectations)"]),
    ({**GATE, "layer": "marts", "warnings": 2, "expectations": 38, "passed": 36}, ["passed with 2 warnings (36/38"]),
    ({**GATE, "layer": "staging", "verdict": "failed", "critical": 1}, ["staging", "failed: 1 critical expectation"]),
    ({"kind": "task", "name": "CRM sync", "detail": "succeeded", "seconds": 3}, ["CRM sync", "succeeded", "3.0s"]),
    (FAILED, ["FAILED", "validate_staging", "ValidationFailed"]),
]


@pytest.mark.parametrize(("event", "expected"), EVENTS)
def test_each_event_is_one_line(event, expected):
    line = progress.format_event(event, clock="1:05")
    assert line is not None and "\n" not in line and line.lstrip().startswith("1:05")
    for text in expected:
        assert text in line, line


def test_an_unknown_event_prints_nothing():
    assert progress.format_event({"kind": "something-new"}) is None


def test_headline_keeps_the_first_line_and_masks_credentials(monkeypatch):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-secret-0451")
    exc = RuntimeError(
        "staging validation failed (run r1) with pat-secret-0451:\n  - t: e; 1 unexpected, e.g. ['alice@example.com']"
    )
    line = progress.headline(exc)
    assert line.startswith("RuntimeError: staging validation failed (run r1)")
    assert "pat-secret-0451" not in line and "alice@example.com" not in line and "\n" not in line


def test_the_feed_returns_complete_lines_only(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"kind": "a"}\n{"kind": ')
    feed = ProgressFeed(path)
    assert [e["kind"] for e in feed.read()] == ["a"]
    with open(path, "a") as fh:
        fh.write('"b"}\n')
    assert [e["kind"] for e in feed.read()] == ["b"]
    assert feed.read() == []


def test_a_failed_gate_is_named_without_its_sample_values():
    events = [
        {
            "kind": "gate",
            "layer": "staging",
            "verdict": "failed",
            "critical": 1,
            "failures": [{"table": "staging.stg_hubspot__companies", "column": None, "expectation": "expect_0_10"}],
        },
        {"kind": "failed", "task": "validate_staging", "error": "ValidationFailed: staging validation failed (run r)"},
    ]
    line = failure_line("postsale_transform", events, ".local/demo-postsale_transform.log", 1, 80)
    assert "postsale_transform" in line and "validate_staging" in line
    assert "staging.stg_hubspot__companies: expect_0_10" in line
    assert ".local/demo-postsale_transform.log" in line and "\n" not in line


def test_a_failed_dbt_build_names_the_model_and_its_failing_tests():
    task = "dbt_models.fct_x_model_build"
    error = "CosmosDbtRunError: dbt invocation completed with errors: 'v@example.com'"
    events = [
        {"kind": "dbt", "task": task, "node": "fct_x", "status": "success", "failing_tests": ["unique_fct_x_id"]},
        {"kind": "failed", "task": task, "error": error},
    ]
    line = failure_line("postsale_transform", events, "log", 1, 10)
    assert "dbt build of fct_x" in line and "unique_fct_x_id" in line
    assert "v@example.com" not in line  # dbt's own message may quote a value: it stays in the log


def test_a_failure_before_any_task_points_to_the_log():
    line = failure_line("postsale_ingest", [], ".local/demo-postsale_ingest.log", 1, 3)
    assert "postsale_ingest" in line and "FAILED" in line and ".local/demo-postsale_ingest.log" in line


FAKE_AIRFLOW = """\
    import json, os, sys, time
    from pathlib import Path

    progress, go = os.environ["POSTSALE_PROGRESS_FILE"], Path(sys.argv[0]).with_name("go")
    def emit(**event):
        with open(progress, "a") as fh:
            fh.write(json.dumps(event) + "\\n")
    print("airflow chatter that belongs in the log only")
    emit(kind="extract", stream="stripe.customers", rows=172, seconds=0.1)
    # Wait until the runner has printed the first line: it must print while the DAG runs.
    deadline = time.time() + 20
    while not go.exists():
        if time.time() > deadline:
            sys.exit(3)
        time.sleep(0.05)
    if sys.argv[3] == "failing_dag":
        error = "SourceHttpError: stripe: GET /v1/events failed with HTTP 401"
        emit(kind="failed", task="extract_stripe.events", error=error)
        sys.exit(1)
    emit(kind="gate", layer="raw", verdict="passed", warnings=0, expectations=3, passed=3, seconds=1.5)
"""


@pytest.fixture
def fake_airflow(tmp_path) -> Path:
    script = tmp_path / "airflow"
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent(FAKE_AIRFLOW))
    script.chmod(0o755)
    return script


def _run(fake_airflow: Path, tmp_path: Path, dag_id: str) -> tuple[int, list[str], Path]:
    lines: list[str] = []

    def out(line: str) -> None:
        lines.append(line)
        if "stripe.customers" in line:
            (fake_airflow.parent / "go").touch()

    log = tmp_path / "demo.log"
    progress_file = tmp_path / "p.jsonl"
    code = run_dag(dag_id, "2026-12-06", log, progress_file, airflow=str(fake_airflow), out=out, poll_seconds=0.05)
    return code, lines, log


def test_lines_appear_while_the_dag_runs_and_the_log_keeps_the_rest(fake_airflow, tmp_path):
    started = time.monotonic()
    code, lines, log = _run(fake_airflow, tmp_path, "postsale_ingest")
    assert code == 0, lines
    assert time.monotonic() - started < 15
    assert "stripe.customers" in lines[1] and "172 rows" in lines[1]
    assert "raw" in lines[2] and "passed (3/3 expectations)" in lines[2]
    assert "succeeded" in lines[-1] and "postsale_ingest" in lines[-1]
    assert "airflow chatter" not in "\n".join(lines)
    assert "airflow chatter" in log.read_text()


def test_a_failed_dag_ends_with_one_line_naming_task_reason_and_log(fake_airflow, tmp_path):
    code, lines, log = _run(fake_airflow, tmp_path, "failing_dag")
    assert code == 1
    last = lines[-1]
    assert "failing_dag" in last and "extract_stripe.events" in last and "HTTP 401" in last and str(log.name) in last
    assert not any("Traceback" in line for line in lines)


def test_a_dbt_task_with_nothing_selected_or_only_tests_says_so():
    empty = {"kind": "dbt", "task": "dbt_models.mart_crm_sync_model_build", "node": None, "resource": None}
    line = progress.format_event({**empty, "tests": {}, "seconds": 0})
    assert "mart_crm_sync " in line and "nothing selected" in line and "model_build" not in line
    task = "dbt_models.relationships_mart_crm_sync_company_id__company_id__ref_dim_accounts__test"
    line = progress.format_event({**empty, "task": task, "tests": {"pass": 1, "fail": 1}})
    assert "dbt test" in line and "2 tests, 1 fail" in line
    assert "mart_crm_sync.company_id → dim_accounts " in line
