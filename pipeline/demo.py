"""``make demo``'s DAG runs: ``airflow dags test`` in a subprocess, its whole output into a log
file, and one line per finished task on the terminal while it runs.

The lines come from the progress file the tasks append to (``pipeline.progress``), not from
Airflow's output, whose format is Airflow's to change. At the end one line says how the DAG
ended; a failure names the DAG, the task, the reason's first line and the log, and the exit
status is 1. Airflow runs as a command, never imported here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.progress import PROGRESS_ENV, format_event


def _clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


class ProgressFeed:
    """The complete lines appended to a file since the last read (a torn last line waits)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.offset = 0
        self.partial = ""

    def read(self) -> list[dict]:
        import json

        try:
            with open(self.path, encoding="utf-8") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
                self.offset = fh.tell()
        except FileNotFoundError:
            return []
        text = self.partial + chunk
        lines = text.split("\n")
        self.partial = lines.pop()  # "" after a complete line
        events = []
        for line in lines:
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
        return events


def failure_line(dag_id: str, events: list[dict], log_path: str, returncode: int, seconds: float) -> str:
    """The one line that says which task of which DAG failed, why (first line only) and where the log is."""
    failed = next((e for e in reversed(events) if e.get("kind") == "failed"), None)
    where = f"(full log: {log_path})"
    if failed is None:
        return f"== DAG {dag_id} FAILED after {seconds:.0f}s (airflow exit {returncode}), no task reported why {where}"
    task = failed.get("task") or "?"
    reason = failed.get("error") or "no reason given"
    # A gate names what failed; a dbt build its model and tests (names only: dbt's own message,
    # which may quote a value, stays in the log).
    gate = next((e for e in reversed(events) if e.get("kind") == "gate" and e.get("verdict") == "failed"), None)
    dbt = next((e for e in reversed(events) if e.get("kind") == "dbt" and e.get("task") == task), None)
    if gate and task.startswith("validate"):
        named = ", ".join(
            f"{f['table']}{'.' + f['column'] if f.get('column') else ''}: {f['expectation']}" for f in gate["failures"]
        )
        reason = f"{gate['layer']} gate failed on {named}"
    elif dbt is not None:
        tests = ", ".join(dbt.get("failing_tests") or [])
        reason = f"dbt build of {dbt.get('node') or task}: {dbt.get('status')}"
        reason += f"; failing tests: {tests}" if tests else ""
    return f"== DAG {dag_id} FAILED at task {task} after {seconds:.0f}s: {reason} {where}"


def run_dag(
    dag_id: str,
    as_of: str,
    log_path: Path,
    progress_path: Path,
    airflow: str = "airflow",
    out: Callable[[str], None] | None = None,
    poll_seconds: float = 0.5,
    verbose: bool = False,
) -> int:
    """Run ``airflow dags test DAG AS_OF``; print each task's line as it finishes; 0 on success."""
    out = out or (lambda line: print(line, flush=True))
    log_path, progress_path = Path(log_path), Path(progress_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    progress_path.write_text("")
    feed = ProgressFeed(progress_path)
    env = {**os.environ, PROGRESS_ENV: str(progress_path.resolve())}
    shown = _relative(log_path)
    out(f"== DAG {dag_id} for {as_of} (log: {shown})")
    started = time.monotonic()
    events: list[dict] = []
    with open(log_path, "w") as log:
        proc = subprocess.Popen([airflow, "dags", "test", dag_id, as_of], stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            while True:
                finished = proc.poll() is not None
                for event in feed.read():  # after poll(): the last events are read once it ended
                    events.append(event)
                    line = format_event(event, _clock(time.monotonic() - started))
                    if line:
                        out(line)
                if finished:
                    break
                time.sleep(poll_seconds)
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait(timeout=30)
            out(f"== DAG {dag_id} interrupted (log: {shown})")
            return 130
    seconds = time.monotonic() - started
    if proc.returncode == 0:
        tasks = sum(1 for e in events if e.get("kind") in ("extract", "dbt", "gate", "task"))
        out(f"== DAG {dag_id} succeeded in {seconds:.0f}s, {tasks} task lines (log: {shown})")
        return 0
    if verbose:
        out("".join(log_path.read_text(errors="replace").splitlines(keepends=True)[-60:]))
    out(failure_line(dag_id, events, shown, proc.returncode, seconds))
    return 1


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main_run_dag(args) -> int:
    """``postsale demo-dag``."""
    airflow = args.airflow or str(Path(sys.executable).with_name("airflow"))
    progress = args.progress or Path(args.log).with_suffix(".progress.jsonl")
    return run_dag(args.dag_id, args.as_of, Path(args.log), Path(progress), airflow=airflow, verbose=args.show_log)


def render_summary(
    warehouse_url: str,
    accuracy_file: Path | None = None,
    logs: list[str] | None = None,
    dbt_docs: Path | None = None,
) -> str:
    """The demo's closing summary: the layers in pipeline order, every warning by name, the
    accuracy table, then where the reports, docs and logs are."""
    from pipeline.accuracy import read_figures, render_accuracy
    from pipeline.outbound import render_outbound
    from pipeline.report import DATA_QUALITY_PAGE, collect, render_layers, render_warnings, warehouse_psql
    from warehouse.paths import PROJECT_ROOT

    layers = collect(warehouse_url)
    lines = ["", "postsale: the pipeline layer by layer"]
    lines += render_layers(layers)
    lines += render_warnings(layers)
    lines += render_outbound(warehouse_url)
    if accuracy_file is not None:
        lines += render_accuracy(read_figures(accuracy_file))
        lines.append(f"  stored in audit.score_accuracy (one row per metric per run); file: {_relative(accuracy_file)}")
    lines += [
        "reports, docs and logs",
        "  BI site         make reports → http://127.0.0.1:8088/",
        f"  data quality    {DATA_QUALITY_PAGE}",
    ]
    if dbt_docs is not None and dbt_docs.exists():
        lines.append(f"  dbt docs        {dbt_docs}  (one file: open it in a browser)")
    lines += [
        f"  warehouse       {warehouse_psql(warehouse_url)}",
        *([f"  logs            {', '.join(logs)}"] if logs else []),
        f"  docs            {PROJECT_ROOT / 'README.md'}, {PROJECT_ROOT / 'docs'}/ (ARCHITECTURE.md, ACCURACY.md, …)",
    ]
    return "\n".join(lines)
