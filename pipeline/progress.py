"""One progress line per finished task, for whoever watches a run (``make demo``).

A task body (``pipeline.tasks``), the dbt tasks' callback (``dbt_finished``, which cosmos calls
after each ``dbt build``) and the failure and retry callbacks (``pipeline.orchestration``) each
append one JSON object to the file named by ``POSTSALE_PROGRESS_FILE``; when the variable is
unset (a scheduler, a worker, the tests) they write nothing. ``pipeline.demo`` tails the file
while ``airflow dags test`` runs and prints each event with ``format_event``.

A file rather than the DAG test's own output: what Airflow and cosmos log (format, order,
which logger a task's print goes to) changes between releases; one JSON line we write does not.
Writing it must never fail a task: every error is swallowed (and logged at debug level).
Events carry names and counts only, never a record's contents or a credential.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from pathlib import Path

log = logging.getLogger(__name__)

PROGRESS_ENV = "POSTSALE_PROGRESS_FILE"


def emit(kind: str, **fields) -> None:
    """Append one event (``kind`` plus ``fields``) to the progress file, if there is one."""
    path = os.environ.get(PROGRESS_ENV)
    if not path:
        return
    try:
        line = json.dumps({"kind": kind, "at": round(time.time(), 3), **fields}, default=str)
        # One write of one line in append mode: lines of concurrent writers do not interleave.
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    except Exception as exc:  # progress is a courtesy: never fail the task for it
        log.debug("progress event %s not written (%s)", kind, type(exc).__name__)


def headline(exc: BaseException, limit: int = 300) -> str:
    """The first line of an error, credentials masked: no multi-line detail (a validation
    failure lists sample values there), no traceback. Driver errors are rebuilt from their parts."""
    from pipeline.errors import mask, one_line

    text = str(exc).strip()
    if type(exc).__module__.startswith("psycopg") or not text:
        first = one_line(exc, limit=limit)
    else:
        first = mask(text.splitlines()[0].strip().rstrip(":"))
    first = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return first if len(first) <= limit else first[: limit - 1] + "…"


def task_failed(context: dict, kind: str = "failed") -> None:
    """The failure (``kind="failed"``) or retry (``kind="retry"``) callback's event."""
    ti = context.get("ti") or context.get("task_instance")
    exc = context.get("exception")
    emit(
        kind,
        task=getattr(ti, "task_id", None),
        dag=getattr(ti, "dag_id", None),
        try_number=getattr(ti, "try_number", None),
        error=headline(exc) if isinstance(exc, BaseException) else (str(exc) if exc else None),
    )


# --- dbt (cosmos) --------------------------------------------------------------------------

_TEST_STATUSES = ("pass", "warn", "fail", "error", "skipped")


def dbt_results(run_results: dict) -> dict:
    """One ``dbt build`` invocation's ``run_results.json`` reduced to what a progress line says:
    the node it built (model, snapshot or seed), its status, and its tests by status."""
    node = None
    tests = {s: 0 for s in _TEST_STATUSES}
    failing: list[str] = []
    for r in run_results.get("results") or []:
        parts = str(r.get("unique_id", "")).split(".")  # resource.package.name[.hash or version]
        resource, name = parts[0], parts[2] if len(parts) > 2 else parts[-1]
        status = str(r.get("status") or "unknown")
        if resource in ("test", "unit_test"):
            tests[status] = tests.get(status, 0) + 1
            if status in ("fail", "error", "warn"):
                failing.append(name)
        elif node is None:
            node = {"node": name, "resource": resource, "status": status}
    return {
        **(node or {"node": None, "resource": None, "status": None}),
        "tests": {k: v for k, v in tests.items() if v},
        "failing_tests": failing[:5],
        "seconds": round(float(run_results.get("elapsed_time") or 0), 2),
    }


def dbt_finished(project_dir: str, context: dict | None = None, **_) -> None:
    """cosmos' ``callback`` after every ``dbt build`` of a node (also a failed one: cosmos calls
    it before raising), with the temporary project directory the build ran in."""
    if not os.environ.get(PROGRESS_ENV):
        return
    try:
        results = json.loads((Path(project_dir) / "target" / "run_results.json").read_text())
        ti = (context or {}).get("ti")
        emit("dbt", task=getattr(ti, "task_id", None), **dbt_results(results))
    except Exception as exc:  # never fail the build for a progress line
        log.debug("dbt progress not written (%s)", type(exc).__name__)


# --- rendering -----------------------------------------------------------------------------


def _secs(seconds) -> str:
    return f"{float(seconds):.1f}s" if seconds is not None else ""


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def gate_verdict(event: dict) -> str:
    """``passed``, ``passed with N warnings`` or ``failed``, as the gate's line says it."""
    if event.get("verdict") == "failed":
        return f"failed: {_plural(event.get('critical', 0), 'critical expectation')}"
    warnings = event.get("warnings", 0)
    return f"passed with {_plural(warnings, 'warning')}" if warnings else "passed"


_RELATIONSHIP = re.compile(r"^relationships_(?P<model>.+)_(?P<column>.+)__(?P=column)__ref_(?P<to>.+?)_*$")


def _task_node(task: str) -> str:
    """A cosmos task id's node: ``dbt_models.fct_x_model_build`` -> ``fct_x``; a detached
    relationships test -> ``model.column → referenced model``."""
    name = task.rsplit(".", 1)[-1]
    for suffix in ("_model_build", "_snapshot_build", "_seed_build", "_build", "_test", "_run"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    m = _RELATIONSHIP.match(name)
    return f"{m['model']}.{m['column']} → {m['to']}" if m else name


def _dbt_detail(event: dict) -> tuple[str, str, str]:
    """(label, name, detail) of a dbt event."""
    name = event.get("node") or _task_node(str(event.get("task") or ""))
    tests = event.get("tests") or {}
    n_tests = sum(tests.values())
    bad = "".join(f", {v} {k}" for k, v in tests.items() if k != "pass")
    if event.get("resource") is None:
        if not n_tests:  # the group's --exclude left this task nothing to build
            return "dbt", name, "nothing selected"
        return "dbt test", name, f"{_plural(n_tests, 'test')}{bad}"
    detail = str(event.get("status"))
    if n_tests:
        detail += f", {_plural(n_tests, 'test')}{bad}"
    return f"dbt {event['resource']}", name, detail


def format_event(event: dict, clock: str = "") -> str | None:
    """One line for a progress event; None for an event kind it does not know."""
    kind = event.get("kind")
    secs = _secs(event.get("seconds"))
    if kind == "extract":
        label, name = "extract", event.get("stream", "?")
        detail = _plural(int(event.get("rows") or 0), "row")
        if event.get("rejected"):
            detail += f", {event['rejected']:,} rejected"
    elif kind == "dbt":
        label, name, detail = _dbt_detail(event)
    elif kind == "gate":
        label, name = "gate", event.get("layer", "?")
        detail = gate_verdict(event)
        if event.get("expectations") is not None:
            detail += f" ({event.get('passed', 0)}/{event['expectations']} expectations)"
    elif kind == "task":
        label, name, detail = "task", event.get("name", "?"), event.get("detail", "")
    elif kind == "retry":
        return f"{clock:>6}  {'RETRY':<12} {event.get('task')}: {event.get('error')}; Airflow retries it"
    elif kind == "failed":
        return f"{clock:>6}  {'FAILED':<12} {event.get('task')}: {event.get('error')}"
    else:
        return None
    return f"{clock:>6}  {label:<12} {name!s:<40} {secs:>6}  {detail}".rstrip()


def read_events(path: Path) -> list[dict]:
    """Every complete event in a progress file (a torn last line is skipped)."""
    events = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events
